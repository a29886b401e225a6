//===- ButterflyToLinalg.cpp - butterfly ops to linalg ----------*- C++ -*-===//
//
// Each butterfly op views the last axis as [a, m, c] with tensor reshapes
// and becomes one linalg op on that view: the factor a generic matrix
// product, the twiddle an elementwise product, the permutation a transpose.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Conversion/ButterflyToLinalg/ButterflyToLinalg.h"

#include "fftconv/Conversion/Utils/LoweringUtils.h"
#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"
#include "fftconv/Dialect/Butterfly/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Complex/IR/Complex.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir {
namespace fftconv {
#define GEN_PASS_DEF_BUTTERFLYTOLINALG
#include "fftconv/Conversion/Passes.h.inc"
} // namespace fftconv
} // namespace mlir

using namespace mlir;
using namespace mlir::butterfly;
using namespace mlir::fftconv;

namespace {

/// F[k][j] = w^(j*k), times 1/m for the inverse.
struct DFTLowering : OpRewritePattern<DFTOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DFTOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getResult().getType();
    auto complexType = cast<ComplexType>(type.getElementType());
    int64_t size = op.getSize();
    bool inverse = op.getInverse();
    Value result = buildElementwise(
        rewriter, op.getLoc(), ValueRange(), type.getShape(), complexType,
        [&](OpBuilder &nb, Location nloc, ValueRange) {
          Value k = linalg::IndexOp::create(nb, nloc, 0);
          Value j = linalg::IndexOp::create(nb, nloc, 1);
          Value exponent = arith::MulIOp::create(nb, nloc, k, j);
          return buildRootOfUnity(nb, nloc, exponent, size, inverse,
                                  inverse ? 1.0 / double(size) : 1.0,
                                  complexType);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// A slice of `value` keeping `sizes[d]` leading entries of each dim.
Value leadingSlice(OpBuilder &b, Location loc, Value value,
                   ArrayRef<int64_t> sizes) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getShape() == sizes)
    return value;
  SmallVector<OpFoldResult> offsets(sizes.size(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  SmallVector<OpFoldResult> sizeAttrs;
  for (int64_t size : sizes)
    sizeAttrs.push_back(b.getIndexAttr(size));
  return tensor::ExtractSliceOp::create(b, loc, value, offsets, sizeAttrs,
                                        strides);
}

/// y[.., i, k, j] = sum_{n < r} F[(i,) k, n] * x[.., i, n, j] for k < s,
/// zero for k >= s (r, s the input and output extents, m by default).
struct KronLowering : OpRewritePattern<KronOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(KronOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getInput().getType();
    int64_t lead = type.getRank() - 1;
    int64_t size = op.getFactorSize();
    int64_t blocks = op.getNumBlocks(), stride = op.getStride();
    int64_t inExtent = op.getInputExtent().value_or(size);
    int64_t outExtent = op.getOutputExtent().value_or(size);
    Value view =
        expandLastDim(rewriter, loc, op.getInput(), {blocks, size, stride});
    SmallVector<int64_t> viewShape(
        cast<RankedTensorType>(view.getType()).getShape());
    // Only the blocks that are not known zero / are read take part.
    SmallVector<int64_t> inShape(viewShape);
    inShape[lead + 1] = inExtent;
    view = leadingSlice(rewriter, loc, view, inShape);
    Value factor = op.getFactor();
    auto factorType = cast<RankedTensorType>(factor.getType());
    // Bands: the reference zeroes the factor's rows and columns outside
    // them (a kernel skips those blocks instead).
    if (op.getInputBand() || op.getOutputBand()) {
      int64_t rank = factorType.getRank();
      std::optional<uint64_t> inBand = op.getInputBand(),
                              outBand = op.getOutputBand();
      factor = buildElementwise(
          rewriter, loc, factor, factorType.getShape(),
          factorType.getElementType(),
          [&](OpBuilder &b, Location l, ValueRange args) {
            auto inside = [&](Value digit, uint64_t band) -> Value {
              Value low = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::ult, digit,
                  arith::ConstantIndexOp::create(b, l, band));
              Value high = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::uge, digit,
                  arith::ConstantIndexOp::create(b, l, size - band));
              return arith::OrIOp::create(b, l, low, high);
            };
            Value keep = arith::ConstantIntOp::create(b, l, 1, 1);
            if (outBand)
              keep = arith::AndIOp::create(
                  b, l, keep,
                  inside(linalg::IndexOp::create(b, l, rank - 2), *outBand));
            if (inBand)
              keep = arith::AndIOp::create(
                  b, l, keep,
                  inside(linalg::IndexOp::create(b, l, rank - 1), *inBand));
            return arith::SelectOp::create(
                       b, l, keep, args[0],
                       buildZero(b, l, factorType.getElementType()))
                .getResult();
          });
    }
    SmallVector<int64_t> factorShape(factorType.getShape());
    factorShape[factorShape.size() - 2] = outExtent;
    factorShape.back() = inExtent;
    factor = leadingSlice(rewriter, loc, factor, factorShape);
    SmallVector<int64_t> outShape(viewShape);
    outShape[lead + 1] = outExtent;
    Value acc = buildZeroTensor(rewriter, loc, outShape, type.getElementType());

    // Loops: lead..., i, k, j (parallel), n (reduction).
    MLIRContext *ctx = rewriter.getContext();
    int64_t numLoops = lead + 4;
    auto dim = [&](int64_t d) { return getAffineDimExpr(d, ctx); };
    AffineExpr i = dim(lead), k = dim(lead + 1), j = dim(lead + 2),
               n = dim(lead + 3);
    SmallVector<AffineExpr> inputExprs, outExprs;
    for (int64_t d = 0; d < lead; ++d) {
      inputExprs.push_back(dim(d));
      outExprs.push_back(dim(d));
    }
    inputExprs.append({i, n, j});
    outExprs.append({i, k, j});
    SmallVector<AffineExpr> factorExprs;
    int64_t factorRank = op.getFactor().getType().getRank();
    if (factorRank >= 3)
      factorExprs.push_back(i);
    if (factorRank == 4)
      factorExprs.push_back(j);
    factorExprs.append({k, n});
    SmallVector<AffineMap> maps = {
        AffineMap::get(numLoops, 0, factorExprs, ctx),
        AffineMap::get(numLoops, 0, inputExprs, ctx),
        AffineMap::get(numLoops, 0, outExprs, ctx)};
    Value product =
        linalg::GenericOp::create(
            rewriter, loc, acc.getType(), ValueRange{factor, view}, acc, maps,
            parallelThenReduction(numLoops - 1, 1),
            [&](OpBuilder &nb, Location nloc, ValueRange args) {
              Value sum;
              if (isa<ComplexType>(args[0].getType())) {
                Value term = complex::MulOp::create(nb, nloc, args[0], args[1]);
                sum = complex::AddOp::create(nb, nloc, args[2], term);
              } else {
                Value term = arith::MulFOp::create(nb, nloc, args[0], args[1]);
                sum = arith::AddFOp::create(nb, nloc, args[2], term);
              }
              linalg::YieldOp::create(nb, nloc, sum);
            })
            .getResult(0);
    if (outExtent < size) {
      SmallVector<OpFoldResult> low(viewShape.size(), rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> high(viewShape.size(),
                                     rewriter.getIndexAttr(0));
      high[lead + 1] = rewriter.getIndexAttr(size - outExtent);
      product = tensor::PadOp::create(
          rewriter, loc,
          RankedTensorType::get(viewShape, type.getElementType()), product, low,
          high, buildZero(rewriter, loc, type.getElementType()));
    }
    rewriter.replaceOp(op, collapseTrailingDims(rewriter, loc, product, 3));
    return success();
  }
};

/// The stages of a learned Monarch product as krons with one block per
/// position: weights (N/m) x m x m viewed as a x c x m x m.
struct MonarchLinearLowering : OpRewritePattern<MonarchLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MonarchLinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    SmallVector<int64_t> sizes = op.getFactorSizes();
    int64_t length = op.getInput().getType().getShape().back();
    Value value = op.getInput();
    for (auto [stage, weight] : llvm::enumerate(op.getWeights())) {
      int64_t size = sizes[stage];
      int64_t stride = 1;
      for (int64_t later : ArrayRef<int64_t>(sizes).drop_front(stage + 1))
        stride *= later;
      int64_t blocks = length / (size * stride);
      auto weightType = cast<RankedTensorType>(weight.getType());
      auto viewType = RankedTensorType::get({blocks, stride, size, size},
                                            weightType.getElementType());
      Value view = tensor::ExpandShapeOp::create(
          rewriter, loc, viewType, weight,
          SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}});
      value = KronOp::create(rewriter, loc, view, value, stride);
    }
    rewriter.replaceOp(op, value);
    return success();
  }
};

/// y[.., i, k, j] = x[.., i, k, j] * w^(k*j), w a (rows*cols)-th root.
struct TwiddleLowering : OpRewritePattern<TwiddleOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TwiddleOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getInput().getType();
    auto complexType = cast<ComplexType>(type.getElementType());
    int64_t rows = op.getRows(), cols = op.getCols();
    int64_t blocks = type.getShape().back() / (rows * cols);
    Value view =
        expandLastDim(rewriter, loc, op.getInput(), {blocks, rows, cols});
    auto viewType = cast<RankedTensorType>(view.getType());
    int64_t rank = viewType.getRank();
    bool inverse = op.getInverse();
    // The factors once (rows x cols of them), not once per element of every
    // sequence: sin and cos took a quarter of a CPU convolution's time.
    Value table = buildElementwise(
        rewriter, loc, ValueRange(), {rows, cols}, complexType,
        [&](OpBuilder &nb, Location nloc, ValueRange) {
          Value k = linalg::IndexOp::create(nb, nloc, 0);
          Value j = linalg::IndexOp::create(nb, nloc, 1);
          Value exponent = arith::MulIOp::create(nb, nloc, k, j);
          return buildRootOfUnity(nb, nloc, exponent, rows * cols, inverse, 1.0,
                                  complexType);
        });
    MLIRContext *context = rewriter.getContext();
    AffineMap lastTwo = AffineMap::get(rank, 0,
                                       {getAffineDimExpr(rank - 2, context),
                                        getAffineDimExpr(rank - 1, context)},
                                       context);
    Value result = buildElementwise(
        rewriter, loc, ValueRange{view, table}, viewType.getShape(),
        complexType,
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          return complex::MulOp::create(nb, nloc, args[0], args[1]).getResult();
        },
        {rewriter.getMultiDimIdentityMap(rank), lastTwo});
    rewriter.replaceOp(op, collapseTrailingDims(rewriter, loc, result, 3));
    return success();
  }
};

/// [.., a, rows, cols] -> [.., a, cols, rows].
struct PermuteLowering : OpRewritePattern<PermuteOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PermuteOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getInput().getType();
    int64_t rows = op.getRows(), cols = op.getCols();
    int64_t blocks = type.getShape().back() / (rows * cols);
    Value view =
        expandLastDim(rewriter, loc, op.getInput(), {blocks, rows, cols});
    int64_t rank = cast<RankedTensorType>(view.getType()).getRank();
    SmallVector<int64_t> permutation;
    for (int64_t d = 0; d < rank - 2; ++d)
      permutation.push_back(d);
    permutation.append({rank - 1, rank - 2});
    SmallVector<int64_t> shape(type.getShape().drop_back());
    shape.append({blocks, cols, rows});
    Value init =
        tensor::EmptyOp::create(rewriter, loc, shape, type.getElementType());
    auto transpose =
        linalg::TransposeOp::create(rewriter, loc, view, init, permutation);
    rewriter.replaceOp(
        op, collapseTrailingDims(rewriter, loc, transpose.getResult()[0], 3));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Real-input transforms: index-driven generics that gather with
// tensor.extract, computed in complex<f64> and rounded once.
//===----------------------------------------------------------------------===//

Value complexConstant(OpBuilder &b, Location loc, double re, double im,
                      ComplexType type) {
  auto partType = cast<FloatType>(type.getElementType());
  Value r = arith::ConstantOp::create(b, loc, b.getFloatAttr(partType, re));
  Value i = arith::ConstantOp::create(b, loc, b.getFloatAttr(partType, im));
  return complex::CreateOp::create(b, loc, type, r, i);
}

/// `x` at `lead..., index` along the last axis, cast to complex<f64>.
Value extractComplex(OpBuilder &b, Location loc, Value tensor,
                     ArrayRef<Value> lead, Value index) {
  SmallVector<Value> at(lead);
  at.push_back(index);
  Value value = tensor::ExtractOp::create(b, loc, tensor, at);
  return castScalar(b, loc, value, ComplexType::get(b.getF64Type()));
}

/// x[..., 2j] + i x[..., 2j+1], zero past the input's end.
struct PackRealLowering : OpRewritePattern<PackRealOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PackRealOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getResult().getType();
    int64_t rank = type.getRank();
    int64_t length = op.getInput().getType().getShape().back();
    Value input = op.getInput();
    Value result = buildElementwise(
        rewriter, op.getLoc(), ValueRange(), type.getShape(),
        type.getElementType(), [&](OpBuilder &b, Location loc, ValueRange) {
          SmallVector<Value> idx = loopIndices(b, loc, rank);
          Value zeroIndex = indexConstant(b, loc, 0);
          Value zero = buildZero(b, loc, b.getF32Type());
          auto readAt = [&](Value t) {
            Value inside =
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, t,
                                      indexConstant(b, loc, length));
            SmallVector<Value> at(ArrayRef<Value>(idx).drop_back());
            at.push_back(arith::SelectOp::create(b, loc, inside, t, zeroIndex));
            Value value = tensor::ExtractOp::create(b, loc, input, at);
            return arith::SelectOp::create(b, loc, inside, value, zero)
                .getResult();
          };
          Value even = arith::MulIOp::create(b, loc, idx.back(),
                                             indexConstant(b, loc, 2));
          Value odd =
              arith::AddIOp::create(b, loc, even, indexConstant(b, loc, 1));
          return complex::CreateOp::create(b, loc, type.getElementType(),
                                           readAt(even), readAt(odd))
              .getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// y[t] = Re z[t/2] (t even) or Im z[t/2] (t odd).
struct UnpackRealLowering : OpRewritePattern<UnpackRealOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(UnpackRealOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getResult().getType();
    int64_t rank = type.getRank();
    Value input = op.getInput();
    Value result = buildElementwise(
        rewriter, op.getLoc(), ValueRange(), type.getShape(),
        type.getElementType(), [&](OpBuilder &b, Location loc, ValueRange) {
          SmallVector<Value> idx = loopIndices(b, loc, rank);
          Value two = indexConstant(b, loc, 2);
          SmallVector<Value> at(ArrayRef<Value>(idx).drop_back());
          at.push_back(arith::DivUIOp::create(b, loc, idx.back(), two));
          Value z = tensor::ExtractOp::create(b, loc, input, at);
          Type f32 = b.getF32Type();
          Value re = complex::ReOp::create(b, loc, f32, z);
          Value im = complex::ImOp::create(b, loc, f32, z);
          Value isEven = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::eq,
              arith::RemUIOp::create(b, loc, idx.back(), two),
              indexConstant(b, loc, 0));
          return arith::SelectOp::create(b, loc, isEven, re, im).getResult();
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The real-input trick's twiddle factors w^k (and w^-k) with w the
/// (2M)-th root of unity, and i, in complex<f64>.
struct RealTrickTerms {
  Value wk, wkInverse, i, half, one;
};

RealTrickTerms buildRealTrickTerms(OpBuilder &b, Location loc, Value wk) {
  auto c64 = ComplexType::get(b.getF64Type());
  // |w| = 1: w^-k = conj(w^k).
  return {wk, complex::ConjOp::create(b, loc, wk),
          complexConstant(b, loc, 0.0, 1.0, c64),
          complexConstant(b, loc, 0.5, 0.0, c64),
          complexConstant(b, loc, 1.0, 0.0, c64)};
}

/// w^k for k < `count`, w the (2 `half`)-th root of unity, as a
/// tensor<count x complex<f64>>: computed once per op, read by frequency.
Value buildRealTrickRoots(OpBuilder &b, Location loc, int64_t count,
                          int64_t half) {
  return buildRootTable(b, loc, count, 2 * half, /*inverse=*/false,
                        ComplexType::get(b.getF64Type()));
}

/// The map from a rank-`rank` iteration to its last index.
AffineMap lastIndexMap(MLIRContext *context, int64_t rank) {
  return AffineMap::get(rank, 0, {getAffineDimExpr(rank - 1, context)},
                        context);
}

/// (1 + sign * i * w) / 2.
Value halfOnePlusIW(OpBuilder &b, Location loc, const RealTrickTerms &t,
                    Value w, bool plus) {
  Value iw = complex::MulOp::create(b, loc, t.i, w);
  Value sum = plus ? Value(complex::AddOp::create(b, loc, t.one, iw))
                   : Value(complex::SubOp::create(b, loc, t.one, iw));
  return complex::MulOp::create(b, loc, t.half, sum);
}

struct RealSpectrumLowering : OpRewritePattern<RealSpectrumOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RealSpectrumOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getResult().getType();
    int64_t rank = type.getRank();
    int64_t half = op.getHalfLength();
    bool inverse = op.getInverse();
    Value input = op.getInput();
    auto resultElement = type.getElementType();
    // w^k once per frequency, not once per element of every sequence.
    Value roots = buildRealTrickRoots(rewriter, op.getLoc(),
                                      type.getShape().back(), half);
    Value result = buildElementwise(
        rewriter, op.getLoc(), ValueRange{roots}, type.getShape(),
        resultElement,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          SmallVector<Value> idx = loopIndices(b, loc, rank);
          ArrayRef<Value> lead = ArrayRef<Value>(idx).drop_back();
          Value k = idx.back();
          Value m = indexConstant(b, loc, half);
          RealTrickTerms t = buildRealTrickTerms(b, loc, args[0]);
          Value mirror = arith::SubIOp::create(b, loc, m, k);
          Value value;
          if (!inverse) {
            // X[k] = a_k Z[k mod M] + b_k conj(Z[(M - k) mod M]).
            Value z = extractComplex(b, loc, input, lead,
                                     arith::RemUIOp::create(b, loc, k, m));
            Value zm = extractComplex(
                b, loc, input, lead, arith::RemUIOp::create(b, loc, mirror, m));
            Value a = halfOnePlusIW(b, loc, t, t.wk, /*plus=*/false);
            Value bk = halfOnePlusIW(b, loc, t, t.wk, /*plus=*/true);
            value = complex::AddOp::create(
                b, loc, complex::MulOp::create(b, loc, a, z),
                complex::MulOp::create(b, loc, bk,
                                       complex::ConjOp::create(b, loc, zm)));
          } else {
            // Zy[k] = (X[k] + conj(X[M-k]))/2 + i w^-k (X[k] - conj(X[M-k]))/2,
            // with only the real parts of X[0] and X[M] (read at k = 0).
            Value x = extractComplex(b, loc, input, lead, k);
            Value xm = extractComplex(b, loc, input, lead, mirror);
            Value atZero = arith::CmpIOp::create(
                b, loc, arith::CmpIPredicate::eq, k, indexConstant(b, loc, 0));
            auto realPart = [&](Value c) {
              Type f64 = b.getF64Type();
              Value re = complex::ReOp::create(b, loc, f64, c);
              Value real = complex::CreateOp::create(b, loc, c.getType(), re,
                                                     buildZero(b, loc, f64));
              return arith::SelectOp::create(b, loc, atZero, real, c)
                  .getResult();
            };
            x = realPart(x);
            Value xmConj = complex::ConjOp::create(b, loc, realPart(xm));
            Value sum = complex::AddOp::create(b, loc, x, xmConj);
            Value diff = complex::SubOp::create(b, loc, x, xmConj);
            Value rotated = complex::MulOp::create(
                b, loc, complex::MulOp::create(b, loc, t.i, t.wkInverse), diff);
            value = complex::MulOp::create(
                b, loc, t.half, complex::AddOp::create(b, loc, sum, rotated));
          }
          return castScalar(b, loc, value, resultElement);
        },
        {lastIndexMap(rewriter.getContext(), rank)});
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// A[k] (B[k] where `isB`) of butterfly.conv_spectrum from `kf` = Kf[k] and
/// `kfMirror` = conj(Kf[M-k]), with `t` and `tm` the terms of w^k and
/// w^(M-k), in complex<f64>.
Value buildConvCoefficient(OpBuilder &b, Location loc, const RealTrickTerms &t,
                           const RealTrickTerms &tm, Value kf, Value kfMirror,
                           Value isB) {
  Value c1 = halfOnePlusIW(b, loc, t, t.wkInverse, /*plus=*/true);
  Value c2 = halfOnePlusIW(b, loc, t, t.wkInverse, /*plus=*/false);
  // A: a_k and conj(b_{M-k}); B: b_k and conj(a_{M-k}).
  Value first = arith::SelectOp::create(
      b, loc, isB, halfOnePlusIW(b, loc, t, t.wk, /*plus=*/true),
      halfOnePlusIW(b, loc, t, t.wk, /*plus=*/false));
  Value second = arith::SelectOp::create(
      b, loc, isB, halfOnePlusIW(b, loc, tm, tm.wk, /*plus=*/false),
      halfOnePlusIW(b, loc, tm, tm.wk, /*plus=*/true));
  second = complex::ConjOp::create(b, loc, second);
  return complex::AddOp::create(
      b, loc,
      complex::MulOp::create(b, loc, c1,
                             complex::MulOp::create(b, loc, kf, first)),
      complex::MulOp::create(b, loc, c2,
                             complex::MulOp::create(b, loc, kfMirror, second)));
}

/// `value` (complex<f64>) with its imaginary part dropped where `edge`:
/// bins 0 and M of a real spectrum count by their real parts only.
Value realWhere(OpBuilder &b, Location loc, Value edge, Value value) {
  Type f64 = b.getF64Type();
  Value real = complex::CreateOp::create(
      b, loc, value.getType(), complex::ReOp::create(b, loc, f64, value),
      buildZero(b, loc, f64));
  return arith::SelectOp::create(b, loc, edge, real, value);
}

struct ConvSpectrumLowering : OpRewritePattern<ConvSpectrumOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvSpectrumOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getResult().getType();
    int64_t half = type.getDimSize(2);
    Value input = op.getInput();
    auto resultElement = type.getElementType();
    // w^k for k = 0 .. M once; w^(M-k) read from the same table.
    Value roots = buildRealTrickRoots(rewriter, op.getLoc(), half + 1, half);
    Value result = buildElementwise(
        rewriter, op.getLoc(), ValueRange(), type.getShape(), resultElement,
        [&](OpBuilder &b, Location loc, ValueRange) {
          SmallVector<Value> idx = loopIndices(b, loc, 3);
          Value h = idx[0], row = idx[1], k = idx[2];
          Value m = indexConstant(b, loc, half);
          Value mirror = arith::SubIOp::create(b, loc, m, k);
          auto root = [&](Value e) {
            return tensor::ExtractOp::create(b, loc, roots, e).getResult();
          };
          RealTrickTerms t = buildRealTrickTerms(b, loc, root(k));
          RealTrickTerms tm = buildRealTrickTerms(b, loc, root(mirror));
          // Frequency-sparse: bins at or above the band read as zero.
          // Bins 0 and M count by their real parts only (as in irfft).
          auto readBin = [&](Value f) -> Value {
            Value edge = arith::OrIOp::create(
                b, loc,
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, f,
                                      indexConstant(b, loc, 0)),
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, f, m));
            Value value =
                realWhere(b, loc, edge, extractComplex(b, loc, input, {h}, f));
            std::optional<uint64_t> band = op.getBand();
            if (!band)
              return value;
            Value inside =
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, f,
                                      indexConstant(b, loc, *band));
            return arith::SelectOp::create(b, loc, inside, value,
                                           buildZero(b, loc, value.getType()));
          };
          Value kf = readBin(k);
          Value kfMirror = complex::ConjOp::create(b, loc, readBin(mirror));
          Value isB = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            row, indexConstant(b, loc, 1));
          Value value = buildConvCoefficient(b, loc, t, tm, kf, kfMirror, isB);
          return castScalar(b, loc, value, resultElement);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The frequency that `position` holds in the Monarch order of `factors`
/// (whose row-major digits weigh 1, N1, N1 N2, ...).
Value buildFrequencyOfPosition(OpBuilder &b, Location loc, Value position,
                               int64_t length, ArrayRef<int64_t> factors) {
  Value frequency = indexConstant(b, loc, 0);
  Value rest = position;
  int64_t stride = length, place = 1;
  for (int64_t factor : factors) {
    stride /= factor;
    Value digit =
        arith::DivUIOp::create(b, loc, rest, indexConstant(b, loc, stride));
    rest = arith::RemUIOp::create(b, loc, rest, indexConstant(b, loc, stride));
    frequency = arith::AddIOp::create(
        b, loc, frequency,
        arith::MulIOp::create(b, loc, digit, indexConstant(b, loc, place)));
    place *= factor;
  }
  return frequency;
}

/// The position holding frequency (M - k) mod M when `position` holds k, in
/// natural order or in the Monarch order of `factors`.
Value buildMirrorPosition(OpBuilder &b, Location loc, Value position,
                          int64_t length,
                          std::optional<ArrayRef<int64_t>> factors) {
  Value m = indexConstant(b, loc, length);
  auto mirror = [&](Value frequency) -> Value {
    return arith::RemUIOp::create(
        b, loc, arith::SubIOp::create(b, loc, m, frequency), m);
  };
  if (!factors)
    return mirror(position);
  // And back: the mirrored frequency's digits, least significant first.
  Value target =
      mirror(buildFrequencyOfPosition(b, loc, position, length, *factors));
  Value result = indexConstant(b, loc, 0);
  int64_t stride = length;
  for (int64_t factor : *factors) {
    stride /= factor;
    Value digit =
        arith::RemUIOp::create(b, loc, target, indexConstant(b, loc, factor));
    target =
        arith::DivUIOp::create(b, loc, target, indexConstant(b, loc, factor));
    result = arith::AddIOp::create(
        b, loc, result,
        arith::MulIOp::create(b, loc, digit, indexConstant(b, loc, stride)));
  }
  return result;
}

/// buildMirrorPosition of every position, once (tensor<length x index>):
/// the elementwise ops that pair k with M - k read it instead of taking a
/// position's digits apart for every sequence.
Value buildMirrorTable(OpBuilder &b, Location loc, int64_t length,
                       std::optional<ArrayRef<int64_t>> factors) {
  return buildElementwise(b, loc, ValueRange(), {length}, b.getIndexType(),
                          [&](OpBuilder &nb, Location nloc, ValueRange) {
                            return buildMirrorPosition(
                                nb, nloc, linalg::IndexOp::create(nb, nloc, 0),
                                length, factors);
                          });
}

/// conv_spectrum's coefficients from the packed transform: with Kf[k] and
/// conj(Kf[M-k]) written out in Z[k] and conj(Z[M-k]), each coefficient is
/// `alpha Z[p] + beta conj(Z[s(p)])` with alpha and beta depending on the
/// position only, so they (and the mirror positions s) are tables computed
/// once per call, not once per channel. (Bins 0 and M need no real-part
/// rule: a real kernel's are real by construction.)
struct PackedConvSpectrumLowering : OpRewritePattern<PackedConvSpectrumOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PackedConvSpectrumOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getResult().getType();
    int64_t half = type.getDimSize(2);
    Value input = op.getInput();
    std::optional<ArrayRef<int64_t>> factors = op.getFactors();
    auto c64 = ComplexType::get(rewriter.getF64Type());
    Value roots = buildRealTrickRoots(rewriter, loc, half + 1, half);
    // alpha and beta of rows A and B, by position: one generic, four
    // results, every term computed once.
    auto weightType = RankedTensorType::get({half}, c64);
    Value empty = tensor::EmptyOp::create(rewriter, loc, {half}, c64);
    AffineMap identity = rewriter.getMultiDimIdentityMap(1);
    auto weightsOp = linalg::GenericOp::create(
        rewriter, loc, SmallVector<Type>(4, weightType), ValueRange(),
        SmallVector<Value>(4, empty), SmallVector<AffineMap>(4, identity),
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
        [&](OpBuilder &b, Location nloc, ValueRange) {
          Value p = linalg::IndexOp::create(b, nloc, 0);
          Value k = factors
                        ? buildFrequencyOfPosition(b, nloc, p, half, *factors)
                        : p;
          Value mirror =
              arith::SubIOp::create(b, nloc, indexConstant(b, nloc, half), k);
          auto root = [&](Value e) {
            return tensor::ExtractOp::create(b, nloc, roots, e).getResult();
          };
          RealTrickTerms t = buildRealTrickTerms(b, nloc, root(k));
          RealTrickTerms tm = buildRealTrickTerms(b, nloc, root(mirror));
          Value a = halfOnePlusIW(b, nloc, t, t.wk, /*plus=*/false);
          Value bk = halfOnePlusIW(b, nloc, t, t.wk, /*plus=*/true);
          Value aConjMirror = complex::ConjOp::create(
              b, nloc, halfOnePlusIW(b, nloc, tm, tm.wk, /*plus=*/false));
          Value bConjMirror = complex::ConjOp::create(
              b, nloc, halfOnePlusIW(b, nloc, tm, tm.wk, /*plus=*/true));
          Value c1 = halfOnePlusIW(b, nloc, t, t.wkInverse, /*plus=*/true);
          Value c2 = halfOnePlusIW(b, nloc, t, t.wkInverse, /*plus=*/false);
          auto mul = [&](Value x, Value y) -> Value {
            return complex::MulOp::create(b, nloc, x, y);
          };
          auto add = [&](Value x, Value y) -> Value {
            return complex::AddOp::create(b, nloc, x, y);
          };
          // Row A: P = a_k, Q = conj(b_{M-k}); row B: P = b_k,
          // Q = conj(a_{M-k}). alpha = c1 P a_k + c2 Q conj(b_{M-k}),
          // beta = c1 P b_k + c2 Q conj(a_{M-k}).
          Value pA = mul(c1, a), qA = mul(c2, bConjMirror);
          Value pB = mul(c1, bk), qB = mul(c2, aConjMirror);
          linalg::YieldOp::create(
              b, nloc,
              ValueRange{add(mul(pA, a), mul(qA, bConjMirror)),
                         add(mul(pA, bk), mul(qA, aConjMirror)),
                         add(mul(pB, a), mul(qB, bConjMirror)),
                         add(mul(pB, bk), mul(qB, aConjMirror))});
        });
    Value mirrors = buildMirrorTable(rewriter, loc, half, factors);
    auto resultElement = type.getElementType();
    Value result = buildElementwise(
        rewriter, loc, ValueRange(), type.getShape(), resultElement,
        [&](OpBuilder &b, Location nloc, ValueRange) {
          SmallVector<Value> idx = loopIndices(b, nloc, 3);
          Value h = idx[0], row = idx[1], p = idx[2];
          Value mirror =
              tensor::ExtractOp::create(b, nloc, mirrors, ValueRange{p});
          Value z = extractComplex(b, nloc, input, {h}, p);
          Value zm = complex::ConjOp::create(
              b, nloc, extractComplex(b, nloc, input, {h}, mirror));
          Value isB = arith::CmpIOp::create(b, nloc, arith::CmpIPredicate::eq,
                                            row, indexConstant(b, nloc, 1));
          auto weight = [&](int64_t which) -> Value {
            auto read = [&](int64_t index) -> Value {
              return tensor::ExtractOp::create(
                  b, nloc, weightsOp.getResult(index), ValueRange{p});
            };
            return arith::SelectOp::create(b, nloc, isB, read(2 + which),
                                           read(which));
          };
          Value value = complex::AddOp::create(
              b, nloc, complex::MulOp::create(b, nloc, weight(0), z),
              complex::MulOp::create(b, nloc, weight(1), zm));
          return castScalar(b, nloc, value, resultElement);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct HermitianMulLowering : OpRewritePattern<HermitianMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(HermitianMulOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getResult().getType();
    int64_t length = type.getDimSize(2);
    Value input = op.getInput(), coefficients = op.getCoefficients();
    Value mirrors =
        buildMirrorTable(rewriter, op.getLoc(), length, op.getFactors());
    auto element = type.getElementType();
    Value result = buildElementwise(
        rewriter, op.getLoc(), ValueRange(), type.getShape(), element,
        [&](OpBuilder &b, Location loc, ValueRange) {
          SmallVector<Value> idx = loopIndices(b, loc, 3);
          Value batch = idx[0], h = idx[1], p = idx[2];
          Value partner =
              tensor::ExtractOp::create(b, loc, mirrors, ValueRange{p});
          Value x = extractComplex(b, loc, input, {batch, h}, p);
          Value xm = extractComplex(b, loc, input, {batch, h}, partner);
          Value a = extractComplex(b, loc, coefficients,
                                   {h, indexConstant(b, loc, 0)}, p);
          Value bc = extractComplex(b, loc, coefficients,
                                    {h, indexConstant(b, loc, 1)}, p);
          Value value = complex::AddOp::create(
              b, loc, complex::MulOp::create(b, loc, a, x),
              complex::MulOp::create(b, loc, bc,
                                     complex::ConjOp::create(b, loc, xm)));
          return castScalar(b, loc, value, element);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// On the CPU a fused region is just its body.
struct FusedInlining : OpRewritePattern<FusedOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(FusedOp op,
                                PatternRewriter &rewriter) const override {
    Block &body = op.getBody().front();
    auto yield = cast<YieldOp>(body.getTerminator());
    SmallVector<Value> results(yield.getValues());
    rewriter.inlineBlockBefore(&body, op, op.getInputs());
    rewriter.replaceOp(op, results);
    rewriter.eraseOp(yield);
    return success();
  }
};

struct ButterflyToLinalgPass
    : fftconv::impl::ButterflyToLinalgBase<ButterflyToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateButterflyToLinalgPatterns(patterns);
    if (failed(lowerDialectOps<ButterflyDialect>(getOperation(),
                                                 std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::fftconv::populateButterflyToLinalgPatterns(
    RewritePatternSet &patterns) {
  butterfly::populateExpandMonarchPatterns(patterns);
  patterns.add<DFTLowering, KronLowering, TwiddleLowering, PermuteLowering,
               PackRealLowering, UnpackRealLowering, RealSpectrumLowering,
               ConvSpectrumLowering, PackedConvSpectrumLowering,
               HermitianMulLowering, FusedInlining, MonarchLinearLowering>(
      patterns.getContext());
}
