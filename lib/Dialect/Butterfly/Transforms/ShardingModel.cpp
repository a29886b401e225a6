//===- ShardingModel.cpp - when a convolution should span GPUs --*- C++ -*-===//
//
// The sharding model of the cost model (CostModel.h): what a three-pass
// convolution costs per rank when its sequence is sharded over R GPUs of one
// host. The kernels split evenly (each rank transforms its columns, then its
// rows, of every sequence), so they take one GPU's time over R; one GPU's
// time is the transforms' points x stages over the throughput measured on
// an H200 (CostModel.h). The exchanges send, per rank, (R - 1) / R of its
// share of K's rows (f32) and, twice, of the pairs' (the workspace's type).
// butterfly-to-gpu pipelines the chunks of pairs, so the exchanges run
// beside the kernels, but there at a share of the all-to-all's rate alone
// (TargetDescription::exchangeBesideKernelsShare): the call is the
// kernels' time, plus the bytes the exchanges have not sent by then at the
// full rate. Against the 2 and 4 x H200 runs
// (bench/results/distributed-2026-11-28-whole-sectors.md), B x H = 8 x 2:
// within 4% of one GPU's time at 2^23 to 2^25 points; of the sharded calls
// within 4% on 2 GPUs, and on 4 from 8% under at 2^23 to 11% over at 2^24
// (6% at 2^25).
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/Butterfly/Transforms/CostModel.h"
#include "fftconv/Dialect/Butterfly/Transforms/GPUPlan.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir::butterfly;

ShardedShape mlir::butterfly::causalShardedShape(int64_t fftSize, int64_t batch,
                                                 int64_t channels) {
  ShardedShape shape;
  shape.fftSize = fftSize;
  shape.sequences = (batch + 1) / 2 * channels;
  shape.channels = channels;
  int64_t pairs = (batch + 1) / 2;
  shape.workspaceValueBytes = 4;
  // f16 u and y (L = N / 2), f32 k.
  shape.dataBytes = fftSize / 2 * (2 * 2 * batch + 4) * channels;
  shape.outputBytes = fftSize / 2 * 2 * batch * channels;
  // As the plan counts them (chunkPairsOf).
  shape.onePairs = std::clamp<int64_t>(
      shape.outputBytes / (channels * fftSize * shape.workspaceValueBytes), 1,
      pairs);
  return shape;
}

ShardingEstimate mlir::butterfly::estimateSharding(
    const ShardedShape &shape, const TargetDescription &target, int64_t ranks) {
  ShardingEstimate estimate;
  estimate.ranks = ranks;
  // The chunks and the (pair, channel) sequences of each, as the plan
  // chunks them sharded (shardPlan); one GPU's workspace holds whole pairs
  // of every channel.
  int64_t perRank = shape.fftSize / ranks;
  int64_t pairs = shape.sequences / shape.channels;
  ShardedChunking chunking =
      shardedChunking(pairs, shape.channels, shape.onePairs,
                      perRank * shape.workspaceValueBytes);
  double stages = llvm::Log2_64(shape.fftSize);
  // The pairs' forward and inverse transforms, K's forward one.
  double pointStages =
      double(shape.fftSize) * stages * (2.0 * shape.sequences + shape.channels);
  // At the precision the plan takes: Half past 2^26 points (Split's rows,
  // its outer passes at Half past 2^25, at Split's rate).
  double throughput =
      defaultThreePassPrecision(shape.fftSize) == GPUPrecision::Half
          ? target.threePassHalfPointStagesPerSecond
          : target.threePassPointStagesPerSecond;
  estimate.kernelSeconds = pointStages / throughput / ranks;
  // A rank's share of each buffer, of which (R - 1) / R goes to the others.
  double share = double(shape.fftSize) / ranks * (ranks - 1) / ranks;
  double spectrumBytes = share * shape.channels * 8;
  double pairBytes = 2 * share * shape.sequences * shape.workspaceValueBytes;
  double exchangeBytes = spectrumBytes + pairBytes;
  estimate.exchangeSeconds = exchangeBytes / target.exchangeBytesPerSecond;
  double sentBeside = target.exchangeBesideKernelsShare *
                      target.exchangeBytesPerSecond * estimate.kernelSeconds;
  estimate.seconds =
      estimate.kernelSeconds +
      std::max(0.0, exchangeBytes - sentBeside) / target.exchangeBytesPerSecond;
  // The rank's data, K's buffers (sharded, two unless its exchange is in
  // place) and the workspace sets the chunks rotate through (two buffers
  // each); on one GPU a workspace of whole pairs of every channel, as many
  // as the output's bytes hold.
  int64_t chunkSequences = chunking.sequences(shape.channels);
  int64_t sets = chunking.sets(pairs);
  int64_t buffers = 2;
  int64_t spectra = chunking.memoryBound ? 1 : 2;
  if (ranks == 1) {
    chunkSequences = shape.onePairs * shape.channels;
    sets = buffers = spectra = 1;
  }
  estimate.memoryBytes =
      shape.dataBytes / ranks + spectra * perRank * shape.channels * 8 +
      sets * buffers * perRank * chunkSequences * shape.workspaceValueBytes;
  estimate.fits = estimate.memoryBytes <= target.deviceMemoryBytes;
  return estimate;
}

int64_t mlir::butterfly::chooseRanks(const ShardedShape &shape,
                                     const TargetDescription &target,
                                     int64_t available) {
  int64_t best = 0;
  double bestSeconds = 0;
  for (int64_t ranks = 1; ranks <= available; ranks *= 2) {
    ShardingEstimate estimate = estimateSharding(shape, target, ranks);
    if (estimate.fits && (!best || estimate.seconds < bestSeconds)) {
      best = ranks;
      bestSeconds = estimate.seconds;
    }
  }
  return best;
}

void mlir::butterfly::printShardingTable(llvm::raw_ostream &os,
                                         const TargetDescription &target,
                                         int64_t batch, int64_t channels,
                                         int minLog2, int maxLog2,
                                         int64_t maxRanks) {
  os << "| FFT size N | B x H | GPUs | kernels ms | exchanges ms | call ms | "
        "speedup | GiB a GPU | chosen |\n";
  os << "|---|---|---|---|---|---|---|---|---|\n";
  for (int log2 = minLog2; log2 <= maxLog2; ++log2) {
    ShardedShape shape =
        causalShardedShape(int64_t(1) << log2, batch, channels);
    int64_t chosen = chooseRanks(shape, target, maxRanks);
    double one = estimateSharding(shape, target, 1).seconds;
    for (int64_t ranks = 1; ranks <= maxRanks; ranks *= 2) {
      ShardingEstimate e = estimateSharding(shape, target, ranks);
      os << "| " << shape.fftSize << " | " << batch << "x" << channels << " | "
         << ranks << " | " << llvm::format("%.2f", e.kernelSeconds * 1e3)
         << " | " << llvm::format("%.2f", e.exchangeSeconds * 1e3) << " | "
         << llvm::format("%.2f", e.seconds * 1e3) << " | "
         << llvm::format("%.2f", one / e.seconds) << " | "
         << llvm::format("%.1f", e.memoryBytes / double(int64_t(1) << 30))
         << (e.fits ? "" : " (does not fit)") << " | "
         << (ranks == chosen ? "yes" : "") << " |\n";
    }
  }
}
