//===- GPUPlan.h - how a convolution becomes GPU kernels --------*- C++ -*-===//
//
// The planning half of the GPU lowering. butterfly-plan-gpu-kernels chooses,
// per convolution, the form (single kernel or three passes), the factors,
// the precision and the block shape, checks them against the chip, and
// writes them on the conv region as a #butterfly.gpu_plan. butterfly-to-gpu
// turns a plan and the region's shapes back into the kernels' layouts with
// `getSingleKernelPlan` / `getThreePassPlan` and decides nothing itself.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_GPUPLAN_H
#define FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_GPUPLAN_H

#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"
#include "fftconv/Dialect/Butterfly/Transforms/CostModel.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

namespace mlir {
namespace butterfly {

/// The largest FFT size the single-kernel form runs by default; larger
/// convolutions take the three-pass form (bench/NOTES.md has the
/// measurements behind it). The one definition of the default: the pass
/// options and the pipelines refer to it.
inline constexpr int64_t kDefaultSingleKernelMax = 32768;

/// The smallest FFT size the single-kernel form runs (a complex transform
/// of 128 points: a tensor-core stage needs 16 rows and 8 columns).
/// fftconv-to-ptx pads shorter linear convolutions to it.
inline constexpr int64_t kMinSingleKernelFFTSize = 256;

inline constexpr int64_t kThreadsPerWarp = 32;
/// The largest factor a stage runs (a tensor-core stage of 32 x 32).
inline constexpr int64_t kMaxTensorCoreFactor = 32;
/// On sm_90a the last stage may be a factor of 64 on the warpgroup MMA
/// (wgmma): its real and imaginary parts are an operand in shared memory,
/// not registers, taking kWarpgroupFactorBytes of the block's shared
/// memory past the sequences.
inline constexpr int64_t kWarpgroupFactor = 64;
/// The chip whose kernels may run it (wgmma is an sm_90a instruction), and
/// the threads that issue it together (4 warps).
inline constexpr llvm::StringLiteral kWarpgroupChip = "sm_90a";
inline constexpr int64_t kWarpgroupThreads = 4 * kThreadsPerWarp;
inline constexpr int64_t kWarpgroupFactorBytes =
    2 * kWarpgroupFactor * kWarpgroupFactor * 2;
/// Whether `factors` end in a stage on the warpgroup MMA.
inline bool hasWarpgroupStage(llvm::ArrayRef<int64_t> factors) {
  return !factors.empty() && factors.back() == kWarpgroupFactor;
}
/// Blocks of 16 warps: what the single kernel takes past M = 4096, one
/// block an SM, where two stages can run together on the tensor cores
/// (TensorCorePair.cpp) or the fused pass runs at Half.
inline constexpr int64_t kPairThreads = 512;
/// Whether a single kernel of `factors` (2 or 3 stages, the last on the
/// FMA units: a factor of 8 or less, or of 16 at Half where M = 16384 has
/// no order ending in 8) runs its last stage, the spectral
/// product and the first inverse stage as one pass in f32 registers
/// (KernelEmitter::fusesSpectralProduct, which also checks that the pair
/// does not take that stage): two f16 roundings fewer each way, but at
/// Half precision the pass computes a position's twiddles once a sequence,
/// not once for the block's. Measured on an H200 (bench/NOTES.md): at
/// Split always (4K causal 0.81 -> 0.79 ms, gated 1.01 -> 0.94); at Half
/// where the convolution is causal on f16 data, as fp16's 5e-4 needs (4K
/// 0.450 -> 0.470 ms at 5.5e-4 -> 4.65e-4, 8K on [32, 16, 8] 1.07 -> 1.14
/// at 4.68e-4), or causal of two stages (256: 0.035 either way, 4.6e-4 ->
/// 3.6e-4), and in blocks of 16 warps, where it takes the tensor-core
/// pair's place at no cost (16K on [32, 32, 8]: causal 1.07 either way at
/// 5.5e-4 -> 4.70e-4, gated 1.53 -> 1.49 at 6.3e-4 -> 5.55e-4). Not
/// elsewhere at Half (4K gated 0.58 -> 0.67 ms, 8K 1.25 -> 1.54). The 16
/// of 32K ([32, 32, 16]): causal f16 1.59 -> 1.50 ms at 5.6e-4 -> 4.7e-4,
/// bf16 1.62 -> 1.56, gated f16 2.02 either way at 6.3e-4 -> 5.5e-4.
bool fusesSpectralProductAt(GPUPrecision precision,
                            llvm::ArrayRef<int64_t> factors, bool causal,
                            bool halfData, int64_t threads);
/// Whether a convolution that reads `inputLength` real samples into a
/// transform of M = `complexLength` leaves zero padding (causal).
inline bool readsPadding(int64_t inputLength, int64_t complexLength) {
  return (inputLength + 1) / 2 < complexLength;
}

/// The shared memory a three-pass block's rows or tile take at most, and
/// the fewest columns an outer block owns: a tensor-core stage's tile.
inline constexpr int64_t kMaxThreePassBlockBytes = 128 * 1024;
inline constexpr int64_t kFewestOuterColumns = 8;
/// Past the rows 8 columns hold at Half, an outer block owns 4 columns and
/// its last outer stage is a factor of 8 on the FMA units (a tensor-core
/// stage's tiles are 8 columns of its digit's stride; the FMA stage's
/// columns are a thread's each).
inline constexpr int64_t kNarrowOuterColumns = 4;
inline constexpr int64_t kNarrowOuterLastFactor = 8;
/// At Split precision the inner rows' stages: factors of 16 on the tensor
/// cores, then a last stage of 8 on the FMA units, run with the product and
/// the first inverse stage in one pass.
inline constexpr int64_t kSplitInnerFactor = 16;
inline constexpr int64_t kFusedInnerLastFactor = 8;

/// f16 planes of a sequence in shared memory: Re and Im, each as a high and
/// a low half at Split precision.
inline int64_t planesOf(GPUPrecision precision) {
  return precision == GPUPrecision::Split ? 4 : 2;
}
/// Shared-memory bytes of one complex value.
inline int64_t valueBytesOf(GPUPrecision precision) {
  return planesOf(precision) * 2;
}

/// The longest rows a three-pass plan takes at `precision`: what a block's
/// budget holds, or `longestInner` where that is fewer (0: no such bound).
inline int64_t longestThreePassInner(GPUPrecision precision,
                                     int64_t longestInner = 0) {
  int64_t held = kMaxThreePassBlockBytes / valueBytesOf(precision);
  return longestInner > 0 ? std::min(held, longestInner) : held;
}

/// The most rows an outer block of 8 columns holds at `precision` within a
/// block's budget: 2048 at Split, 4096 at Half.
inline int64_t mostOuterRows(GPUPrecision precision) {
  return kMaxThreePassBlockBytes /
         (kFewestOuterColumns * valueBytesOf(precision));
}

/// Whether an outer block of `outer` rows owns kNarrowOuterColumns: 8
/// would not fit its block's budget even at Half.
inline bool narrowOuterTiles(int64_t outer) {
  return outer > mostOuterRows(GPUPrecision::Half);
}

/// The most rows an outer block holds: 4 columns at Half (8192).
inline int64_t mostNarrowOuterRows() {
  return kMaxThreePassBlockBytes /
         (kNarrowOuterColumns * valueBytesOf(GPUPrecision::Half));
}

/// The longest transform the three-pass kernels run at `precision`: rows
/// (longestThreePassInner) and outer tiles within a block's budget, the
/// outer kernels at Half where Split's tiles would not hold their rows
/// (ThreePassPlan::outerPrecision) and on 4 columns past 4096 rows
/// (narrowOuterTiles): 2^27 points at Split, 2^28 at Half; with rows of at
/// most 8192, a kernel gradient's, 2^26 at either.
inline int64_t longestThreePass(GPUPrecision precision,
                                int64_t longestInner = 0) {
  return longestThreePassInner(precision, longestInner) * mostNarrowOuterRows();
}

/// The lags a three-pass kernel gradient's outer inverse keeps of `lags`:
/// whole 8-element stores, or sharded over `ranks` whole rows of `rows`
/// (a rank's columns of each; dD alone, lag 0, takes the first row).
inline int64_t keptLagLength(int64_t lags, int64_t ranks, int64_t rows) {
  return llvm::alignTo(lags, ranks > 1 ? rows : 8);
}

/// The precision the three-pass form takes when none is asked for. For
/// bf16 data, Half: bf16's own roundings of u and y (1.7e-3) are most of
/// its error budget (2e-3) and Half's stages add little to them (64K:
/// 1.7e-3 -> 1.8e-3, bench/NOTES.md). Else Split while Split's rows hold
/// the transform in outer tiles of 8 columns (with rows of at most
/// `longestInner`), its outer kernels at Half past 2048 rows (2^25 points),
/// and where Half's rows would be no longer (rows of at most 8192, a kernel
/// gradient's: 2^26 points, outer tiles of 4 columns past 2^25); else Half
/// (past 2^26 points).
inline GPUPrecision defaultThreePassPrecision(int64_t fftSize,
                                              int64_t longestInner = 0,
                                              bool bf16Data = false) {
  if (bf16Data)
    return GPUPrecision::Half;
  int64_t splitRows = longestThreePassInner(GPUPrecision::Split, longestInner);
  bool halfRowsLonger =
      longestThreePassInner(GPUPrecision::Half, longestInner) > splitRows;
  return fftSize > splitRows * mostOuterRows(GPUPrecision::Half) &&
                 halfRowsLonger
             ? GPUPrecision::Half
             : GPUPrecision::Split;
}

/// The last digits a frequency band keeps at each end of the spectrum-side
/// stage, or 0 where that frees no 16-digit tile of it. A band of the
/// frequencies min(f, M - f) < `band` of a transform of M = `complexLength`
/// points keeps the last digits d (the frequency's most significant) with
/// min(d, m - d) < ceil(band m / M), m = `lastFactor`; they are taken in
/// whole 8-digit groups (a tensor-core operand row), so only a last factor
/// of 32 with a band of at most M / 4 frees a tile.
inline int64_t bandDigitsOf(int64_t band, int64_t lastFactor,
                            int64_t complexLength) {
  if (band <= 0 || lastFactor < 16)
    return 0;
  int64_t digits = llvm::alignTo(
      llvm::divideCeil(band * lastFactor, complexLength), int64_t(8));
  return 2 * digits < lastFactor ? digits : 0;
}

/// Whether every real sequence ([B, H, L] tensor of floats) among `types`
/// is f16 (and one is there).
bool isHalfData(TypeRange types);
/// Whether every real sequence among `types` is bf16 (and one is there).
bool isBF16Data(TypeRange types);

/// The shapes of one convolution, read off its regions.
struct ConvolutionShape {
  int64_t batch = 0;        // B
  int64_t channels = 0;     // H
  int64_t inputLength = 0;  // real length of the signal read (zero past it)
  int64_t outputLength = 0; // real outputs kept
  int64_t fftSize = 0;      // N, the real FFT size
  int64_t resultBytes = 0;  // bytes of the convolution's result
  bool halfData = false;    // every sequence read and written is f16
  bool bf16Data = false;    // every sequence read and written is bf16
};

/// What the single-kernel form's kernels compute and how their work is laid
/// out: a plan's single-kernel form, with the shapes.
struct ConvKernelPlan {
  int64_t batch = 0;         // B
  int64_t channels = 0;      // H
  int64_t inputLength = 0;   // real length of the signal read (zero past it)
  int64_t outputLength = 0;  // real outputs kept
  int64_t complexLength = 0; // M: complex length of the transform (N = 2M)
  llvm::SmallVector<int64_t> factors; // the Monarch factors of M
  int64_t batchTile = 1;              // sequences one thread block owns
  int64_t threads = 128;              // threads of one block
  GPUPrecision precision = GPUPrecision::Split;
  /// The inputs are wider than f16 (bf16 or f32): each block scales its
  /// sequences by a power of two into f16's range (blockRangeScales).
  bool scalesRange = false;
  /// Frequency-sparse (0: not): the spectrum side is zero but at the
  /// frequencies f with min(f, M - f) < spectralBand (butterfly.monarch's
  /// spectral_band).
  int64_t spectralBand = 0;
  /// The last inverse stage writes the outputs from its accumulators
  /// through the epilogue (writesDirectOutput).
  bool directOutput = false;

  /// Shared memory of one sequence.
  int64_t sequenceBytes() const {
    return complexLength * valueBytesOf(precision);
  }
  int64_t convSharedBytes() const {
    return batchTile * sequenceBytes() +
           (hasWarpgroupStage(factors) ? kWarpgroupFactorBytes : 0);
  }
  /// The spectrum kernel's one sequence, always at Split precision.
  int64_t spectrumSharedBytes() const {
    return complexLength * valueBytesOf(GPUPrecision::Split);
  }
  int64_t gridY() const { return (batch + batchTile - 1) / batchTile; }
};

/// Shared memory of a cross-spectrum block's f32 partial spectrum: the
/// M + 1 bins; in a cluster, its M / 2 + 1 (the low bins of its quarter of
/// the frequencies, their mirrors, and the middle one) and one pair more
/// for its range unscale, which the other block reads.
inline int64_t crossSpectrumRowBytes(int64_t complexLength, bool clustered) {
  return clustered ? 8 * (complexLength / 2 + 2) : 8 * (complexLength + 1);
}

/// The real outputs a lane of a direct output writes at once: its two
/// neighbouring complex results of a row of its accumulator tile (8 bytes
/// of f16).
inline constexpr int64_t kDirectOutputValues = 4;
/// Whether a single kernel of `plan` writes its outputs from the last
/// inverse stage's accumulators through the epilogue, kDirectOutputValues
/// a lane, instead of into shared memory for a pass of 16-byte rows after
/// a barrier (ConvKernelPlan::directOutput): where the epilogue reads no
/// sequence (`epilogueReads`: a postgate, a skip term's u), whose loads
/// the stage would wait for. Measured on an H200
/// (bench/results/direct-output-2026-11-29-h200.md): every f16 and bf16
/// causal row at Half 1% to 6% faster (4K 0.435 -> 0.418 ms, 8K 1.036 ->
/// 0.975, 32K 1.357 -> 1.309), at Split 3% to 8% (4K 0.792 -> 0.740), f32
/// circular 4% to 20% (16K 3.61 -> 2.89); with a postgate, 4K gated 0.580
/// -> 0.613, 8K 1.248 -> 1.327, bf16 16K 1.544 -> 1.733.
bool writesDirectOutput(const ConvKernelPlan &plan, bool epilogueReads);

/// The three-pass form's kernels: the transform of N points viewed as N1
/// rows of N2 columns, two batch elements a complex sequence (a pair).
struct ThreePassPlan {
  int64_t batch = 0;
  int64_t channels = 0;
  int64_t inputLength = 0;                 // real samples read (zero past them)
  int64_t outputLength = 0;                // real outputs kept
  int64_t length = 0;                      // N, the complex transform length
  llvm::SmallVector<int64_t> outerFactors; // of N1, most significant first
  llvm::SmallVector<int64_t> innerFactors; // of N2
  int64_t columns = 16;                    // C, columns an outer block owns
  int64_t threads = 256;
  int64_t innerThreads = 0; // an inner block's, where not `threads`
  int64_t pairTile = 1;     // pairs an inner block owns
  /// The workspace holds `chunkPairs` pairs (0: all of them); the outer
  /// kernels of one chunk are built for the pairs from `firstPair` on.
  int64_t chunkPairs = 0;
  int64_t firstPair = 0;
  GPUPrecision precision = GPUPrecision::Split;
  /// The workspace between the passes holds f16 (else f32) complex values.
  bool halfWorkspace = false;
  /// The inputs are wider than f16 (bf16 or f32 data, or an f32
  /// workspace): each block scales its sequences by a power of two into
  /// f16's range (blockRangeScales).
  bool scalesRange = false;
  /// The workspace holds f16 values of wider data (bf16): each block stores
  /// what its f16 planes hold, scaled into f16's range by its range scale,
  /// and records the inverse of that scale (an f32) after its (pair,
  /// channel)'s N values: an inner block one a row (workspaceRowScale), an
  /// outer forward block one a tile of columns (workspaceColumnScale).
  /// The kernel that loads the values multiplies them by it. Half the bytes
  /// of an f32 workspace for one f16 rounding more (the outer forward's
  /// stores; an eighth of one of bf16's).
  bool scaledWorkspace = false;
  /// The sequence sharded over `ranks` processes (1: not), this one being
  /// `rank`: its outer kernels own the rank's inner() / ranks columns of
  /// every row, its inner kernels its outer() / ranks rows, and an
  /// all-to-all exchange of the workspace runs between them. A rank's
  /// sequences hold, row after row, its columns of the N1 x N2 view.
  int64_t ranks = 1;
  int64_t rank = 0;
  /// The channels a workspace holds (0: all of them); the outer and inner
  /// kernels of one are built for the channels from `firstChannel` on.
  int64_t chunkChannels = 0;
  int64_t firstChannel = 0;
  /// Sharded: the pairs one GPU's workspace would hold (shardedChunking's
  /// budget, CostModel.h).
  int64_t onePairs = 0;
  /// The blocks of a cluster that run the three passes in one kernel
  /// (1: the three kernels, over a workspace in global memory): a cluster
  /// transforms one pair of one channel, block r the columns r C .. of every
  /// row in the outer passes (C = clusterColumns()) and rows r R .. in the
  /// inner pass (R = clusterRows()), the rows exchanged through the blocks'
  /// shared memory (buildClusteredThreePassKernel). K's kernels keep the
  /// workspace form's `columns`.
  int64_t cluster = 1;

  int64_t outer() const;
  int64_t inner() const;
  bool sharded() const { return ranks > 1; }
  bool clustered() const { return cluster > 1; }
  /// The clustered kernel's rows and columns a block (N1 / cluster and
  /// N2 / cluster), and its shared memory: one buffer for the tile of
  /// columns at the outer passes' precision and, in turn, the rows.
  int64_t clusterRows() const { return outer() / cluster; }
  int64_t clusterColumns() const { return inner() / cluster; }
  int64_t clusteredSharedBytes() const {
    return std::max(clusterRows() * inner() * valueBytes(),
                    outer() * clusterColumns() *
                        valueBytesOf(outerPrecision()));
  }
  /// The values a clustered kernel's thread moves to another block at once
  /// (a 16-byte store a plane), and the groups of them a block moves each
  /// way: a thread's whole share is read before any is written, so the
  /// block's threads must divide them.
  static constexpr int64_t kClusterExchangeValues = 8;
  int64_t clusterExchanges() const {
    return length / cluster / kClusterExchangeValues;
  }
  /// The columns of the N1 x N2 view this rank's outer kernels own, and the
  /// rows its inner kernels own.
  int64_t localColumns() const { return inner() / ranks; }
  int64_t localRows() const { return outer() / ranks; }
  int64_t pairs() const { return (batch + 1) / 2; }
  /// The threads of an inner block, and the plan its kernels are built
  /// from (threads those).
  int64_t innerBlockThreads() const {
    return innerThreads ? innerThreads : threads;
  }
  ThreePassPlan innerKernelPlan() const {
    ThreePassPlan plan = *this;
    plan.threads = innerBlockThreads();
    return plan;
  }
  int64_t workspacePairs() const {
    return chunkPairs > 0 ? std::min(chunkPairs, pairs()) : pairs();
  }
  int64_t chunks() const {
    return (pairs() + workspacePairs() - 1) / workspacePairs();
  }
  /// Bytes of one complex value in the inner kernels' shared memory.
  int64_t valueBytes() const { return valueBytesOf(precision); }
  /// The precision the outer kernels run at: the plan's, or Half where a
  /// Split tile of the plan's rows would not fit a block (4096 rows of 8
  /// columns: a kernel gradient's transforms past 2^24 points keep their
  /// rows of 8192 at Split, the inner passes holding the error budget).
  GPUPrecision outerPrecision() const {
    return outer() * columns * valueBytesOf(precision) <=
                   kMaxThreePassBlockBytes
               ? precision
               : GPUPrecision::Half;
  }
  /// Where the twiddle W_N^(n2 k1) between the passes is applied: with an
  /// f16 workspace, by the inner kernels in f32 as they load a row and (its
  /// conjugate) as they store it, so that the workspace holds the outer
  /// column transforms as they are and an outer kernel at Half rounds no
  /// twiddled value of its own (its planes hold what the workspace holds);
  /// else by the outer kernels, as they store and load the workspace (bf16's
  /// Half inner kernels, bound by instruction issue, took 2% to 8% longer
  /// with it over an f32 workspace, where the outer kernels are bound by
  /// its traffic; over bf16's scaled f16 one the outer kernels' twiddles
  /// measured 0% to 5% slower, bench/NOTES.md). Every kernel of a
  /// workspace agrees, since its element type is the workspace's.
  bool twiddlesInInner() const { return halfWorkspace; }
  /// Whether an outer kernel's f16 planes can hold the workspace's values as
  /// they are: the twiddle the inner kernels', no range scale between.
  bool outerPlanesHoldWorkspace() const {
    return twiddlesInInner() && !scalesRange;
  }
  /// The precision an outer forward kernel runs at: Half where it reads f16
  /// u alone (`uAlone`: no pregate's product to round) and the twiddle is
  /// the inner kernels', since u then reaches the tensor cores exactly and
  /// the stages' f16 planes hold the workspace's values (64K causal
  /// 3.6e-4 as at Split, 1M causal 4.1e-4 -> 4.6e-4 with the outer inverse
  /// at Half too, within fp16's 5e-4); else outerPrecision(). A gated
  /// forward's pregate product is one more rounding (1M gated 5.5e-4).
  GPUPrecision outerForwardPrecision(bool uAlone) const {
    if (uAlone && outerPlanesHoldWorkspace())
      return GPUPrecision::Half;
    return outerPrecision();
  }
  /// The precision an outer inverse kernel runs at: Half where the twiddle
  /// is the inner kernels' (the kernel reads the f16 workspace into its
  /// planes exactly; its stages' planes add a rounding before the outputs':
  /// 64K gated 3.6e-4 -> 4.2e-4, 1M gated 4.6e-4; 4% to 8% faster,
  /// bench/NOTES.md); else outerPrecision().
  GPUPrecision outerInversePrecision() const {
    if (outerPlanesHoldWorkspace())
      return GPUPrecision::Half;
    return outerPrecision();
  }
  /// The precision K's kernels run at: Split, as it is computed once and
  /// every output carries its error, where Split's blocks hold the plan's
  /// rows and outer tiles; the plan's own where they do not (Half's rows of
  /// 32768 past 2^26 points; a Split plan's outer kernels at Half past 2048
  /// rows, outerPrecision).
  GPUPrecision spectrumPrecision() const {
    int64_t splitBytes = valueBytesOf(GPUPrecision::Split);
    bool fits = std::max(inner(), outer() * columns) * splitBytes <=
                kMaxThreePassBlockBytes;
    return fits ? GPUPrecision::Split : precision;
  }
  /// Bytes of one complex value in the workspace.
  int64_t workspaceValueBytes() const { return halfWorkspace ? 4 : 8; }
  /// The f32 scales after each (pair, channel)'s N values in a scaled
  /// workspace (none otherwise): one a row, then one a tile of columns.
  int64_t workspaceScaleSlots() const {
    return scaledWorkspace ? outer() + inner() / columns : 0;
  }
  /// The complex value whose place holds the scale of row `row`, or of
  /// tile `tile` of columns (the rows' first: a backward's convolution
  /// reads them with a plan of its own).
  int64_t workspaceRowScale(int64_t row) const { return length + row; }
  int64_t workspaceColumnScale(int64_t tile) const {
    return length + outer() + tile;
  }
  int64_t outerSharedBytes() const {
    return outer() * columns * valueBytesOf(outerPrecision());
  }
  int64_t innerSharedBytes() const { return pairTile * inner() * valueBytes(); }
  int64_t workspaceChannels() const {
    return chunkChannels > 0 ? chunkChannels : channels;
  }
  int64_t channelChunks() const { return channels / workspaceChannels(); }
  /// Sharded: the complex values of one (pair, channel) a chunk of a
  /// workspace holds, the rank's columns of another rank's rows (N / R^2).
  int64_t chunkLength() const { return length / (ranks * ranks); }
  /// The bytes of one (pair, channel) in a rank's workspace buffer.
  int64_t rankSequenceBytes() const {
    return length / ranks * workspaceValueBytes();
  }
  /// Sharded: the sets of workspaces the chunks of pairs rotate through, so
  /// that a chunk's exchanges overlap the kernels of the next
  /// (butterfly-to-gpu's pipelined order).
  int64_t workspaceSets() const {
    return sharded() ? chunking().sets(pairs()) : 1;
  }
  /// Sharded: the channels a workspace holds where whole channels would
  /// not fit the budget or give too few chunks to pipeline
  /// (shardedChunking, CostModel.h); 0 (all of them) otherwise.
  int64_t pipelineChunkChannels() const {
    int64_t split = sharded() ? chunking().channelSplit : 1;
    return split > 1 ? channels / split : 0;
  }
  /// Sharded: whether K's exchange is in place, one buffer holding K
  /// (ShardedChunking::memoryBound).
  bool spectrumExchangeInPlace() const {
    return sharded() && chunking().memoryBound;
  }
  ShardedChunking chunking() const {
    return shardedChunking(pairs(), channels, onePairs, rankSequenceBytes());
  }
  int64_t innerGridZ() const {
    return (workspacePairs() + pairTile - 1) / pairTile;
  }
  /// A kernel gradient's inner cross-spectrum kernel: the rows of the two
  /// spectra (of v and of g) of each pair of its tile, and the row's running
  /// sum of their products (complex f32).
  int64_t crossSharedBytes() const {
    return 2 * innerSharedBytes() + inner() * 8;
  }
};

/// Why a three-pass workspace of f16 cannot hold the data ("" where it
/// can): f16 data's values, and bf16 data's scaled into its range on one
/// GPU (ThreePassPlan::scaledWorkspace: the scales do not travel with a
/// sharded plan's exchanged rows); f32 data would lose most of its digits.
std::string halfWorkspaceRefusal(bool halfData, bool bf16Data, bool sharded);

/// Why `plan` cannot run its three passes in one kernel on clusters of
/// `blocks` blocks of `target` ("" where it can): the rows and columns split
/// evenly, at least 16 columns a block; f16 data on one GPU (one block's
/// range scale would not hold the cluster's); a block's rows and tile of
/// columns within its shared memory.
std::string clusteredThreePassRefusal(const ThreePassPlan &plan, int64_t blocks,
                                      const TargetDescription &target);

/// What a plan may be asked for; 0 and nullopt mean "the planner chooses".
struct GPUPlanRequest {
  int64_t threads = 0;
  int64_t batchTile = 0;
  std::optional<GPUPrecision> precision;
  /// Shard the three-pass form over `ranks` processes, as `rank` (1: not).
  int64_t ranks = 1;
  int64_t rank = 0;
  /// The three-pass form's rows, at most (0: what a block's budget holds).
  int64_t longestInner = 0;
  /// The three-pass form in one kernel on clusters of this many blocks
  /// (ThreePassPlan::cluster; 1: the three kernels over a workspace).
  int64_t threePassCluster = 1;
  /// At Split, the inner rows end in a stage of 8 that the inner kernel
  /// runs with its product (innerStageFactors). Off for a kernel
  /// gradient's plans and the convolutions that share its inner kernel:
  /// those kernels keep their products apart, and the extra stage measured
  /// slower there (bench/NOTES.md, eleventh session).
  bool fusedInnerStages = true;
  /// A kernel gradient's cross spectrum may share its tile across a
  /// cluster of two blocks where its row does not fit one
  /// (planCrossSpectrum). Off where the three-pass form would run two of
  /// the backward's convolutions in its kernels (a gated backward's
  /// correlation and the postgate's convolution, from the transforms of v
  /// and g it shares): as single kernels each batch element is transformed
  /// six times instead of four, and the gated 32K training step measured
  /// 1.03x (bf16) to 1.10x (f16) slower clustered, the causal one 0.80x to
  /// 0.94x (H200; bench/results/cross-spectrum-cluster-2026-11-29-h200.md).
  bool crossSpectrumClusters = true;
};

/// The single-kernel plan of a convolution whose complex transform of N/2
/// points has the Monarch `factors`, for a chip with `sharedMemoryPerBlock`
/// bytes a block. Returns the plan, or the empty attribute and `why` the
/// kernels cannot run it.
GPUPlanAttr planSingleKernel(MLIRContext *context, llvm::StringRef chip,
                             const ConvolutionShape &shape,
                             llvm::ArrayRef<int64_t> factors,
                             const GPUPlanRequest &request,
                             int64_t sharedMemoryPerBlock, std::string &why);

/// The three-pass plan of a convolution (its factors are the planner's).
GPUPlanAttr planThreePass(MLIRContext *context, llvm::StringRef chip,
                          const ConvolutionShape &shape,
                          const GPUPlanRequest &request,
                          int64_t sharedMemoryPerBlock, std::string &why);

/// The plan of a backward's cross_spectrum region: the forward transforms
/// of v and g (`shape.inputLength` the longer of the two) of a tile of batch
/// elements a block, and their cross spectrum summed over the batch; the
/// plan's batch tile counts batch elements (two sequences each). Where the
/// row does not fit one block beside one element, on a chip with clusters
/// and where the request allows it, two blocks of a cluster (`cluster =
/// 2`), one holding v's sequences of the tile and one g's, each beside
/// half of the row.
GPUPlanAttr planCrossSpectrum(MLIRContext *context, llvm::StringRef chip,
                              const ConvolutionShape &shape,
                              llvm::ArrayRef<int64_t> factors,
                              const GPUPlanRequest &request,
                              int64_t sharedMemoryPerBlock, std::string &why);

/// The three-pass plan of a cross_spectrum region past the single-kernel
/// form: the pairs of v and of g transformed by the outer forward kernel of
/// the convolutions, and an inner kernel that transforms the rows of a tile
/// of pairs of both and sums the products of their spectra over the batch.
GPUPlanAttr planCrossSpectrumThreePass(MLIRContext *context,
                                       llvm::StringRef chip,
                                       const ConvolutionShape &shape,
                                       const GPUPlanRequest &request,
                                       int64_t sharedMemoryPerBlock,
                                       std::string &why);

/// The shape of a kernel gradient's cross spectrum of v and g (the inputs
/// of its two pack_real ops, [B, H, L]): `inputLength` the longer of the
/// two; `resultBytes` the bound of each of the three-pass form's two
/// workspaces of their spectra (chunks of pairs): together at most the
/// bytes of v and g as f32.
ConvolutionShape crossSpectrumShape(PackRealOp v, PackRealOp g);

/// The plan of a channel_inverse region: the inverse of one channel's
/// spectrum a block, at Split precision; `shape.outputLength` is the most
/// lags a result keeps.
GPUPlanAttr planChannelInverse(MLIRContext *context, llvm::StringRef chip,
                               const ConvolutionShape &shape,
                               llvm::ArrayRef<int64_t> factors,
                               const GPUPlanRequest &request,
                               int64_t sharedMemoryPerBlock, std::string &why);

/// The kernels' layouts of a plan, for the convolution of `shape`.
ConvKernelPlan getSingleKernelPlan(GPUPlanAttr plan,
                                   const ConvolutionShape &shape);
ThreePassPlan getThreePassPlan(GPUPlanAttr plan, const ConvolutionShape &shape);

} // namespace butterfly
} // namespace mlir

#endif // FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_GPUPLAN_H
