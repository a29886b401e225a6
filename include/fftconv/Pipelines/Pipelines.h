//===- Pipelines.h - fftconv pass pipelines ---------------------*- C++ -*-===//
//
// The project's pipelines, built from typed pass constructors with nested
// pass managers (as upstream's GPU-to-NVVM pipeline is), and their options.
// Each option's default is the default of the pass it feeds (Passes.td):
// the pipelines, fftconv-compile, the C API and Python read it from there.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_PIPELINES_PIPELINES_H
#define FFTCONV_PIPELINES_PIPELINES_H

#include "fftconv/Conversion/ButterflyToVector/ButterflyToVector.h"
#include "fftconv/Dialect/Butterfly/Transforms/Passes.h"
#include "fftconv/Dialect/FFTConv/Transforms/Passes.h"

#include "mlir/Pass/PassOptions.h"

#include <cstdint>
#include <string>

namespace mlir {
class OpPassManager;
namespace fftconv {

/// Options of `fftconv-to-butterfly`: the target of the Monarch
/// decomposition (those of fftconv-monarch-decompose).
struct ButterflyPipelineOptions
    : public PassPipelineOptions<ButterflyPipelineOptions> {
  Option<std::string> order{
      *this, "order", llvm::cl::desc("Monarch order: auto, 1, 2, 3 or 4"),
      llvm::cl::init(FFTConvMonarchDecomposeOptions().order)};
  Option<std::string> chip{
      *this, "chip", llvm::cl::desc("sm_80, sm_90 or cpu"),
      llvm::cl::init(FFTConvMonarchDecomposeOptions().chip)};
  Option<int64_t> sharedMemoryPerBlock{
      *this, "smem-per-block",
      llvm::cl::desc("shared memory per block in bytes (0: the chip's)"),
      llvm::cl::init(FFTConvMonarchDecomposeOptions().sharedMemoryPerBlock)};
  Option<int64_t> minFFTSize{
      *this, "min-fft-size",
      llvm::cl::desc("the smallest FFT size of a linear convolution, padded "
                     "to (0: none; fftconv-to-ptx asks for the GPU "
                     "kernels' smallest)"),
      llvm::cl::init(FFTConvConvToFFTOptions().minSize)};
};

/// Options of `fftconv-to-ptx`: every choice a GPU compilation takes, shared
/// by the pipeline, fftconv-compile, the C API (fftconvCompileToPTX) and
/// Python (Module.compile_to_ptx).
struct PTXPipelineOptions : public PassPipelineOptions<PTXPipelineOptions> {
  Option<std::string> order{
      *this, "order", llvm::cl::desc("Monarch order: auto, 1, 2, 3 or 4"),
      llvm::cl::init(FFTConvMonarchDecomposeOptions().order)};
  Option<std::string> chip{
      *this, "chip", llvm::cl::desc("sm_80, sm_90 or sm_90a"),
      llvm::cl::init(butterfly::ButterflyPlanGPUKernelsOptions().chip)};
  Option<int64_t> threads{
      *this, "threads",
      llvm::cl::desc("threads per block (0: chosen from the length)"),
      llvm::cl::init(butterfly::ButterflyPlanGPUKernelsOptions().threads)};
  Option<int64_t> batchTile{
      *this, "batch-tile",
      llvm::cl::desc("sequences per block (0: chosen from shared memory)"),
      llvm::cl::init(butterfly::ButterflyPlanGPUKernelsOptions().batchTile)};
  Option<int64_t> singleKernelMax{
      *this, "single-kernel-max",
      llvm::cl::desc("the largest FFT size run as one kernel; larger ones "
                     "take the three-pass form (0: whatever fits on chip)"),
      llvm::cl::init(
          butterfly::ButterflyPlanGPUKernelsOptions().singleKernelMax)};
  Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc("tensor-core precision: auto, split (about f32) or half "
                     "(f16 between stages, a third of the work)"),
      llvm::cl::init(butterfly::ButterflyPlanGPUKernelsOptions().precision)};

  Option<int64_t> ranks{
      *this, "ranks",
      llvm::cl::desc("shard each sequence over this many processes (the "
                     "three-pass form with exchanges between its passes; 1: "
                     "not)"),
      llvm::cl::init(butterfly::ButterflyPlanGPUKernelsOptions().ranks)};
  Option<int64_t> rank{
      *this, "rank",
      llvm::cl::desc("the process whose program to build, 0 .. ranks - 1"),
      llvm::cl::init(butterfly::ButterflyPlanGPUKernelsOptions().rank)};
  Option<int64_t> maxRowLength{
      *this, "max-row-length",
      llvm::cl::desc("the three-pass form's rows, at most (0: what a block "
                     "holds); a sharded training program's forward takes its "
                     "backward's"),
      llvm::cl::init(butterfly::ButterflyPlanGPUKernelsOptions().maxRowLength)};
  Option<int64_t> threePassCluster{
      *this, "three-pass-cluster",
      llvm::cl::desc("run the three passes in one kernel on clusters of this "
                     "many blocks, no workspace (1: the three kernels)"),
      llvm::cl::init(
          butterfly::ButterflyPlanGPUKernelsOptions().threePassCluster)};

  /// The options of butterfly-plan-gpu-kernels these select.
  butterfly::ButterflyPlanGPUKernelsOptions planOptions() const;
};

/// Options of `fftconv-to-cpu`: none, but declared so that an option given
/// to it is refused with a message (upstream's empty options fail silently).
struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  PassOptions::Option<bool> pooledAllocator{
      *this, "pooled-allocator",
      llvm::cl::desc("allocate buffers through finalize-memref-to-llvm's "
                     "generic functions (_mlir_memref_to_llvm_alloc, "
                     "_aligned_alloc, _free), which the host provides: "
                     "fftconv's ExecutionEngine binds them to a pool that "
                     "keeps large buffers between calls (fftconvCPUAllocate); "
                     "off, malloc and free, for mlir-runner"),
      llvm::cl::init(false)};
  PassOptions::Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("f32 lanes of the Monarch DFTs' codelets "
                     "(butterfly-to-vector's, whose default it takes); 0 "
                     "lowers them as dense stages (butterfly-to-linalg), the "
                     "reference"),
      llvm::cl::init(ButterflyToVectorOptions().vectorWidth)};
  PassOptions::Option<bool> threads{
      *this, "threads",
      llvm::cl::desc("run the parallel loops (the codelets' rows, the "
                     "elementwise steps) as tasks of MLIR's async runtime "
                     "(async-parallel-for), one worker per core; the host "
                     "loads libmlir_async_runtime (mlir-runner: "
                     "-shared-libs); off, one thread"),
      llvm::cl::init(false)};
};

/// Appends `fftconv-to-cpu`: both dialects to linalg, bufferize, loops,
/// LLVM. Its result runs under mlir-runner or the ExecutionEngine.
void buildCPUPipeline(OpPassManager &pm,
                      const CPUPipelineOptions &options = {});

/// Appends `fftconv-to-butterfly`: conv-to-fft, monarch-decompose, fusion.
void buildButterflyPipeline(OpPassManager &pm,
                            const ButterflyPipelineOptions &options);

/// Appends `fftconv-to-ptx`: fftconv-to-butterfly for the chip, then
/// butterfly-to-gpu and the kernels down to PTX
/// (gpu-module-to-binary{format=isa}); the host function stays a function
/// of gpu.launch_func ops.
void buildPTXPipeline(OpPassManager &pm, const PTXPipelineOptions &options);

/// Registers `fftconv-to-cpu`, `fftconv-to-butterfly` and `fftconv-to-ptx`
/// with the pass registry.
void registerPipelines();

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_PIPELINES_PIPELINES_H
