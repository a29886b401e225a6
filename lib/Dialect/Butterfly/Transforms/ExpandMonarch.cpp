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
    // The spectrum-side stage (the last) holds the most significant
    // frequency digit: a band of frequencies min(k, N - k) < b is the
    // digit values below t or at least N_p - t.
    size_t last = factors.size() - 1;
    std::optional<int64_t> band;
    if (op.getPermuted())
      if (std::optional<uint64_t> b = op.getSpectralBand()) {
        int64_t length = op.getInput().getType().getShape().back();
        band = (int64_t(*b) * factors[last] + length - 1) / length;
      }
    if (!inverse) {
      for (size_t stage = 0; stage < factors.size(); ++stage) {
        StageKnownZeros zeros;
        if (stage == 0)
          zeros.inputExtent = digits(op.getNonzeroInputs());
        if (stage == last)
          zeros.outputBand = band;
        value = buildMonarchStage(rewriter, loc, value, factors, stage, false,
                                  zeros);
      }
      if (!op.getPermuted())
        value = buildDigitReversal(rewriter, loc, value, factors);
    } else {
      // Natural order, read with the radices reversed, is Monarch order read
      // backwards: reversing those digits yields Monarch order.
      if (!op.getPermuted()) {
        SmallVector<int64_t> reversed(llvm::reverse(factors));
        value = buildDigitReversal(rewriter, loc, value, reversed);
      }
      for (size_t stage = factors.size(); stage-- > 0;) {
        StageKnownZeros zeros;
        if (stage == 0)
          zeros.outputExtent = digits(op.getNeededOutputs());
        if (stage == last)
          zeros.inputBand = band;
        value = buildMonarchStage(rewriter, loc, value, factors, stage, true,
                                  zeros);
      }
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
