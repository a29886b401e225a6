//===- FlattenHeads.cpp - multi-head convolutions as B x H x L ---*- C++
//-*-===//
//
// fftconv-flatten-heads: a multi-head convolution (sequences B x G x H x Z x
// L, Hyena's `b ho v z l`) convolves each of its B * G * Z sequences of
// channel h with k[h], so it is the B x H x L convolution of those
// sequences as rows. With one block (Z = 1) the rows are a reshape, free on
// every target; with Z > 1 the channel axis is first moved next to the
// sequence axis.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/FFTConv/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace fftconv {
#define GEN_PASS_DEF_FFTCONVFLATTENHEADS
#include "fftconv/Dialect/FFTConv/Transforms/Passes.h.inc"
} // namespace fftconv
} // namespace mlir

using namespace mlir;
using namespace mlir::fftconv;

namespace {

/// The permutation that swaps the H and Z axes of [B * G, H, Z, L] (its own
/// inverse).
constexpr int64_t kSwapChannelsAndBlocks[] = {0, 2, 1, 3};
/// B x G x H x Z x L as [B * G, H, Z, L]: a reshape of the same memory.
const ReassociationIndices kHeadsAsBatch[] = {{0, 1}, {2}, {3}, {4}};

/// Whether the sequences of `type` (rank 5) need their axes moved before
/// they are rows of B x H x L.
bool needsTranspose(RankedTensorType type) { return type.getDimSize(3) != 1; }

/// The [B * G * Z, H, L] type of the rows of multi-head `type`.
RankedTensorType rowsTypeOf(RankedTensorType type) {
  ArrayRef<int64_t> shape = type.getShape();
  return RankedTensorType::get(
      {shape[0] * shape[1] * shape[3], shape[2], shape[4]},
      type.getElementType());
}

/// A multi-head tensor's sequences as rows of [B * G * Z, H, L].
Value toRows(OpBuilder &b, Location loc, Value value) {
  if (!value)
    return value;
  auto type = cast<RankedTensorType>(value.getType());
  ArrayRef<int64_t> shape = type.getShape();
  int64_t batch = shape[0], heads = shape[1], channels = shape[2],
          blocks = shape[3], length = shape[4];
  RankedTensorType rowsType = rowsTypeOf(type);
  if (!needsTranspose(type))
    return tensor::CollapseShapeOp::create(
        b, loc, rowsType, value,
        ArrayRef<ReassociationIndices>{{0, 1}, {2, 3}, {4}});
  // [B * G, H, Z, L] (a reshape), then Z before H (a transpose: the GPU
  // kernels read it in place, as a map of their rows), then the rows.
  Value batchFirst = tensor::CollapseShapeOp::create(
      b, loc,
      RankedTensorType::get({batch * heads, channels, blocks, length},
                            type.getElementType()),
      value, kHeadsAsBatch);
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{batch * heads, blocks, channels, length},
      type.getElementType());
  Value moved = linalg::TransposeOp::create(b, loc, batchFirst, init,
                                            kSwapChannelsAndBlocks)
                    ->getResult(0);
  return tensor::CollapseShapeOp::create(
      b, loc, rowsType, moved,
      ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}});
}

/// Rows of [B * G * Z, H, L] back as the multi-head tensor of `type`.
Value fromRows(OpBuilder &b, Location loc, Value rows, RankedTensorType type) {
  if (!needsTranspose(type))
    return tensor::ExpandShapeOp::create(
        b, loc, type, rows,
        ArrayRef<ReassociationIndices>{{0, 1}, {2, 3}, {4}});
  ArrayRef<int64_t> shape = type.getShape();
  int64_t batchHeads = shape[0] * shape[1];
  auto movedType = RankedTensorType::get(
      {batchHeads, shape[3], shape[2], shape[4]}, type.getElementType());
  Value moved = tensor::ExpandShapeOp::create(
      b, loc, movedType, rows,
      ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}});
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{batchHeads, shape[2], shape[3], shape[4]},
      type.getElementType());
  Value batchFirst =
      linalg::TransposeOp::create(b, loc, moved, init, kSwapChannelsAndBlocks)
          ->getResult(0);
  return tensor::ExpandShapeOp::create(b, loc, type, batchFirst, kHeadsAsBatch);
}

struct FlattenConvHeads : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.isMultiHead())
      return rewriter.notifyMatchFailure(op, "already B x H x L");
    Location loc = op.getLoc();
    Value rows = toRows(rewriter, loc, op.getInput());
    auto flat = ConvOp::create(
        rewriter, loc, rows.getType(), op.getModeAttr(), rows, op.getKernel(),
        op.getReverse(), toRows(rewriter, loc, op.getPregate()),
        toRows(rewriter, loc, op.getPostgate()), op.getSkip());
    // Discardable attributes (the data's element type of a recomputation)
    // describe the convolution, whatever its layout.
    flat->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    rewriter.replaceOp(op,
                       fromRows(rewriter, loc, flat.getResult(), op.getType()));
    return success();
  }
};

struct FlattenConvGradHeads : OpRewritePattern<ConvGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvGradOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getInput().getType().getRank() != 5)
      return rewriter.notifyMatchFailure(op, "already B x H x L");
    Location loc = op.getLoc();
    auto rows = [&](Value value) { return toRows(rewriter, loc, value); };
    // Gradients of sequences are rows too; those of k, kr and D are not.
    SmallVector<Type> types;
    for (Value gradient : op.getGradients()) {
      auto type = cast<RankedTensorType>(gradient.getType());
      types.push_back(type.getRank() == 5 ? rowsTypeOf(type) : type);
    }
    auto flat = ConvGradOp::create(rewriter, loc, types, op.getModeAttr(),
                                   rows(op.getInput()), op.getKernel(),
                                   op.getReverse(), rows(op.getPregate()),
                                   rows(op.getPostgate()), op.getSkip(),
                                   rows(op.getResultGrad()), op.getWrtAttr());
    flat->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    SmallVector<Value> results;
    for (auto [original, gradient] :
         llvm::zip_equal(op.getGradients(), flat.getGradients())) {
      auto type = cast<RankedTensorType>(original.getType());
      results.push_back(type.getRank() == 5
                            ? fromRows(rewriter, loc, gradient, type)
                            : gradient);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct FFTConvFlattenHeadsPass
    : fftconv::impl::FFTConvFlattenHeadsBase<FFTConvFlattenHeadsPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFlattenHeadsPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::fftconv::populateFlattenHeadsPatterns(RewritePatternSet &patterns) {
  patterns.add<FlattenConvHeads, FlattenConvGradHeads>(patterns.getContext());
}
