//===- ExpandMonarch.cpp - butterfly.monarch into its stages ----*- C++ -*-===//
//
// The order-p Cooley-Tukey recursion, unrolled: stage s applies F_{N_s} to
// digit s of the index and twiddles the sub-transform that is left. The
// stages produce the spectrum in Monarch (digit-reversed) order; the digit
// reversal itself is a chain of stride permutations.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/Butterfly/Transforms/Passes.h"

#include "fftconv/Dialect/Butterfly/Transforms/MonarchStages.h"

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

struct ExpandMonarch : OpRewritePattern<MonarchOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MonarchOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ArrayRef<int64_t> factors = op.getFactors();
    bool inverse = op.getInverse();
    Value value = op.getInput();
    // Stage 0 reads and writes the leading digit of the natural-order index
    // (stride N / N1): known zeros and unread outputs are whole blocks of it.
    int64_t leadStride = op.getInput().getType().getShape().back() / factors[0];
    auto digits = [&](std::optional<uint64_t> count) -> std::optional<int64_t> {
      if (!count)
        return std::nullopt;
      return (int64_t(*count) + leadStride - 1) / leadStride;
    };
    if (!inverse) {
      for (size_t stage = 0; stage < factors.size(); ++stage)
        value = buildMonarchStage(rewriter, loc, value, factors, stage, false,
                                  stage == 0 ? digits(op.getNonzeroInputs())
                                             : std::nullopt);
      if (!op.getPermuted())
        value = buildDigitReversal(rewriter, loc, value, factors);
    } else {
      // Natural order, read with the radices reversed, is Monarch order read
      // backwards: reversing those digits yields Monarch order.
      if (!op.getPermuted()) {
        SmallVector<int64_t> reversed(llvm::reverse(factors));
        value = buildDigitReversal(rewriter, loc, value, reversed);
      }
      for (size_t stage = factors.size(); stage-- > 0;)
        value = buildMonarchStage(
            rewriter, loc, value, factors, stage, true, std::nullopt,
            stage == 0 ? digits(op.getNeededOutputs()) : std::nullopt);
    }
    rewriter.replaceOp(op, value);
    return success();
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
