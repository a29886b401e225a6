//===- ConvRegions.h - what the GPU kernels are built from ------*- C++ -*-===//
//
// Private to the ButterflyToGPU lowering: the regions of one convolution and
// the preparation of its kernel spectrum (ConvRegions.cpp), and the 8-wide
// evaluation of a region's elementwise prologue and epilogue inside a kernel
// (Elementwise.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef LIB_CONVERSION_BUTTERFLYTOGPU_CONVREGIONS_H
#define LIB_CONVERSION_BUTTERFLYTOGPU_CONVREGIONS_H

#include "fftconv/Conversion/ButterflyToGPU/GradientKernels.h"
#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"
#include "fftconv/Dialect/Butterfly/Transforms/BoundaryViews.h"
#include "fftconv/Dialect/Butterfly/Transforms/GPUPlan.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

namespace mlir {
namespace fftconv {
namespace detail {

using ::mlir::butterfly::ConvolutionShape;
using ::mlir::butterfly::FusedOp;
using ::mlir::butterfly::GPUPlanAttr;
using ::mlir::butterfly::HermitianMulOp;
using ::mlir::butterfly::MonarchOp;
using ::mlir::butterfly::PackRealOp;
using ::mlir::butterfly::UnpackRealOp;

/// Where a kernel finds the inputs of the regions it evaluates: the block of
/// a region whose first argument is kernel argument `offsets[block]` (0 when
/// absent), and the inputs of the three-pass form's outer_inverse region
/// that outer_forward computed (the gated input of a skip term), which the
/// kernel evaluates again from outer_forward's own inputs.
struct ArgumentMap {
  llvm::DenseMap<Block *, unsigned> offsets;
  llvm::DenseMap<Value, Value> redirects;

  Value redirect(Value value) const { return redirects.lookup(value); }
  unsigned index(BlockArgument arg) const {
    return offsets.lookup(arg.getOwner()) + arg.getArgNumber();
  }
};

/// The ops of a convolution the kernels are built from: one fused conv
/// region (the single-kernel form), or an "outer_forward", "conv",
/// "outer_inverse" chain (the three-pass form).
struct ConvRegion {
  FusedOp op;                         // the "conv" region
  FusedOp outerForward, outerInverse; // the three-pass form's outer passes
  PackRealOp pack;
  MonarchOp forward; // single-kernel form only
  HermitianMulOp product;
  MonarchOp inverse; // single-kernel form only
  UnpackRealOp unpack;
  /// What the last region yields: y; or a backward's du and dpre, both
  /// from one correlation.
  SmallVector<Value> outputs;
  ArgumentMap epilogue; // where the outputs' evaluation finds its inputs

  /// How the kernels are laid out (butterfly-plan-gpu-kernels' plan on
  /// `op`).
  GPUPlanAttr plan;
  ConvolutionShape shape;

  bool threePass() const { return plan.isThreePass(); }

  bool isChain() const { return bool(outerForward); }
  FusedOp first() const { return outerForward ? outerForward : op; }
  FusedOp last() const { return outerInverse ? outerInverse : op; }
};

/// The per-channel preparation of a region's coefficients:
/// permute* . conv_spectrum . [conj] . real_spectrum . monarch . pack_real
/// (k); the conjugate spectrum is a backward's correlation with k.
struct SpectrumChain {
  BlockArgument kernel; // k, a function argument
  /// A bidirectional convolution's reverse kernel kr (a function argument),
  /// whose conjugate spectrum is added to k's; null otherwise.
  BlockArgument reverse;
  bool conjugate = false;
  /// butterfly.conv_spectrum's band (0: none): kk's spectrum is taken as
  /// zero at the bins f >= band (a frequency-sparse convolution).
  int64_t band = 0;
  /// The regularizers (fftconv.squash, fftconv.smooth) between k (and kr)
  /// and the packing, outermost first: the spectrum kernel applies them as
  /// it reads the taps. Taps of `taps()` keep the FFT size 0 (the plan's).
  SmallVector<Operation *> filters, reverseFilters;
  llvm::SetVector<Operation *> ops;

  KernelTaps taps(int64_t fftSize) const;
};

/// A backward's kernel gradient: the cross_spectrum region (the transforms
/// of v and g, their cross spectrum summed over the batch) and the
/// channel_inverse region that reads it (the inverse, the first lags kept
/// by each of its results).
struct KernelGradientRegion {
  FusedOp cross, inverse;
  PackRealOp packV, packG; // v's spectrum is the conjugated one
  GPUPlanAttr crossPlan, inversePlan;
  SmallVector<Value> lags; // what `inverse` yields, in order
  /// How each is made from the lags (regularizers' transposes).
  SmallVector<LagOutput> outputs;
  /// The input of `inverse` holding k, for squash's subgradient (-1: none).
  int64_t kernelInput = -1;
};

/// The kernel gradient whose cross spectrum `cross` computes, checked.
FailureOr<KernelGradientRegion> analyzeKernelGradient(FusedOp cross);

/// Whether a convolution's epilogue reads a sequence besides its result (a
/// postgate, a skip term's u): butterfly::writesDirectOutput.
bool epilogueReadsSequences(const ConvRegion &region);

/// The chain of regions that starts at `op` (a conv region, or the
/// outer_forward region of a three-pass chain), with its ops found and
/// checked.
FailureOr<ConvRegion> analyzeRegion(FusedOp op);

/// How the coefficients of `user`'s spectral product are computed from a
/// kernel given as a function argument.
FailureOr<SpectrumChain> analyzeSpectrum(Value coefficients, FusedOp user);

using ::mlir::butterfly::BoundaryView;
using ::mlir::butterfly::sameSequence;
using ::mlir::butterfly::viewOfArgument;
using ::mlir::butterfly::viewOfResult;

/// viewOfArgument's argument, or null.
BlockArgument viewedArgument(Value value);

/// The indices of row `batch`, channel `h`, element `t` of a kernel's view
/// of a sequence buffer `memref` (rank 3: as they are; rank 4, Hyena's
/// blocks: [batch / Z, h, batch mod Z, t]).
SmallVector<Value> sequenceIndices(OpBuilder &b, Location loc, Value memref,
                                   Value batch, Value h, Value t);

/// The memref of a static tensor's shape and element type.
MemRefType memrefOf(Type type);
/// A static f16, bf16 or f32 tensor.
bool isRealTensor(Type type);

/// Whether `value` can be evaluated 8 elements at a time at [batch, h, t]:
/// reads of [B, H, L] arguments, broadcasts of arguments along t, the
/// region's all-parallel linalg.generics of arith and math ops, and `stop`.
LogicalResult checkElementwise(Value value, Value stop, int64_t batch,
                               int64_t channels, Operation *anchor,
                               const ArgumentMap &arguments);

/// The alignment of a vector access of `type` at an element that is a
/// multiple of its width: the vector's bytes, at most 16.
int64_t vectorAlignment(VectorType type);

/// Emits `value` at [batch, h, t .. t+W-1] as a vector<W x T> (after a
/// successful checkElementwise), W = `width`.
class ElementwiseEmitter {
public:
  /// With a `mask` (vector<8xi1>: rows whose length is not a multiple of
  /// 8), the reads of [B, H, L] arguments take only its lanes (the others
  /// zero), element-aligned.
  ElementwiseEmitter(OpBuilder &builder, Location loc, ValueRange kernelArgs,
                     const ArgumentMap &arguments, Value batch, Value h,
                     Value t, Value stop, Value stopValue, Value mask = Value(),
                     int64_t width = kVectorWidth)
      : builder(builder), loc(loc), kernelArgs(kernelArgs),
        arguments(arguments), indices{batch, h, t}, stop(stop),
        stopValue(stopValue), mask(mask), width(width) {}

  Value emit(Value value);

private:
  OpBuilder &builder;
  Location loc;
  ValueRange kernelArgs;
  const ArgumentMap &arguments;
  SmallVector<Value, 3> indices;
  Value stop, stopValue;
  Value mask;
  int64_t width;
};

/// kk[h, t .. t+7] as a vector<8xf32> (KernelTaps: k through its
/// regularizers, plus kr at the negative lags), read from `kernels` (k,
/// then kr); with a `mask` (LoadInputFn's), the lanes outside it zero and
/// unread.
Value loadKernelTaps(OpBuilder &b, Location loc, ValueRange kernels,
                     const KernelTaps &taps, Value h, Value t,
                     Value mask = Value());

/// Tap t (an index in [0, N)) of kk for channel h, as f32.
Value emitKernelTap(OpBuilder &b, Location loc, ValueRange kernels,
                    const KernelTaps &taps, Value h, Value t);

/// Tap t (an index, possibly outside [0, length)) of channel h of the
/// kernel k (memref<H x length x f32>) through the regularizers `filters`
/// (fftconv.squash and fftconv.smooth, outermost first), as f32: zero
/// outside [0, length), as each regularizer's zero padding has it.
Value emitFilteredTap(OpBuilder &b, Location loc, Value k, int64_t length,
                      ArrayRef<Operation *> filters, Value h, Value t);

/// `x` soft-thresholded by lambda: sign(x) max(|x| - lambda, 0), as
/// x - clamp(x, -lambda, lambda).
Value emitSquash(OpBuilder &b, Location loc, Value x, double lambda);

} // namespace detail
} // namespace fftconv
} // namespace mlir

#endif // LIB_CONVERSION_BUTTERFLYTOGPU_CONVREGIONS_H
