//===- ButterflyToGPU.cpp - fused regions to gpu + nvgpu --------*- C++ -*-===//
//
// A function of fused convolution regions becomes a host function of
// gpu.launch_func ops: per region, a kernel computing the kernel spectrum
// from k (when the region's coefficients come from a function argument) and
// the fused convolution kernel. The region's elementwise ops (the gates, the
// skip, the casts) are evaluated inside the convolution kernel where it
// reads its inputs and writes its outputs, 8 elements at a time.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Conversion/ButterflyToGPU/ButterflyToGPU.h"

#include "ConvRegions.h"
#include "fftconv/Conversion/ButterflyToGPU/ConvKernel.h"
#include "fftconv/Conversion/ButterflyToGPU/GradientKernels.h"
#include "fftconv/Conversion/ButterflyToGPU/ThreePassKernels.h"
#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"
#include "fftconv/Dialect/Butterfly/Transforms/CostModel.h"
#include "fftconv/Dialect/FFTConv/IR/FFTConv.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>
#include <functional>
#include <numeric>
#include <tuple>

namespace mlir {
namespace fftconv {
#define GEN_PASS_DEF_BUTTERFLYTOGPU
#include "fftconv/Conversion/Passes.h.inc"
} // namespace fftconv
} // namespace mlir

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::butterfly;
using namespace mlir::fftconv::detail;

//===----------------------------------------------------------------------===//
// The rewrite
//===----------------------------------------------------------------------===//

namespace {

/// The convolutions of a function, checked: each region chain with the
/// preparation of its kernel spectrum, and the chip their plans are for.
/// A three-pass kernel gradient and the convolutions of the same backward
/// that transform the same pairs (indices into the regions): the
/// correlation of g with k (du, dpre) and the convolution of v with k (z,
/// for dpost). The kernel gradient's kernels run them too: its outer
/// forward kernels fill the workspaces the convolutions would, its inner
/// kernel multiplies and inverts their rows, and only their outer inverse
/// kernels remain.
struct FusedBackward {
  std::optional<size_t> correlation, convolution;
  /// The three-pass form's (K once, in the spectrum owner's workspace); the
  /// single kernel's each keep their own coefficients.
  bool threePass = false;
  bool any() const { return correlation || convolution; }
  /// The region whose spectrum buffer holds K (not conjugated).
  size_t spectrumOwner() const {
    return correlation ? *correlation : *convolution;
  }
};

struct FunctionAnalysis {
  SmallVector<ConvRegion> regions;
  SmallVector<SpectrumChain> chains;
  SmallVector<KernelGradientRegion> gradients;
  /// Per gradient, the convolutions fused with it (none where empty).
  SmallVector<FusedBackward> fused;
  StringRef chip;

  /// The fused kernel gradient a region belongs to, if any.
  std::optional<size_t> fusedInto(size_t region) const {
    for (auto [index, group] : llvm::enumerate(fused))
      if (group.correlation == region || group.convolution == region)
        return index;
    return std::nullopt;
  }
};

/// Whether every input of `op` is an argument of the function (or a view
/// of one as rows).
LogicalResult checkFunctionInputs(FusedOp op) {
  for (Value operand : op->getOperands())
    if (!viewedArgument(operand))
      return op.emitError() << "the GPU lowering needs every input of a "
                               "fused region to be a function argument";
  return success();
}

/// Whether every result of `op` is returned (or viewed as the multi-head
/// sequence returned) and read by nothing else.
LogicalResult checkReturned(FusedOp op) {
  for (Value result : op->getResults())
    if (!viewOfResult(result))
      return op.emitError() << "the GPU lowering needs the result of a "
                               "fused region to be returned";
  return success();
}

/// The shapes of a kernel gradient's sequences: [B, H, L] inputs read 8
/// at a time.
LogicalResult checkKernelGradient(KernelGradientRegion gradient) {
  for (PackRealOp pack : {gradient.packV, gradient.packG}) {
    auto type = cast<RankedTensorType>(pack.getInput().getType());
    if (type.getRank() != 3)
      return gradient.cross.emitError()
             << "the GPU lowering needs [B, H, L] sequences";
    if (failed(checkElementwise(pack.getInput(), Value(), type.getDimSize(0),
                                type.getDimSize(1), gradient.cross,
                                ArgumentMap())))
      return failure();
  }
  return success();
}

/// Finds the convolutions of `func` and checks that the kernels cover
/// everything the function does.
LogicalResult analyzeConvolutions(func::FuncOp func, ArrayRef<FusedOp> fusedOps,
                                  FunctionAnalysis &analysis) {
  if (!func.getBody().hasOneBlock())
    return func.emitError() << "the GPU lowering needs a single-block function";
  Block &entry = func.getBody().front();
  llvm::SetVector<Operation *> covered;
  for (FusedOp op : fusedOps) {
    if (covered.contains(op))
      continue; // the inner or outer-inverse region of a three-pass chain
    if (op->getBlock() != &entry)
      return op.emitError() << "the GPU lowering needs fused regions at the "
                               "top level of the function";
    if (op.getKind() == FusedKind::CrossSpectrum) {
      auto gradient = analyzeKernelGradient(op);
      if (failed(gradient))
        return failure();
      // The inverse reads the cross spectrum, and k for squash's
      // subgradient.
      auto kernelInputs = llvm::make_filter_range(
          gradient->inverse->getOperands(),
          [&](Value operand) { return operand != op->getResult(0); });
      if (!llvm::all_of(kernelInputs, llvm::IsaPred<BlockArgument>))
        return gradient->inverse.emitError()
               << "the GPU lowering needs every input of a fused region to "
                  "be a function argument";
      if (failed(checkFunctionInputs(op)) ||
          failed(checkReturned(gradient->inverse)) ||
          failed(checkKernelGradient(*gradient)))
        return failure();
      covered.insert(op);
      covered.insert(gradient->inverse);
      analysis.gradients.push_back(*gradient);
      continue;
    }
    if (op.getKind() == FusedKind::ChannelInverse)
      return op.emitError() << "the GPU lowering runs a channel_inverse "
                               "region after the cross_spectrum region it "
                               "reads only";
    auto region = analyzeRegion(op);
    if (failed(region))
      return failure();
    FusedOp conv = region->op;
    auto coefficientArg =
        cast<BlockArgument>(region->product.getCoefficients());
    auto chain =
        analyzeSpectrum(conv.getOperand(coefficientArg.getArgNumber()), conv);
    if (failed(chain))
      return failure();
    // Inputs come from the function, or from the previous region of the
    // chain (the three-pass form).
    for (FusedOp part : {region->first(), conv, region->last()})
      for (Value operand : part->getOperands()) {
        if (viewedArgument(operand) ||
            operand == conv.getOperand(coefficientArg.getArgNumber()))
          continue;
        Operation *def = operand.getDefiningOp();
        bool chained = region->isChain() &&
                       ((part == conv && def == region->outerForward) ||
                        (part == region->outerInverse &&
                         (def == conv || def == region->outerForward)));
        if (!chained)
          return part.emitError() << "the GPU lowering needs every input of "
                                     "a fused region to be a function argument";
      }
    if (failed(checkReturned(region->last())))
      return failure();
    // The kernels evaluate the region's elementwise prologue and epilogue.
    auto inputType = cast<RankedTensorType>(region->pack.getInput().getType());
    int64_t batch = inputType.getRank() == 3 ? inputType.getDimSize(0) : -1;
    int64_t channels = inputType.getRank() == 3 ? inputType.getDimSize(1) : -1;
    if (batch < 0)
      return op.emitError() << "the GPU lowering needs [B, H, L] sequences";
    if (failed(checkElementwise(region->pack.getInput(), Value(), batch,
                                channels, region->first(), ArgumentMap())))
      return failure();
    for (Value output : region->outputs)
      if (failed(checkElementwise(output, region->unpack.getResult(), batch,
                                  channels, region->last(), region->epilogue)))
        return failure();
    covered.insert(region->first());
    covered.insert(conv);
    covered.insert(region->last());
    covered.insert(chain->ops.begin(), chain->ops.end());
    analysis.regions.push_back(*region);
    analysis.chains.push_back(std::move(*chain));
  }
  // The views of multi-head sequences are the arguments' and outputs' own
  // memory: no kernel computes them.
  for (Operation &op : entry.without_terminator())
    for (Value value : op.getResults()) {
      if (std::optional<BoundaryView> view = viewOfArgument(value))
        covered.insert(view->ops.begin(), view->ops.end());
      if (std::optional<BoundaryView> view = viewOfResult(value))
        covered.insert(view->ops.begin(), view->ops.end());
    }
  for (Operation &op : entry.without_terminator())
    if (!covered.contains(&op))
      return op.emitError()
             << "the GPU lowering has no kernel for '" << op.getName()
             << "' outside a fused convolution region";
  for (Type type : func.getArgumentTypes())
    if (!isRealTensor(type))
      return func.emitError() << "the GPU lowering needs static f16, bf16 or "
                                 "f32 tensors as arguments, not "
                              << type;
  for (Type type : func.getResultTypes())
    if (!isRealTensor(type))
      return func.emitError() << "the GPU lowering needs static f16, bf16 or "
                                 "f32 tensors as results, not "
                              << type;
  return success();
}

/// Checks that a three-pass plan's outer stages fit its outer blocks: past
/// 4096 rows a block owns 4 columns (narrowOuterTiles), fewer than a
/// tensor-core stage's tile of 8, so the last outer stage must run on the
/// FMA units.
static LogicalResult checkOuterFactors(Operation *op, GPUPlanAttr plan) {
  ArrayRef<int64_t> outer = plan.getOuterFactors();
  int64_t rows = std::accumulate(outer.begin(), outer.end(), int64_t(1),
                                 std::multiplies<int64_t>());
  if (!narrowOuterTiles(rows) || outer.back() <= kNarrowOuterLastFactor)
    return success();
  return op->emitError() << "the GPU plan's outer blocks of " << rows
                         << " rows own " << kNarrowOuterColumns
                         << " columns, fewer than a tensor-core stage's "
                            "tile: its last outer factor must be at most "
                         << kNarrowOuterLastFactor << ", got " << outer.back();
}

/// A plan's `cluster` is the cross spectrum's two blocks of v and of g, or
/// the blocks of a convolution's three passes in one kernel.
constexpr llvm::StringLiteral kClusterOnlyForCrossSpectrum =
    "the GPU lowering runs a cluster of blocks only for a kernel gradient's "
    "single-kernel cross spectrum and a convolution's three-pass form";

/// Why a convolution region cannot run its clustered three-pass plan, ""
/// where it can.
static std::string clusteredRegionRefusal(const ConvRegion &region,
                                          StringRef chip) {
  if (!region.threePass())
    return kClusterOnlyForCrossSpectrum.str();
  return butterfly::clusteredThreePassRefusal(
      getThreePassPlan(region.plan, region.shape), region.plan.getCluster(),
      butterfly::TargetDescription::forChip(chip).value_or(
          butterfly::TargetDescription()));
}

/// Reads each convolution's plan and the shapes it is for, and checks that
/// the plan fits the region.
LogicalResult readPlans(FunctionAnalysis &analysis) {
  for (ConvRegion &region : analysis.regions) {
    region.plan = region.op.getGpuPlanAttr();
    if (!region.plan)
      return region.op.emitError()
             << "the GPU lowering needs a plan on the conv region (run "
                "butterfly-plan-gpu-kernels first)";
    if (!analysis.chip.empty() && region.plan.getChip() != analysis.chip)
      return region.op.emitError()
             << "the GPU lowering needs one chip a function: this plan is "
                "for "
             << region.plan.getChip() << ", an earlier one for "
             << analysis.chip;
    analysis.chip = region.plan.getChip();
    auto inputType = cast<RankedTensorType>(region.pack.getInput().getType());
    auto packedType = cast<RankedTensorType>(region.pack.getResult().getType());
    auto outputType =
        cast<RankedTensorType>(region.unpack.getResult().getType());
    auto resultType =
        cast<RankedTensorType>(region.last()->getResult(0).getType());
    ConvolutionShape &shape = region.shape;
    shape.batch = inputType.getDimSize(0);
    shape.channels = inputType.getDimSize(1);
    shape.inputLength = inputType.getDimSize(2);
    shape.outputLength = outputType.getDimSize(2);
    shape.fftSize = 2 * packedType.getDimSize(2);
    shape.resultBytes =
        resultType.getNumElements() * resultType.getElementTypeBitWidth() / 8;
    shape.halfData = butterfly::isHalfData(region.first()->getOperandTypes()) &&
                     butterfly::isHalfData(region.last()->getResultTypes());
    shape.bf16Data = butterfly::isBF16Data(region.first()->getOperandTypes()) &&
                     butterfly::isBF16Data(region.last()->getResultTypes());
    // The stages compute the transform the region holds: the single kernel
    // one of N/2 points (the real-input trick), the three-pass form one of
    // N (two sequences as one complex sequence).
    int64_t points = 1;
    for (int64_t factor : region.plan.getAllFactors())
      points *= factor;
    int64_t expected = region.threePass() ? shape.fftSize : shape.fftSize / 2;
    if (points != expected)
      return region.op.emitError()
             << "the GPU plan's factors multiply to " << points
             << ", but the transform has " << expected << " points";
    if (region.threePass() && failed(checkOuterFactors(region.op, region.plan)))
      return failure();
    if (region.threePass() && region.plan.hasHalfWorkspace())
      if (std::string why = butterfly::halfWorkspaceRefusal(
              shape.halfData, shape.bf16Data, region.plan.isSharded());
          !why.empty())
        return region.op.emitError() << "the GPU lowering " << why;
    if (region.isChain() && !region.threePass())
      return region.op.emitError() << "the GPU lowering runs an outer_forward, "
                                      "conv, outer_inverse chain in the "
                                      "three_pass form only";
    if (region.plan.isClustered())
      if (std::string why = clusteredRegionRefusal(region, analysis.chip);
          !why.empty())
        return region.op.emitError() << why;
  }
  return success();
}

/// Reads each kernel gradient's plans, and checks that its channel inverse
/// follows its cross spectrum's form.
LogicalResult readGradientPlans(FunctionAnalysis &analysis) {
  for (KernelGradientRegion &gradient : analysis.gradients) {
    for (FusedOp op : {gradient.cross, gradient.inverse}) {
      GPUPlanAttr plan = op.getGpuPlanAttr();
      if (!plan)
        return op.emitError() << "the GPU lowering needs a plan on the region "
                                 "(run butterfly-plan-gpu-kernels first)";
      if (!analysis.chip.empty() && plan.getChip() != analysis.chip)
        return op.emitError()
               << "the GPU lowering needs one chip a function: this plan is "
                  "for "
               << plan.getChip() << ", an earlier one for " << analysis.chip;
      analysis.chip = plan.getChip();
      if (plan.isInCrossSpectrum())
        return op.emitError() << "the GPU lowering takes in_cross_spectrum "
                                 "plans on conv regions only (the "
                                 "convolutions a cross spectrum runs)";
    }
    gradient.crossPlan = gradient.cross.getGpuPlanAttr();
    gradient.inversePlan = gradient.inverse.getGpuPlanAttr();
    if (gradient.crossPlan.isThreePass() &&
        gradient.crossPlan.hasHalfWorkspace()) {
      TypeRange data = gradient.cross->getOperandTypes();
      if (std::string why = butterfly::halfWorkspaceRefusal(
              butterfly::isHalfData(data), butterfly::isBF16Data(data),
              gradient.crossPlan.isSharded());
          !why.empty())
        return gradient.cross.emitError() << "the GPU lowering " << why;
    }
    if (gradient.inversePlan.isClustered())
      return gradient.inverse.emitError() << kClusterOnlyForCrossSpectrum;
    if (gradient.crossPlan.isThreePass() &&
        failed(checkOuterFactors(gradient.cross, gradient.crossPlan)))
      return failure();
    // In the three-pass form the inverse's kernels read the sums the cross
    // spectrum's left in its Monarch order: one form, the same factors.
    bool threePass = gradient.crossPlan.isThreePass();
    if (gradient.inversePlan.isThreePass() != threePass ||
        (threePass && (gradient.inversePlan.getFactors() !=
                           gradient.crossPlan.getFactors() ||
                       gradient.inversePlan.getOuterFactors() !=
                           gradient.crossPlan.getOuterFactors())))
      return gradient.inverse.emitError()
             << "the GPU lowering needs the channel_inverse region planned "
                "in the form and with the factors of its cross_spectrum "
                "region";
  }
  return success();
}

/// Whether a kernel gradient's yielded lags are the skip term's gradient
/// (dD, lag 0: memref<H>) rather than K lags (memref<H x K>).
static bool isSkipGradient(Value lags) {
  return cast<RankedTensorType>(lags.getType()).getRank() == 1;
}

static bool hasSkipGradient(const KernelGradientRegion &gradient) {
  return llvm::any_of(gradient.lags, isSkipGradient);
}

/// Whether two spectrum chains compute the same K (up to the conjugation):
/// the same k through the same regularizers.
static bool sameKernelSpectrum(const SpectrumChain &a, const SpectrumChain &b) {
  auto sameFilters = [](ArrayRef<Operation *> x, ArrayRef<Operation *> y) {
    return x.size() == y.size() &&
           llvm::all_of(llvm::zip_equal(x, y), [](auto pair) {
             return OperationEquivalence::isEquivalentTo(
                 std::get<0>(pair), std::get<1>(pair),
                 OperationEquivalence::ignoreValueEquivalence, nullptr,
                 OperationEquivalence::IgnoreLocations);
           });
  };
  return a.kernel == b.kernel && a.reverse == b.reverse && a.band == b.band &&
         sameFilters(a.filters, b.filters) &&
         sameFilters(a.reverseFilters, b.reverseFilters);
}

/// Whether the kernels of `gradient` can run `region`, a convolution of
/// its backward, from the transforms of its pairs: three passes with the
/// same factors; or an in_cross_spectrum convolution whose layout is the
/// single-kernel cross spectrum's, without a band.
static bool runsWithGradient(const ConvRegion &region,
                             const KernelGradientRegion &gradient) {
  GPUPlanAttr plan = region.plan, cross = gradient.crossPlan;
  if (cross.isThreePass())
    return region.threePass() && !plan.isClustered() &&
           plan.getFactors() == cross.getFactors() &&
           plan.getOuterFactors() == cross.getOuterFactors();
  return plan.isInCrossSpectrum() &&
         plan.getPrecision() == cross.getPrecision() &&
         plan.getFactors() == cross.getFactors() &&
         plan.getThreads() == cross.getThreads() &&
         plan.getBatchTile() == cross.getBatchTile() &&
         !MonarchOp(region.forward).getSpectralBand();
}

/// Finds, for each kernel gradient, the convolutions of its backward that
/// transform its pairs (the same sequences, the same K, the same factors)
/// and that its kernels can therefore run; fails where an in_cross_spectrum
/// convolution finds none.
LogicalResult findFusedBackwards(FunctionAnalysis &analysis) {
  analysis.fused.assign(analysis.gradients.size(), FusedBackward());
  for (auto [g, gradient] : llvm::enumerate(analysis.gradients)) {
    FusedBackward &group = analysis.fused[g];
    group.threePass = gradient.crossPlan.isThreePass();
    for (auto [r, region] : llvm::enumerate(analysis.regions)) {
      if (analysis.fusedInto(r) || !runsWithGradient(region, gradient))
        continue;
      const SpectrumChain &chain = analysis.chains[r];
      if (group.threePass && group.any() &&
          !sameKernelSpectrum(chain, analysis.chains[group.spectrumOwner()]))
        continue;
      // The single kernel's one pass over both sides' outputs.
      if (!group.threePass && group.any() &&
          region.shape.outputLength !=
              analysis.regions[group.spectrumOwner()].shape.outputLength)
        continue;
      if (chain.conjugate && !group.correlation &&
          sameSequence(region.pack, gradient.packG))
        group.correlation = r;
      else if (!chain.conjugate && !group.convolution &&
               sameSequence(region.pack, gradient.packV))
        group.convolution = r;
    }
  }
  for (auto [r, region] : llvm::enumerate(analysis.regions))
    if (region.plan.isInCrossSpectrum() && !analysis.fusedInto(r))
      return region.op.emitError()
             << "the GPU lowering runs an in_cross_spectrum convolution "
                "inside a single-kernel cross spectrum that transforms its "
                "sequence, with its precision, factors, "
                "threads and batch_tile: a correlation of g with conj(K) or "
                "a convolution of v with K, without a band; this function "
                "has none";
  return success();
}

/// Whether what `pack` packs is f16.
bool isF16Pack(PackRealOp pack) {
  return cast<RankedTensorType>(pack.getInput().getType())
      .getElementType()
      .isF16();
}

/// The layout of a kernel gradient's cross-spectrum kernel: its plan and
/// the shapes of v and g; as many blocks a channel along the batch as give
/// the chip a few hundred blocks.
CrossSpectrumPlan crossSpectrumPlanOf(KernelGradientRegion gradient) {
  auto vType = cast<RankedTensorType>(gradient.packV.getInput().getType());
  auto gType = cast<RankedTensorType>(gradient.packG.getInput().getType());
  auto packed = cast<RankedTensorType>(gradient.packV.getResult().getType());
  GPUPlanAttr attr = gradient.crossPlan;
  CrossSpectrumPlan plan;
  ConvKernelPlan &transform = plan.transform;
  transform.batch = vType.getDimSize(0);
  transform.channels = vType.getDimSize(1);
  transform.complexLength = packed.getDimSize(2);
  transform.factors.assign(attr.getFactors().begin(), attr.getFactors().end());
  transform.batchTile = attr.getBatchTile();
  transform.threads = attr.getThreads();
  transform.precision = attr.getPrecision();
  transform.scalesRange =
      !isF16Pack(gradient.packV) || !isF16Pack(gradient.packG);
  plan.lengthV = vType.getDimSize(2);
  plan.lengthG = gType.getDimSize(2);
  constexpr int64_t kTargetBlocks = 256;
  plan.groups = std::clamp<int64_t>(
      llvm::divideCeil(kTargetBlocks, transform.channels), 1, plan.tiles());
  // Summing in shared memory saves a read and a write of the row per tile
  // (and their latency, which the tile's products wait on).
  std::optional<butterfly::TargetDescription> target =
      butterfly::TargetDescription::forChip(attr.getChip());
  plan.lagZero = hasSkipGradient(gradient);
  plan.cluster = std::max<int64_t>(1, attr.getCluster());
  plan.sharedAccumulator =
      plan.clustered() ||
      (target &&
       plan.sequenceBytes() + plan.accumulatorBytes() + plan.lagZeroBytes() <=
           target->sharedMemoryPerBlock);
  return plan;
}

/// The layouts of a kernel gradient's kernels in the three-pass form.
struct ThreePassGradient {
  ThreePassPlan cross;   // the pairs of v and of g, in chunks
  ThreePassPlan inverse; // the sums, as the one pair of a batch of one
  int64_t groups = 1;    // blocks a row of the sums along the pairs
  int64_t lagLength = 0; // lags the outer inverse keeps (whole 8s)
};

/// The three-pass plan a convolution of its own runs: sharded, with its
/// channels in chunks where its pairs alone give too few to pipeline.
ThreePassPlan convolutionPlanOf(const ConvRegion &region) {
  ThreePassPlan plan = getThreePassPlan(region.plan, region.shape);
  plan.chunkChannels = plan.pipelineChunkChannels();
  return plan;
}

ThreePassGradient threePassGradientOf(KernelGradientRegion gradient) {
  ThreePassGradient layout;
  ConvolutionShape shape =
      butterfly::crossSpectrumShape(gradient.packV, gradient.packG);
  shape.bf16Data = butterfly::isBF16Data(gradient.cross->getOperandTypes());
  layout.cross = getThreePassPlan(gradient.crossPlan, shape);
  layout.cross.scalesRange =
      !isF16Pack(gradient.packV) || !isF16Pack(gradient.packG);
  for (auto [lags, output] : llvm::zip_equal(gradient.lags, gradient.outputs)) {
    auto type = cast<RankedTensorType>(lags.getType());
    layout.lagLength = std::max(layout.lagLength,
                                (type.getRank() == 2 ? type.getDimSize(1) : 1) +
                                    output.circulateOffset);
  }
  layout.lagLength = butterfly::keptLagLength(
      layout.lagLength, layout.cross.ranks, layout.cross.inner());
  ConvolutionShape channel = shape;
  channel.batch = 1;
  channel.inputLength = shape.fftSize / 2;
  channel.outputLength = layout.lagLength;
  layout.inverse = getThreePassPlan(gradient.inversePlan, channel);
  // The sums are f32, as small as the gradients they came from.
  layout.inverse.scalesRange = true;
  layout.inverse.scaledWorkspace = false;
  // As many groups as give the chip a few hundred blocks.
  constexpr int64_t kTargetBlocks = 256;
  int64_t rows = layout.cross.outer() * layout.cross.channels;
  int64_t tiles =
      llvm::divideCeil(layout.cross.workspacePairs(), layout.cross.pairTile);
  layout.groups =
      std::clamp<int64_t>(llvm::divideCeil(kTargetBlocks, rows), 1, tiles);
  return layout;
}

/// A sharded function's regions, checked: one layout (the same ranks, rank
/// and rows) for every buffer, and nothing that reads another rank's
/// columns or needs a lag another rank holds.
LogicalResult checkSharding(FunctionAnalysis &analysis) {
  std::optional<ThreePassPlan> first;
  auto sameLayout = [&](const ThreePassPlan &plan,
                        Operation *op) -> LogicalResult {
    if (!first)
      first = plan;
    if (plan.ranks != first->ranks || plan.rank != first->rank ||
        plan.inner() != first->inner() || (first->sharded() && !plan.sharded()))
      return op->emitError()
             << "the GPU lowering shards every convolution of a function "
                "alike (the same ranks and rows of "
             << first->inner() << " samples)";
    return success();
  };
  for (auto [index, region] : llvm::enumerate(analysis.regions)) {
    if (!region.threePass())
      continue;
    ThreePassPlan plan = getThreePassPlan(region.plan, region.shape);
    if (failed(sameLayout(plan, region.op)))
      return failure();
    // A rank's buffers are its columns of every row: Smooth, a reverse
    // kernel or circulated taps would read other ranks' columns (Squash,
    // tap by tap, and its subgradient read only the rank's own).
    KernelTaps taps = analysis.chains[index].taps(region.shape.fftSize);
    bool tapByTap = llvm::all_of(
        taps.filters, [](Operation *filter) { return isa<SquashOp>(filter); });
    if (plan.sharded() && (!tapByTap || taps.hasReverse() || taps.circulant ||
                           taps.length % plan.inner()))
      return region.op.emitError()
             << "a sharded convolution needs a kernel of taps read one by "
                "one (squash at most: no smooth, reverse kernel or "
                "circulation) and whole rows of "
             << plan.inner() << " samples, got " << taps.length;
  }
  for (KernelGradientRegion &gradient : analysis.gradients) {
    if (!gradient.crossPlan.isThreePass())
      continue;
    ThreePassPlan plan = threePassGradientOf(gradient).cross;
    if (failed(sameLayout(plan, gradient.cross)))
      return failure();
  }
  if (!first || !first->sharded())
    return success();
  for (ConvRegion &region : analysis.regions)
    if (!region.threePass())
      return region.op.emitError()
             << "the GPU lowering shards every convolution of a function "
                "alike (the same ranks and rows of "
             << first->inner() << " samples)";
  return success();
}

/// The layout of a kernel gradient's channel-inverse kernel.
ConvKernelPlan channelInversePlanOf(KernelGradientRegion gradient) {
  auto packed = cast<RankedTensorType>(gradient.packV.getResult().getType());
  GPUPlanAttr attr = gradient.inversePlan;
  ConvKernelPlan plan;
  plan.batch = 1;
  plan.channels = packed.getDimSize(1);
  plan.complexLength = packed.getDimSize(2);
  plan.factors.assign(attr.getFactors().begin(), attr.getFactors().end());
  plan.batchTile = 1;
  plan.threads = attr.getThreads();
  plan.precision = GPUPrecision::Split;
  return plan;
}

/// What `pack` packs, at [batch, h, t .. t+7], as f32: the prologue of a
/// region (v = pregate * u, g = postgate * dy) evaluated from the kernel's
/// arguments, the region's inputs in order.
Value loadPacked(PackRealOp pack, OpBuilder &b, Location loc, ValueRange args,
                 Value batch, Value h, Value t, Value mask) {
  ElementwiseEmitter emitter(b, loc, args, ArgumentMap(), batch, h, t, Value(),
                             Value(), mask);
  Value v = emitter.emit(pack.getInput());
  auto type = VectorType::get({kVectorWidth}, b.getF32Type());
  if (v.getType() != type)
    v = arith::ExtFOp::create(b, loc, type, v);
  return v;
}

/// v = prologue(u, gates) of a convolution at [batch, h, t .. t+7].
Value loadRegionInput(ConvRegion &region, OpBuilder &b, Location loc,
                      ValueRange args, Value batch, Value h, Value t,
                      Value mask) {
  return loadPacked(region.pack, b, loc, args, batch, h, t, mask);
}

/// The region's outputs from the convolution results y (8, or 4 from a
/// direct output), through its epilogue, stored at [batch, h, t ..] of the
/// last kernel arguments (one an output, in order).
void storeRegionOutput(ConvRegion &region, OpBuilder &b, Location loc,
                       ValueRange args, Value batch, Value h, Value t, Value y,
                       Value mask) {
  int64_t width = cast<VectorType>(y.getType()).getNumElements();
  ElementwiseEmitter emitter(b, loc, args, region.epilogue, batch, h, t,
                             region.unpack.getResult(), y, mask, width);
  ValueRange buffers = args.take_back(region.outputs.size());
  for (auto [output, buffer] : llvm::zip_equal(region.outputs, buffers)) {
    Value out = emitter.emit(output);
    SmallVector<Value> at = sequenceIndices(b, loc, buffer, batch, h, t);
    if (mask) {
      vector::MaskedStoreOp::create(b, loc, buffer, at, mask, out);
      continue;
    }
    auto store = vector::StoreOp::create(b, loc, out, buffer, at);
    store.setAlignment(vectorAlignment(cast<VectorType>(out.getType())));
  }
}

SmallVector<Type> typesOf(ValueRange values) {
  return llvm::to_vector(values.getTypes());
}

/// Builds the host function of a function's convolutions and their kernels
/// in `module`: its arguments (inputs, outputs, and per convolution its
/// spectrum and, in the three-pass form, the workspace between the passes)
/// and a launch per kernel.
class HostBuilder {
public:
  HostBuilder(OpBuilder &builder, func::FuncOp func, gpu::GPUModuleOp module,
              const FunctionAnalysis &analysis);

  void emitSingleKernel(size_t index, ConvRegion &region,
                        const SpectrumChain &chain);
  void emitThreePass(size_t index, ConvRegion &region,
                     const SpectrumChain &chain);
  /// The cross-spectrum and channel-inverse kernels of a backward's kernel
  /// gradient, the cross spectrum running the convolutions `fused` names
  /// too (regions and their spectrum chains from `analysis`).
  void emitKernelGradient(size_t index, KernelGradientRegion gradient,
                          const FusedBackward &fused,
                          FunctionAnalysis &analysis);
  /// The same in the three-pass form, running the convolutions `fused`
  /// names too (regions and their spectrum chains from `analysis`).
  void emitThreePassKernelGradient(size_t index, KernelGradientRegion gradient,
                                   const FusedBackward &fused,
                                   FunctionAnalysis &analysis);
  /// Ends the host function; records each convolution's plan and launches.
  void finish(ArrayRef<ConvRegion> regions);

private:
  /// What both forms start convolution `index` with: its kernels' name
  /// prefix, its spectrum workspace and its kernels: k, and kr for a
  /// bidirectional convolution (the spectrum kernels' first arguments).
  struct Convolution {
    std::string name;
    Value spectrumBuffer;
    SmallVector<Value, 2> kernels;
    /// Sharded: where the exchange puts K's rows (the inner kernels'; the
    /// spectrum buffer where the exchange is in place), and the workspace
    /// sets the chunks rotate through: the outer kernels' buffer and the
    /// inner kernel's rows each.
    Value spectrumRows;
    SmallVector<std::pair<Value, Value>> passSets;
  };
  /// A three-pass convolution on clusters of blocks: its one kernel, after
  /// K's (ThreePassPlan::clustered).
  void emitClusteredThreePass(ConvRegion &region, const Convolution &conv,
                              const ThreePassPlan &plan, bool uAlone);
  Convolution beginConvolution(size_t index, const SpectrumChain &chain);
  /// K (or conj(K)) into the convolution's spectrum buffer, by the
  /// three-pass form's outer forward and inner spectrum kernels. Sharded,
  /// the exchange follows the outer kernel and the inner kernel is left to
  /// the returned function (empty otherwise).
  std::function<void()> emitThreePassSpectrum(const Convolution &conv,
                                              const SpectrumChain &chain,
                                              const ThreePassPlan &plan,
                                              bool conjugate);
  /// The operands of a three-pass convolution's outer inverse kernel over
  /// `passBuffer`, and in `passOperand` the place of the workspace.
  SmallVector<Value> outerInverseOperands(ConvRegion &region,
                                          Value spectrumBuffer,
                                          Value passBuffer,
                                          unsigned &passOperand);
  /// The outer inverse kernel of `region` for the chunk of pairs from
  /// `plan.firstPair`, launched.
  void emitOuterInverse(ConvRegion &region, const std::string &name,
                        const ThreePassPlan &plan, Value spectrumBuffer,
                        Value passBuffer);
  /// The host buffer of function input `operand` (a view of it as rows
  /// where the function views it so).
  Value hostArg(Value operand);
  /// The output buffer of function result `result`.
  Value outputOf(Value result);
  /// The output buffers of the function results `last` yields, in order.
  SmallVector<Value> outputsOf(FusedOp last);
  void launch(gpu::GPUFuncOp kernel, std::array<int64_t, 3> grid,
              int64_t threads, int64_t sharedBytes, ValueRange operands);
  gpu::KernelDim3 index3(int64_t x, int64_t y, int64_t z);

  OpBuilder &builder;
  Location loc;
  func::FuncOp func;
  gpu::GPUModuleOp module;
  /// The plans' chip: the kernels' register budgets.
  butterfly::TargetDescription target;
  func::FuncOp host;
  Block *hostBlock = nullptr;
  unsigned firstOutput = 0;
  SmallVector<unsigned> spectrumArgs, passArgs, gradientArgs;
  /// A sharded function's plan (its layout); per convolution the buffer
  /// K's exchange receives into (0: in place, or not sharded), and for a
  /// sharded convolution of its own the first of its workspaces past the
  /// first set's outer buffer (that set's rows, then the other sets' two
  /// buffers each) and its sets.
  std::optional<ThreePassPlan> shard;
  SmallVector<unsigned> spectrumRowArgs, setArgs;
  SmallVector<int64_t> passSetCounts;
  /// Marks convolution `index`'s spectrum buffer as written by the `count`
  /// launches from `first` on, from its kernels alone.
  void markSpectrumProducers(size_t index, const Convolution &conv,
                             int64_t first, int64_t count);
  /// The single kernel's spectrum kernel of convolution `index`, launched
  /// over its kernels into its spectrum buffer (which it alone writes).
  void launchSpectrum(size_t index, const Convolution &conv,
                      gpu::GPUFuncOp spectrum, const ConvKernelPlan &plan);
  /// An all-to-all from `send` to `recv`, after the launches so far.
  void exchange(Value send, Value recv);
  int64_t launches = 0;
  /// The launches of each convolution, for the manifest (each launch in
  /// one at most), and the convolution `launch` records them for.
  SmallVector<SmallVector<int64_t>> convolutionKernels;
  std::optional<size_t> recording;
};

HostBuilder::HostBuilder(OpBuilder &builder, func::FuncOp func,
                         gpu::GPUModuleOp module,
                         const FunctionAnalysis &analysis)
    : builder(builder), loc(func.getLoc()), func(func), module(module),
      target(butterfly::TargetDescription::forChip(analysis.chip)
                 .value_or(butterfly::TargetDescription())) {
  ArrayRef<ConvRegion> regions = analysis.regions;
  ArrayRef<KernelGradientRegion> gradients = analysis.gradients;
  convolutionKernels.resize(regions.size());
  spectrumRowArgs.assign(regions.size(), 0);
  setArgs.assign(regions.size(), 0);
  passSetCounts.assign(regions.size(), 0);
  // A sharded function (its convolutions sharded alike, checked) takes and
  // returns the rank's shards: its columns of every row, 1 / R of each
  // sequence.
  for (const ConvRegion &region : regions)
    if (region.plan.isSharded())
      shard = getThreePassPlan(region.plan, region.shape);
  for (const KernelGradientRegion &gradient : gradients)
    if (gradient.crossPlan.isSharded())
      shard = threePassGradientOf(gradient).cross;
  auto hostType = [&](Type type) {
    MemRefType memref = memrefOf(type);
    if (!shard || memref.getRank() < 2)
      return memref;
    SmallVector<int64_t> shape(memref.getShape());
    shape.back() /= shard->ranks;
    return MemRefType::get(shape, memref.getElementType());
  };
  SmallVector<Type> argTypes;
  SmallVector<StringRef> roles;
  for (Type type : func.getArgumentTypes()) {
    argTypes.push_back(hostType(type));
    roles.push_back("input");
  }
  firstOutput = argTypes.size();
  for (Type type : func.getResultTypes()) {
    argTypes.push_back(hostType(type));
    roles.push_back("output");
  }
  Type f32 = builder.getF32Type();
  for (auto [index, region] : llvm::enumerate(regions)) {
    spectrumArgs.push_back(argTypes.size());
    std::optional<size_t> group = analysis.fusedInto(index);
    if (group && analysis.fused[*group].threePass) {
      // Run by the kernel gradient's kernels over its workspaces: K once,
      // in the buffer of the group's first convolution.
      passArgs.push_back(0);
      if (analysis.fused[*group].spectrumOwner() != index) {
        spectrumArgs.back() = 0; // the owner's, set below
        continue;
      }
      ThreePassPlan plan = getThreePassPlan(region.plan, region.shape);
      argTypes.push_back(threePassSpectrumType(builder, plan));
      roles.push_back("workspace");
      if (plan.sharded() && !plan.spectrumExchangeInPlace()) {
        spectrumRowArgs[index] = argTypes.size(); // K's rows
        argTypes.push_back(threePassSpectrumType(builder, plan));
        roles.push_back("workspace");
      }
      continue;
    }
    if (region.threePass()) {
      ThreePassPlan plan = convolutionPlanOf(region);
      argTypes.push_back(threePassSpectrumType(builder, plan));
      roles.push_back("workspace");
      if (plan.clustered()) { // no workspace between the passes
        passArgs.push_back(0);
        continue;
      }
      passArgs.push_back(argTypes.size());
      argTypes.push_back(threePassWorkspaceType(builder, plan));
      roles.push_back("workspace");
      if (plan.sharded()) {
        // What the exchanges receive into, the inner kernels' rows: of K
        // (unless its exchange is in place), then of the pairs of each
        // workspace set; and the sets past the first (the outer kernels'
        // workspace, then the rows').
        if (!plan.spectrumExchangeInPlace()) {
          spectrumRowArgs[index] = argTypes.size();
          argTypes.push_back(threePassSpectrumType(builder, plan));
          roles.push_back("workspace");
        }
        setArgs[index] = argTypes.size();
        passSetCounts[index] = plan.workspaceSets();
        argTypes.append(2 * plan.workspaceSets() - 1,
                        threePassWorkspaceType(builder, plan));
        roles.append(2 * plan.workspaceSets() - 1, "workspace");
      }
      continue;
    }
    ConvKernelPlan plan = getSingleKernelPlan(region.plan, region.shape);
    argTypes.push_back(
        MemRefType::get({plan.channels, 2, 2 * plan.complexLength}, f32));
    roles.push_back("workspace");
    passArgs.push_back(0);
  }
  for (const FusedBackward &group : analysis.fused)
    for (std::optional<size_t> member : {group.correlation, group.convolution})
      if (member && group.threePass)
        spectrumArgs[*member] = spectrumArgs[group.spectrumOwner()];
  // A kernel gradient's partial cross spectra, one row per group and
  // channel.
  // In the three-pass form: the spectra of a chunk of v's pairs and of g's,
  // the sums' rows, and the lags.
  for (const KernelGradientRegion &gradient : gradients) {
    gradientArgs.push_back(argTypes.size());
    if (gradient.crossPlan.isThreePass()) {
      ThreePassGradient layout = threePassGradientOf(gradient);
      const ThreePassPlan &cross = layout.cross;
      MemRefType spectra = threePassWorkspaceType(builder, cross);
      MemRefType sums = threePassSumsType(builder, cross, layout.groups);
      argTypes.append({spectra, spectra, sums});
      argTypes.push_back(MemRefType::get(
          {cross.channels, layout.lagLength / cross.ranks}, f32));
      roles.append(4, "workspace");
      if (cross.sharded()) {
        // Where the exchanges put the rows of v's and g's pairs, and the
        // sums' columns for the outer inverse.
        argTypes.append({spectra, spectra, sums});
        roles.append(3, "workspace");
        // dD's exchange: every rank's lag 0 of each channel, sent and
        // received.
        if (hasSkipGradient(gradient)) {
          auto skip = MemRefType::get({cross.ranks, cross.channels}, f32);
          argTypes.append({skip, skip});
          roles.append(2, "workspace");
        }
      }
      continue;
    }
    CrossSpectrumPlan plan = crossSpectrumPlanOf(gradient);
    argTypes.push_back(MemRefType::get(
        {plan.groups, plan.transform.channels, plan.rowLength()}, f32));
    roles.push_back("workspace");
  }
  builder.setInsertionPoint(func);
  host = func::FuncOp::create(builder, loc, func.getName(),
                              builder.getFunctionType(argTypes, {}));
  host.setVisibility(func.getVisibility());
  for (unsigned i = 0; i < argTypes.size(); ++i) {
    host.setArgAttr(i, kRoleAttrName, builder.getStringAttr(roles[i]));
    if (i < func.getNumArguments())
      if (Attribute name = func.getArgAttr(i, kNameAttrName))
        host.setArgAttr(i, kNameAttrName, name);
  }
  hostBlock = host.addEntryBlock();
  if (shard)
    host->setAttr(kShardAttrName,
                  builder.getDenseI64ArrayAttr(
                      {shard->rank, shard->ranks, shard->inner()}));
}

HostBuilder::Convolution
HostBuilder::beginConvolution(size_t index, const SpectrumChain &chain) {
  recording = index;
  Convolution conv;
  conv.name = (func.getName() + "_conv" + Twine(index)).str();
  conv.spectrumBuffer = hostBlock->getArgument(spectrumArgs[index]);
  conv.spectrumRows = spectrumRowArgs[index]
                          ? hostBlock->getArgument(spectrumRowArgs[index])
                          : conv.spectrumBuffer;
  // A sharded convolution of its own (not one a kernel gradient's kernels
  // run): its workspace sets.
  for (int64_t set = 0; set < passSetCounts[index]; ++set) {
    unsigned rows = setArgs[index] + 2 * set;
    unsigned outer = set ? rows - 1 : passArgs[index];
    conv.passSets.push_back(
        {hostBlock->getArgument(outer), hostBlock->getArgument(rows)});
  }
  conv.kernels.push_back(hostArg(chain.kernel));
  if (chain.reverse)
    conv.kernels.push_back(hostArg(chain.reverse));
  return conv;
}

/// `buffer` seen as the rows `reassociation` collapses it to, a view
/// created in the host function before the launches that follow.
static Value rowsView(OpBuilder &builder, Location loc, Block *hostBlock,
                      Value buffer,
                      ArrayRef<ReassociationIndices> reassociation) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(hostBlock);
  return memref::CollapseShapeOp::create(builder, loc, buffer, reassociation);
}

Value HostBuilder::hostArg(Value operand) {
  BoundaryView view = *viewOfArgument(operand);
  Value argument =
      hostBlock->getArgument(cast<BlockArgument>(view.buffer).getArgNumber());
  if (view.reassociation.empty())
    return argument;
  return rowsView(builder, loc, hostBlock, argument, view.reassociation);
}

Value HostBuilder::outputOf(Value result) {
  auto returnOp = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  BoundaryView view = *viewOfResult(result);
  unsigned resultIndex = 0;
  for (OpOperand &use : returnOp->getOpOperands())
    if (use.get() == view.buffer)
      resultIndex = use.getOperandNumber();
  Value output = hostBlock->getArgument(firstOutput + resultIndex);
  if (view.reassociation.empty())
    return output;
  return rowsView(builder, loc, hostBlock, output, view.reassociation);
}

SmallVector<Value> HostBuilder::outputsOf(FusedOp last) {
  return llvm::map_to_vector(last->getResults(),
                             [&](Value result) { return outputOf(result); });
}

gpu::KernelDim3 HostBuilder::index3(int64_t x, int64_t y, int64_t z) {
  return gpu::KernelDim3{arith::ConstantIndexOp::create(builder, loc, x),
                         arith::ConstantIndexOp::create(builder, loc, y),
                         arith::ConstantIndexOp::create(builder, loc, z)};
}

void HostBuilder::launch(gpu::GPUFuncOp kernel, std::array<int64_t, 3> grid,
                         int64_t threads, int64_t sharedBytes,
                         ValueRange operands) {
  if (recording)
    convolutionKernels[*recording].push_back(launches);
  ++launches;
  // Registers a thread up to what the block's shared memory and the grid
  // leave room for: past it they would limit the blocks an SM (measured on
  // an H200:
  // 8K gated 1.58 -> 1.24 ms at 64 registers instead of 128, 64K
  // three-pass Split 4.19 -> 3.76 at 80), but not below what its stages
  // hold (kRegisterFloorAttrName), where they would spill. A kernel
  // launched twice takes the smaller budget.
  StringRef maxnreg = NVVM::NVVMDialect::getMaxnregAttrName();
  int64_t budget =
      target.registerBudget(threads, sharedBytes, grid[0] * grid[1] * grid[2]);
  if (auto floor = kernel->getAttrOfType<IntegerAttr>(kRegisterFloorAttrName))
    budget = std::max(budget, floor.getInt());
  if (auto current = kernel->getAttrOfType<IntegerAttr>(maxnreg))
    budget = std::min(budget, current.getInt());
  kernel->setAttr(maxnreg, builder.getI32IntegerAttr(budget));
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(hostBlock);
  auto launchOp = gpu::LaunchFuncOp::create(
      builder, loc, kernel, index3(grid[0], grid[1], grid[2]),
      index3(threads, 1, 1),
      arith::ConstantIntOp::create(builder, loc, sharedBytes, 32), operands);
  SmallVector<int64_t> writeOnly;
  for (unsigned i = 0, e = kernel.getNumArguments(); i < e; ++i)
    if (kernel.getArgAttr(i, kWriteOnlyAttrName))
      writeOnly.push_back(i);
  if (!writeOnly.empty())
    launchOp->setAttr(kWriteOnlyOperandsAttrName,
                      builder.getDenseI64ArrayAttr(writeOnly));
}

void HostBuilder::exchange(Value send, Value recv) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(hostBlock);
  ExchangeOp::create(builder, loc, send, recv);
}

void HostBuilder::markSpectrumProducers(size_t index, const Convolution &conv,
                                        int64_t first, int64_t count) {
  // The spectrum depends on k alone: a runtime may keep it between calls.
  unsigned spectrumIndex = spectrumArgs[index];
  host.setArgAttr(spectrumIndex, kProducerAttrName,
                  builder.getI64IntegerAttr(first));
  if (count > 1)
    host.setArgAttr(spectrumIndex, kProducerCountAttrName,
                    builder.getI64IntegerAttr(count));
  host.setArgAttr(spectrumIndex, kDependsOnAttrName,
                  builder.getDenseI64ArrayAttr(llvm::map_to_vector(
                      conv.kernels, [](Value kernel) -> int64_t {
                        return cast<BlockArgument>(kernel).getArgNumber();
                      })));
}

void HostBuilder::launchSpectrum(size_t index, const Convolution &conv,
                                 gpu::GPUFuncOp spectrum,
                                 const ConvKernelPlan &plan) {
  markSpectrumProducers(index, conv, launches, /*count=*/1);
  SmallVector<Value> operands(conv.kernels.begin(), conv.kernels.end());
  operands.push_back(conv.spectrumBuffer);
  launch(spectrum, {plan.channels, 1, 1}, plan.threads,
         plan.spectrumSharedBytes(), operands);
}

void HostBuilder::emitSingleKernel(size_t index, ConvRegion &region,
                                   const SpectrumChain &chain) {
  Convolution conv = beginConvolution(index, chain);
  ConvKernelPlan plan = getSingleKernelPlan(region.plan, region.shape);
  plan.spectralBand = int64_t(region.forward.getSpectralBand().value_or(0));
  plan.directOutput = writesDirectOutput(plan, epilogueReadsSequences(region));
  gpu::GPUFuncOp spectrum = buildSpectrumKernel(
      builder, loc, module, conv.name + "_spectrum",
      chain.taps(2 * plan.complexLength), plan, chain.conjugate, chain.band);

  // Kernel arguments: the region's inputs, then its output.
  SmallVector<Value> operands;
  unsigned coefficientArg =
      cast<BlockArgument>(region.product.getCoefficients()).getArgNumber();
  for (auto [i, operand] : llvm::enumerate(region.op->getOperands()))
    operands.push_back(i == coefficientArg ? conv.spectrumBuffer
                                           : hostArg(operand));
  llvm::append_range(operands, outputsOf(region.op));
  gpu::GPUFuncOp convKernel = buildConvKernel(
      builder, loc, module, conv.name, typesOf(operands), coefficientArg, plan,
      [&](OpBuilder &b, Location l, ValueRange args, Value batch, Value h,
          Value t, Value mask) {
        return loadRegionInput(region, b, l, args, batch, h, t, mask);
      },
      [&](OpBuilder &b, Location l, ValueRange args, Value batch, Value h,
          Value t, Value y, Value mask) {
        storeRegionOutput(region, b, l, args, batch, h, t, y, mask);
      });
  launchSpectrum(index, conv, spectrum, plan);
  launch(convKernel, {plan.channels * plan.gridY(), 1, 1}, plan.threads,
         plan.convSharedBytes(), operands);
  recording.reset();
}

std::function<void()>
HostBuilder::emitThreePassSpectrum(const Convolution &conv,
                                   const SpectrumChain &chain,
                                   const ThreePassPlan &plan, bool conjugate) {
  // K from k: the outer forward pass over k (as the only "pair"), then the
  // row transforms in place, at Split precision where its blocks hold the
  // rows (ThreePassPlan::spectrumPrecision).
  ThreePassPlan spectrumPlan = plan;
  spectrumPlan.precision = plan.spectrumPrecision();
  // k is f32, its taps N(0, 1/K) in the tests: about 5e-4 at 4M taps.
  spectrumPlan.scalesRange = true;
  ThreePassPlan kernelPlan = spectrumPlan;
  kernelPlan.batch = 1;
  kernelPlan.firstPair = 0;
  KernelTaps taps = chain.taps(plan.length);
  kernelPlan.inputLength = llvm::alignTo(taps.extent(), kVectorWidth);
  SmallVector<Value> spectrumOperands(conv.kernels.begin(), conv.kernels.end());
  spectrumOperands.push_back(conv.spectrumBuffer);
  gpu::GPUFuncOp spectrumOuter = buildOuterForwardKernel(
      builder, loc, module, conv.name + "_spectrum_outer",
      typesOf(spectrumOperands),
      /*workspaceArg=*/taps.count(), kernelPlan,
      [&](OpBuilder &b, Location l, ValueRange args, Value, Value h, Value t,
          Value mask) -> Value {
        return loadKernelTaps(b, l, args.take_front(taps.count()), taps, h, t,
                              mask);
      });
  gpu::GPUFuncOp spectrumInner = buildInnerSpectrumKernel(
      builder, loc, module, conv.name + "_spectrum_inner",
      spectrumPlan.innerKernelPlan(), conjugate, chain.band);
  int64_t columnTiles = plan.localColumns() / plan.columns;
  launch(spectrumOuter, {columnTiles, plan.channels, 1}, plan.threads,
         kernelPlan.outerSharedBytes(), spectrumOperands);
  // Sharded: the rank's columns of every row to the ranks that own the
  // rows (in place where the plan says: the columns are not read again);
  // the inner kernel transforms its rows where they arrive (launched by the
  // caller: after the first chunk's outer pass, which the exchange
  // overlaps).
  auto launchInner = [this, spectrumInner, plan, spectrumPlan](Value rows) {
    launch(spectrumInner, {plan.localRows(), plan.channels, 1},
           spectrumPlan.innerBlockThreads(),
           spectrumPlan.inner() * spectrumPlan.valueBytes(), rows);
  };
  if (!plan.sharded()) {
    launchInner(conv.spectrumBuffer);
    return {};
  }
  exchange(conv.spectrumBuffer, conv.spectrumRows);
  return [launchInner, rows = conv.spectrumRows] { launchInner(rows); };
}

SmallVector<Value> HostBuilder::outerInverseOperands(ConvRegion &region,
                                                     Value spectrumBuffer,
                                                     Value passBuffer,
                                                     unsigned &passOperand) {
  // The region's inputs (a single region's coefficients are the spectrum
  // buffer, which the kernel does not read), the workspace, the outputs.
  Value coefficients = region.op.getOperand(
      cast<BlockArgument>(region.product.getCoefficients()).getArgNumber());
  SmallVector<Value> operands;
  passOperand = 0;
  if (region.isChain()) {
    for (auto [i, operand] :
         llvm::enumerate(region.outerInverse->getOperands())) {
      if (operand.getDefiningOp() == region.op) {
        passOperand = i;
        operands.push_back(passBuffer);
      } else if (operand.getDefiningOp() == region.outerForward) {
        // Evaluated again from outer_forward's inputs: never read.
        operands.push_back(passBuffer);
      } else {
        operands.push_back(hostArg(operand));
      }
    }
    for (Value operand : region.outerForward->getOperands())
      operands.push_back(hostArg(operand));
  } else {
    for (Value operand : region.op->getOperands())
      operands.push_back(operand == coefficients ? spectrumBuffer
                                                 : hostArg(operand));
    passOperand = operands.size();
    operands.push_back(passBuffer);
  }
  llvm::append_range(operands, outputsOf(region.last()));
  return operands;
}

void HostBuilder::emitOuterInverse(ConvRegion &region, const std::string &name,
                                   const ThreePassPlan &plan,
                                   Value spectrumBuffer, Value passBuffer) {
  unsigned passOperand = 0;
  SmallVector<Value> operands =
      outerInverseOperands(region, spectrumBuffer, passBuffer, passOperand);
  gpu::GPUFuncOp kernel = buildOuterInverseKernel(
      builder, loc, module, name, typesOf(operands), passOperand, plan,
      [&](OpBuilder &b, Location l, ValueRange args, Value batch, Value h,
          Value t, Value y, Value mask) {
        storeRegionOutput(region, b, l, args, batch, h, t, y, mask);
      });
  launch(kernel,
         {plan.localColumns() / plan.columns, plan.workspaceChannels(),
          plan.workspacePairs()},
         plan.threads, plan.outerSharedBytes(), operands);
}

void HostBuilder::emitClusteredThreePass(ConvRegion &region,
                                         const Convolution &conv,
                                         const ThreePassPlan &plan,
                                         bool uAlone) {
  // K, then the outer inverse kernel's operands (no workspace: K's buffer in
  // its place, never read), which hold the outer forward kernel's: a single
  // region's operands first, a chain's outer_forward operands after its
  // outer_inverse's.
  unsigned passOperand = 0;
  SmallVector<Value> operands = {conv.spectrumBuffer};
  llvm::append_range(operands,
                     outerInverseOperands(region, conv.spectrumBuffer,
                                          conv.spectrumBuffer, passOperand));
  unsigned forwardOperands =
      1 + (region.isChain() ? region.outerInverse->getNumOperands() : 0);
  gpu::GPUFuncOp kernel = buildClusteredThreePassKernel(
      builder, loc, module, conv.name + "_clustered", typesOf(operands),
      /*spectrumArg=*/0, plan, plan.outerForwardPrecision(uAlone),
      plan.outerInversePrecision(),
      [&](OpBuilder &b, Location l, ValueRange args, Value batch, Value h,
          Value t, Value mask) {
        return loadRegionInput(region, b, l, args.drop_front(forwardOperands),
                               batch, h, t, mask);
      },
      [&](OpBuilder &b, Location l, ValueRange args, Value batch, Value h,
          Value t, Value y, Value mask) {
        storeRegionOutput(region, b, l, args.drop_front(), batch, h, t, y,
                          mask);
      });
  launch(kernel, {plan.cluster, plan.channels, plan.pairs()}, plan.threads,
         plan.clusteredSharedBytes(), operands);
  recording.reset();
}

void HostBuilder::emitThreePass(size_t index, ConvRegion &region,
                                const SpectrumChain &chain) {
  Convolution conv = beginConvolution(index, chain);
  ThreePassPlan plan = convolutionPlanOf(region);
  Value passBuffer = hostBlock->getArgument(passArgs[index]);
  int64_t firstSpectrumLaunch = launches;
  std::function<void()> spectrumInner =
      emitThreePassSpectrum(conv, chain, plan, chain.conjugate);
  // Sharded, an exchange runs between K's two kernels (and K's rows are in
  // another buffer): a runtime runs the whole program.
  if (!plan.sharded())
    markSpectrumProducers(index, conv, firstSpectrumLaunch, /*count=*/2);

  // The outer forward kernel's arguments: the first region's inputs (a
  // single region's coefficients are the spectrum buffer, which it does
  // not read) and the workspace.
  Value coefficients = region.op.getOperand(
      cast<BlockArgument>(region.product.getCoefficients()).getArgNumber());
  SmallVector<Value> forwardOperands;
  for (Value operand : region.first()->getOperands())
    forwardOperands.push_back(operand == coefficients ? conv.spectrumBuffer
                                                      : hostArg(operand));
  forwardOperands.push_back(passBuffer);
  // The inner kernel: one, or one a chunk of the channels (each reads its
  // channels of K).
  SmallVector<gpu::GPUFuncOp> inners(plan.channelChunks());
  auto innerOf = [&](const ThreePassPlan &chunkPlan) {
    int64_t chunk = chunkPlan.firstChannel / plan.workspaceChannels();
    if (!inners[chunk])
      inners[chunk] = buildInnerKernel(
          builder, loc, module,
          conv.name + "_inner" +
              (plan.channelChunks() > 1 ? "_c" + std::to_string(chunk) : ""),
          chunkPlan.innerKernelPlan());
    return inners[chunk];
  };
  auto loadInput = [&](OpBuilder &b, Location l, ValueRange args, Value batch,
                       Value h, Value t, Value mask) {
    return loadRegionInput(region, b, l, args, batch, h, t, mask);
  };
  // Per chunk of pairs: its outer kernels (built for its first pair), the
  // inner kernel, all over the one workspace.
  int64_t columnTiles = plan.localColumns() / plan.columns;
  // Chunk c: the pairs of chunk c / C and the channels of chunk c mod C,
  // C the channel chunks (1 unless the workspace holds a chunk of them).
  int64_t chunks = plan.chunks() * plan.channelChunks();
  auto chunkPlanOf = [&](int64_t chunk) {
    ThreePassPlan chunkPlan = plan;
    chunkPlan.firstPair = chunk / plan.channelChunks() * plan.workspacePairs();
    chunkPlan.firstChannel =
        chunk % plan.channelChunks() * plan.workspaceChannels();
    return chunkPlan;
  };
  auto suffixOf = [&](int64_t chunk) {
    return chunks > 1 ? "_" + std::to_string(chunk) : std::string();
  };
  // Whether the outer forward reads u alone (no pregate): its precision
  // may then differ from the plan's (ThreePassPlan::outerForwardPrecision).
  bool uAlone =
      llvm::count_if(region.first()->getOperands(), [&](Value operand) {
        auto tensor = dyn_cast<RankedTensorType>(operand.getType());
        return operand != coefficients && tensor && tensor.getRank() == 3;
      }) == 1;
  auto launchOuterForward = [&](int64_t chunk, Value workspace) {
    forwardOperands.back() = workspace;
    ThreePassPlan forwardPlan = chunkPlanOf(chunk);
    forwardPlan.precision = plan.outerForwardPrecision(uAlone);
    gpu::GPUFuncOp outerForward = buildOuterForwardKernel(
        builder, loc, module, conv.name + "_outer_forward" + suffixOf(chunk),
        typesOf(forwardOperands), forwardOperands.size() - 1, forwardPlan,
        loadInput);
    launch(outerForward,
           {columnTiles, plan.workspaceChannels(), plan.workspacePairs()},
           plan.threads, forwardPlan.outerSharedBytes(), forwardOperands);
  };
  auto launchInner = [&](int64_t chunk, Value rows, Value spectrum) {
    SmallVector<Value, 3> operands = {rows};
    if (plan.sharded()) // the rows out: in place here
      operands.push_back(rows);
    operands.push_back(spectrum);
    launch(innerOf(chunkPlanOf(chunk)),
           {plan.localRows(), plan.workspaceChannels(), plan.innerGridZ()},
           plan.innerBlockThreads(), plan.innerSharedBytes(), operands);
  };
  auto launchOuterInverse = [&](int64_t chunk, Value workspace) {
    // Its precision may differ from the plan's too (f16 data: Half).
    ThreePassPlan inversePlan = chunkPlanOf(chunk);
    inversePlan.precision = plan.outerInversePrecision();
    emitOuterInverse(region, conv.name + "_outer_inverse" + suffixOf(chunk),
                     inversePlan, conv.spectrumBuffer, workspace);
  };
  if (plan.clustered()) {
    emitClusteredThreePass(region, conv, plan, uAlone);
    return;
  }
  // The first inner kernel before the chunks' outer kernels (the
  // module's order, as the chunks have always been emitted).
  innerOf(chunkPlanOf(0));
  if (!plan.sharded()) {
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      launchOuterForward(chunk, passBuffer);
      launchInner(chunk, passBuffer, conv.spectrumBuffer);
      launchOuterInverse(chunk, passBuffer);
    }
    recording.reset();
    return;
  }
  // Sharded, software-pipelined over the workspace sets: step s issues the
  // outer forward pass of chunk s and its exchange, the inner pass of chunk
  // s - d and its exchange back, and the outer inverse pass of chunk
  // s - d - 1, so that each exchange is issued before kernels that do not
  // wait for it (K's, before the first chunk's outer pass). A runtime that
  // runs the exchanges on a stream of their own (in this order) overlaps
  // them with those kernels. The lead d is what the sets allow (a chunk's
  // outer pass reuses the set of the chunk `sets` before, whose outer
  // inverse step s - 1 issued): 1 with three sets; with four, 2, so that
  // the outer passes and their exchanges run on while the first inner
  // pass waits for K's exchange.
  int64_t sets = plan.workspaceSets();
  int64_t lead = std::max<int64_t>(1, sets - 2);
  for (int64_t step = 0; step < chunks + lead + 1; ++step) {
    if (step == lead)
      spectrumInner();
    if (step < chunks) {
      auto [outer, rows] = conv.passSets[step % sets];
      launchOuterForward(step, outer);
      exchange(outer, rows);
    }
    if (int64_t chunk = step - lead; chunk >= 0 && chunk < chunks) {
      auto [outer, rows] = conv.passSets[chunk % sets];
      launchInner(chunk, rows, conv.spectrumRows);
      exchange(rows, outer);
    }
    if (int64_t chunk = step - lead - 1; chunk >= 0 && chunk < chunks)
      launchOuterInverse(chunk, conv.passSets[chunk % sets].first);
  }
  recording.reset();
}

void HostBuilder::emitKernelGradient(size_t index,
                                     KernelGradientRegion gradient,
                                     const FusedBackward &fused,
                                     FunctionAnalysis &analysis) {
  std::string name = (func.getName() + "_kernel_gradient" + Twine(index)).str();
  CrossSpectrumPlan crossPlan = crossSpectrumPlanOf(gradient);
  ConvKernelPlan inversePlan = channelInversePlanOf(gradient);
  Value workspace = hostBlock->getArgument(gradientArgs[index]);

  // The cross spectrum reads the region's inputs, evaluating v and g
  // through the region's prologues.
  SmallVector<Value> crossOperands;
  for (Value operand : gradient.cross->getOperands())
    crossOperands.push_back(hostArg(operand));
  crossOperands.push_back(workspace);
  auto loadFrom = [](PackRealOp pack) {
    return [pack](OpBuilder &b, Location l, ValueRange args, Value batch,
                  Value h, Value t, Value mask) {
      return loadPacked(pack, b, l, args, batch, h, t, mask);
    };
  };
  auto loadV = loadFrom(gradient.packV), loadG = loadFrom(gradient.packG);

  // A convolution it runs: its coefficients from its own spectrum kernel
  // (at Monarch positions), launched first; then the arguments of its own
  // kernel (its region's inputs, the coefficients, its outputs), from
  // `first` on, which its epilogue reads as that kernel would.
  struct Held {
    ConvRegion *region;
    unsigned first, coefficientArg;
  };
  auto hold = [&](std::optional<size_t> member) -> std::optional<Held> {
    if (!member)
      return std::nullopt;
    ConvRegion &region = analysis.regions[*member];
    const SpectrumChain &chain = analysis.chains[*member];
    Convolution conv = beginConvolution(*member, chain);
    ConvKernelPlan plan = getSingleKernelPlan(region.plan, region.shape);
    gpu::GPUFuncOp spectrum = buildSpectrumKernel(
        builder, loc, module, conv.name + "_spectrum",
        chain.taps(2 * plan.complexLength), plan, chain.conjugate, chain.band,
        CoefficientReader::CrossSpectrum);
    launchSpectrum(*member, conv, spectrum, plan);
    recording.reset();
    unsigned coefficients =
        cast<BlockArgument>(region.product.getCoefficients()).getArgNumber();
    Held entry{&region, unsigned(crossOperands.size()),
               unsigned(crossOperands.size()) + coefficients};
    for (auto [i, operand] : llvm::enumerate(region.op->getOperands()))
      crossOperands.push_back(i == coefficients ? conv.spectrumBuffer
                                                : hostArg(operand));
    llvm::append_range(crossOperands, outputsOf(region.op));
    return entry;
  };
  std::optional<Held> heldV = hold(fused.convolution);
  std::optional<Held> heldG = hold(fused.correlation);
  auto storeFor = [](std::optional<Held> entry) {
    return [entry](OpBuilder &b, Location l, ValueRange args, Value batch,
                   Value h, Value t, Value y, Value mask) {
      ConvRegion &region = *entry->region;
      ValueRange own = args.slice(entry->first, region.op->getNumOperands() +
                                                    region.outputs.size());
      storeRegionOutput(region, b, l, own, batch, h, t, y, mask);
    };
  };
  auto storeV = storeFor(heldV), storeG = storeFor(heldG);
  auto convolutionOf =
      [](const std::optional<Held> &entry,
         StoreOutputFn store) -> std::optional<HeldConvolution> {
    if (!entry)
      return std::nullopt;
    return HeldConvolution{entry->coefficientArg,
                           entry->region->shape.outputLength, store};
  };
  std::optional<HeldConvolution> ofV = convolutionOf(heldV, storeV);
  std::optional<HeldConvolution> ofG = convolutionOf(heldG, storeG);
  gpu::GPUFuncOp cross = buildCrossSpectrumKernel(
      builder, loc, module, name + "_cross_spectrum", typesOf(crossOperands),
      gradient.cross->getNumOperands(), crossPlan, loadV, loadG, ofV, ofG);

  SmallVector<Value> inverseOperands = {workspace};
  llvm::append_range(inverseOperands, outputsOf(gradient.inverse));
  if (gradient.kernelInput >= 0)
    inverseOperands.push_back(
        hostArg(gradient.inverse->getOperand(gradient.kernelInput)));
  gpu::GPUFuncOp inverse = buildChannelInverseKernel(
      builder, loc, module, name + "_inverse", typesOf(inverseOperands),
      crossPlan.groups, crossPlan.lagZero, gradient.outputs, inversePlan);

  launch(
      cross,
      {crossPlan.transform.channels * crossPlan.cluster, crossPlan.groups, 1},
      crossPlan.transform.threads, crossPlan.sharedBytes(), crossOperands);
  launch(inverse, {inversePlan.channels, 1, 1}, inversePlan.threads,
         inversePlan.spectrumSharedBytes(), inverseOperands);
}

void HostBuilder::emitThreePassKernelGradient(size_t index,
                                              KernelGradientRegion gradient,
                                              const FusedBackward &fused,
                                              FunctionAnalysis &analysis) {
  std::string name = (func.getName() + "_kernel_gradient" + Twine(index)).str();
  ThreePassGradient layout = threePassGradientOf(gradient);
  const ThreePassPlan &plan = layout.cross;
  // The fused convolutions' K (never conjugated: the inner kernel
  // conjugates it for the correlation), in the owner's spectrum buffer
  // (sharded: its rows, where the exchange put them, for the inner kernel).
  Value spectrum, spectrumRows;
  if (fused.any()) {
    size_t owner = fused.spectrumOwner();
    ConvRegion &region = analysis.regions[owner];
    Convolution conv = beginConvolution(owner, analysis.chains[owner]);
    std::function<void()> spectrumInner =
        emitThreePassSpectrum(conv, analysis.chains[owner],
                              getThreePassPlan(region.plan, region.shape),
                              /*conjugate=*/false);
    spectrum = conv.spectrumBuffer;
    if (spectrumInner) {
      spectrumInner();
      spectrumRows = conv.spectrumRows;
    }
  }
  // A fused convolution's outer inverse kernel over `workspace` for chunk
  // `chunk`: the convolution's plan over the kernel gradient's chunks of
  // pairs.
  auto convolutionInverse = [&](std::optional<size_t> member, Value workspace,
                                int64_t chunk, StringRef suffix) {
    if (!member)
      return;
    ConvRegion &region = analysis.regions[*member];
    ThreePassPlan chunkPlan = getThreePassPlan(region.plan, region.shape);
    chunkPlan.chunkPairs = plan.workspacePairs();
    chunkPlan.firstPair = chunk * plan.workspacePairs();
    chunkPlan.precision = chunkPlan.outerInversePrecision();
    std::string regionName = (func.getName() + "_conv" + Twine(*member)).str();
    // Its launches are the convolution's own in the manifest; the others
    // (K, the outer forward and inner kernels) the spectrum owner's.
    std::optional<size_t> owner = recording;
    recording = *member;
    emitOuterInverse(region, regionName + "_outer_inverse" + suffix.str(),
                     chunkPlan, spectrum, workspace);
    recording = owner;
  };
  InnerBackwardProducts products;
  products.correlation = fused.correlation.has_value();
  products.convolution = fused.convolution.has_value();
  unsigned first = gradientArgs[index];
  Value spectraV = hostBlock->getArgument(first);
  Value spectraG = hostBlock->getArgument(first + 1);
  Value sums = hostBlock->getArgument(first + 2);
  Value lags = hostBlock->getArgument(first + 3);
  // Sharded: the pairs' rows (the inner kernel's) and the sums' columns
  // (the outer inverse's) where the exchanges put them.
  Value rowsV = spectraV, rowsG = spectraG, sumColumns = sums;
  if (plan.sharded()) {
    rowsV = hostBlock->getArgument(first + 4);
    rowsG = hostBlock->getArgument(first + 5);
    sumColumns = hostBlock->getArgument(first + 6);
  }
  if (!spectrumRows)
    spectrumRows = spectrum;

  // The outer forward kernels read the region's inputs, evaluating v and g
  // through the region's prologues.
  SmallVector<Value> inputs;
  for (Value operand : gradient.cross->getOperands())
    inputs.push_back(hostArg(operand));
  auto loadFrom = [](PackRealOp pack) {
    return [pack](OpBuilder &b, Location l, ValueRange args, Value batch,
                  Value h, Value t, Value mask) {
      return loadPacked(pack, b, l, args, batch, h, t, mask);
    };
  };
  int64_t columnTiles = plan.localColumns() / plan.columns;
  std::array<int64_t, 3> outerGrid{columnTiles, plan.channels,
                                   plan.workspacePairs()};
  gpu::GPUFuncOp firstChunk, laterChunks;
  for (int64_t chunk = 0; chunk < plan.chunks(); ++chunk) {
    std::string suffix = plan.chunks() > 1 ? "_" + std::to_string(chunk) : "";
    for (auto [pack, spectra, side] :
         {std::tuple(gradient.packV, spectraV, "_v"),
          std::tuple(gradient.packG, spectraG, "_g")}) {
      ThreePassPlan chunkPlan = plan;
      chunkPlan.firstPair = chunk * plan.workspacePairs();
      chunkPlan.inputLength =
          cast<RankedTensorType>(pack.getInput().getType()).getDimSize(2);
      SmallVector<Value> operands(inputs);
      operands.push_back(spectra);
      gpu::GPUFuncOp outer = buildOuterForwardKernel(
          builder, loc, module, name + "_outer_forward" + side + suffix,
          typesOf(operands), operands.size() - 1, chunkPlan, loadFrom(pack));
      launch(outer, outerGrid, plan.threads, plan.outerSharedBytes(), operands);
    }
    // The first chunk writes the sums, the others add to them.
    gpu::GPUFuncOp &cross = chunk == 0 ? firstChunk : laterChunks;
    if (!cross)
      cross = buildInnerCrossSpectrumKernel(
          builder, loc, module,
          name + (chunk == 0 ? "_cross_spectrum" : "_cross_spectrum_add"),
          plan.innerKernelPlan(), layout.groups, /*accumulate=*/chunk > 0,
          products);
    if (plan.sharded()) {
      exchange(spectraV, rowsV);
      exchange(spectraG, rowsG);
    }
    SmallVector<Value> crossOperands = {rowsV, rowsG, sums};
    if (products.any())
      crossOperands.push_back(spectrumRows);
    launch(cross, {plan.localRows(), plan.channels, layout.groups},
           plan.innerBlockThreads(), plan.crossSharedBytes(), crossOperands);
    if (plan.sharded() && fused.correlation)
      exchange(rowsG, spectraG);
    if (plan.sharded() && fused.convolution)
      exchange(rowsV, spectraV);
    convolutionInverse(fused.correlation, spectraG, chunk, suffix);
    convolutionInverse(fused.convolution, spectraV, chunk, suffix);
  }
  recording.reset();

  const ThreePassPlan &inversePlan = layout.inverse;
  gpu::GPUFuncOp innerInverse =
      buildInnerSumInverseKernel(builder, loc, module, name + "_inner_inverse",
                                 inversePlan, layout.groups);
  launch(innerInverse, {inversePlan.localRows(), inversePlan.channels, 1},
         inversePlan.threads, inversePlan.innerSharedBytes(), sums);
  if (plan.sharded())
    exchange(sums, sumColumns);
  gpu::GPUFuncOp outerInverse = buildOuterInverseKernel(
      builder, loc, module, name + "_outer_inverse",
      typesOf(ValueRange{sumColumns, lags}), /*workspaceArg=*/0, inversePlan,
      [](OpBuilder &b, Location l, ValueRange args, Value, Value h, Value t,
         Value lag, Value mask) {
        // A narrow outer tile's 4 lanes alone (rowAccessMask).
        if (mask) {
          vector::MaskedStoreOp::create(b, l, args[1], ValueRange{h, t}, mask,
                                        lag);
          return;
        }
        vector::StoreOp::create(b, l, lag, args[1], ValueRange{h, t})
            .setAlignment(16);
      });
  launch(outerInverse,
         {inversePlan.localColumns() / inversePlan.columns,
          inversePlan.channels, 1},
         inversePlan.threads, inversePlan.outerSharedBytes(),
         ValueRange{sumColumns, lags});

  // The forward transforms were unitary (1/sqrt(N) each way), so the sums
  // are the cross spectrum / N and the lags the correlation / sqrt(N).
  // Sharded, a rank's lags are its columns of every row, and lag 0 (dD) is
  // rank 0's alone: the skip outputs take it through an exchange instead.
  double scale = std::sqrt(double(plan.length));
  SmallVector<Value> outputOperands = {lags}, skipOperands;
  SmallVector<LagOutput> lagOutputs;
  for (auto [output, yielded, description] : llvm::zip_equal(
           outputsOf(gradient.inverse), gradient.lags, gradient.outputs)) {
    if (plan.sharded() && isSkipGradient(yielded)) {
      skipOperands.push_back(output);
      continue;
    }
    outputOperands.push_back(output);
    lagOutputs.push_back(description);
  }
  if (gradient.kernelInput >= 0)
    outputOperands.push_back(
        hostArg(gradient.inverse->getOperand(gradient.kernelInput)));
  constexpr int64_t kLagThreads = 256;
  if (!lagOutputs.empty()) {
    gpu::GPUFuncOp outputs = buildLagOutputsKernel(
        builder, loc, module, name + "_lags", typesOf(outputOperands), scale,
        lagOutputs, kLagThreads);
    launch(outputs, {plan.channels, 1, 1}, kLagThreads, 0, outputOperands);
  }
  if (skipOperands.empty())
    return;
  // dD's exchange buffers follow the sharded ones (the constructor's
  // arguments).
  Value send = hostBlock->getArgument(first + 7);
  Value received = hostBlock->getArgument(first + 8);
  gpu::GPUFuncOp skipSend = buildSkipGradientSendKernel(
      builder, loc, module, name + "_skip_send",
      typesOf(ValueRange{lags, send}), scale, kLagThreads);
  launch(skipSend, {1, 1, 1}, kLagThreads, 0, ValueRange{lags, send});
  exchange(send, received);
  skipOperands.insert(skipOperands.begin(), received);
  gpu::GPUFuncOp skip =
      buildSkipGradientKernel(builder, loc, module, name + "_skip_gradient",
                              typesOf(skipOperands), kLagThreads);
  launch(skip, {1, 1, 1}, kLagThreads, 0, skipOperands);
}

void HostBuilder::finish(ArrayRef<ConvRegion> regions) {
  builder.setInsertionPointToEnd(hostBlock);
  func::ReturnOp::create(builder, loc);
  // The launches have set the register caps and listed the write-only
  // operands.
  for (auto kernel : module.getOps<gpu::GPUFuncOp>()) {
    kernel->removeAttr(kRegisterFloorAttrName);
    for (unsigned i = 0, e = kernel.getNumArguments(); i < e; ++i)
      kernel.removeArgAttr(i, kWriteOnlyAttrName);
  }
  // What each convolution became, for the manifest: its plan, its FFT size
  // and the launches of its kernels.
  SmallVector<Attribute> convolutions;
  for (auto [index, region] : llvm::enumerate(regions)) {
    ArrayRef<int64_t> kernels = convolutionKernels[index];
    convolutions.push_back(builder.getDictionaryAttr({
        builder.getNamedAttr(kPlanKey, region.plan),
        builder.getNamedAttr(kFFTSizeKey,
                             builder.getI64IntegerAttr(region.shape.fftSize)),
        builder.getNamedAttr(kKernelsKey,
                             builder.getDenseI64ArrayAttr(kernels)),
    }));
  }
  host->setAttr(kConvolutionsAttrName, builder.getArrayAttr(convolutions));
}

} // namespace

LogicalResult mlir::fftconv::lowerFusedConvolutionsToGPU(RewriterBase &rewriter,
                                                         func::FuncOp func) {
  SmallVector<FusedOp> fusedOps;
  func.walk([&](FusedOp op) { fusedOps.push_back(op); });
  if (fusedOps.empty())
    return success();
  FunctionAnalysis analysis;
  if (failed(analyzeConvolutions(func, fusedOps, analysis)) ||
      failed(readPlans(analysis)) || failed(readGradientPlans(analysis)) ||
      failed(checkSharding(analysis)) || failed(findFusedBackwards(analysis)))
    return failure();

  // The kernels go into a gpu.module for the plans' chip, before the host
  // function that launches them.
  OpBuilder &builder = rewriter;
  builder.setInsertionPoint(func);
  auto target =
      NVVM::NVVMTargetAttr::get(func.getContext(), /*optLevel=*/3,
                                "nvptx64-nvidia-cuda", analysis.chip, "+ptx80");
  auto module = gpu::GPUModuleOp::create(builder, func.getLoc(),
                                         (func.getName() + "_kernels").str(),
                                         ArrayRef<Attribute>{target});
  HostBuilder host(builder, func, module, analysis);
  for (auto [index, region] : llvm::enumerate(analysis.regions)) {
    if (analysis.fusedInto(index))
      continue; // run by its kernel gradient's kernels
    if (region.threePass())
      host.emitThreePass(index, region, analysis.chains[index]);
    else
      host.emitSingleKernel(index, region, analysis.chains[index]);
  }
  for (auto [index, gradient] : llvm::enumerate(analysis.gradients)) {
    if (gradient.crossPlan.isThreePass())
      host.emitThreePassKernelGradient(index, gradient, analysis.fused[index],
                                       analysis);
    else
      host.emitKernelGradient(index, gradient, analysis.fused[index], analysis);
  }
  host.finish(analysis.regions);

  Operation *parent = func->getParentOp();
  rewriter.modifyOpInPlace(parent, [&] {
    parent->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    builder.getUnitAttr());
  });
  rewriter.eraseOp(func);
  return success();
}

namespace {
struct LowerFunctionToGPU : OpRewritePattern<func::FuncOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(func::FuncOp func,
                                PatternRewriter &rewriter) const override {
    bool hasFused = false;
    func.walk([&](FusedOp) { hasFused = true; });
    if (!hasFused)
      return rewriter.notifyMatchFailure(func, "no fused region");
    return lowerFusedConvolutionsToGPU(rewriter, func);
  }
};

struct ButterflyToGPUPass
    : fftconv::impl::ButterflyToGPUBase<ButterflyToGPUPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<func::FuncOp> funcs(getOperation().getOps<func::FuncOp>());
    IRRewriter rewriter(&getContext());
    for (func::FuncOp func : funcs)
      if (failed(lowerFusedConvolutionsToGPU(rewriter, func)))
        return signalPassFailure();
  }
};
} // namespace

void mlir::fftconv::populateButterflyToGPUPatterns(
    RewritePatternSet &patterns) {
  patterns.add<LowerFunctionToGPU>(patterns.getContext());
}
