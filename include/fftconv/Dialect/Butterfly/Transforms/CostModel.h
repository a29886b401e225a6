//===- CostModel.h - choosing the order-p Monarch factorization -*- C++ -*-===//
//
// Picks the factors N = N1 * ... * Np of a complex DFT for the fused
// tensor-core convolution kernel, and decides when a size no longer fits on
// chip and takes FlashButterfly's three-pass form (an outer butterfly pass
// through memory around inner fused convolutions).
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_COSTMODEL_H
#define FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_COSTMODEL_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

namespace mlir {
namespace butterfly {

/// The chip the passes and tools target unless told otherwise.
inline constexpr llvm::StringLiteral kDefaultChip = "sm_90";

/// The fewest iteration points of a CPU task (fftconv-to-cpu{threads}):
/// below them a task costs more to dispatch on the async runtime (its
/// workers' wake-up, tens of microseconds here) than it saves.
/// butterfly-to-vector's row tasks and fftconv-parallelize-rows' use it.
inline constexpr int64_t kCPUMinPointsPerTask = 65536;

/// A sharded convolution's chunks: at least this many, so that each
/// chunk's exchanges overlap the next chunks' kernels (butterfly-to-gpu's
/// pipelined order), through at least this many sets of workspaces (two
/// buffers each: the outer kernels' and the inner kernel's rows), which
/// size the chunks; and kShardedMaxPipelineSets sets where memory does
/// not bound them (ShardedChunking::memoryBound). A set more lets the outer
/// forward passes and their exchanges run a chunk further ahead of the inner
/// passes: the first inner pass waits for K's exchange, and with three sets the
/// fourth chunk's outer pass waited for the first chunk's outer inverse.
inline constexpr int64_t kShardedPipelineChunks = 4;
inline constexpr int64_t kShardedPipelineDepth = 3;
inline constexpr int64_t kShardedMaxPipelineSets = 4;
/// A chunk's buffer holds at least this many bytes where one GPU's
/// workspace would allow no more (or one (pair, channel)): shorter
/// all-to-alls lose bandwidth (4 H200s, bench/results/distributed-*: 150-190
/// GB/s a rank at buffers of 32 MiB, 220-240 at 64 MiB, 250-270 at 128 MiB).
inline constexpr int64_t kShardedMinChunkBytes = int64_t(128) << 20;

/// How a sharded convolution's sequences run through its workspace sets:
/// chunks of `pairs` pairs of the channels' `channelSplit`-th part. Where
/// one GPU's workspace bounds the sets (`memoryBound`: memory is what
/// limits the length), K's exchange is in place too, so that one buffer
/// holds K; elsewhere it keeps a second buffer, as the in-place exchange
/// is slower (fftconv.distributed.exchange_in_place: 2.03 ms against 1.52
/// for 512 MiB a rank on 4 H200s, bench/results/exchange-2026-11-27-*).
struct ShardedChunking {
  int64_t pairs = 1;
  int64_t channelSplit = 1; // a power of two dividing the channels
  bool memoryBound = false;
  /// The workspace sets: kShardedPipelineDepth where memory bounds them,
  /// else kShardedMaxPipelineSets (`sets` caps them at the chunks).
  int64_t maxSets = kShardedPipelineDepth;

  /// The chunks of `allPairs` pairs, and the (pair, channel) sequences of
  /// one, of `channels` channels.
  int64_t chunks(int64_t allPairs) const {
    return (allPairs + pairs - 1) / pairs * channelSplit;
  }
  int64_t sequences(int64_t channels) const {
    return pairs * channels / channelSplit;
  }
  /// The workspace sets the chunks of `allPairs` pairs rotate through.
  int64_t sets(int64_t allPairs) const {
    return std::min(maxSets, chunks(allPairs));
  }
};

/// The chunks of `pairs` pairs of `channels` channels, sharded, where one
/// GPU's workspace would hold `onePairs` pairs of every channel (as many as
/// the output's bytes hold, at least one) and a rank's (pair, channel)
/// sequence takes `sequenceBytes`. The sets' buffers together hold at most
/// as many sequences, or kShardedMinChunkBytes (at least one sequence) a
/// buffer where that is more: a rank then needs no more memory at R times
/// the length than one GPU where that memory is what limits the length.
/// Whole channels where they fit, else the channels halved (while they
/// divide) until they do; at least kShardedPipelineChunks chunks where
/// the pairs and channels give them (fewer pairs a chunk first); and,
/// unless memory bounds the sets, a fourth set beyond the budget (it buys
/// the pipeline's lead, not bandwidth).
inline ShardedChunking shardedChunking(int64_t pairs, int64_t channels,
                                       int64_t onePairs,
                                       int64_t sequenceBytes) {
  int64_t buffers = 2 * kShardedPipelineDepth;
  int64_t fewest = std::max<int64_t>(1, kShardedMinChunkBytes / sequenceBytes);
  int64_t budget = std::max(onePairs * channels, buffers * fewest);
  ShardedChunking chunking;
  chunking.memoryBound = onePairs * channels >= buffers * fewest;
  chunking.pairs = std::clamp<int64_t>(budget / (buffers * channels), 1, pairs);
  auto canSplit = [&] { return channels % (2 * chunking.channelSplit) == 0; };
  while (canSplit() &&
         buffers * chunking.pairs * (channels / chunking.channelSplit) > budget)
    chunking.channelSplit *= 2;
  while (chunking.chunks(pairs) < kShardedPipelineChunks &&
         (chunking.pairs > 1 || canSplit()))
    if (chunking.pairs > 1)
      chunking.pairs = (chunking.pairs + 1) / 2;
    else
      chunking.channelSplit *= 2;
  // Where memory limits the length, it is not spent on a set more.
  if (!chunking.memoryBound)
    chunking.maxSets = kShardedMaxPipelineSets;
  return chunking;
}

/// The least and most registers a kernel's thread is given
/// (TargetDescription::registerBudget). Below 64 the stages' fragments
/// spill; above 128 LLVM unrolls the loop over a block's sequences and
/// interleaves them (248 registers, one block of 128 threads an SM, at
/// N = 1024).
constexpr int64_t kMinRegisterBudget = 64;
constexpr int64_t kMaxRegisterBudget = 128;

/// What the cost model knows of the GPU: the MMA tile, the on-chip budget
/// and the throughputs that turn work into time (per SM and clock).
struct TargetDescription {
  std::string chip = kDefaultChip.str();
  int64_t mmaM = 16, mmaN = 8, mmaK = 16;
  /// Dynamic shared memory one thread block may use, in bytes.
  int64_t sharedMemoryPerBlock = 232448;
  int64_t registersPerThread = 255;
  /// Dense f16/bf16 tensor-core FLOPs per clock per SM with mma.sync.
  double tensorFlopsPerCycle = 2048;
  /// Shared-memory bytes per clock per SM.
  double sharedBytesPerCycle = 128;
  /// HBM bytes per clock per SM (bandwidth / SMs / clock).
  double memoryBytesPerCycle = 14;
  /// The three-pass form's throughput on one GPU, in points x stages per
  /// second (a transform of N points has log2 N stages), measured with f16
  /// data at Split precision (its inner kernels at Split in blocks of 512
  /// threads, its outer kernels at Half: 1.83e12 at 2^24 points causal,
  /// B x H = 8 x 2, 3.97 ms on one H200,
  /// bench/results/three-pass-inner-threads-2026-11-28-h200x2.md; 1.64e12
  /// with inner blocks of 256, 1.2e12 before the outer kernels ran at Half)
  /// and at Half (what it takes past 2^26 points: 1.64e12 at L = 2^26
  /// causal, B x H = 2 x 2, 13.23 ms on one H200 with inner blocks of 512
  /// threads, 15.48 with 256); what one
  /// GPU's all-to-all sends a second to the others of its host (NVLink)
  /// alone (2.2e11 to 2.6e11 on 2 and 4 H200s), and the share of that rate
  /// it keeps while the kernels run beside it (0.61, fitted to the default
  /// transport's call at 2^24 on 2 H200s: the producers' stores into mapped
  /// peer memory, 2.17 ms against 2.04 of kernels alone, their f32 rows in
  /// whole sectors, bench/results/distributed-2026-11-28-whole-sectors.md;
  /// 0.50 with half-filled ones, 2.63 ms against 2.33; NCCL's blocks and
  /// traffic beside ours kept 0.26): the sharding model's inputs.
  double threePassPointStagesPerSecond = 1.83e12;
  double threePassHalfPointStagesPerSecond = 1.64e12;
  double exchangeBytesPerSecond = 2.4e11;
  double exchangeBesideKernelsShare = 0.61;
  /// Device memory, in bytes.
  int64_t deviceMemoryBytes = int64_t(80) << 30;
  /// Whether a warp stores 8x8 tiles of 16-bit values into shared memory
  /// with one instruction (stmatrix: sm_90 and later).
  bool matrixStores = true;
  /// Whether thread blocks run in clusters that read each other's shared
  /// memory (distributed shared memory: sm_90 and later).
  bool clusters = true;
  /// What one SM holds of its resident blocks: shared memory (each block's
  /// dynamic shared memory and the 1 KiB the driver reserves a block),
  /// 32-bit registers, threads and blocks.
  int64_t multiprocessors = 132;
  int64_t sharedMemoryPerSM = 228 * 1024;
  int64_t registersPerSM = 65536;
  int64_t threadsPerSM = 2048;
  int64_t blocksPerSM = 32;

  /// The registers a thread of a kernel of `threads` threads a block and
  /// `sharedBytes` of shared memory, launched on `gridBlocks` blocks, may
  /// take without making registers what limits the blocks an SM (shared
  /// memory, threads and the grid do), in steps of 8, between
  /// kMinRegisterBudget and kMaxRegisterBudget.
  int64_t registerBudget(int64_t threads, int64_t sharedBytes,
                         int64_t gridBlocks) const;
  /// The blocks of `sharedBytes` of shared memory one SM holds.
  int64_t blocksBySharedMemory(int64_t sharedBytes) const;

  /// Defaults for sm_80 (A100), sm_90 (H100/H200) and "cpu" (the
  /// vectorized codelets of butterfly-to-vector); nullopt otherwise.
  static std::optional<TargetDescription> forChip(llvm::StringRef chip);

  /// Whether this is a GPU (the kernels' chips) rather than the CPU.
  bool isGPU() const { return chip != kCPUChip; }

  /// The CPU's name among the chips.
  static constexpr llvm::StringLiteral kCPUChip = "cpu";
};

/// The factorization chosen for one complex DFT of length `length`, and
/// what it costs per sequence (forward and inverse transform together).
struct Factorization {
  int64_t length = 0;
  /// Factors of the transform that runs on chip (the inner transform).
  llvm::SmallVector<int64_t> factors;
  /// Factors of the passes through memory; empty when everything fuses.
  llvm::SmallVector<int64_t> outerFactors;
  /// Tensor-core FLOPs, MMA padding included.
  double tensorFlops = 0;
  /// Non-tensor FLOPs: the twiddle products.
  double twiddleFlops = 0;
  /// HBM bytes for a plain causal convolution with L = length (N = 2L
  /// real samples), including the three-pass form's extra round trips.
  int64_t bytesMoved = 0;
  /// On-chip bytes one sequence needs in the fused kernel: its data, its
  /// channel's coefficients and the DFT factors.
  int64_t onchipBytes = 0;
  /// On-chip bytes of one column of an outer pass (its values across the
  /// outer factors, and those factors); 0 without outer passes.
  int64_t outerOnchipBytes = 0;
  /// Estimated cycles on one SM: the larger of `computeCycles` and the
  /// memory traffic's cycles.
  double cost = 0;
  /// Cycles of tensor-core work, twiddles and shared-memory traffic; it
  /// breaks ties between memory-bound choices.
  double computeCycles = 0;

  /// All factors, outer first.
  llvm::SmallVector<int64_t> allFactors() const;
  void print(llvm::raw_ostream &os) const;
};

/// A sharded three-pass convolution over `ranks` GPUs of one host, per
/// rank (ShardingModel.cpp): the kernels' time (one GPU's over the
/// ranks), the exchanges' alone (their bytes over
/// `exchangeBytesPerSecond`), the whole call (the chunks pipelined: the
/// kernels, with the exchanges at their share of that rate beside them,
/// and what is left of the exchanges at the full rate), and the memory a
/// rank needs.
struct ShardingEstimate {
  int64_t ranks = 1;
  double kernelSeconds = 0;
  double exchangeSeconds = 0;
  double seconds = 0;
  int64_t memoryBytes = 0;
  bool fits = true;
};

/// The shapes the sharding model reads: `sequences` of `fftSize` points
/// (the pairs' complex sequences: half the batch, times the channels) and
/// the channels (K's sequences), the pairs one GPU's workspace holds, bytes
/// of a workspace's complex value, and of the data a rank reads and writes
/// unsharded.
struct ShardedShape {
  int64_t fftSize = 0;
  int64_t sequences = 0;
  int64_t channels = 0;
  int64_t onePairs = 1;
  int64_t workspaceValueBytes = 4;
  int64_t dataBytes = 0;   // u, y and k
  int64_t outputBytes = 0; // y
};

/// The shape of a causal convolution of FFT size `fftSize` over `batch` x
/// `channels` f16 sequences (L = N / 2), its pairs one a chunk, as the
/// three-pass form runs it.
ShardedShape causalShardedShape(int64_t fftSize, int64_t batch,
                                int64_t channels);

ShardingEstimate estimateSharding(const ShardedShape &shape,
                                  const TargetDescription &target,
                                  int64_t ranks);

/// The ranks (a power of two up to `available`) the model finds fastest
/// among those whose shards fit in device memory; 0 when none fits.
int64_t chooseRanks(const ShardedShape &shape, const TargetDescription &target,
                    int64_t available);

/// The sharding model's table: per FFT size 2^minLog2 ... 2^maxLog2 and
/// ranks 1, 2, ... `maxRanks`, the estimates for a batch of `batch` and
/// `channels` f16 sequences, and the ranks chosen.
void printShardingTable(llvm::raw_ostream &os, const TargetDescription &target,
                        int64_t batch, int64_t channels, int minLog2,
                        int maxLog2, int64_t maxRanks);

/// Chooses the factorization of a complex DFT of `length` points whose
/// values take `complexBytes` bytes each. With `order`, exactly that many
/// factors (outer ones included); otherwise the cheapest of orders 1 to 4
/// (on the CPU, of any order, with factors the codelets run where it can).
/// Returns nullopt when no factorization has that order.
std::optional<Factorization>
chooseFactorization(int64_t length, int64_t complexBytes,
                    const TargetDescription &target,
                    std::optional<int64_t> order = std::nullopt);

/// The markdown table of the choices for real convolutions of FFT size
/// N = 2^minLog2 ... 2^maxLog2 (complex length N/2), of the given order or
/// the cheapest; "none" where no factorization of that order fits.
void printCostTable(llvm::raw_ostream &os, const TargetDescription &target,
                    int64_t complexBytes, int minLog2, int maxLog2,
                    std::optional<int64_t> order = std::nullopt);

} // namespace butterfly
} // namespace mlir

#endif // FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_COSTMODEL_H
