//===- BoundaryViews.h - sequences viewed at a function's edge --*- C++ -*-===//

#ifndef FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_BOUNDARYVIEWS_H
#define FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_BOUNDARYVIEWS_H

#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Value.h"

#include <optional>

namespace mlir::butterfly {

/// How a region's sequence input or output is a function argument's or
/// result's memory (fftconv-flatten-heads' views of multi-head sequences):
/// the kernels read the buffer reshaped by `reassociation` (none: as it
/// is). A view of rank 3 is [B, H, L] rows; one of rank 4 is Hyena's blocks,
/// [B * G, H, Z, L], whose row b of channel h is at [b / Z, h, b mod Z].
struct BoundaryView {
  Value buffer; // the function argument, or the returned value
  SmallVector<ReassociationIndices> reassociation;
  /// The ops that view it (reshapes, a transpose and its init): they stay
  /// outside every fused region, and no kernel computes them.
  SmallVector<Operation *> ops;
};

/// The function argument whose memory `value` is: the argument, its rows
/// (`tensor.collapse_shape`), or its blocks (collapse_shape, linalg.transpose
/// of H and Z, collapse_shape).
std::optional<BoundaryView> viewOfArgument(Value value);
/// The returned value whose memory `result` is: itself, or the multi-head
/// sequence it is viewed as (the inverse chains), when that is its only use
/// and the function only returns it.
std::optional<BoundaryView> viewOfResult(Value result);

/// Whether the sequences that `a` and `b` pack (each in its fused region)
/// are computed the same way from the same function arguments (or views of
/// one): the regions of a backward compute g and v again each, so that a
/// kernel of one may stand for another's.
bool sameSequence(PackRealOp a, PackRealOp b);

} // namespace mlir::butterfly

#endif // FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_BOUNDARYVIEWS_H
