//===- MonarchStages.h - building the stages of a Monarch DFT ---*- C++ -*-===//
//
// The pieces of the order-p recursion, shared by butterfly-expand-monarch
// and by the decomposition that splits off outer passes through memory.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_MONARCHSTAGES_H
#define FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_MONARCHSTAGES_H

#include "mlir/IR/Builders.h"

#include <optional>

namespace mlir {
namespace butterfly {

/// What a stage may skip: leading input/output digit blocks (extents, for
/// partial convolutions) and the digit values outside a low-and-high band
/// (bands, for frequency-sparse convolutions). See butterfly.kron.
struct StageKnownZeros {
  std::optional<int64_t> inputExtent, outputExtent, inputBand, outputBand;
};

/// Stage `stage` of the Monarch DFT over `factors` on the last axis of
/// `value`: F_{N_s} on digit s and, unless s is the last stage, the twiddle
/// of the remaining sub-transform. With `inverse`, the exact inverse of that
/// stage (inverse twiddle, then the inverse factor). `zeros` go to the
/// stage's kron.
Value buildMonarchStage(OpBuilder &b, Location loc, Value value,
                        ArrayRef<int64_t> factors, size_t stage, bool inverse,
                        const StageKnownZeros &zeros = {});

/// Moves the element at mixed-radix position (d1, ..., dp) (row-major over
/// `radices`) to position (dp, ..., d1), with p - 1 stride permutations.
/// Monarch order over `factors` to natural order is
/// `buildDigitReversal(x, factors)`; natural to Monarch order reverses the
/// radices.
Value buildDigitReversal(OpBuilder &b, Location loc, Value value,
                         ArrayRef<int64_t> radices);

} // namespace butterfly
} // namespace mlir

#endif // FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_MONARCHSTAGES_H
