//===- PlanGPUKernels.cpp - how each convolution becomes kernels -*- C++ -*-=//
//
// butterfly-plan-gpu-kernels: per conv region, the form, the factors, the
// precision and the block shape of its GPU kernels, checked against the
// chip's shared memory, as a #butterfly.gpu_plan on the region.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/Butterfly/Transforms/BoundaryViews.h"
#include "fftconv/Dialect/Butterfly/Transforms/CostModel.h"
#include "fftconv/Dialect/Butterfly/Transforms/GPUPlan.h"
#include "fftconv/Dialect/Butterfly/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/MathExtras.h"

#include <numeric>

namespace mlir {
namespace butterfly {
#define GEN_PASS_DEF_BUTTERFLYPLANGPUKERNELS
#include "fftconv/Dialect/Butterfly/Transforms/Passes.h.inc"
} // namespace butterfly
} // namespace mlir

using namespace mlir;
using namespace mlir::butterfly;

/// Shared memory a single-kernel block aims at: at least two sequences where
/// two fit (one sequence a block leaves its warps idle at every barrier).
static constexpr int64_t kTargetBlockBytes = 32 * 1024;
/// The same for blocks of 16 warps (M >= 8192): 128 KiB, one block an SM
/// (bench/NOTES.md: 16K f16 causal 1.30 -> 1.18 ms at 4 sequences of 512
/// threads, 32K 2.48 -> 1.59 at 2).
static constexpr int64_t kTargetLargeBlockBytes = 128 * 1024;
/// The batch elements a cross-spectrum block aims at: v and g of as many as
/// fill 64 KiB, at least two and at most eight, fewer where its row does
/// not fit beside them (planCrossSpectrum).
static constexpr int64_t kCrossSpectrumTileBytes = 64 * 1024;
static constexpr int64_t kCrossSpectrumFewestElements = 2;
static constexpr int64_t kCrossSpectrumMostElements = 8;
/// The longest three-pass kernel gradient of f16 data whose cross spectrum
/// runs at Half: the gradients' largest error 6.8e-4 to 8.1e-4 at 32K to
/// 1M points, against 3.6e-4 to 4.6e-4 at Split, for 0.71x to 0.83x of
/// the training step (H200, bench/results/training-latest.md); at 2^25
/// points Half measured 1.03e-3, past f16's 1e-3 budget (bench/NOTES.md).
static constexpr int64_t kLongestHalfF16Gradient = int64_t(1) << 20;
/// The rows (N2) a three-pass transform of N points is split into at least:
/// the inner kernel then runs the 4K transform of the single-kernel form.
static constexpr int64_t kMinInnerLength = 4096;
/// The most rows one outer block transforms (its shared memory is
/// rows x columns x 8 bytes).
static constexpr int64_t kMaxOuterLength = 512;
/// Past 512 rows of the longest inner rows an inner block holds (128 KiB of
/// shared memory, longestThreePassInner), the rows grow instead, until an
/// outer block of 8 columns holds 128 KiB too: 2048 rows at Split precision
/// (N up to 2^25), 4096 at Half (inner rows of 32768, N up to 2^27); an
/// explicit Split goes on to 4096 rows with its outer kernels at Half
/// (N up to 2^26).
/// Values an outer block holds: enough columns for long contiguous rows.
static constexpr int64_t kOuterTileValues = 4096;
/// The bytes of an inner block's rows the pair tile aims at.
static constexpr int64_t kInnerTileBytes = 64 * 1024;

static int64_t product(ArrayRef<int64_t> factors) {
  return std::accumulate(factors.begin(), factors.end(), int64_t(1),
                         std::multiplies<int64_t>());
}

int64_t ThreePassPlan::outer() const { return product(outerFactors); }
int64_t ThreePassPlan::inner() const { return product(innerFactors); }

//===----------------------------------------------------------------------===//
// The single-kernel form
//===----------------------------------------------------------------------===//

static SmallVector<int64_t> stageFactors(int64_t n);

/// Threads a block for a transform of M points, the ladder the single
/// kernels start from: 2 warps up to M = 512, 4 up to 2048, 8 up to 4096,
/// 16 past it.
static int64_t threadLadder(int64_t m) {
  return m <= 512 ? 64 : m <= 2048 ? 128 : m <= 4096 ? 256 : 512;
}

/// The threads of a single-kernel block for a transform of M points: the
/// block sizes the tuning runs measured fastest (bench/NOTES.md), 2 warps
/// up to M = 512, 4 up to M = 2048, 8 up to M = 4096, 16 past it (where 8
/// warps, one block an SM, left the 32K kernel latency-bound at 12.5%
/// occupancy). At Half precision, the block shapes of the current kernels
/// measured on an H200 (bench/results/block-shapes-2026-11-29-h200.md): a
/// circular convolution (a gated one moves four times a causal one's
/// bytes) at M = 2048 on 8 warps (f16 4K gated 0.576 -> 0.521 ms), but not
/// one ending in a stage on the warpgroup MMA (sm_90a's 4K gated row 0.723
/// -> 0.835 on 8 warps); a causal one on f16 data at M = 4096, whose fused
/// pass runs a unit's sequences one after another, on 4 (8K 0.930 ->
/// 0.859).
static int64_t defaultThreads(const ConvolutionShape &shape,
                              ArrayRef<int64_t> factors,
                              GPUPrecision precision) {
  int64_t m = shape.fftSize / 2;
  if (precision == GPUPrecision::Half) {
    bool causal = readsPadding(shape.inputLength, m);
    if (m == 2048 && !causal && !hasWarpgroupStage(factors))
      return 256;
    if (m == 4096 && causal && shape.halfData)
      return 128;
  }
  return threadLadder(m);
}

/// The threads of a single-kernel cross spectrum for a transform of M
/// points: threadLadder, but 8 warps at M = 2048 (4096 has them) causal or
/// not, without the convolutions' exception for a fused pass the cross
/// spectrum does not run (H200, the kernel alone, f16: 4K causal 0.69 ->
/// 0.59 ms, 8K causal 1.47 -> 1.23; 16 warps slower at both, 4 warps slower
/// at 4K gated and 8K; bench/results/cross-spectrum-pairs-2026-11-29-h200.md).
static int64_t crossSpectrumThreads(int64_t m) {
  return m == 2048 ? 256 : threadLadder(m);
}

/// The threads a single kernel of `factors` over `shape` runs: the
/// request's, or defaultThreads.
static int64_t threadsOf(const GPUPlanRequest &request,
                         const ConvolutionShape &shape,
                         ArrayRef<int64_t> factors, GPUPrecision precision) {
  return request.threads > 0 ? request.threads
                             : defaultThreads(shape, factors, precision);
}

/// The layout of a single kernel over `shape` with `factors`, at
/// `precision`, before its tile is chosen: the threads as requested or
/// measured best.
/// A single kernel's shapes over `shape` with `factors`.
static ConvKernelPlan shapedPlan(const ConvolutionShape &shape,
                                 ArrayRef<int64_t> factors) {
  ConvKernelPlan plan;
  plan.batch = shape.batch;
  plan.channels = shape.channels;
  plan.inputLength = shape.inputLength;
  plan.outputLength = shape.outputLength;
  plan.complexLength = shape.fftSize / 2;
  plan.factors.assign(factors.begin(), factors.end());
  plan.scalesRange = !shape.halfData;
  return plan;
}

static ConvKernelPlan kernelPlanOf(const ConvolutionShape &shape,
                                   ArrayRef<int64_t> factors,
                                   GPUPrecision precision,
                                   const GPUPlanRequest &request) {
  ConvKernelPlan plan = shapedPlan(shape, factors);
  plan.precision = precision;
  plan.threads = threadsOf(request, shape, factors, precision);
  return plan;
}

/// A single kernel's fused pass runs with a last factor of 8 (16 where no
/// order ends in 8), and at Half precision in blocks of at least 4
/// sequences where 4 fit a large block and the block has 8 warps or more.
static constexpr int64_t kFusedPassLastFactor = 8;
static constexpr int64_t kFusedPassWideFactor = 16;
static constexpr int64_t kFusedPassTile = 4;
static constexpr int64_t kFusedPassTileThreads = 256;

bool butterfly::fusesSpectralProductAt(GPUPrecision precision,
                                       ArrayRef<int64_t> factors, bool causal,
                                       bool halfData, int64_t threads) {
  size_t stages = factors.size();
  if (stages != 2 && stages != 3)
    return false;
  // A last factor of 16 (its pass holds twice the values a thread) only at
  // Half where no three factors of 32 or less end in 8 (M = 16384), and
  // where causal or on f16 data (bf16 gated 32K: 2.12 -> 2.15 ms).
  if (factors.back() == kFusedPassWideFactor)
    return precision == GPUPrecision::Half &&
           product(factors) > kMaxTensorCoreFactor * kMaxTensorCoreFactor *
                                  kFusedPassLastFactor &&
           (causal || (halfData && threads >= kPairThreads));
  if (factors.back() >= 16)
    return false;
  if (precision == GPUPrecision::Split)
    return true;
  return (causal && (halfData || stages == 2)) || threads >= kPairThreads;
}

bool butterfly::writesDirectOutput(const ConvKernelPlan &plan,
                                   bool epilogueReads) {
  // A lane's outputs are in or out of a row of a multiple of them whole.
  return !epilogueReads && plan.outputLength % kDirectOutputValues == 0;
}

/// Whether a Half single kernel of `plan` runs the fused pass.
static bool runsFusedPass(const ConvKernelPlan &plan) {
  return plan.precision == GPUPrecision::Half && !plan.spectralBand &&
         fusesSpectralProductAt(
             plan.precision, plan.factors,
             readsPadding(plan.inputLength, plan.complexLength),
             !plan.scalesRange, plan.threads);
}

/// The shared memory a single-kernel block of `plan` aims at with its
/// sequences. At Half precision, where the block shapes of the current
/// kernels measured faster on an H200
/// (bench/results/block-shapes-2026-11-29-h200.md): at M = 4096 without
/// the fused pass, 4 sequences (f16 8K gated 1.224 -> 1.131 ms, bf16 gated
/// 1.316 -> 1.207, bf16 causal 1.069 -> 0.942); a circular convolution at
/// M = 512, 4 (f16 1K gated 0.156 -> 0.152, bf16 0.168 -> 0.162).
static int64_t targetBlockBytes(const ConvKernelPlan &plan) {
  if (plan.threads >= kPairThreads)
    return kTargetLargeBlockBytes;
  bool circular = !readsPadding(plan.inputLength, plan.complexLength);
  bool fourSequences = plan.precision == GPUPrecision::Half &&
                       ((plan.complexLength == 4096 && !runsFusedPass(plan)) ||
                        (plan.complexLength == 512 && circular));
  return fourSequences ? 4 * plan.sequenceBytes() : kTargetBlockBytes;
}

/// `request`, with f32 data held at Split precision (about f32's accuracy)
/// unless a precision was asked for.
static GPUPlanRequest forData(GPUPlanRequest request, bool f32Data) {
  if (f32Data && !request.precision)
    request.precision = GPUPrecision::Split;
  return request;
}

/// Whether the kernels run stages of `factors` (2 to 32, powers of two; a
/// tensor-core factor with 1 or a multiple of 8 columns after it).
static bool kernelsRunFactors(ArrayRef<int64_t> factors) {
  for (size_t s = 0; s < factors.size(); ++s) {
    int64_t m = factors[s];
    int64_t after = product(factors.drop_front(s + 1));
    if (m > kMaxTensorCoreFactor || !llvm::isPowerOf2_64(m) ||
        (m >= 16 && after != 1 && after % 8))
      return false;
  }
  return true;
}

/// Why `plan` cannot become a kernel, or the empty string when it can.
static std::string checkConvKernelPlan(const ConvKernelPlan &plan,
                                       int64_t sharedMemoryPerBlock) {
  if (!llvm::isPowerOf2_64(plan.complexLength) ||
      2 * plan.complexLength < kMinSingleKernelFFTSize)
    return "the GPU kernels need a transform length N >= " +
           std::to_string(kMinSingleKernelFFTSize) +
           ", a power of two (fftconv-to-ptx pads causal convolutions to it; "
           "a circular one needs L >= " +
           std::to_string(kMinSingleKernelFFTSize) + ")";
  if (plan.threads % kThreadsPerWarp)
    return "the block size must be a multiple of 32";
  for (size_t s = 0; s < plan.factors.size(); ++s) {
    int64_t m = plan.factors[s];
    int64_t after = product(ArrayRef<int64_t>(plan.factors).drop_front(s + 1));
    if (m == kWarpgroupFactor && after == 1) {
      int64_t columns = plan.complexLength / m;
      if (plan.precision != GPUPrecision::Half ||
          plan.threads % kWarpgroupThreads || columns % 8 || columns > 256)
        return "a stage of 64 (the warpgroup MMA) needs Half precision, "
               "blocks of whole warpgroups (128 threads) and 8 to 256 "
               "columns (M / 64, a multiple of 8)";
      continue;
    }
    if (m > kMaxTensorCoreFactor || !llvm::isPowerOf2_64(m))
      return "factor " + std::to_string(m) +
             " is not one the GPU kernels run (2, 4, 8, 16 or 32)";
    if (m >= 16 && after != 1 && after % 8)
      return "a tensor-core factor needs 8 columns per tile: the factors "
             "after it must multiply to 1 or a multiple of 8";
  }
  if (plan.convSharedBytes() > sharedMemoryPerBlock)
    return "a block of " + std::to_string(plan.batchTile) +
           " sequences needs " + std::to_string(plan.convSharedBytes()) +
           " bytes of shared memory, more than the " +
           std::to_string(sharedMemoryPerBlock) +
           " a block has (a smaller batch-tile fits)";
  return "";
}

ConvKernelPlan butterfly::getSingleKernelPlan(GPUPlanAttr plan,
                                              const ConvolutionShape &shape) {
  ConvKernelPlan kernel = shapedPlan(shape, plan.getFactors());
  kernel.batchTile = plan.getBatchTile();
  kernel.threads = plan.getThreads();
  kernel.precision = plan.getPrecision();
  return kernel;
}

GPUPlanAttr butterfly::planSingleKernel(MLIRContext *context, StringRef chip,
                                        const ConvolutionShape &shape,
                                        ArrayRef<int64_t> factors,
                                        const GPUPlanRequest &request,
                                        int64_t sharedMemoryPerBlock,
                                        std::string &why) {
  // Half: at most three f16 roundings each way (fp16 relative error about
  // 6e-4, bench/NOTES.md).
  ConvKernelPlan plan = kernelPlanOf(
      shape, factors, request.precision.value_or(GPUPrecision::Half), request);
  int64_t tile = request.batchTile;
  if (tile <= 0) {
    tile = std::clamp<int64_t>(targetBlockBytes(plan) / plan.sequenceBytes(), 2,
                               8);
    // The fused pass runs a unit's sequences one after another: in blocks
    // of 8 warps, 8K causal [32, 16, 8] at Half 1.25 ms in blocks of 2
    // sequences, 1.14 in blocks of 4 (H200); in blocks of 4 warps, two
    // (0.856 ms, against 1.051 in blocks of 4).
    if (runsFusedPass(plan) && plan.threads >= kFusedPassTileThreads &&
        kFusedPassTile * plan.sequenceBytes() <= kTargetLargeBlockBytes)
      tile = std::max<int64_t>(tile, kFusedPassTile);
    while (tile > 1 && tile * plan.sequenceBytes() > sharedMemoryPerBlock)
      --tile;
  }
  plan.batchTile = std::min(tile, plan.batch);
  why = checkConvKernelPlan(plan, sharedMemoryPerBlock);
  if (why.empty() && hasWarpgroupStage(plan.factors) && chip != kWarpgroupChip)
    why = "a stage of 64 runs on the warpgroup MMA, which needs chip " +
          kWarpgroupChip.str();
  if (!why.empty())
    return {};
  return GPUPlanAttr::get(context, GPUKernelForm::SingleKernel, plan.precision,
                          chip, plan.factors, /*outerFactors=*/{}, plan.threads,
                          plan.batchTile, Type(), /*ranks=*/0, /*rank=*/0,
                          /*inner_threads=*/0, /*cluster=*/0);
}

//===----------------------------------------------------------------------===//
// The three-pass form
//===----------------------------------------------------------------------===//

/// Factors of a power of two for the GPU stages: as few as keep each at 32
/// or below, as even as possible, larger first (4096 = 16 x 16 x 16,
/// 8192 = 32 x 16 x 16, 512 = 32 x 16).
static SmallVector<int64_t> stageFactors(int64_t n) {
  int64_t bits = llvm::Log2_64(n);
  int64_t count = std::max<int64_t>(1, (bits + 4) / 5);
  SmallVector<int64_t> factors;
  for (int64_t i = 0; i < count; ++i)
    factors.push_back(int64_t(1) << (bits / count + (i < bits % count)));
  return factors;
}

/// The outer passes' stages over `outer` rows: as stageFactors, ending in
/// a factor of 8 on the FMA units where the blocks own 4 columns
/// (narrowOuterTiles).
static SmallVector<int64_t> outerStageFactors(int64_t outer) {
  if (!narrowOuterTiles(outer))
    return stageFactors(outer);
  SmallVector<int64_t> factors = stageFactors(outer / kNarrowOuterLastFactor);
  factors.push_back(kNarrowOuterLastFactor);
  return factors;
}

/// The inner passes' stages over rows of `inner` points: as stageFactors,
/// but at Split precision factors of 16 on the tensor cores (a Split stage
/// of 32 holds its factor's high and low fragments: with the fused pass the
/// inner kernel spilled at 128 registers), what is left, and a last 8 on
/// the FMA units, which the inner kernel runs with its product and the
/// first inverse stage in one pass (KernelEmitter::fusesPointwiseProduct):
/// [16, 16, 2, 8] for rows of 4096. Measured (bench/NOTES.md, eleventh
/// session; H200) against [16, 16, 16]: 1% to 3% faster at f16 (64K causal
/// 3.26 -> 3.17 ms), 1% to 7% at bf16 (4.20 -> 3.93). Half keeps the
/// separate product, which computes a position's twiddles once for the
/// block's sequences (the single kernel's fused pass lost there).
static SmallVector<int64_t> innerStageFactors(int64_t inner,
                                              GPUPrecision precision) {
  if (precision != GPUPrecision::Split)
    return stageFactors(inner);
  SmallVector<int64_t> factors;
  int64_t rest = inner / kFusedInnerLastFactor;
  for (; rest >= kSplitInnerFactor; rest /= kSplitInnerFactor)
    factors.push_back(kSplitInnerFactor);
  if (rest > 1)
    factors.push_back(rest);
  factors.push_back(kFusedInnerLastFactor);
  return factors;
}

/// A Half single kernel on f16 data whose fused pass
/// (fusesSpectralProductAt) would run with three stages ending in 8, where
/// its factors end otherwise, runs M = 4096 as [32, 16, 8] and 8192 as
/// [32, 32, 8] (2048 is [16, 16, 8] already): two f16 roundings fewer each
/// way, fp16 within 5e-4 (8K causal 5.5e-4 -> 4.68e-4, 16K 5.5e-4 ->
/// 4.70e-4; bench/NOTES.md). Else `factors`.
static SmallVector<int64_t> fusedPassOrder(ArrayRef<int64_t> factors,
                                           const ConvolutionShape &shape,
                                           const GPUPlanRequest &request) {
  int64_t m = product(factors);
  GPUPrecision precision = request.precision.value_or(GPUPrecision::Half);
  int64_t threads = threadsOf(request, shape, factors, precision);
  int64_t rest = m / kFusedPassLastFactor;
  if (precision != GPUPrecision::Half || !shape.halfData ||
      hasWarpgroupStage(factors) || rest < 256 || rest > 1024)
    return SmallVector<int64_t>(factors);
  int64_t first = rest >= 512 ? 32 : 16;
  SmallVector<int64_t> fused = {first, rest / first, kFusedPassLastFactor};
  if (!fusesSpectralProductAt(precision, fused,
                              readsPadding(shape.inputLength, m),
                              shape.halfData, threads))
    return SmallVector<int64_t>(factors);
  return fused;
}

/// On sm_90a, a Half single kernel whose blocks are one or more warpgroups
/// and whose transform is M = 16 x 64 or 32 x 64 ends in a stage of 64 on
/// the warpgroup MMA (WarpgroupStage.cpp): two stages instead of three at
/// M = 2048, one twiddle and one f16 rounding fewer each way. Else
/// `factors`.
static SmallVector<int64_t> warpgroupOrder(StringRef chip,
                                           ArrayRef<int64_t> factors,
                                           const ConvolutionShape &shape,
                                           const GPUPlanRequest &request) {
  int64_t m = product(factors);
  GPUPrecision precision = request.precision.value_or(GPUPrecision::Half);
  // The default threads of the order before this one (8 warps at M = 2048
  // circular, 4 once it ends in 64): whole warpgroups either way.
  int64_t threads = threadsOf(request, shape, factors, precision);
  int64_t first = m / kWarpgroupFactor;
  if (chip != kWarpgroupChip || precision != GPUPrecision::Half ||
      threads % kWarpgroupThreads || (first != 16 && first != 32))
    return SmallVector<int64_t>(factors);
  return {first, kWarpgroupFactor};
}

/// `factors` with a 32 last where that frees a tile of a frequency-sparse
/// convolution's spectrum-side stage (bandDigitsOf) and the kernels run
/// that order; else `factors`.
static SmallVector<int64_t> bandFactorOrder(ArrayRef<int64_t> factors,
                                            int64_t band) {
  SmallVector<int64_t> reordered(factors);
  auto largest = llvm::find(reordered, kMaxTensorCoreFactor);
  if (largest == reordered.end())
    return reordered;
  reordered.erase(largest);
  reordered.push_back(kMaxTensorCoreFactor);
  if (!bandDigitsOf(band, kMaxTensorCoreFactor, product(factors)) ||
      !kernelsRunFactors(reordered))
    return SmallVector<int64_t>(factors);
  return reordered;
}

/// The rows (N2) of a three-pass transform of `n` points whose rows hold at
/// most `longestInner` points.
static int64_t threePassRows(int64_t n, int64_t longestInner) {
  return std::min(std::max(kMinInnerLength, n / kMaxOuterLength), longestInner);
}

/// The columns an outer block owns: enough for long contiguous rows.
static int64_t outerColumns(int64_t outer, int64_t inner) {
  int64_t fewest = narrowOuterTiles(outer) ? kNarrowOuterColumns
                   : outer > 1024          ? kFewestOuterColumns
                                           : 16;
  return std::min(std::clamp<int64_t>(kOuterTileValues / outer, fewest, 256),
                  inner);
}

/// The threads of an inner block of `innerBlockBytes` where they differ
/// from the plan's (0 otherwise, and where the request gives the threads):
/// twice them where its shared memory leaves one block an SM (the rows of
/// 16384 at Split, 32768 at Half, of 2^23 points and more; a kernel
/// gradient's cross-spectrum rows of 8192), so that the SM runs 16 warps,
/// not 8. At 8 warps the inner kernel was latency-bound (2^24 f16 causal,
/// 8 x 2: 47% of issue slots busy, 4.2 cycles an instruction). Measured on
/// 2 x H200 (bench/results/three-pass-inner-threads-2026-11-28-h200x2.md):
/// one GPU 2^23 to 2^25 f16 causal 0.87x to 0.89x the time, bf16 gated 2^25
/// 0.81x; sharded over 2, 0.87x to 0.92x. The outer blocks keep 256: at 512
/// K's outer pass took 0.60 ms against 0.53.
static int64_t innerThreadsOf(StringRef chip, const GPUPlanRequest &request,
                              const ThreePassPlan &plan,
                              int64_t innerBlockBytes) {
  if (request.threads > 0) // the caller's threads, every block
    return 0;
  std::optional<TargetDescription> target = TargetDescription::forChip(chip);
  return target && target->blocksBySharedMemory(innerBlockBytes) < 2
             ? 2 * plan.threads
             : 0;
}

/// The pairs the workspace holds: as many as fit in the bytes of the output
/// (a complex value of `valueBytes` a position of a pair), at least one;
/// the pairs run through it in chunks. Peak memory beyond the inputs stays
/// within twice the output plus K, and a scaled workspace's scales (4
/// bytes a tile of columns and a row, 128 a pair and channel at 64K:
/// counted, they would cut chunks of 2^k pairs to 2^k - 1, and bf16 64K
/// gated measured 1.37x slower in chunks of 3 and 1 pairs, 64K causal
/// 1.17x in chunks of 1).
static int64_t chunkPairsOf(const ConvolutionShape &shape, int64_t valueBytes) {
  int64_t pairBytes = shape.channels * shape.fftSize * valueBytes;
  return std::max<int64_t>(1, shape.resultBytes / pairBytes);
}

/// Pairs an inner block owns: the request's sequences in pairs, or as many
/// as fill kInnerTileBytes with `rowsPerPair` rows each (1 to 8); at most
/// the workspace's.
static int64_t innerPairTile(const GPUPlanRequest &request,
                             const ThreePassPlan &plan, int64_t rowsPerPair) {
  int64_t tile =
      request.batchTile > 0
          ? (request.batchTile + 1) / 2
          : std::clamp<int64_t>(kInnerTileBytes / (rowsPerPair * plan.inner() *
                                                   plan.valueBytes()),
                                1, 8);
  return std::min(tile, plan.workspacePairs());
}

/// Why a plan cannot run: `needs` ("the ... kernels need") `needed` bytes
/// of shared memory a block, on a chip with `available`.
static std::string sharedMemoryRefusal(llvm::StringRef needs, int64_t needed,
                                       int64_t available) {
  return (needs + " " + llvm::Twine(needed) +
          " bytes of shared memory a block, more than the " +
          llvm::Twine(available) + " the chip has")
      .str();
}

/// The plan's shapes before its factors and tiles are chosen; its
/// workspace f16 or f32.
static ThreePassPlan threePassShape(const ConvolutionShape &shape,
                                    bool halfWorkspace) {
  ThreePassPlan plan;
  plan.halfWorkspace = halfWorkspace;
  plan.batch = shape.batch;
  plan.channels = shape.channels;
  plan.inputLength = shape.inputLength;
  plan.outputLength = shape.outputLength;
  plan.length = shape.fftSize;
  plan.scalesRange = !shape.halfData;
  plan.scaledWorkspace = halfWorkspace && shape.bf16Data;
  plan.chunkPairs = chunkPairsOf(shape, plan.workspaceValueBytes());
  return plan;
}

/// Whether every real sequence ([B, H, L] tensor of floats) among `types`
/// has element type `element` (and one is there).
static bool allSequencesOf(TypeRange types, function_ref<bool(Type)> element) {
  bool any = false;
  for (Type type : types) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || tensor.getRank() != 3 ||
        !isa<FloatType>(tensor.getElementType()))
      continue;
    if (!element(tensor.getElementType()))
      return false;
    any = true;
  }
  return any;
}

bool butterfly::isHalfData(TypeRange types) {
  return allSequencesOf(types, [](Type t) { return t.isF16(); });
}

bool butterfly::isBF16Data(TypeRange types) {
  return allSequencesOf(types, [](Type t) { return t.isBF16(); });
}

/// The workspace type a plan records: f16, or none (f32).
static Type workspaceTypeOf(MLIRContext *context, const ThreePassPlan &plan) {
  return plan.halfWorkspace ? Float16Type::get(context) : Type();
}

/// Shards `plan` over `ranks` as `rank`: the pairs run through
/// workspaceSets() sets of workspaces cut by shardedChunking (CostModel.h):
/// together what one GPU's workspace would hold of the rank's share, where
/// that bounds them.
static void shardPlan(ThreePassPlan &plan, int64_t ranks, int64_t rank) {
  plan.ranks = ranks;
  plan.rank = rank;
  if (ranks == 1)
    return;
  plan.onePairs = plan.workspacePairs();
  plan.chunkPairs = plan.chunking().pairs;
}

/// `plan` on clusters of `blocks` blocks (ThreePassPlan::clustered): no
/// workspace, so no chunks; one block size and one pair a cluster.
static void clusterPlan(ThreePassPlan &plan, int64_t blocks) {
  plan.cluster = blocks;
  plan.chunkPairs = 0;
  plan.innerThreads = 0;
  plan.pairTile = 1;
}

std::string butterfly::halfWorkspaceRefusal(bool halfData, bool bf16Data,
                                            bool sharded) {
  if (!halfData && !bf16Data)
    return "keeps an f16 three-pass workspace for f16 and bf16 data only";
  if (bf16Data && sharded)
    return "keeps bf16 data's three-pass workspace in f16 on one GPU only";
  return "";
}

std::string
butterfly::clusteredThreePassRefusal(const ThreePassPlan &plan, int64_t blocks,
                                     const TargetDescription &target) {
  if (!target.clusters)
    return "the chip has no clusters of blocks";
  if (!GPUPlanAttr::isThreePassClusterSize(blocks))
    return "a three-pass cluster of " + std::to_string(blocks) +
           " blocks, not a power of two from 2 to " +
           std::to_string(GPUPlanAttr::kMaxClusterBlocks);
  if (plan.sharded() || plan.scalesRange)
    return "a clustered three-pass kernel runs f16 data on one GPU";
  if (plan.outer() % blocks || plan.inner() / blocks < 16)
    return "the rows and columns of the three-pass view (" +
           std::to_string(plan.outer()) + " x " + std::to_string(plan.inner()) +
           ") do not split into " + std::to_string(blocks) + " blocks";
  ThreePassPlan clustered = plan;
  clusterPlan(clustered, blocks);
  if (clustered.clusterExchanges() % plan.threads)
    return "a clustered three-pass block of " + std::to_string(plan.threads) +
           " threads does not divide its " +
           std::to_string(clustered.clusterExchanges()) +
           " groups of values to exchange";
  if (clustered.clusteredSharedBytes() > target.sharedMemoryPerBlock)
    return sharedMemoryRefusal("a clustered three-pass block needs",
                               clustered.clusteredSharedBytes(),
                               target.sharedMemoryPerBlock);
  return "";
}

ThreePassPlan butterfly::getThreePassPlan(GPUPlanAttr plan,
                                          const ConvolutionShape &shape) {
  ThreePassPlan kernels = threePassShape(shape, plan.hasHalfWorkspace());
  kernels.outerFactors.assign(plan.getOuterFactors().begin(),
                              plan.getOuterFactors().end());
  kernels.innerFactors.assign(plan.getFactors().begin(),
                              plan.getFactors().end());
  if (plan.isSharded())
    shardPlan(kernels, plan.getRanks(), plan.getRank());
  kernels.columns = outerColumns(kernels.outer(), kernels.localColumns());
  kernels.threads = plan.getThreads();
  kernels.innerThreads = plan.getInnerThreads();
  kernels.pairTile = plan.getBatchTile();
  kernels.precision = plan.getPrecision();
  if (plan.isClustered())
    clusterPlan(kernels, plan.getCluster());
  return kernels;
}

GPUPlanAttr butterfly::planThreePass(MLIRContext *context, StringRef chip,
                                     const ConvolutionShape &shape,
                                     const GPUPlanRequest &request,
                                     int64_t sharedMemoryPerBlock,
                                     std::string &why) {
  // f16 data: an f16 workspace (the passes move half the bytes; at Split
  // precision the two more f16 roundings keep fp16 within its budget).
  // bf16 data: an f16 workspace of scaled values where it can
  // (ThreePassPlan::scaledWorkspace; one f16 rounding, an eighth of bf16's).
  bool halfWorkspace =
      (shape.halfData || shape.bf16Data) &&
      halfWorkspaceRefusal(shape.halfData, shape.bf16Data, request.ranks > 1)
          .empty();
  ThreePassPlan plan = threePassShape(shape, halfWorkspace);
  plan.threads = request.threads > 0 ? request.threads : 256;
  // f16 and f32 data at Split: five stages each way would take Half close
  // to 1e-3 (bench/NOTES.md); its outer kernels at Half past 2048 rows;
  // Half past what Split's rows hold (2^26 points), where only its rows of
  // 32768 fit. bf16 data at Half (defaultThreePassPrecision).
  int64_t n = plan.length;
  plan.precision = request.precision.value_or(
      defaultThreePassPrecision(n, request.longestInner, shape.bf16Data));
  if (!llvm::isPowerOf2_64(n) || n < 2 * kMinInnerLength) {
    why = "the three-pass GPU kernels need a transform of at least " +
          std::to_string(2 * kMinInnerLength) + " points, a power of two";
    return {};
  }
  if (plan.threads % kThreadsPerWarp) {
    why = "the block size must be a multiple of 32";
    return {};
  }
  int64_t longestInner =
      longestThreePassInner(plan.precision, request.longestInner);
  if (n > longestThreePass(plan.precision, request.longestInner)) {
    why = "a transform of " + std::to_string(n) +
          " points is past the three-pass GPU kernels at " +
          stringifyGPUPrecision(plan.precision).str() + " precision (up to " +
          std::to_string(
              longestThreePass(GPUPrecision::Split, request.longestInner)) +
          " points at split, " +
          std::to_string(
              longestThreePass(GPUPrecision::Half, request.longestInner)) +
          " at half" +
          (request.longestInner
               ? ", with rows of at most " + std::to_string(longestInner)
               : std::string()) +
          ")";
    return {};
  }
  int64_t inner = threePassRows(n, longestInner);
  int64_t outer = n / inner;
  plan.innerFactors = request.fusedInnerStages
                          ? innerStageFactors(inner, plan.precision)
                          : stageFactors(inner);
  plan.outerFactors = outerStageFactors(outer);
  shardPlan(plan, request.ranks, request.rank);
  if (plan.sharded()) {
    // A rank's shard holds its columns of every row: the rows must be
    // whole, and the rows and columns split evenly.
    if (outer % plan.ranks || inner / plan.ranks < 16) {
      why = "a convolution sharded over " + std::to_string(plan.ranks) +
            " ranks needs a three-pass view of " + std::to_string(outer) +
            " x " + std::to_string(inner) +
            " points whose rows and columns split evenly (at least 16 "
            "columns a rank)";
      return {};
    }
    if (shape.inputLength % inner || shape.outputLength % inner) {
      why = "a convolution sharded over " + std::to_string(plan.ranks) +
            " ranks needs sequences of whole rows of its three-pass view (" +
            std::to_string(inner) + " samples), got " +
            std::to_string(shape.inputLength) + " in and " +
            std::to_string(shape.outputLength) + " out";
      return {};
    }
  }
  plan.columns = outerColumns(outer, plan.localColumns());
  // A batch tile counts sequences; an inner block owns pairs of them.
  plan.pairTile = innerPairTile(request, plan, /*rowsPerPair=*/1);
  int64_t needed = std::max(plan.outerSharedBytes(), plan.innerSharedBytes());
  if (needed > sharedMemoryPerBlock) {
    why = sharedMemoryRefusal("the three-pass kernels need", needed,
                              sharedMemoryPerBlock);
    return {};
  }
  plan.innerThreads =
      innerThreadsOf(chip, request, plan, plan.innerSharedBytes());
  if (int64_t cluster = request.threePassCluster; cluster > 1) {
    std::string refusal = clusteredThreePassRefusal(
        plan, cluster,
        TargetDescription::forChip(chip).value_or(TargetDescription()));
    if (!refusal.empty()) {
      why = refusal;
      return {};
    }
    clusterPlan(plan, cluster);
  }
  return GPUPlanAttr::get(
      context, GPUKernelForm::ThreePass, plan.precision, chip,
      plan.innerFactors, plan.outerFactors, plan.threads, plan.pairTile,
      workspaceTypeOf(context, plan), plan.sharded() ? plan.ranks : 0,
      plan.rank, plan.innerThreads, plan.clustered() ? plan.cluster : 0);
}

//===----------------------------------------------------------------------===//
// The kernel gradient of a backward
//===----------------------------------------------------------------------===//

GPUPlanAttr butterfly::planCrossSpectrum(MLIRContext *context, StringRef chip,
                                         const ConvolutionShape &shape,
                                         ArrayRef<int64_t> factors,
                                         const GPUPlanRequest &request,
                                         int64_t sharedMemoryPerBlock,
                                         std::string &why) {
  // Half, as the convolutions: Split doubles the kernel's time (a third of
  // the backward at N = 4096, measured on an H100) for an error dk does not
  // need (docs/benchmarks.md).
  GPUPlanRequest crossRequest = request;
  if (crossRequest.threads <= 0)
    crossRequest.threads = crossSpectrumThreads(shape.fftSize / 2);
  ConvKernelPlan plan = kernelPlanOf(
      shape, factors, request.precision.value_or(GPUPrecision::Half),
      crossRequest);
  // A block holds v and g of each batch element of its tile: at least two
  // where they fit beside the row, since each tile pays for a pass over
  // the row (its roots and its f32 sums) and two barriers (H200, the
  // kernel alone: 16K causal 3.07 -> 2.18 ms at two elements instead of
  // one, 8K gated 3.26 -> 2.25, 4K causal 0.99 -> 0.87 at four instead of
  // two; bench/results/cross-spectrum-tiles-2026-11-29-h200.md).
  int64_t pairBytes = 2 * plan.sequenceBytes();
  // The block sums its row of M + 1 complex f32 (and a running f32 a
  // thread for dD) in shared memory beside the tile. Where that does not
  // fit beside one batch element (M = 16384), a cluster of two blocks
  // shares the tile on chips that have one: a block of v's sequences and
  // one of g's, each summing half of the row and reading the other's
  // spectra (distributed shared memory). Without clusters the three-pass
  // form is faster than adding each tile to the row in memory (N = 32K:
  // 13.2 against 19.1 ms for the gated backward at B x H = 16 x 768,
  // measured on an H100).
  std::optional<TargetDescription> target = TargetDescription::forChip(chip);
  int64_t lagBytes = 4 * plan.threads;
  bool clustered =
      request.crossSpectrumClusters && target && target->clusters &&
      crossSpectrumRowBytes(plan.complexLength, false) + lagBytes + pairBytes >
          sharedMemoryPerBlock;
  int64_t sequencesPerElement = clustered ? 1 : 2;
  int64_t rowBytes =
      crossSpectrumRowBytes(plan.complexLength, clustered) + lagBytes;
  int64_t tile = request.batchTile > 0
                     ? request.batchTile
                     : std::clamp<int64_t>(kCrossSpectrumTileBytes / pairBytes,
                                           kCrossSpectrumFewestElements,
                                           kCrossSpectrumMostElements);
  tile = std::min(tile, plan.batch);
  if (request.batchTile <= 0)
    tile = std::max<int64_t>(
        1, std::min(tile, (sharedMemoryPerBlock - rowBytes) /
                              (sequencesPerElement * plan.sequenceBytes())));
  plan.batchTile = sequencesPerElement * tile;
  why = checkConvKernelPlan(plan, sharedMemoryPerBlock);
  if (!why.empty())
    return {};
  int64_t needed = plan.convSharedBytes() + rowBytes;
  if (needed > sharedMemoryPerBlock) {
    why = sharedMemoryRefusal(
        "the single-kernel cross spectrum, summing its row, needs", needed,
        sharedMemoryPerBlock);
    return {};
  }
  return GPUPlanAttr::get(
      context, GPUKernelForm::SingleKernel, plan.precision, chip, plan.factors,
      /*outerFactors=*/{}, plan.threads, tile, Type(), /*ranks=*/0, /*rank=*/0,
      /*inner_threads=*/0, clustered ? GPUPlanAttr::kClusterBlocks : 0);
}

GPUPlanAttr butterfly::planCrossSpectrumThreePass(MLIRContext *context,
                                                  StringRef chip,
                                                  const ConvolutionShape &shape,
                                                  const GPUPlanRequest &request,
                                                  int64_t sharedMemoryPerBlock,
                                                  std::string &why) {
  // The caller's precision (Split where its rows hold the transform: dD is
  // lag 0 of the same inverse and carries its error).
  GPUPlanAttr plan =
      planThreePass(context, chip, shape, request, sharedMemoryPerBlock, why);
  if (!plan)
    return {};
  ThreePassPlan kernels = getThreePassPlan(plan, shape);
  // An inner block holds the rows of both spectra of its pairs.
  kernels.pairTile = innerPairTile(request, kernels, /*rowsPerPair=*/2);
  if (kernels.crossSharedBytes() > sharedMemoryPerBlock) {
    why = sharedMemoryRefusal("the three-pass cross spectrum needs",
                              kernels.crossSharedBytes(), sharedMemoryPerBlock);
    return {};
  }
  // Its cross-spectrum blocks hold two rows a pair and their f32 sum: from
  // rows of 8192 on (4M points, and every sharded training program) one
  // fills an SM, and 512 threads run 16 warps there, as the forward's inner
  // blocks: the f16 training step at 4M took 0.93x to 0.94x the time,
  // gradients unchanged
  // (bench/results/training-cross-threads-2026-11-28-h200.md).
  kernels.innerThreads =
      innerThreadsOf(chip, request, kernels, kernels.crossSharedBytes());
  return GPUPlanAttr::get(context, GPUKernelForm::ThreePass, kernels.precision,
                          chip, kernels.innerFactors, kernels.outerFactors,
                          kernels.threads, kernels.pairTile,
                          workspaceTypeOf(context, kernels),
                          kernels.sharded() ? kernels.ranks : 0, kernels.rank,
                          kernels.innerThreads, /*cluster=*/0);
}

ConvolutionShape butterfly::crossSpectrumShape(PackRealOp v, PackRealOp g) {
  auto vType = cast<RankedTensorType>(v.getInput().getType());
  auto gType = cast<RankedTensorType>(g.getInput().getType());
  ConvolutionShape shape;
  shape.batch = vType.getDimSize(0);
  shape.channels = vType.getDimSize(1);
  shape.inputLength = std::max(vType.getDimSize(2), gType.getDimSize(2));
  shape.outputLength = shape.inputLength;
  shape.fftSize =
      2 * cast<RankedTensorType>(v.getResult().getType()).getDimSize(2);
  // Each of the two workspaces (the spectra of v's pairs, of g's) at most
  // the bytes of v and g as f16: chunks of pairs, fewer the larger (each
  // chunk reads and writes the sums' rows).
  shape.resultBytes = 2 * (vType.getNumElements() + gType.getNumElements());
  return shape;
}

GPUPlanAttr butterfly::planChannelInverse(MLIRContext *context, StringRef chip,
                                          const ConvolutionShape &shape,
                                          ArrayRef<int64_t> factors,
                                          const GPUPlanRequest &request,
                                          int64_t sharedMemoryPerBlock,
                                          std::string &why) {
  // One inverse a channel: Split, whatever the request (it is cheap).
  ConvolutionShape channel = shape;
  channel.batch = 1;
  ConvKernelPlan plan =
      kernelPlanOf(channel, factors, GPUPrecision::Split, request);
  plan.batchTile = 1;
  why = checkConvKernelPlan(plan, sharedMemoryPerBlock);
  if (!why.empty())
    return {};
  return GPUPlanAttr::get(context, GPUKernelForm::SingleKernel, plan.precision,
                          chip, plan.factors, /*outerFactors=*/{}, plan.threads,
                          1, Type(), /*ranks=*/0, /*rank=*/0,
                          /*inner_threads=*/0, /*cluster=*/0);
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {

/// The op of `kind` in `region`, if it holds exactly one.
template <typename OpTy> OpTy uniqueOp(FusedOp region) {
  OpTy found;
  for (Operation &op : region.getBody().front().without_terminator())
    if (auto typed = dyn_cast<OpTy>(op)) {
      if (found)
        return {};
      found = typed;
    }
  return found;
}

struct PlanGPUKernelsPass
    : butterfly::impl::ButterflyPlanGPUKernelsBase<PlanGPUKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<FusedOp> convs, gradients;
    getOperation().walk([&](FusedOp op) {
      if (op.getKind() == FusedKind::Conv)
        convs.push_back(op);
      else if (op.getKind() == FusedKind::CrossSpectrum ||
               op.getKind() == FusedKind::ChannelInverse)
        gradients.push_back(op);
    });
    if (convs.empty() && gradients.empty())
      return;
    if (convs.empty())
      convs.push_back(gradients.front());
    // Options are checked where the first convolution's function is.
    Operation *anchor = convs.front()->getParentOfType<func::FuncOp>();
    if (!anchor)
      anchor = convs.front();
    std::optional<TargetDescription> target = TargetDescription::forChip(chip);
    if (!target || !target->isGPU()) {
      anchor->emitError() << "unknown GPU chip '" << chip
                          << "' (expected sm_80, sm_90 or sm_90a)";
      return signalPassFailure();
    }
    // CUDA launches at most 1024 threads a block (whole warps are checked
    // with each convolution's plan).
    if (threads < 0 || threads > 1024) {
      anchor->emitError() << "threads must be 0 (chosen from the length) or "
                             "at most 1024, got "
                          << int64_t(threads);
      return signalPassFailure();
    }
    if (batchTile < 0) {
      anchor->emitError() << "batch-tile must be 0 (chosen from shared "
                             "memory) or a number of sequences, got "
                          << int64_t(batchTile);
      return signalPassFailure();
    }
    if (singleKernelMax < 0) {
      anchor->emitError() << "single-kernel-max must be 0 (whatever fits on "
                             "chip) or an FFT size, got "
                          << int64_t(singleKernelMax);
      return signalPassFailure();
    }
    if (ranks < 1 || !llvm::isPowerOf2_64(ranks) || rank < 0 || rank >= ranks) {
      anchor->emitError() << "ranks must be a power of two (1: not sharded) "
                             "and rank one of them, got ranks = "
                          << int64_t(ranks) << ", rank = " << int64_t(rank);
      return signalPassFailure();
    }
    if (maxRowLength < 0 ||
        (maxRowLength > 0 && (!llvm::isPowerOf2_64(maxRowLength) ||
                              maxRowLength < kMinInnerLength))) {
      anchor->emitError() << "max-row-length must be 0 (what a block holds) "
                             "or a power of two of at least "
                          << kMinInnerLength << ", got "
                          << int64_t(maxRowLength);
      return signalPassFailure();
    }
    if (threePassCluster != 1 &&
        !GPUPlanAttr::isThreePassClusterSize(threePassCluster)) {
      anchor->emitError() << "three-pass-cluster must be 1 (the three "
                             "kernels) or a power of two blocks up to "
                          << GPUPlanAttr::kMaxClusterBlocks << ", got "
                          << int64_t(threePassCluster);
      return signalPassFailure();
    }
    GPUPlanRequest request;
    request.threads = threads;
    request.batchTile = batchTile;
    request.ranks = ranks;
    request.rank = rank;
    request.longestInner = maxRowLength;
    request.threePassCluster = threePassCluster;
    if (precision != "auto") {
      request.precision = symbolizeGPUPrecision(precision);
      if (!request.precision) {
        anchor->emitError() << "unknown precision '" << precision
                            << "': expected auto, split or half";
        return signalPassFailure();
      }
    }
    // The kernel gradients first (cross spectra, then the inverses that
    // follow their form): a three-pass one takes the convolutions of its
    // size with it, so that its kernels run them too (butterfly-to-gpu).
    for (FusedKind kind : {FusedKind::CrossSpectrum, FusedKind::ChannelInverse})
      for (FusedOp region : gradients)
        if (region.getKind() == kind &&
            failed(planGradient(region, *target, request)))
          return signalPassFailure();
    for (FusedOp conv : convs)
      if (conv.getKind() == FusedKind::Conv &&
          failed(plan(conv, *target, request)))
        return signalPassFailure();
  }

  /// The FFT sizes of the kernel gradients planned in the three-pass form:
  /// every three-pass plan of such a size takes their rows (the fused
  /// convolutions' kernels and the sums' inverse run on their workspaces).
  /// Of each function: its kernel gradients run its own convolutions.
  llvm::DenseSet<std::pair<Operation *, int64_t>> threePassGradientSizes;
  static Operation *functionOf(Operation *op) {
    Operation *func = op->getParentOfType<func::FuncOp>();
    return func ? func : op->getParentOp();
  }
  bool hasThreePassGradient(Operation *op, int64_t fftSize) const {
    return threePassGradientSizes.contains({functionOf(op), fftSize});
  }
  /// The conv regions a single-kernel cross spectrum runs (a backward's
  /// correlation and its postgate's convolution: in_cross_spectrum), and
  /// that cross spectrum's plan.
  llvm::DenseMap<Operation *, GPUPlanAttr> heldConvolutions;

  /// The longest rows of a three-pass kernel gradient: its cross spectrum's
  /// inner block holds the rows of a pair of v and of g (at Split, the
  /// precision it takes where they fit) and their running sum (complex f32):
  /// 8192 on sm_80 and sm_90.
  static int64_t gradientLongestInner(const TargetDescription &target) {
    int64_t bytesPerPosition = 2 * valueBytesOf(GPUPrecision::Split) + 8;
    return int64_t(llvm::bit_floor(
        uint64_t(target.sharedMemoryPerBlock / bytesPerPosition)));
  }
  /// The shorter of two bounds on the rows (0: none).
  static int64_t shorterRows(int64_t a, int64_t b) {
    return a > 0 && b > 0 ? std::min(a, b) : std::max(a, b);
  }

  /// The conv regions of `fftSize` points in `region`'s function: a
  /// backward's correlation, and with a postgate its convolution of v.
  static int64_t convolutionsOfSize(FusedOp region, int64_t fftSize) {
    int64_t count = 0;
    functionOf(region)->walk([&](FusedOp conv) {
      if (conv.getKind() != FusedKind::Conv)
        return;
      auto pack = uniqueOp<PackRealOp>(conv);
      if (pack && 2 * cast<RankedTensorType>(pack.getResult().getType())
                              .getDimSize(2) ==
                      fftSize)
        ++count;
    });
    return count;
  }

  /// The kernel gradient's regions run in the single-kernel form: the
  /// cross spectrum's block transforms v and g of its batch elements; the
  /// inverse's block one channel.
  LogicalResult planGradient(FusedOp region, const TargetDescription &target,
                             const GPUPlanRequest &request) {
    bool cross = region.getKind() == FusedKind::CrossSpectrum;
    SmallVector<MonarchOp> transforms;
    region.walk([&](MonarchOp op) { transforms.push_back(op); });
    size_t unpacks = 0;
    region.walk([&](UnpackRealOp) { ++unpacks; });
    size_t expected = cross ? 2 : 1;
    if (transforms.size() != expected ||
        (transforms.size() == 2 &&
         transforms[0].getFactors() != transforms[1].getFactors()) ||
        (!cross && unpacks == 0))
      return region.emitError()
             << "the GPU plan needs " << (cross ? "two forward" : "one inverse")
             << " butterfly.monarch transform"
             << (cross ? "s with the same factors" : " and an unpack_real")
             << " in a " << stringifyFusedKind(region.getKind()) << " region";
    auto transformType = cast<RankedTensorType>(transforms.front().getType());
    ConvolutionShape shape;
    shape.fftSize = 2 * transformType.getDimSize(transformType.getRank() - 1);
    shape.channels = transformType.getDimSize(transformType.getRank() - 2);
    if (cross) {
      SmallVector<PackRealOp> packs;
      region.walk([&](PackRealOp op) { packs.push_back(op); });
      if (packs.size() != 2)
        return region.emitError() << "the GPU plan needs two pack_real ops "
                                     "(of v and g) in a cross_spectrum region";
      shape = crossSpectrumShape(packs[0], packs[1]);
      shape.halfData = isHalfData(region->getOperandTypes());
      shape.bf16Data = isBF16Data(region->getOperandTypes());
    } else {
      shape.batch = 1;
      for (Value result :
           region.getBody().front().getTerminator()->getOperands()) {
        auto type = cast<RankedTensorType>(result.getType());
        shape.outputLength = std::max(
            shape.outputLength, type.getRank() == 2 ? type.getDimSize(1) : 1);
      }
    }
    // f32 data: Split, as its convolutions.
    GPUPlanRequest dataRequest =
        forData(request, llvm::all_of(region.getInputs(), [](Value input) {
                  return cast<RankedTensorType>(input.getType())
                      .getElementType()
                      .isF32();
                }));
    std::string why;
    GPUPlanAttr plan;
    // Past single-kernel-max the three-pass form, as the convolutions; a
    // cross spectrum also where the single kernel cannot sum its row in
    // shared memory; an inverse in its cross spectrum's form.
    bool threePass = request.ranks > 1 ||
                     (singleKernelMax > 0 && shape.fftSize > singleKernelMax);
    auto producer =
        cross ? FusedOp() : region.getInputs()[0].getDefiningOp<FusedOp>();
    if (producer && producer.getGpuPlanAttr())
      threePass = producer.getGpuPlanAttr().isThreePass();
    if (!threePass) {
      // The stages the kernels run, not the region's: its transforms were
      // decomposed for the CPU (factors past 32 included); any Monarch
      // factorization computes the same DFT.
      SmallVector<int64_t> factors = stageFactors(shape.fftSize / 2);
      GPUPlanRequest crossRequest = dataRequest;
      // A bf16 backward's cross spectrum runs its convolutions
      // (holdConvolutions), in a cluster too where it has two.
      crossRequest.crossSpectrumClusters =
          convolutionsOfSize(region, shape.fftSize) < 2 || shape.bf16Data;
      plan =
          cross ? planCrossSpectrum(&getContext(), chip, shape, factors,
                                    crossRequest, target.sharedMemoryPerBlock,
                                    why)
                : planChannelInverse(&getContext(), chip, shape, factors,
                                     request, target.sharedMemoryPerBlock, why);
      threePass = !plan && cross && shape.fftSize >= 2 * kMinInnerLength;
    }
    if (threePass) {
      // Rows of 8192 (what the cross spectrum holds at Split), its outer
      // passes at Half past 2048 rows (ThreePassPlan::outerPrecision): up
      // to 2^25 points. The cross spectrum at Half for bf16 data, as its
      // convolutions (bf16's own roundings are most of its budget), and for
      // f16 up to kLongestHalfF16Gradient points; Split past it, and for
      // f32 data.
      bool halfCross =
          cross &&
          (shape.bf16Data ||
           (shape.halfData && shape.fftSize <= kLongestHalfF16Gradient));
      GPUPrecision precision =
          halfCross ? GPUPrecision::Half : GPUPrecision::Split;
      GPUPlanRequest gradient = request;
      gradient.precision = precision;
      gradient.fusedInnerStages = false;
      gradient.threePassCluster = 1; // its passes run over workspaces
      gradient.longestInner =
          shorterRows(request.longestInner, gradientLongestInner(target));
      int64_t longest = longestThreePass(precision, gradient.longestInner);
      if (shape.fftSize > longest)
        return region.emitError()
               << "a kernel gradient of " << shape.fftSize
               << " points is past the three-pass GPU kernels: its cross "
                  "spectrum holds rows of "
               << longestThreePassInner(precision, gradient.longestInner)
               << " at " << stringifyGPUPrecision(precision)
               << " precision, up to " << longest << " points";
      if (!cross) {
        // One channel's inverse: a "pair" of one sequence, at Split as the
        // single kernel's, the lags kept as keptLagLength says.
        shape.inputLength = shape.fftSize / 2;
        shape.outputLength =
            keptLagLength(shape.outputLength, request.ranks,
                          threePassRows(shape.fftSize,
                                        longestThreePassInner(
                                            precision, gradient.longestInner)));
      }
      plan =
          cross
              ? planCrossSpectrumThreePass(&getContext(), chip, shape, gradient,
                                           target.sharedMemoryPerBlock, why)
              : planThreePass(&getContext(), chip, shape, gradient,
                              target.sharedMemoryPerBlock, why);
    }
    if (!plan)
      return region.emitError() << why;
    region.setGpuPlanAttr(plan);
    if (plan.isThreePass())
      threePassGradientSizes.insert({functionOf(region), shape.fftSize});
    else if (cross && shape.bf16Data)
      holdConvolutions(region, plan);
    return success();
  }

  /// Gives the conv regions that the single-kernel cross spectrum
  /// `cross` (planned `plan`) can run from its spectra its plan, as
  /// in_cross_spectrum: for each sequence it transforms (v, g), the first
  /// conv region of its function that packs the same one (the
  /// correlation of g, the postgate's convolution of v). From the spectra
  /// the cross spectrum holds, the correlation saves g's second read and
  /// transform, the postgate's convolution v's. Only for bf16 data, whose
  /// own rounding is most of their error: the training step 0.84x to 0.99x
  /// at 256 to 16K (H200, bench/results/held-convolutions-2026-11-29-h200.md).
  /// Not for f16: the product and the inverse stages then round to f16
  /// twice more than the convolution kernel's fused pass (in f32), du's
  /// error 4.7e-4 -> 5.5e-4 at 4K to 16K causal. f32 data: not measured.
  /// In a cluster each block runs its side's convolution, so only where
  /// both sides have one: 32K gated 9.51 -> 8.77 ms against the three-pass
  /// form; with the correlation alone one block idles through it (32K
  /// causal 5.12 -> 5.65 ms), which then keeps a kernel of its own.
  void holdConvolutions(FusedOp cross, GPUPlanAttr plan) {
    SmallVector<FusedOp> held;
    cross.walk([&](PackRealOp side) {
      functionOf(cross)->walk([&](FusedOp conv) {
        auto pack = conv.getKind() == FusedKind::Conv
                        ? uniqueOp<PackRealOp>(conv)
                        : PackRealOp();
        if (!pack || llvm::is_contained(held, conv) ||
            pack.getResult().getType() != side.getResult().getType() ||
            !sameSequence(pack, side))
          return WalkResult::advance();
        held.push_back(conv);
        return WalkResult::interrupt();
      });
    });
    if (plan.isClustered() && held.size() < 2)
      return;
    GPUPlanAttr heldPlan = GPUPlanAttr::get(
        &getContext(), GPUKernelForm::InCrossSpectrum, plan.getPrecision(),
        plan.getChip(), plan.getFactors(), /*outerFactors=*/{},
        plan.getThreads(), plan.getBatchTile(), Type(), /*ranks=*/0,
        /*rank=*/0, /*inner_threads=*/0, /*cluster=*/0);
    for (FusedOp conv : held)
      heldConvolutions[conv] = heldPlan;
  }

  LogicalResult plan(FusedOp conv, const TargetDescription &target,
                     const GPUPlanRequest &request) {
    // The three-pass chain around `conv`: outer_forward feeds its first
    // input, outer_inverse reads its result.
    auto outerForward = conv.getInputs().empty()
                            ? FusedOp()
                            : conv.getInputs()[0].getDefiningOp<FusedOp>();
    FusedOp outerInverse;
    if (outerForward && outerForward.getKind() == FusedKind::OuterForward &&
        conv->getNumResults() == 1 && conv->getResult(0).hasOneUse())
      outerInverse = dyn_cast<FusedOp>(*conv->getResult(0).user_begin());
    bool chain = outerInverse &&
                 outerInverse.getKind() == FusedKind::OuterInverse &&
                 outerInverse->getNumResults() >= 1;
    FusedOp first = chain ? outerForward : conv;
    FusedOp last = chain ? outerInverse : conv;
    auto pack = uniqueOp<PackRealOp>(first);
    auto product = uniqueOp<HermitianMulOp>(conv);
    auto unpack = uniqueOp<UnpackRealOp>(last);
    bool staticResults = last->getNumResults() >= 1 &&
                         llvm::all_of(last->getResultTypes(), [](Type type) {
                           return cast<RankedTensorType>(type).hasStaticShape();
                         });
    if (!pack || !product || !unpack || !staticResults)
      return conv.emitError()
             << "the GPU plan needs one pack_real, hermitian_mul and "
                "unpack_real in a convolution with static results";
    // The ops' verifiers make these static [B, H, L] tensors.
    auto input = cast<RankedTensorType>(pack.getInput().getType());
    auto output = cast<RankedTensorType>(unpack.getResult().getType());

    ConvolutionShape shape;
    shape.batch = input.getDimSize(0);
    shape.channels = input.getDimSize(1);
    shape.inputLength = input.getDimSize(2);
    shape.outputLength = output.getDimSize(2);
    shape.fftSize =
        2 * cast<RankedTensorType>(pack.getResult().getType()).getDimSize(2);
    // A backward's correlation writes du and dpre: all its results count.
    for (Type type : last->getResultTypes()) {
      auto result = cast<RankedTensorType>(type);
      shape.resultBytes +=
          result.getNumElements() * result.getElementTypeBitWidth() / 8;
    }
    shape.halfData = isHalfData(first->getOperandTypes()) &&
                     isHalfData(last->getResultTypes());
    shape.bf16Data = isBF16Data(first->getOperandTypes()) &&
                     isBF16Data(last->getResultTypes());

    // A chain is three passes already; a single region past
    // `single-kernel-max`, or of the size of a three-pass kernel gradient
    // (whose kernels run it), is run as three passes too.
    // A sharded convolution is three passes whatever its size: the
    // exchanges run between them.
    bool threePass = chain || request.ranks > 1 ||
                     (singleKernelMax > 0 && shape.fftSize > singleKernelMax) ||
                     hasThreePassGradient(conv, shape.fftSize);
    std::string why;
    GPUPlanAttr plan;
    if (threePass) {
      GPUPlanRequest rows = request;
      if (hasThreePassGradient(conv, shape.fftSize)) {
        rows.longestInner =
            shorterRows(request.longestInner, gradientLongestInner(target));
        rows.fusedInnerStages = false;
        // The kernel gradient's kernels run it, over their workspaces.
        rows.threePassCluster = 1;
      }
      plan = planThreePass(&getContext(), chip, shape, rows,
                           target.sharedMemoryPerBlock, why);
    } else {
      // The single kernel runs the stages the decomposition chose.
      auto forward = product.getInput().getDefiningOp<MonarchOp>();
      if (!forward)
        return conv.emitError() << "the GPU plan needs the spectral product "
                                   "to follow a butterfly.monarch";
      // The region's factors were chosen for its data type; where the
      // kernels cannot run them (f32 data: factors past 32), the GPU's own
      // stages compute the same transform.
      SmallVector<int64_t> factors(forward.getFactors());
      if (restage && !kernelsRunFactors(factors))
        factors = stageFactors(shape.fftSize / 2);
      std::optional<uint64_t> band = forward.getSpectralBand();
      if (auto held = heldConvolutions.find(conv);
          !band && held != heldConvolutions.end()) {
        conv.setGpuPlanAttr(held->second);
        return success();
      }
      if (band)
        factors = bandFactorOrder(factors, int64_t(*band));
      GPUPlanRequest dataRequest = forData(
          request, llvm::all_of(last->getResultTypes(), [](Type type) {
            return cast<RankedTensorType>(type).getElementType().isF32();
          }));
      if (restage && !band)
        factors =
            fusedPassOrder(warpgroupOrder(chip, factors, shape, dataRequest),
                           shape, dataRequest);
      plan = planSingleKernel(&getContext(), chip, shape, factors, dataRequest,
                              target.sharedMemoryPerBlock, why);
    }
    if (!plan)
      return conv.emitError() << why;
    conv.setGpuPlanAttr(plan);
    return success();
  }
};

} // namespace
