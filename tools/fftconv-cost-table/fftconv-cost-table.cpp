//===- fftconv-cost-table.cpp - print the cost model's choices --*- C++ -*-===//
//
// Prints, as a markdown table, the factorization the cost model chooses for
// real convolutions of FFT size N = 2^min ... 2^max on a target.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/Butterfly/Transforms/CostModel.h"
#include "fftconv/Tools/CommandLine.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::OptionCategory category("fftconv-cost-table options");

static cl::opt<std::string> chip("chip", cl::desc("sm_80, sm_90 or cpu"),
                                 cl::init(mlir::butterfly::kDefaultChip.str()),
                                 cl::cat(category));
static cl::opt<int> minLog2("min-log2", cl::desc("smallest log2 N"),
                            cl::init(4), cl::cat(category));
static cl::opt<int> maxLog2("max-log2", cl::desc("largest log2 N"),
                            cl::init(22), cl::cat(category));
static cl::opt<int> order("order",
                          cl::desc("force this order (0: auto, the default)"),
                          cl::init(0), cl::cat(category));
static cl::opt<int> complexBytes(
    "complex-bytes",
    cl::desc("bytes of one complex value on chip (4: f16/bf16, 8: f32)"),
    cl::init(4), cl::cat(category));

static cl::opt<int>
    ranks("ranks",
          cl::desc("print the sharding model instead: one to this many GPUs "
                   "(a power of two), per FFT size of the range"),
          cl::init(0), cl::cat(category));
static cl::opt<int> batch("batch", cl::desc("the sharding table's batch"),
                          cl::init(8), cl::cat(category));
static cl::opt<double> exchangeGBps(
    "exchange-gbps",
    cl::desc("the sharding table's all-to-all bandwidth a GPU, GB/s (0: "
             "the chip's measured one)"),
    cl::init(0), cl::cat(category));
static cl::opt<int> channels("channels",
                             cl::desc("the sharding table's channels"),
                             cl::init(2), cl::cat(category));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  mlir::fftconv::setUpToolCommandLine(&category);
  cl::ParseCommandLineOptions(argc, argv, "fftconv cost model table\n");
  auto target = mlir::butterfly::TargetDescription::forChip(chip);
  if (!target) {
    errs() << "error: unknown chip '" << chip << "' (sm_80, sm_90 or cpu)\n";
    return 1;
  }
  if (minLog2 < 1 || maxLog2 > 40 || minLog2 > maxLog2) {
    errs() << "error: need 1 <= min-log2 <= max-log2 <= 40\n";
    return 1;
  }
  if (order < 0 || order > 4) {
    errs() << "error: order must be 0 (auto) to 4\n";
    return 1;
  }
  if (ranks != 0) {
    if (ranks < 1 || !llvm::isPowerOf2_32(ranks) || batch < 1 || channels < 1 ||
        !target->isGPU()) {
      errs() << "error: the sharding table needs a GPU chip, ranks a power "
                "of two and a positive batch and channels\n";
      return 1;
    }
    if (exchangeGBps > 0)
      target->exchangeBytesPerSecond = exchangeGBps * 1e9;
    mlir::butterfly::printShardingTable(outs(), *target, batch, channels,
                                        minLog2, maxLog2, ranks);
    return 0;
  }
  std::optional<int64_t> forced;
  if (order > 0)
    forced = order;
  mlir::butterfly::printCostTable(outs(), *target, complexBytes, minLog2,
                                  maxLog2, forced);
  return 0;
}
