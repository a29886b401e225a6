//===- ConvToFFT.cpp - fftconv.conv into FFT form ---------------*- C++ -*-===//
//
// y = u (*) k as rfft, a per-channel spectral product and irfft, with the
// gates, the skip term and the crop as elementwise steps around them.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/FFTConv/Transforms/Passes.h"

#include "fftconv/Conversion/Utils/LoweringUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/MathExtras.h"

namespace mlir {
namespace fftconv {
#define GEN_PASS_DEF_FFTCONVCONVTOFFT
#include "fftconv/Dialect/FFTConv/Transforms/Passes.h.inc"
} // namespace fftconv
} // namespace mlir

using namespace mlir;
using namespace mlir::fftconv;

/// The taps the padding must hold for kernels `kernel` and `reverse`: a
/// reverse kernel reaches as far ahead as the kernel reaches back.
static int64_t reachOf(Value kernel, Value reverse) {
  int64_t taps = cast<RankedTensorType>(kernel.getType()).getDimSize(1);
  if (reverse)
    taps =
        std::max(taps, cast<RankedTensorType>(reverse.getType()).getDimSize(1));
  return taps;
}

int64_t mlir::fftconv::getConvFFTSize(ConvOp op, int64_t minSize) {
  return getConvFFTSize(op.isCausal(), op.getSeqLen(),
                        reachOf(op.getKernel(), op.getReverse()), minSize);
}

int64_t mlir::fftconv::getConvFFTSize(ConvGradOp op, int64_t minSize) {
  return getConvFFTSize(op.isCausal(),
                        op.getInput().getType().getShape().back(),
                        reachOf(op.getKernel(), op.getReverse()), minSize);
}

Value mlir::fftconv::buildKernelSpectrum(OpBuilder &b, Location loc,
                                         Value kernel, Value reverse,
                                         int64_t n) {
  int64_t channels = cast<RankedTensorType>(kernel.getType()).getDimSize(0);
  auto spectrumType = RankedTensorType::get({channels, n / 2 + 1},
                                            ComplexType::get(b.getF32Type()));
  Value spectrum = RFFTOp::create(b, loc, spectrumType, kernel, n);
  if (!reverse)
    return spectrum;
  Value reverseSpectrum = RFFTOp::create(b, loc, spectrumType, reverse, n);
  return buildElementwise(
      b, loc, {spectrum, reverseSpectrum}, spectrumType.getShape(),
      spectrumType.getElementType(),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value conjugate = complex::ConjOp::create(nb, l, args[1]);
        return complex::AddOp::create(nb, l, args[0], conjugate).getResult();
      });
}

int64_t mlir::fftconv::getConvFFTSize(bool causal, int64_t length,
                                      int64_t kernelLength, int64_t minSize) {
  // The verifier bounds L by 2^31, but a caller may pass sizes that were
  // never verified: computed in uint64, L + K - 1 cannot wrap (L, K < 2^63),
  // and a power of two above it that does not fit in int64 is reported as 0
  // instead of wrapping to a small, wrong size.
  uint64_t linear = uint64_t(length) + uint64_t(kernelLength) - 1;
  int64_t floor = minSize > 2 && minSize <= (int64_t(1) << 32)
                      ? int64_t(llvm::PowerOf2Ceil(minSize))
                      : 2;
  // The real-input trick needs an even size; 2 is the smallest.
  if (!causal && length >= std::max<int64_t>(floor, 2) &&
      llvm::isPowerOf2_64(length))
    return length;
  // A circular convolution of another length takes its wrapped taps
  // through a transform of at least 2L (fftconv.circulate).
  if (!causal)
    linear = 2 * uint64_t(length);
  if (linear > (uint64_t(1) << 62))
    return 0;
  return std::max<int64_t>(floor, llvm::PowerOf2Ceil(linear));
}

LogicalResult mlir::fftconv::checkMinFFTSize(Operation *op, int64_t minSize) {
  if (minSize >= 0 && minSize <= (int64_t(1) << 32))
    return success();
  return op->emitError()
         << "min-size must be 0 (none) or an FFT size of at most 2^32, got "
         << minSize;
}

namespace {

struct ConvToFFT : OpRewritePattern<ConvOp> {
  ConvToFFT(MLIRContext *context, int64_t minSize)
      : OpRewritePattern(context), minSize(minSize) {}
  int64_t minSize;

  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType inputType = op.getInput().getType();
    if (op.isMultiHead())
      return rewriter.notifyMatchFailure(op, "run fftconv-flatten-heads first");
    ArrayRef<int64_t> shape = inputType.getShape();
    int64_t batch = shape[0], channels = shape[1], length = shape[2];
    int64_t n = getConvFFTSize(op, minSize);
    // Circular with n != L: the taps that wrap around come in through a
    // second copy of k (fftconv.circulate), and the outputs are cropped.
    bool wrap = !op.isCausal() && n != length;
    Type f32 = rewriter.getF32Type();
    auto c32 = ComplexType::get(f32);
    int64_t bins = n / 2 + 1;

    // v = pregate * u, in f32.
    Value v = op.getInput();
    if (op.getPregate() || inputType.getElementType() != f32) {
      SmallVector<Value> inputs = {op.getInput()};
      if (op.getPregate())
        inputs.push_back(op.getPregate());
      v = buildElementwise(rewriter, loc, inputs, shape, f32,
                           [&](OpBuilder &b, Location l, ValueRange args) {
                             Value x = castScalar(b, l, args[0], f32);
                             if (args.size() > 1)
                               x = arith::MulFOp::create(
                                   b, l, x, castScalar(b, l, args[1], f32));
                             return x;
                           });
    }

    // Once per channel: k_f = rfft(k, n) (+ conj(rfft(kr, n))).
    Value kernel = op.getKernel();
    if (wrap)
      kernel = CirculateOp::create(rewriter, loc,
                                   RankedTensorType::get({channels, n}, f32),
                                   kernel, length);
    Value kf = buildKernelSpectrum(rewriter, loc, kernel, op.getReverse(), n);
    auto vfType = RankedTensorType::get({batch, channels, bins}, c32);
    Value vf = RFFTOp::create(rewriter, loc, vfType, v, n);
    auto product = ChannelMulOp::create(rewriter, loc, vf, kf, /*band=*/nullptr,
                                        /*conjugate=*/nullptr);
    // The precision the convolution's data has, for the cost model of the
    // decomposition (the transforms here are all f32): the input's, or the
    // one a convolution recomputed in f32 by a backward is rounded to.
    auto dataType = op->getAttrOfType<TypeAttr>(kElementTypeAttrName);
    product->setAttr(kElementTypeAttrName,
                     dataType ? dataType
                              : TypeAttr::get(inputType.getElementType()));
    auto zType = RankedTensorType::get({batch, channels, n}, f32);
    Value z = IRFFTOp::create(rewriter, loc, zType, product, n);

    // Crop to L.
    SmallVector<OpFoldResult> offsets(3, rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> strides(3, rewriter.getIndexAttr(1));
    SmallVector<OpFoldResult> sizes = {rewriter.getIndexAttr(batch),
                                       rewriter.getIndexAttr(channels),
                                       rewriter.getIndexAttr(length)};
    Value cropped = tensor::ExtractSliceOp::create(rewriter, loc, z, offsets,
                                                   sizes, strides);

    // Epilogue: + D * v, * postgate, rounding to the input's type.
    Value result = cropped;
    Type elementType = inputType.getElementType();
    if (op.getSkip() || op.getPostgate() || elementType != f32) {
      MLIRContext *ctx = rewriter.getContext();
      AffineMap identity = rewriter.getMultiDimIdentityMap(3);
      SmallVector<Value> inputs = {cropped};
      SmallVector<AffineMap> maps = {identity};
      int skipPos = -1, postPos = -1;
      if (Value skip = op.getSkip()) {
        inputs.append({v, skip});
        maps.append(
            {identity, AffineMap::get(3, 0, {getAffineDimExpr(1, ctx)}, ctx)});
        skipPos = 1;
      }
      if (Value post = op.getPostgate()) {
        postPos = inputs.size();
        inputs.push_back(post);
        maps.push_back(identity);
      }
      result = buildElementwise(
          rewriter, loc, inputs, shape, elementType,
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value y = args[0];
            if (skipPos >= 0)
              y = arith::AddFOp::create(b, l, y,
                                        arith::MulFOp::create(b, l,
                                                              args[skipPos + 1],
                                                              args[skipPos]));
            if (postPos >= 0)
              y = arith::MulFOp::create(b, l, y,
                                        castScalar(b, l, args[postPos], f32));
            return castScalar(b, l, y, elementType);
          },
          maps);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct FFTConvConvToFFTPass
    : fftconv::impl::FFTConvConvToFFTBase<FFTConvConvToFFTPass> {
  using Base::Base;
  void runOnOperation() override {
    // A size the rewrite cannot build is an error on the convolution, not a
    // malformed slice or transform further down.
    if (failed(checkMinFFTSize(getOperation(), minSize)))
      return signalPassFailure();
    WalkResult sizes = getOperation()->walk([&](ConvOp op) {
      int64_t n = getConvFFTSize(op, minSize);
      if (n > 0 && n <= (int64_t(1) << 32))
        return WalkResult::advance();
      op.emitOpError() << "has no FFT size within 2^32 for L = "
                       << op.getSeqLen() << " and K = " << op.getKernelLen()
                       << (op.getReverse() ? " (and its reverse kernel)" : "");
      return WalkResult::interrupt();
    });
    if (sizes.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateConvToFFTPatterns(patterns, minSize);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::fftconv::populateConvToFFTPatterns(RewritePatternSet &patterns,
                                              int64_t minSize) {
  patterns.add<ConvToFFT>(patterns.getContext(), minSize);
  // A multi-head convolution is expanded as its B x H x L form.
  populateFlattenHeadsPatterns(patterns);
}
