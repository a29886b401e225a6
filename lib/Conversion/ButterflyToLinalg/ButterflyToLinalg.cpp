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

/// y[.., i, k, j] = sum_n F[(i,) k, n] * x[.., i, n, j].
struct KronLowering : OpRewritePattern<KronOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(KronOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getInput().getType();
    int64_t lead = type.getRank() - 1;
    int64_t size = op.getFactorSize();
    Value view =
        expandLastDim(rewriter, loc, op.getInput(),
                      {op.getNumBlocks(), size, int64_t(op.getStride())});
    auto viewType = cast<RankedTensorType>(view.getType());
    Value acc = buildZeroTensor(rewriter, loc, viewType.getShape(),
                                type.getElementType());

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
    if (op.getFactor().getType().getRank() == 3)
      factorExprs.push_back(i);
    factorExprs.append({k, n});
    SmallVector<AffineMap> maps = {
        AffineMap::get(numLoops, 0, factorExprs, ctx),
        AffineMap::get(numLoops, 0, inputExprs, ctx),
        AffineMap::get(numLoops, 0, outExprs, ctx)};
    auto product = linalg::GenericOp::create(
        rewriter, loc, acc.getType(), ValueRange{op.getFactor(), view}, acc,
        maps, parallelThenReduction(numLoops - 1, 1),
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Value term = complex::MulOp::create(nb, nloc, args[0], args[1]);
          linalg::YieldOp::create(
              nb, nloc,
              complex::AddOp::create(nb, nloc, args[2], term).getResult());
        });
    rewriter.replaceOp(
        op, collapseTrailingDims(rewriter, loc, product.getResult(0), 3));
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
    Value result = buildElementwise(
        rewriter, loc, view, viewType.getShape(), complexType,
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Value k = linalg::IndexOp::create(nb, nloc, rank - 2);
          Value j = linalg::IndexOp::create(nb, nloc, rank - 1);
          Value exponent = arith::MulIOp::create(nb, nloc, k, j);
          Value w = buildRootOfUnity(nb, nloc, exponent, rows * cols, inverse,
                                     1.0, complexType);
          return complex::MulOp::create(nb, nloc, args[0], w).getResult();
        });
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

struct ButterflyToLinalgPass
    : fftconv::impl::ButterflyToLinalgBase<ButterflyToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<ButterflyDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(ctx);
    populateButterflyToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::fftconv::populateButterflyToLinalgPatterns(
    RewritePatternSet &patterns) {
  butterfly::populateExpandMonarchPatterns(patterns);
  patterns.add<DFTLowering, KronLowering, TwiddleLowering, PermuteLowering>(
      patterns.getContext());
}
