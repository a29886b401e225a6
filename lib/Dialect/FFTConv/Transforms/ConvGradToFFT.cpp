//===- ConvGradToFFT.cpp - fftconv.conv_grad into FFT form ------*- C++ -*-===//
//
// The gradients of a convolution as the same spectral machinery as the
// forward: the correlation with the kernel is a product with the conjugate
// kernel spectrum, the kernel gradient a batch-reduced cross spectrum.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/FFTConv/Transforms/Passes.h"

#include "fftconv/Conversion/Utils/LoweringUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace fftconv {
#define GEN_PASS_DEF_FFTCONVCONVGRADTOFFT
#include "fftconv/Dialect/FFTConv/Transforms/Passes.h.inc"
} // namespace fftconv
} // namespace mlir

using namespace mlir;
using namespace mlir::fftconv;

namespace {

/// The first `sizes` of every axis of `value` (a crop from the origin).
Value cropFromOrigin(OpBuilder &b, Location loc, Value value,
                     ArrayRef<int64_t> sizes) {
  SmallVector<OpFoldResult> offsets(sizes.size(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  SmallVector<OpFoldResult> extents;
  for (int64_t size : sizes)
    extents.push_back(b.getIndexAttr(size));
  return tensor::ExtractSliceOp::create(b, loc, value, offsets, extents,
                                        strides);
}

/// The elementwise product of the same-shaped `factors` (any float element
/// types, taken to f32), rounded to `resultType`.
Value buildProduct(OpBuilder &b, Location loc, ValueRange factors,
                   Type resultType) {
  auto type = cast<RankedTensorType>(factors[0].getType());
  // A lone factor already of the result type needs no copy.
  if (factors.size() == 1 && type.getElementType() == resultType)
    return factors[0];
  ArrayRef<int64_t> shape = type.getShape();
  return buildElementwise(b, loc, factors, shape, resultType,
                          [&](OpBuilder &nb, Location nloc, ValueRange args) {
                            Type f32 = nb.getF32Type();
                            Value product = castScalar(nb, nloc, args[0], f32);
                            for (Value factor : args.drop_front())
                              product = arith::MulFOp::create(
                                  nb, nloc, product,
                                  castScalar(nb, nloc, factor, f32));
                            return castScalar(nb, nloc, product, resultType);
                          });
}

struct ConvGradToFFT : OpRewritePattern<ConvGradOp> {
  ConvGradToFFT(MLIRContext *context, int64_t minSize)
      : OpRewritePattern(context), minSize(minSize) {}
  int64_t minSize;

  LogicalResult matchAndRewrite(ConvGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    RankedTensorType inputType = op.getInput().getType();
    if (inputType.getRank() != 3)
      return rewriter.notifyMatchFailure(op, "run fftconv-flatten-heads first");
    ArrayRef<int64_t> shape = inputType.getShape();
    int64_t batch = shape[0], channels = shape[1], length = shape[2];
    int64_t taps = op.getKernel().getType().getDimSize(1);
    Value reverse = op.getReverse();
    int64_t reverseTaps =
        reverse ? cast<RankedTensorType>(reverse.getType()).getDimSize(1) : 0;
    int64_t n = getConvFFTSize(op, minSize);
    // Circular with N != L: the forward's circulated taps (fftconv.circulate,
    // N >= 2L); their adjoint folds the lags back into k's.
    bool wrap = !op.isCausal() && n != length;
    Type f32 = rewriter.getF32Type();
    auto c32 = ComplexType::get(f32);
    int64_t bins = n / 2 + 1;
    Type elementType = inputType.getElementType();
    Value input = op.getInput(), kernel = op.getKernel();
    Value pregate = op.getPregate(), postgate = op.getPostgate();
    Value skip = op.getSkip(), dy = op.getResultGrad();

    bool wantInput = op.wants(ConvGradients::Input);
    bool wantPregate = op.wants(ConvGradients::Pregate);
    bool wantDv = wantInput || wantPregate;

    // v = pregate * u and g = postgate * dy, in f32.
    SmallVector<Value> vFactors = {input}, gFactors = {dy};
    if (pregate)
      vFactors.push_back(pregate);
    if (postgate)
      gFactors.push_back(postgate);
    Value v = buildProduct(rewriter, loc, vFactors, f32);
    Value g = buildProduct(rewriter, loc, gFactors, f32);

    auto spectraType = RankedTensorType::get({batch, channels, bins}, c32);
    Value gf = RFFTOp::create(rewriter, loc, spectraType, g, n);
    Value circulant = kernel;
    if (wrap)
      circulant = CirculateOp::create(rewriter, loc,
                                      RankedTensorType::get({channels, n}, f32),
                                      kernel, length, /*transpose=*/false);

    SmallVector<Value> results;
    Value dv;
    if (wantDv) {
      // The adjoint of the convolution with k + conj(kr) (spectra) is the
      // product with its conjugate: correlation with k, convolution with kr.
      Value kf = buildKernelSpectrum(rewriter, loc, circulant, reverse, n);
      auto product = ChannelMulOp::create(rewriter, loc, gf, kf,
                                          /*band=*/nullptr,
                                          /*conjugate=*/rewriter.getUnitAttr());
      product->setAttr(kElementTypeAttrName, TypeAttr::get(elementType));
      auto fullType = RankedTensorType::get({batch, channels, n}, f32);
      Value correlation = IRFFTOp::create(rewriter, loc, fullType, product, n);
      dv = cropFromOrigin(rewriter, loc, correlation, shape);
      if (skip) {
        AffineMap identity = rewriter.getMultiDimIdentityMap(3);
        AffineMap perChannel =
            AffineMap::get(3, 0, {getAffineDimExpr(1, ctx)}, ctx);
        dv = buildElementwise(
            rewriter, loc, {dv, g, skip}, shape, f32,
            [&](OpBuilder &b, Location l, ValueRange args) {
              return arith::AddFOp::create(
                         b, l, args[0],
                         arith::MulFOp::create(b, l, args[2], args[1]))
                  .getResult();
            },
            {identity, identity, perChannel});
      }
    }
    if (wantInput) {
      SmallVector<Value> factors = {dv};
      if (pregate)
        factors.push_back(pregate);
      results.push_back(buildProduct(rewriter, loc, factors, elementType));
    }
    // The correlation of g with v at every lag, the inverse of the
    // batch-reduced cross spectrum: dk is its first K lags, dD its lag 0.
    Value vf, lags;
    auto spectrumOfV = [&] {
      if (!vf)
        vf = RFFTOp::create(rewriter, loc, spectraType, v, n);
      return vf;
    };
    auto crossCorrelation = [&](Value lhs, Value rhs) -> Value {
      auto crossType = RankedTensorType::get({channels, bins}, c32);
      Value cross = CrossSpectrumOp::create(rewriter, loc, crossType, lhs, rhs);
      auto lagsType = RankedTensorType::get({channels, n}, f32);
      return IRFFTOp::create(rewriter, loc, lagsType, cross, n);
    };
    auto correlationLags = [&] {
      if (!lags)
        lags = crossCorrelation(spectrumOfV(), gf);
      return lags;
    };
    if (op.wants(ConvGradients::Kernel))
      results.push_back(wrap
                            ? CirculateOp::create(
                                  rewriter, loc,
                                  RankedTensorType::get({channels, taps}, f32),
                                  correlationLags(), length, /*transpose=*/true)
                                  .getResult()
                            : cropFromOrigin(rewriter, loc, correlationLags(),
                                             {channels, taps}));
    if (wantPregate)
      results.push_back(buildProduct(rewriter, loc, {dv, input}, elementType));
    if (op.wants(ConvGradients::Postgate)) {
      // z = k * v + D * v, recomputed in f32 rather than kept from the
      // forward.
      auto zType = RankedTensorType::get(shape, f32);
      auto z = ConvOp::create(rewriter, loc, zType, op.getModeAttr(), v, kernel,
                              reverse, /*pregate=*/nullptr,
                              /*postgate=*/nullptr, skip);
      // Its data is the forward's: decomposed as the forward is.
      z->setAttr(kElementTypeAttrName, TypeAttr::get(elementType));
      results.push_back(
          buildProduct(rewriter, loc, {z.getResult(), dy}, elementType));
    }
    if (op.wants(ConvGradients::Skip)) {
      // dD[h] = sum_b sum_t g[b, h, t] v[b, h, t], the correlation at lag 0:
      // it shares dk's spectra and inverse instead of a reduction of its own
      // over the batch and time (one kernel less on the GPU).
      Value lagZero =
          cropFromOrigin(rewriter, loc, correlationLags(), {channels, 1});
      results.push_back(tensor::CollapseShapeOp::create(
          rewriter, loc, RankedTensorType::get({channels}, f32), lagZero,
          ArrayRef<ReassociationIndices>{{0, 1}}));
    }
    if (op.wants(ConvGradients::ReverseKernel)) {
      // d kr[s] = sum_t g[t] v[t + s]: the correlation of v with g, the
      // cross spectrum with the roles swapped (the same lags read at -s).
      // Its own transforms of g and v make it a kernel gradient like dk's,
      // which the GPU kernels run as they are (a region of its own).
      Value reversed =
          crossCorrelation(RFFTOp::create(rewriter, loc, spectraType, g, n),
                           RFFTOp::create(rewriter, loc, spectraType, v, n));
      results.push_back(
          cropFromOrigin(rewriter, loc, reversed, {channels, reverseTaps}));
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct FFTConvConvGradToFFTPass
    : fftconv::impl::FFTConvConvGradToFFTBase<FFTConvConvGradToFFTPass> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(checkMinFFTSize(getOperation(), minSize)))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateConvGradToFFTPatterns(patterns, minSize);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::fftconv::populateConvGradToFFTPatterns(RewritePatternSet &patterns,
                                                  int64_t minSize) {
  patterns.add<ConvGradToFFT>(patterns.getContext(), minSize);
  // A multi-head conv_grad is expanded as its B x H x L form.
  populateFlattenHeadsPatterns(patterns);
}
