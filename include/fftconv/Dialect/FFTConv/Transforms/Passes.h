//===- Passes.h - fftconv transformation passes -----------------*- C++ -*-===//

#ifndef FFTCONV_DIALECT_FFTCONV_TRANSFORMS_PASSES_H
#define FFTCONV_DIALECT_FFTCONV_TRANSFORMS_PASSES_H

#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"
#include "fftconv/Dialect/Butterfly/Transforms/CostModel.h"
#include "fftconv/Dialect/Butterfly/Transforms/GPUPlan.h"
#include "fftconv/Dialect/FFTConv/IR/FFTConv.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Complex/IR/Complex.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace fftconv {

#define GEN_PASS_DECL
#include "fftconv/Dialect/FFTConv/Transforms/Passes.h.inc"

/// The FFT size fftconv-conv-to-fft uses for `op`, or 0 when it would not
/// fit in int64 (impossible for a verified op: L <= 2^31).
int64_t getConvFFTSize(ConvOp op, int64_t minSize = 0);
/// The same for the convolution whose gradients `op` computes.
int64_t getConvFFTSize(ConvGradOp op, int64_t minSize = 0);
/// The FFT size of a convolution of sequences of `length` with kernels of
/// `kernelLength` taps: the forward's and its gradients'. A linear form
/// (causal, or circular of a length that is not a power of two) is padded
/// to at least `minSize` (a power of two), which is exact.
int64_t getConvFFTSize(bool causal, int64_t length, int64_t kernelLength,
                       int64_t minSize = 0);

/// The spectrum of a convolution's kernels at FFT size `n`: `rfft(k, n)`,
/// or `rfft(k, n) + conj(rfft(kr, n))` with a reverse kernel `kr` (the
/// bidirectional form's combined kernel, whose conjugate is the adjoint's).
Value buildKernelSpectrum(OpBuilder &b, Location loc, Value kernel,
                          Value reverse, int64_t n);

/// Whether `minSize` is an option value the expansions take (0, or an FFT
/// size of at most 2^32); else a located error on `op`.
LogicalResult checkMinFFTSize(Operation *op, int64_t minSize);

/// Patterns of fftconv-conv-grad-to-fft (FFT sizes of at least `minSize`).
void populateConvGradToFFTPatterns(RewritePatternSet &patterns,
                                   int64_t minSize = 0);

/// Patterns of fftconv-flatten-heads.
void populateFlattenHeadsPatterns(RewritePatternSet &patterns);

/// Patterns of fftconv-conv-to-fft (FFT sizes of at least `minSize`).
void populateConvToFFTPatterns(RewritePatternSet &patterns,
                               int64_t minSize = 0);

/// Options of the Monarch decomposition: the target and, if set, the order.
struct MonarchDecomposeOptions {
  butterfly::TargetDescription target;
  std::optional<int64_t> order;
};

/// Patterns of fftconv-monarch-decompose.
void populateMonarchDecomposePatterns(RewritePatternSet &patterns,
                                      const MonarchDecomposeOptions &options);

#define GEN_PASS_REGISTRATION
#include "fftconv/Dialect/FFTConv/Transforms/Passes.h.inc"

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_DIALECT_FFTCONV_TRANSFORMS_PASSES_H
