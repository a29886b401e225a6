//===- ParallelizeRows.cpp - elementwise linalg ops as row tasks -*- C++ -*-=//
//
// The CPU lowering's elementwise steps (the real-input trick's spectra, the
// spectral products, the gathers and transposes) are single linalg ops over
// every sequence at once. Their rows are independent, so each large one is
// tiled along its leading loop into an scf.forall whose iterations are
// tasks for the async runtime's workers (fftconv-to-cpu{threads}).
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/FFTConv/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace fftconv {
#define GEN_PASS_DEF_FFTCONVPARALLELIZEROWS
#include "fftconv/Dialect/FFTConv/Transforms/Passes.h.inc"
} // namespace fftconv
} // namespace mlir

using namespace mlir;
using namespace mlir::fftconv;

namespace {

/// The tile sizes that split `op`'s leading loop of extent above 1 into
/// tasks of at least `minPoints` iteration points, or nothing where `op`
/// is too small for two such tasks (or not all-parallel, or dynamic).
std::optional<SmallVector<OpFoldResult>>
rowTileSizes(OpBuilder &b, linalg::LinalgOp op, int64_t minPoints) {
  if (op.getNumLoops() < 2 || op.getNumReductionLoops() != 0 ||
      !op.hasPureTensorSemantics())
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return std::nullopt;
  auto leading = llvm::find_if(ranges, [](int64_t r) { return r > 1; });
  if (leading == ranges.end() || leading + 1 == ranges.end())
    return std::nullopt;
  int64_t pointsPerRow = 1;
  for (int64_t range : llvm::make_range(leading + 1, ranges.end()))
    pointsPerRow *= range;
  int64_t rowsPerTask = llvm::divideCeil(minPoints, pointsPerRow);
  if (2 * rowsPerTask > *leading)
    return std::nullopt;
  SmallVector<OpFoldResult> sizes(ranges.size(), b.getIndexAttr(0));
  sizes[leading - ranges.begin()] = b.getIndexAttr(rowsPerTask);
  return sizes;
}

struct FFTConvParallelizeRowsPass
    : fftconv::impl::FFTConvParallelizeRowsBase<FFTConvParallelizeRowsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (minPointsPerTask < 1) {
      getOperation()->emitError()
          << "fftconv-parallelize-rows: min-points-per-task must be at least "
             "1, got "
          << int64_t(minPointsPerTask);
      return signalPassFailure();
    }
    // Only ops outside tasks already: the codelets' and these.
    SmallVector<linalg::LinalgOp> candidates;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (!op->getParentOfType<scf::ForallOp>())
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : candidates) {
      rewriter.setInsertionPoint(op);
      std::optional<SmallVector<OpFoldResult>> sizes =
          rowTileSizes(rewriter, op, minPointsPerTask);
      if (!sizes)
        continue;
      scf::SCFTilingOptions options;
      options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
      options.setTileSizes(*sizes);
      auto tileable = cast<TilingInterface>(op.getOperation());
      // An op the tiling declines stays one sequential op: tasks are an
      // optimization, never a reason to fail.
      FailureOr<scf::SCFTilingResult> tiled =
          scf::tileUsingSCF(rewriter, tileable, options);
      if (succeeded(tiled))
        rewriter.replaceOp(op, tiled->replacements);
    }
  }
};

} // namespace
