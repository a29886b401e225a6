//===- FFTConvToLinalg.cpp - fftconv ops to direct linalg -------*- C++ -*-===//
//
// The CPU reference lowering of the fftconv dialect. Every op becomes a
// direct algorithm (direct convolution, direct DFT) accumulated in f64 and
// rounded to the result type once: it is the oracle for the fast paths, so
// it is written for clarity and accuracy, not speed.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Conversion/FFTConvToLinalg/FFTConvToLinalg.h"

#include "fftconv/Conversion/Utils/LoweringUtils.h"
#include "fftconv/Dialect/FFTConv/IR/FFTConv.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Complex/IR/Complex.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir {
namespace fftconv {
#define GEN_PASS_DEF_FFTCONVTOLINALG
#include "fftconv/Conversion/Passes.h.inc"
} // namespace fftconv
} // namespace mlir

using namespace mlir;
using namespace mlir::fftconv;

namespace {

/// Rounds every element of `value` to `elementType`.
Value castTensor(OpBuilder &b, Location loc, Value value, Type elementType) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getElementType() == elementType)
    return value;
  return buildElementwise(b, loc, value, type.getShape(), elementType,
                          [&](OpBuilder &nb, Location nloc, ValueRange args) {
                            return castScalar(nb, nloc, args[0], elementType);
                          });
}

/// `value` with its last axis cropped to `length` (no-op if not longer):
/// padding needs no data, the reductions just run over fewer terms.
Value cropLastDim(OpBuilder &b, Location loc, Value value, int64_t length) {
  if (cast<RankedTensorType>(value.getType()).getShape().back() <= length)
    return value;
  return resizeLastDim(b, loc, value, length);
}

/// Builds `result[lead..., p] = sum_r term(x[lead..., r], p, r)` where the
/// reduction runs over the (already cropped) last axis of `input` and the
/// result's last axis has `outLength` entries, accumulating in `accType`.
Value buildLastAxisReduction(
    OpBuilder &b, Location loc, Value input, int64_t outLength, Type accType,
    function_ref<Value(OpBuilder &, Location, Value element, Value out,
                       Value reduced)>
        term) {
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = inputType.getRank();
  SmallVector<int64_t> outShape(inputType.getShape().drop_back());
  outShape.push_back(outLength);
  Value acc = buildZeroTensor(b, loc, outShape, accType);

  // Loops: the leading axes, then the output position, then the reduction.
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> inputExprs, outExprs;
  for (int64_t dim = 0; dim < rank - 1; ++dim) {
    inputExprs.push_back(getAffineDimExpr(dim, ctx));
    outExprs.push_back(getAffineDimExpr(dim, ctx));
  }
  outExprs.push_back(getAffineDimExpr(rank - 1, ctx));
  inputExprs.push_back(getAffineDimExpr(rank, ctx));
  SmallVector<AffineMap> maps = {AffineMap::get(rank + 1, 0, inputExprs, ctx),
                                 AffineMap::get(rank + 1, 0, outExprs, ctx)};
  auto generic = linalg::GenericOp::create(
      b, loc, acc.getType(), input, acc, maps, parallelThenReduction(rank, 1),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value out = linalg::IndexOp::create(nb, nloc, rank - 1);
        Value reduced = linalg::IndexOp::create(nb, nloc, rank);
        Value value = term(nb, nloc, args[0], out, reduced);
        Value sum =
            isa<ComplexType>(accType)
                ? Value(complex::AddOp::create(nb, nloc, args[1], value))
                : Value(arith::AddFOp::create(nb, nloc, args[1], value));
        linalg::YieldOp::create(nb, nloc, sum);
      });
  return generic.getResult(0);
}

//===----------------------------------------------------------------------===//
// conv
//===----------------------------------------------------------------------===//

struct ConvOpLowering : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (op.isMultiHead())
      return rewriter.notifyMatchFailure(op, "run fftconv-flatten-heads first");
    Location loc = op.getLoc();
    RankedTensorType inputType = op.getInput().getType();
    Type elementType = inputType.getElementType();
    Type f64 = rewriter.getF64Type();
    int64_t seqLen = op.getSeqLen();
    bool causal = op.isCausal();
    Value input = op.getInput();
    Value pregate = op.getPregate();

    // acc[b, h, t] = sum_j k[h, j] * v[b, h, src(t, j)], v = pregate * u;
    // a reverse kernel adds sum_j kr[h, j] * v[b, h, t + j] (t + j < L).
    Value acc = buildZeroTensor(rewriter, loc, inputType.getShape(), f64);
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr b, h, t, j;
    bindDims(ctx, b, h, t, j);
    SmallVector<AffineMap> maps = {AffineMap::get(4, 0, {h, j}, ctx),
                                   AffineMap::get(4, 0, {b, h, t}, ctx)};
    auto accumulate = [&](Value into, Value kernel, bool ahead) {
      return linalg::GenericOp::create(
                 rewriter, loc, into.getType(), kernel, into, maps,
                 parallelThenReduction(3, 1),
                 [&](OpBuilder &nb, Location nloc, ValueRange args) {
                   SmallVector<Value> idx = loopIndices(nb, nloc, 4);
                   Value zeroIndex =
                       arith::ConstantIndexOp::create(nb, nloc, 0);
                   Value valid;
                   Value src;
                   if (ahead) {
                     // Taps past the end of the sequence read zero.
                     Value sum =
                         arith::AddIOp::create(nb, nloc, idx[2], idx[3]);
                     Value len =
                         arith::ConstantIndexOp::create(nb, nloc, seqLen);
                     valid = arith::CmpIOp::create(
                         nb, nloc, arith::CmpIPredicate::ult, sum, len);
                     src = arith::SelectOp::create(nb, nloc, valid, sum,
                                                   zeroIndex);
                   } else if (causal) {
                     // Taps before the start of the sequence read zero.
                     valid = arith::CmpIOp::create(
                         nb, nloc, arith::CmpIPredicate::uge, idx[2], idx[3]);
                     Value diff =
                         arith::SubIOp::create(nb, nloc, idx[2], idx[3]);
                     src = arith::SelectOp::create(nb, nloc, valid, diff,
                                                   zeroIndex);
                   } else {
                     // (t - j) mod L, kept non-negative: j < K <= L.
                     Value len =
                         arith::ConstantIndexOp::create(nb, nloc, seqLen);
                     Value shifted =
                         arith::AddIOp::create(nb, nloc, idx[2], len);
                     shifted = arith::SubIOp::create(nb, nloc, shifted, idx[3]);
                     src = arith::RemUIOp::create(nb, nloc, shifted, len);
                   }
                   SmallVector<Value> at = {idx[0], idx[1], src};
                   Value x = tensor::ExtractOp::create(nb, nloc, input, at);
                   x = castScalar(nb, nloc, x, f64);
                   if (pregate) {
                     Value gate =
                         tensor::ExtractOp::create(nb, nloc, pregate, at);
                     x = arith::MulFOp::create(nb, nloc, x,
                                               castScalar(nb, nloc, gate, f64));
                   }
                   Value k = castScalar(nb, nloc, args[0], f64);
                   Value product = arith::MulFOp::create(nb, nloc, k, x);
                   if (valid)
                     product = arith::SelectOp::create(
                         nb, nloc, valid, product, buildZero(nb, nloc, f64));
                   linalg::YieldOp::create(
                       nb, nloc,
                       arith::AddFOp::create(nb, nloc, args[1], product)
                           .getResult());
                 })
          .getResult(0);
    };
    Value sum = accumulate(acc, op.getKernel(), /*ahead=*/false);
    if (Value reverse = op.getReverse())
      sum = accumulate(sum, reverse, /*ahead=*/true);

    // Epilogue: skip term, postgate, rounding to the element type.
    SmallVector<Value> inputs = {sum};
    AffineMap identity = rewriter.getMultiDimIdentityMap(3);
    SmallVector<AffineMap> inputMaps = {identity};
    auto addInput = [&](Value value, AffineMap map) -> int {
      if (!value)
        return -1;
      inputs.push_back(value);
      inputMaps.push_back(map);
      return inputs.size() - 1;
    };
    Value skip = op.getSkip();
    int uPos = addInput(skip ? input : Value(), identity);
    int prePos = addInput(skip ? pregate : Value(), identity);
    int postPos = addInput(op.getPostgate(), identity);
    int skipPos =
        addInput(skip, AffineMap::get(3, 0, {getAffineDimExpr(1, ctx)}, ctx));
    Value result = buildElementwise(
        rewriter, loc, inputs, inputType.getShape(), elementType,
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Value z = args[0];
          if (skipPos >= 0) {
            Value v = castScalar(nb, nloc, args[uPos], f64);
            if (prePos >= 0)
              v = arith::MulFOp::create(
                  nb, nloc, v, castScalar(nb, nloc, args[prePos], f64));
            Value d = castScalar(nb, nloc, args[skipPos], f64);
            z = arith::AddFOp::create(nb, nloc, z,
                                      arith::MulFOp::create(nb, nloc, d, v));
          }
          if (postPos >= 0)
            z = arith::MulFOp::create(nb, nloc, z,
                                      castScalar(nb, nloc, args[postPos], f64));
          return castScalar(nb, nloc, z, elementType);
        },
        inputMaps);
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// fft, ifft, rfft, irfft
//===----------------------------------------------------------------------===//

/// fft and ifft: y[k] = scale * sum_{j < min(M, n)} x[j] * w^(j*k).
template <typename OpTy, bool Inverse>
struct ComplexDFTLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t n = op.getN();
    auto c64 = ComplexType::get(rewriter.getF64Type());
    Value input = cropLastDim(rewriter, loc, op.getInput(), n);
    double scale = Inverse ? 1.0 / double(n) : 1.0;
    Value acc = buildLastAxisReduction(
        rewriter, loc, input, n, c64,
        [&](OpBuilder &nb, Location nloc, Value x, Value k, Value j) {
          Value exponent = arith::MulIOp::create(nb, nloc, k, j);
          Value w =
              buildRootOfUnity(nb, nloc, exponent, n, Inverse, scale, c64);
          return complex::MulOp::create(nb, nloc, castScalar(nb, nloc, x, c64),
                                        w)
              .getResult();
        });
    rewriter.replaceOp(op,
                       castTensor(rewriter, loc, acc,
                                  op.getResult().getType().getElementType()));
    return success();
  }
};

/// rfft: the first n/2 + 1 bins of the DFT of a real signal.
struct RFFTLowering : OpRewritePattern<RFFTOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RFFTOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t n = op.getN();
    Type f64 = rewriter.getF64Type();
    auto c64 = ComplexType::get(f64);
    Value input = cropLastDim(rewriter, loc, op.getInput(), n);
    Value acc = buildLastAxisReduction(
        rewriter, loc, input, op.getExpectedResultLength(), c64,
        [&](OpBuilder &nb, Location nloc, Value x, Value k, Value j) {
          Value exponent = arith::MulIOp::create(nb, nloc, k, j);
          auto [cos, sin] = buildCosSin(nb, nloc, exponent, n);
          Value x64 = castScalar(nb, nloc, x, f64);
          Value re = arith::MulFOp::create(nb, nloc, x64, cos);
          Value im = arith::NegFOp::create(
              nb, nloc, arith::MulFOp::create(nb, nloc, x64, sin));
          return complex::CreateOp::create(nb, nloc, c64, re, im).getResult();
        });
    rewriter.replaceOp(op,
                       castTensor(rewriter, loc, acc,
                                  op.getResult().getType().getElementType()));
    return success();
  }
};

/// irfft: y[t] = 1/n * sum_k c_k * Re(X[k] * exp(2*pi*i*k*t/n)) over the
/// n/2 + 1 stored bins, with c_k = 1 for bin 0 and (even n) bin n/2, whose
/// mirror images are themselves, and c_k = 2 for the others.
struct IRFFTLowering : OpRewritePattern<IRFFTOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(IRFFTOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t n = op.getN();
    Type f64 = rewriter.getF64Type();
    Value input = cropLastDim(rewriter, loc, op.getInput(), n / 2 + 1);
    Value acc = buildLastAxisReduction(
        rewriter, loc, input, n, f64,
        [&](OpBuilder &nb, Location nloc, Value x, Value t, Value k) {
          Value exponent = arith::MulIOp::create(nb, nloc, k, t);
          auto [cos, sin] = buildCosSin(nb, nloc, exponent, n);
          Type f32 = cast<ComplexType>(x.getType()).getElementType();
          Value re = castScalar(nb, nloc,
                                complex::ReOp::create(nb, nloc, f32, x), f64);
          Value im = castScalar(nb, nloc,
                                complex::ImOp::create(nb, nloc, f32, x), f64);
          Value value = arith::SubFOp::create(
              nb, nloc, arith::MulFOp::create(nb, nloc, re, cos),
              arith::MulFOp::create(nb, nloc, im, sin));
          Value zero = arith::ConstantIndexOp::create(nb, nloc, 0);
          Value twiceK = arith::AddIOp::create(nb, nloc, k, k);
          Value nIndex = arith::ConstantIndexOp::create(nb, nloc, n);
          Value selfMirrored = arith::OrIOp::create(
              nb, nloc,
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::eq, k,
                                    zero),
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::eq, twiceK,
                                    nIndex));
          Value single = arith::ConstantOp::create(
              nb, nloc, nb.getF64FloatAttr(1.0 / double(n)));
          Value twice = arith::ConstantOp::create(
              nb, nloc, nb.getF64FloatAttr(2.0 / double(n)));
          Value weight =
              arith::SelectOp::create(nb, nloc, selfMirrored, single, twice);
          return arith::MulFOp::create(nb, nloc, value, weight).getResult();
        });
    rewriter.replaceOp(op,
                       castTensor(rewriter, loc, acc,
                                  op.getResult().getType().getElementType()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// squash, smooth
//===----------------------------------------------------------------------===//

/// circulate: kk[h, t] = k[h, t] + k[h, t - (N - L)], each where it exists.
struct CirculateLowering : OpRewritePattern<CirculateOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CirculateOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    Type f32 = type.getElementType();
    Value input = op.getInput();
    int64_t offset = op.getWrapOffset();
    if (op.getTranspose()) {
      // dk[h, j] = x[h, j] + x[h, j + N - L]: both inside x (j + N - L <
      // K + N - L <= N).
      Value result = buildElementwise(
          rewriter, loc, ValueRange(), type.getShape(), f32,
          [&](OpBuilder &nb, Location nloc, ValueRange) {
            SmallVector<Value> index = loopIndices(nb, nloc, 2);
            Value shifted = arith::AddIOp::create(
                nb, nloc, index[1],
                arith::ConstantIndexOp::create(nb, nloc, offset));
            Value head = tensor::ExtractOp::create(nb, nloc, input, index);
            Value tail =
                tensor::ExtractOp::create(nb, nloc, input, {index[0], shifted});
            return arith::AddFOp::create(nb, nloc, head, tail).getResult();
          });
      rewriter.replaceOp(op, result);
      return success();
    }
    int64_t taps = op.getInput().getType().getDimSize(1);
    Value result = buildElementwise(
        rewriter, loc, ValueRange(), type.getShape(), f32,
        [&](OpBuilder &nb, Location nloc, ValueRange) {
          SmallVector<Value> index = loopIndices(nb, nloc, 2);
          // k[h, s] where 0 <= s < K, else 0 (s may be "negative": a
          // wrapped unsigned index fails s < K too).
          auto tap = [&](Value s) -> Value {
            Value inside = arith::CmpIOp::create(
                nb, nloc, arith::CmpIPredicate::ult, s,
                arith::ConstantIndexOp::create(nb, nloc, taps));
            Value safe = arith::SelectOp::create(
                nb, nloc, inside, s,
                arith::ConstantIndexOp::create(nb, nloc, 0));
            Value value =
                tensor::ExtractOp::create(nb, nloc, input, {index[0], safe});
            return arith::SelectOp::create(nb, nloc, inside, value,
                                           buildZero(nb, nloc, f32));
          };
          Value shifted = arith::SubIOp::create(
              nb, nloc, index[1],
              arith::ConstantIndexOp::create(nb, nloc, offset));
          return arith::AddFOp::create(nb, nloc, tap(index[1]), tap(shifted))
              .getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct SquashLowering : OpRewritePattern<SquashOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SquashOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    Type elementType = type.getElementType();
    Value result = buildElementwise(
        rewriter, loc, op.getInput(), type.getShape(), elementType,
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Value lambda =
              arith::ConstantOp::create(nb, nloc, op.getLambdaAttr());
          Value shrunk = arith::SubFOp::create(
              nb, nloc, math::AbsFOp::create(nb, nloc, args[0]), lambda);
          Value clamped = arith::MaximumFOp::create(
              nb, nloc, shrunk, buildZero(nb, nloc, elementType));
          return math::CopySignOp::create(nb, nloc, clamped, args[0])
              .getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct SmoothLowering : OpRewritePattern<SmoothOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SmoothOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank();
    int64_t width = op.getWidth();
    int64_t length = type.getShape().back();
    Type f64 = rewriter.getF64Type();
    Value input = op.getInput();

    // The window's only role is to give the reduction loop its extent.
    Value window =
        tensor::EmptyOp::create(rewriter, loc, {width}, rewriter.getF32Type());
    Value acc = buildZeroTensor(rewriter, loc, type.getShape(), f64);
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> outExprs;
    for (int64_t dim = 0; dim < rank; ++dim)
      outExprs.push_back(getAffineDimExpr(dim, ctx));
    SmallVector<AffineMap> maps = {
        AffineMap::get(rank + 1, 0, {getAffineDimExpr(rank, ctx)}, ctx),
        AffineMap::get(rank + 1, 0, outExprs, ctx)};
    auto sum = linalg::GenericOp::create(
        rewriter, loc, acc.getType(), window, acc, maps,
        parallelThenReduction(rank, 1),
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          SmallVector<Value> idx = loopIndices(nb, nloc, rank + 1);
          // src = t + j - p; taps outside [0, length) are zero padding.
          Value half = arith::ConstantIndexOp::create(nb, nloc, width / 2);
          Value len = arith::ConstantIndexOp::create(nb, nloc, length);
          Value zeroIndex = arith::ConstantIndexOp::create(nb, nloc, 0);
          Value reach =
              arith::AddIOp::create(nb, nloc, idx[rank - 1], idx[rank]);
          Value src = arith::SubIOp::create(nb, nloc, reach, half);
          Value valid = arith::AndIOp::create(
              nb, nloc,
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::uge, reach,
                                    half),
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::ult, src,
                                    len));
          SmallVector<Value> at(ArrayRef<Value>(idx).take_front(rank - 1));
          at.push_back(
              arith::SelectOp::create(nb, nloc, valid, src, zeroIndex));
          Value x = castScalar(
              nb, nloc, tensor::ExtractOp::create(nb, nloc, input, at), f64);
          x = arith::SelectOp::create(nb, nloc, valid, x,
                                      buildZero(nb, nloc, f64));
          linalg::YieldOp::create(
              nb, nloc,
              arith::AddFOp::create(nb, nloc, args[1], x).getResult());
        });
    Value result = buildElementwise(
        rewriter, loc, sum.getResult(0), type.getShape(), type.getElementType(),
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Value inverseWidth = arith::ConstantOp::create(
              nb, nloc, nb.getF64FloatAttr(1.0 / double(width)));
          return castScalar(
              nb, nloc, arith::MulFOp::create(nb, nloc, args[0], inverseWidth),
              type.getElementType());
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ChannelMulLowering : OpRewritePattern<ChannelMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ChannelMulOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getType();
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr b, h, f;
    bindDims(ctx, b, h, f);
    SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(3),
                                   AffineMap::get(3, 0, {h, f}, ctx)};
    Value result = buildElementwise(
        rewriter, op.getLoc(), {op.getInput(), op.getKernel()}, type.getShape(),
        type.getElementType(),
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Value kernel = args[1];
          if (op.getConjugate())
            kernel = complex::ConjOp::create(nb, nloc, kernel);
          Value product = complex::MulOp::create(nb, nloc, args[0], kernel);
          if (std::optional<uint64_t> band = op.getBand()) {
            Value f = linalg::IndexOp::create(nb, nloc, 2);
            Value inside = arith::CmpIOp::create(
                nb, nloc, arith::CmpIPredicate::ult, f,
                arith::ConstantIndexOp::create(nb, nloc, *band));
            product = arith::SelectOp::create(
                nb, nloc, inside, product,
                buildZero(nb, nloc, type.getElementType()));
          }
          return product;
        },
        maps);
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// s[h, f] = sum_b conj(a[b, h, f]) * c[b, h, f], accumulated in
/// complex<f64> like the other reductions of this lowering.
struct CrossSpectrumLowering : OpRewritePattern<CrossSpectrumOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CrossSpectrumOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    auto c64 = ComplexType::get(rewriter.getF64Type());
    Value acc = buildZeroTensor(rewriter, loc, type.getShape(), c64);
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr b, h, f;
    bindDims(ctx, b, h, f);
    AffineMap identity = rewriter.getMultiDimIdentityMap(3);
    auto reduction = linalg::GenericOp::create(
        rewriter, loc, acc.getType(), ValueRange{op.getLhs(), op.getRhs()}, acc,
        ArrayRef<AffineMap>{identity, identity,
                            AffineMap::get(3, 0, {h, f}, ctx)},
        ArrayRef<utils::IteratorType>{utils::IteratorType::reduction,
                                      utils::IteratorType::parallel,
                                      utils::IteratorType::parallel},
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Value lhs = castScalar(nb, nloc, args[0], c64);
          Value rhs = castScalar(nb, nloc, args[1], c64);
          Value term = complex::MulOp::create(
              nb, nloc, complex::ConjOp::create(nb, nloc, lhs), rhs);
          linalg::YieldOp::create(
              nb, nloc,
              ValueRange{complex::AddOp::create(nb, nloc, args[2], term)});
        });
    rewriter.replaceOp(op, castTensor(rewriter, loc, reduction.getResult(0),
                                      type.getElementType()));
    return success();
  }
};

struct FFTConvToLinalgPass
    : fftconv::impl::FFTConvToLinalgBase<FFTConvToLinalgPass> {
  void runOnOperation() override {
    // The direct algorithms are written for B x H x L: a multi-head
    // convolution is refused here, at its location, rather than left
    // unconverted.
    WalkResult heads = getOperation()->walk([](ConvOp op) {
      if (!op.isMultiHead())
        return WalkResult::advance();
      op.emitOpError() << "is multi-head: fftconv-to-linalg lowers the "
                          "B x H x L form (run fftconv-flatten-heads first, "
                          "as fftconv-to-cpu does)";
      return WalkResult::interrupt();
    });
    if (heads.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateFFTConvToLinalgPatterns(patterns);
    if (failed(lowerDialectOps<FFTConvDialect>(getOperation(),
                                               std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::fftconv::populateFFTConvToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<ConvOpLowering, ComplexDFTLowering<FFTOp, false>,
               ComplexDFTLowering<IFFTOp, true>, RFFTLowering, IRFFTLowering,
               SquashLowering, SmoothLowering, CirculateLowering,
               ChannelMulLowering, CrossSpectrumLowering>(
      patterns.getContext());
}
