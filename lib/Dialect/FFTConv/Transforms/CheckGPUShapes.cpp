//===- CheckGPUShapes.cpp - what the GPU kernels run ------------*- C++ -*-===//
//
// fftconv-check-gpu-shapes: refuses, at the convolution the user wrote and
// naming the nearest supported shape, the convolutions the GPU kernels do
// not run. Later stages would refuse them too, but in terms of regions and
// transforms the user never wrote.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/FFTConv/Transforms/Passes.h"

#include "fftconv/Dialect/Butterfly/Transforms/GPUPlan.h"

#include "llvm/Support/MathExtras.h"

namespace mlir {
namespace fftconv {
#define GEN_PASS_DEF_FFTCONVCHECKGPUSHAPES
#include "fftconv/Dialect/FFTConv/Transforms/Passes.h.inc"
} // namespace fftconv
} // namespace mlir

using namespace mlir;
using namespace mlir::fftconv;

namespace {

/// The GPU kernels' rules for the gradients of a convolution of `input`
/// (its operand's type) in either mode: success, or the located refusal on
/// `op`. Every forward runs (a circular one of another length through
/// fftconv.circulate's taps).
LogicalResult checkGradientShape(Operation *op, bool causal,
                                 RankedTensorType input) {
  int64_t length = input.getShape().back();
  int64_t shortest = butterfly::kMinSingleKernelFFTSize;
  if (!causal && (!llvm::isPowerOf2_64(length) || length < shortest)) {
    int64_t nearest =
        std::max<int64_t>(shortest, int64_t(llvm::PowerOf2Ceil(length)));
    return op->emitError()
           << "the GPU kernels run the gradients of circular convolutions of "
              "a power-of-two length of at least "
           << shortest << ", not L = " << length << " (nearest: L = " << nearest
           << ", or the causal form; the forward runs on the GPU, the "
              "gradients on the CPU, fftconv-to-cpu)";
  }
  return success();
}

struct FFTConvCheckGPUShapesPass
    : fftconv::impl::FFTConvCheckGPUShapesBase<FFTConvCheckGPUShapesPass> {
  using Base::Base;
  void runOnOperation() override {
    WalkResult result = getOperation()->walk([&](Operation *op) {
      LogicalResult checked = success();
      if (auto grad = dyn_cast<ConvGradOp>(op))
        checked =
            checkGradientShape(op, grad.isCausal(), grad.getInput().getType());
      return failed(checked) ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
