//===- ExpandMonarch.cpp - butterfly.monarch into its stages ----*- C++ -*-===//
//
// The order-p Cooley-Tukey recursion, unrolled: stage s applies F_{N_s} to
// digit s of the index and twiddles the sub-transform that is left. The
// stages produce the spectrum in Monarch (digit-reversed) order; the digit
// reversal itself is a chain of stride permutations.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/Butterfly/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace butterfly {
#define GEN_PASS_DEF_BUTTERFLYEXPANDMONARCH
#include "fftconv/Dialect/Butterfly/Transforms/Passes.h.inc"
} // namespace butterfly
} // namespace mlir

using namespace mlir;
using namespace mlir::butterfly;

namespace {

/// Product of `sizes`, 1 for none.
int64_t product(ArrayRef<int64_t> sizes) {
  int64_t result = 1;
  for (int64_t size : sizes)
    result *= size;
  return result;
}

struct ExpandMonarch : OpRewritePattern<MonarchOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MonarchOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type elementType = op.getInput().getType().getElementType();
    ArrayRef<int64_t> factors = op.getFactors();
    bool inverse = op.getInverse();

    auto applyStage = [&](Value value, size_t stage) -> Value {
      int64_t size = factors[stage];
      int64_t stride = product(factors.drop_front(stage + 1));
      auto factorType = RankedTensorType::get({size, size}, elementType);
      Value factor = DFTOp::create(rewriter, loc, factorType, inverse);
      if (inverse && stride > 1)
        value = TwiddleOp::create(rewriter, loc, value, size, stride,
                                  /*inverse=*/true);
      value = KronOp::create(rewriter, loc, factor, value, stride);
      if (!inverse && stride > 1)
        value = TwiddleOp::create(rewriter, loc, value, size, stride,
                                  /*inverse=*/false);
      return value;
    };

    Value value = op.getInput();
    if (!inverse) {
      for (size_t stage = 0; stage < factors.size(); ++stage)
        value = applyStage(value, stage);
      if (!op.getPermuted())
        value = reverseDigits(rewriter, loc, value, factors);
    } else {
      // Natural order, read with the radices reversed, is Monarch order read
      // backwards: reversing those digits yields Monarch order.
      if (!op.getPermuted()) {
        SmallVector<int64_t> reversed(llvm::reverse(factors));
        value = reverseDigits(rewriter, loc, value, reversed);
      }
      for (size_t stage = factors.size(); stage-- > 0;)
        value = applyStage(value, stage);
    }
    rewriter.replaceOp(op, value);
    return success();
  }

  /// Moves the element at mixed-radix position (d1, ..., dp) (row-major over
  /// `radices`) to position (dp, ..., d1). Reversing the trailing digits of
  /// each block first and then transposing the leading digit with the rest
  /// does it with p - 1 stride permutations.
  static Value reverseDigits(PatternRewriter &rewriter, Location loc,
                             Value value, ArrayRef<int64_t> radices) {
    for (size_t digit = radices.size() - 1; digit-- > 0;)
      value = PermuteOp::create(rewriter, loc, value, radices[digit],
                                product(radices.drop_front(digit + 1)));
    return value;
  }
};

struct ButterflyExpandMonarchPass
    : butterfly::impl::ButterflyExpandMonarchBase<ButterflyExpandMonarchPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateExpandMonarchPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::butterfly::populateExpandMonarchPatterns(
    RewritePatternSet &patterns) {
  patterns.add<ExpandMonarch>(patterns.getContext());
}
