//===- Pipelines.cpp - fftconv pass pipelines -------------------*- C++ -*-===//

#include "fftconv/Pipelines/Pipelines.h"

#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

// Both dialects to linalg on tensors; bufferize with identity layouts at
// function boundaries so that callers (mlir-runner's C interface) see plain
// memrefs; free what bufferization allocated; loops; LLVM. Complex
// arithmetic goes through arith first (convert-complex-to-standard) so that
// only complex.create/re/im reach the LLVM conversion.
static constexpr llvm::StringLiteral kCPUPipelineHead =
    "fftconv-to-linalg,butterfly-to-linalg,canonicalize,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map}";
static constexpr llvm::StringLiteral kCPUPipelineTail =
    "convert-bufferization-to-memref,"
    "func.func(convert-linalg-to-loops),convert-scf-to-cf,"
    "expand-strided-metadata,lower-affine,convert-complex-to-standard,"
    "arith-expand,convert-math-to-llvm,convert-math-to-libm,"
    "convert-complex-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,"
    "finalize-memref-to-llvm,convert-func-to-llvm,convert-cf-to-llvm,"
    "reconcile-unrealized-casts";

std::string mlir::fftconv::getCPUPipelineText() {
  return (kCPUPipelineHead + ",buffer-deallocation-pipeline," +
          kCPUPipelineTail)
      .str();
}

/// Appends the passes of `text`; the text is a constant of this file and
/// registerAllPasses() registers every pass it names, so a failure is a bug.
static void appendPipeline(OpPassManager &pm, llvm::StringRef text,
                           llvm::StringRef name) {
  std::string error;
  llvm::raw_string_ostream errorStream(error);
  if (failed(parsePassPipeline(text, pm, errorStream)))
    llvm::report_fatal_error(llvm::Twine(name) + ": " + error);
}

void mlir::fftconv::buildCPUPipeline(OpPassManager &pm) {
  appendPipeline(pm, kCPUPipelineHead, "fftconv-to-cpu");
  // Built directly rather than by name: a host tool may or may not have
  // registered upstream pipelines, and registering one twice is fatal.
  bufferization::buildBufferDeallocationPipeline(pm);
  appendPipeline(pm, kCPUPipelineTail, "fftconv-to-cpu");
}

namespace mlir::fftconv {
struct ButterflyPipelineOptions
    : public PassPipelineOptions<ButterflyPipelineOptions> {
  Option<std::string> order{*this, "order",
                            llvm::cl::desc("auto, 1, 2, 3 or 4"),
                            llvm::cl::init("auto")};
  Option<std::string> chip{*this, "chip", llvm::cl::desc("sm_80 or sm_90"),
                           llvm::cl::init("sm_90")};
  Option<int64_t> sharedMemoryPerBlock{
      *this, "smem-per-block",
      llvm::cl::desc("shared memory per block in bytes (0: the chip's)"),
      llvm::cl::init(0)};
};

struct PTXPipelineOptions : public PassPipelineOptions<PTXPipelineOptions> {
  Option<std::string> order{*this, "order",
                            llvm::cl::desc("auto, 1, 2, 3 or 4"),
                            llvm::cl::init("auto")};
  Option<std::string> chip{*this, "chip", llvm::cl::desc("sm_80 or sm_90"),
                           llvm::cl::init("sm_90")};
  Option<int64_t> threads{
      *this, "threads",
      llvm::cl::desc("threads per block (0: chosen from the length)"),
      llvm::cl::init(0)};
  Option<int64_t> batchTile{
      *this, "batch-tile",
      llvm::cl::desc("sequences per block (0: chosen from shared memory)"),
      llvm::cl::init(0)};
  Option<int64_t> singleKernelMax{
      *this, "single-kernel-max",
      llvm::cl::desc("the largest FFT size run as one kernel (0: whatever "
                     "fits on chip)"),
      llvm::cl::init(butterfly::kDefaultSingleKernelMax)};
  Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc("auto, split or half (butterfly-plan-gpu-kernels' "
                     "precision)"),
      llvm::cl::init("auto")};
};
} // namespace mlir::fftconv

void mlir::fftconv::buildPTXPipeline(OpPassManager &pm, llvm::StringRef order,
                                     const ButterflyToGPUOptions &gpu) {
  buildButterflyPipeline(pm, order, gpu.chip, /*sharedMemoryPerBlock=*/0);
  // The plan first, then the kernels it describes. The host function keeps
  // its gpu.launch_func ops (the manifest is read off them); only the
  // kernels go down to NVVM and PTX.
  std::string text =
      ("butterfly-plan-gpu-kernels{chip=" + gpu.chip + " threads=" +
       llvm::Twine(gpu.threads) + " batch-tile=" + llvm::Twine(gpu.batchTile) +
       " single-kernel-max=" + llvm::Twine(gpu.singleKernelMax) +
       " precision=" + gpu.precision +
       "},butterfly-to-gpu,gpu.module(convert-nvgpu-to-nvvm,convert-vector-to-"
       "scf,"
       "convert-scf-to-cf,convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1},"
       "canonicalize,cse,reconcile-unrealized-casts),"
       "gpu-module-to-binary{format=isa}")
          .str();
  appendPipeline(pm, text, "fftconv-to-ptx");
}

void mlir::fftconv::buildButterflyPipeline(OpPassManager &pm,
                                           llvm::StringRef order,
                                           llvm::StringRef chip,
                                           int64_t sharedMemoryPerBlock) {
  std::string text =
      ("fftconv-conv-to-fft,canonicalize,fftconv-monarch-decompose{order=" +
       order + " chip=" + chip + " smem-per-block=" +
       llvm::Twine(sharedMemoryPerBlock) + "},canonicalize,butterfly-fuse-conv")
          .str();
  appendPipeline(pm, text, "fftconv-to-butterfly");
}

void mlir::fftconv::registerPipelines() {
  PassPipelineRegistration<ButterflyPipelineOptions>(
      "fftconv-to-butterfly",
      "Expand convolutions into FFT form, decompose the FFTs into order-p "
      "Monarch form and fuse each convolution into kernel regions",
      [](OpPassManager &pm, const ButterflyPipelineOptions &options) {
        buildButterflyPipeline(pm, options.order, options.chip,
                               options.sharedMemoryPerBlock);
      });
  PassPipelineRegistration<PTXPipelineOptions>(
      "fftconv-to-ptx",
      "Compile convolutions to tensor-core GPU kernels: fftconv-to-butterfly, "
      "butterfly-to-gpu, NVVM, and PTX in a gpu.binary beside a host "
      "function of gpu.launch_func ops (the launch manifest's source)",
      [](OpPassManager &pm, const PTXPipelineOptions &options) {
        ButterflyToGPUOptions gpu;
        gpu.chip = options.chip;
        gpu.threads = options.threads;
        gpu.batchTile = options.batchTile;
        gpu.singleKernelMax = options.singleKernelMax;
        gpu.precision = options.precision;
        buildPTXPipeline(pm, options.order, gpu);
      });
  PassPipelineRegistration<>(
      "fftconv-to-cpu",
      "Lower fftconv and butterfly programs to LLVM for mlir-runner "
      "(the CPU reference path)",
      [](OpPassManager &pm) { buildCPUPipeline(pm); });
}
