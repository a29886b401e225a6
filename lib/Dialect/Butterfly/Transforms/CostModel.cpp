//===- CostModel.cpp - choosing the order-p Monarch factorization -*- C++ -*-=//
//
// Work of a stage of size n over L points: L*n complex multiply-adds, run
// as real MMAs (4 real products per complex one, 2 FLOPs each) with n padded
// to the MMA's k extent. Between stages the data goes through shared memory
// once (read and write) and takes a twiddle product (6 FLOPs a point, off
// the tensor cores). A sequence fits on chip when its values, its channel's
// two coefficient rows and the DFT factors fit in one block's shared memory;
// otherwise the leading factors become passes through memory, each a read
// and a write of the whole sequence, and the inner kernel handles a pair of
// blocks (the real-input trick pairs frequency k with -k, which lie in
// mirrored blocks).
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/Butterfly/Transforms/CostModel.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

using namespace mlir;
using namespace mlir::butterfly;

std::optional<TargetDescription>
TargetDescription::forChip(llvm::StringRef chip) {
  TargetDescription target;
  target.chip = chip.str();
  if (chip == "sm_90" || chip == "sm_90a") {
    // H100: 227 KiB per block; ~3.35 TB/s over 132 SMs at 1.83 GHz.
    target.sharedMemoryPerBlock = 227 * 1024;
    target.memoryBytesPerCycle = 14;
    return target;
  }
  if (chip == kCPUChip) {
    // Everything is "on chip": a row goes through all stages in cache.
    target.sharedMemoryPerBlock = std::numeric_limits<int64_t>::max() / 4;
    return target;
  }
  if (chip == "sm_80") {
    // A100: 163 KiB per block; ~2.0 TB/s over 108 SMs at 1.41 GHz.
    target.sharedMemoryPerBlock = 163 * 1024;
    target.sharedMemoryPerSM = 164 * 1024;
    target.multiprocessors = 108;
    target.tensorFlopsPerCycle = 2048;
    target.memoryBytesPerCycle = 13;
    target.matrixStores = false;
    target.clusters = false;
    return target;
  }
  return std::nullopt;
}

int64_t TargetDescription::blocksBySharedMemory(int64_t sharedBytes) const {
  constexpr int64_t kReservedSharedPerBlock = 1024;
  return sharedMemoryPerSM / (sharedBytes + kReservedSharedPerBlock);
}

int64_t TargetDescription::registerBudget(int64_t threads, int64_t sharedBytes,
                                          int64_t gridBlocks) const {
  // A grid of a few blocks an SM gains nothing from room for more.
  int64_t blocks =
      std::min({blocksPerSM, threadsPerSM / threads,
                int64_t(llvm::divideCeil(gridBlocks, multiprocessors))});
  blocks = std::min(blocks, blocksBySharedMemory(sharedBytes));
  int64_t registers = registersPerSM / (threads * std::max<int64_t>(blocks, 1));
  return std::clamp<int64_t>(registers / 8 * 8, kMinRegisterBudget,
                             kMaxRegisterBudget);
}

llvm::SmallVector<int64_t> Factorization::allFactors() const {
  llvm::SmallVector<int64_t> all(outerFactors);
  all.append(factors.begin(), factors.end());
  return all;
}

void Factorization::print(llvm::raw_ostream &os) const {
  os << "length " << length << ": ";
  llvm::interleave(outerFactors, os, "x");
  if (!outerFactors.empty())
    os << " | ";
  llvm::interleave(factors, os, "x");
}

/// Ordered factorizations of `n` into `count` factors >= 2, non-increasing.
static void enumerateFactorizations(
    int64_t n, int64_t count, int64_t maxFactor,
    llvm::SmallVectorImpl<int64_t> &prefix,
    const std::function<void(llvm::ArrayRef<int64_t>)> &fn) {
  if (count == 1) {
    if (n >= 2 && n <= maxFactor) {
      prefix.push_back(n);
      fn(prefix);
      prefix.pop_back();
    }
    return;
  }
  for (int64_t f = std::min(n, maxFactor); f >= 2; --f) {
    if (n % f != 0)
      continue;
    prefix.push_back(f);
    enumerateFactorizations(n / f, count - 1, f, prefix, fn);
    prefix.pop_back();
  }
}

static int64_t roundUp(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

/// Costs `factors` (outer ones first, `numOuter` of them) for a transform
/// of `length` points; nullopt if the inner part does not fit on chip.
static std::optional<Factorization>
evaluate(int64_t length, llvm::ArrayRef<int64_t> factors, int64_t numOuter,
         int64_t complexBytes, const TargetDescription &target) {
  Factorization f;
  f.length = length;
  f.outerFactors.assign(factors.begin(), factors.begin() + numOuter);
  f.factors.assign(factors.begin() + numOuter, factors.end());
  if (f.factors.empty())
    return std::nullopt;
  int64_t inner = 1;
  for (int64_t factor : f.factors)
    inner *= factor;
  // The inner kernel holds a pair of blocks when there are outer passes.
  int64_t resident = numOuter ? 2 * inner : inner;
  llvm::SmallVector<int64_t> distinct(f.factors);
  llvm::sort(distinct);
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  int64_t factorBytes = 0;
  for (int64_t factor : distinct)
    factorBytes += factor * factor * complexBytes;
  // Data plus the channel's two coefficient rows.
  f.onchipBytes = 3 * resident * complexBytes + factorBytes;
  if (f.onchipBytes > target.sharedMemoryPerBlock)
    return std::nullopt;
  if (numOuter) {
    int64_t outer = 1;
    for (int64_t factor : f.outerFactors) {
      outer *= factor;
      f.outerOnchipBytes += factor * factor * complexBytes;
    }
    f.outerOnchipBytes += outer * complexBytes;
  }

  double stages = factors.size();
  // Forward and inverse.
  for (int64_t factor : factors)
    f.tensorFlops +=
        2.0 * 8.0 * double(length) * double(roundUp(factor, target.mmaK));
  f.twiddleFlops = 2.0 * 6.0 * double(length) * (stages - 1);
  double sharedBytes = 2.0 * 2.0 * double(length) * complexBytes * stages;
  // Plain causal convolution: N = 2 * length real samples, L = length of
  // them read and written at 2 bytes; each outer pass adds a round trip of
  // the complex sequence in each direction.
  f.bytesMoved = 2 * length * 2 + numOuter * 4 * length * complexBytes;
  f.computeCycles = f.tensorFlops / target.tensorFlopsPerCycle +
                    f.twiddleFlops / 64.0 +
                    sharedBytes / target.sharedBytesPerCycle;
  double memory = double(f.bytesMoved) / target.memoryBytesPerCycle;
  f.cost = std::max(f.computeCycles, memory);
  return f;
}

/// The CPU's choice: butterfly-to-vector's codelets cost about the same
/// per point for every factor up to 32 (O(log f) each), so what counts is
/// the number of stages, each a pass over the row. Measured on 16 rows
/// (64K points: 32x32x8x8 7.0 ms, 16x16x16x16 10.3 ms; 4K: 32x16x8 0.19
/// ms, 16x16x16 0.28 ms), the last stage, whose lanes run along the
/// blocks through a transpose in registers, is cheapest with 8 values a
/// block. So: the fewest stages of factors up to 32, then the last factor
/// nearest 8, then the larger factors first. Lengths that are not a
/// product of such factors take the GPU's dense factors (up to 256).
static std::optional<Factorization>
chooseCPUFactorization(int64_t length, std::optional<int64_t> order) {
  constexpr int64_t kMaxCodelet = 32, kBestLast = 8;
  std::optional<Factorization> best;
  std::tuple<size_t, double> bestKey;
  int64_t minOrder = order ? *order : 1, maxOrder = order ? *order : 8;
  for (int64_t maxFactor : {kMaxCodelet, int64_t(256)}) {
    for (int64_t p = minOrder; p <= maxOrder && !best; ++p) {
      llvm::SmallVector<int64_t> prefix;
      enumerateFactorizations(
          length, p, maxFactor, prefix, [&](llvm::ArrayRef<int64_t> factors) {
            int64_t last = factors.back();
            auto key = std::make_tuple(
                factors.size(),
                std::abs(std::log2(double(last) / double(kBestLast))));
            // Enumerated larger-first: the first of equal keys stays.
            if (best && !(key < bestKey))
              return;
            Factorization f;
            f.length = length;
            f.factors.assign(factors.begin(), factors.end());
            f.twiddleFlops = 2.0 * 6.0 * double(length) * double(p - 1);
            f.bytesMoved = 2 * length * 2;
            f.cost = double(p);
            best = f;
            bestKey = key;
          });
    }
    if (best)
      break;
  }
  return best;
}

std::optional<Factorization>
mlir::butterfly::chooseFactorization(int64_t length, int64_t complexBytes,
                                     const TargetDescription &target,
                                     std::optional<int64_t> order) {
  if (!target.isGPU())
    return chooseCPUFactorization(length, order);
  std::optional<Factorization> best;
  auto consider = [&](std::optional<Factorization> candidate) {
    if (!candidate)
      return;
    // Cheaper wins; at equal cost (memory-bound) less compute, then fewer
    // passes through memory, then fewer stages, then the earlier
    // (larger-first) factorization.
    auto key = [](const Factorization &f) {
      return std::make_tuple(f.cost, f.computeCycles, f.outerFactors.size(),
                             f.factors.size() + f.outerFactors.size());
    };
    if (!best || key(*candidate) < key(*best))
      best = candidate;
  };
  int64_t minOrder = order ? *order : 1, maxOrder = order ? *order : 4;
  for (int64_t p = minOrder; p <= maxOrder; ++p) {
    llvm::SmallVector<int64_t> prefix;
    // Factors above 256 are never worth a dense matrix.
    enumerateFactorizations(
        length, p, 256, prefix, [&](llvm::ArrayRef<int64_t> factors) {
          // Fully fused first; otherwise the fewest outer passes that fit.
          for (int64_t numOuter = 0; numOuter < int64_t(factors.size());
               ++numOuter) {
            if (auto f =
                    evaluate(length, factors, numOuter, complexBytes, target)) {
              consider(f);
              break;
            }
          }
        });
  }
  return best;
}

void mlir::butterfly::printCostTable(llvm::raw_ostream &os,
                                     const TargetDescription &target,
                                     int64_t complexBytes, int minLog2,
                                     int maxLog2,
                                     std::optional<int64_t> order) {
  os << "| FFT size N | complex length M | outer passes | fused factors | "
        "order | tensor FLOPs / seq | HBM bytes / seq | on-chip bytes / seq "
        "|\n|---|---|---|---|---|---|---|---|\n";
  for (int log2 = minLog2; log2 <= maxLog2; ++log2) {
    int64_t n = int64_t(1) << log2;
    std::optional<Factorization> f =
        chooseFactorization(n / 2, complexBytes, target, order);
    os << "| " << n << " | " << n / 2 << " | ";
    if (!f) {
      os << "none | | | | | |\n";
      continue;
    }
    if (f->outerFactors.empty())
      os << "-";
    else
      llvm::interleave(f->outerFactors, os, "x");
    os << " | ";
    llvm::interleave(f->factors, os, "x");
    os << " | " << f->allFactors().size() << " | "
       << llvm::format("%.3g", f->tensorFlops) << " | " << f->bytesMoved
       << " | " << f->onchipBytes << " |\n";
  }
}
