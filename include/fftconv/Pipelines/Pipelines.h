//===- Pipelines.h - fftconv pass pipelines ---------------------*- C++ -*-===//

#ifndef FFTCONV_PIPELINES_PIPELINES_H
#define FFTCONV_PIPELINES_PIPELINES_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace mlir {
class OpPassManager;
namespace fftconv {

/// The textual form of the CPU pipeline: both dialects to linalg, bufferize,
/// loops, LLVM. Its result runs under mlir-runner.
std::string getCPUPipelineText();

/// Appends the CPU pipeline (`fftconv-to-cpu`) to `pm`.
void buildCPUPipeline(OpPassManager &pm);

/// Options of the butterfly pipeline: those of fftconv-monarch-decompose.
struct ButterflyPipelineOptions;

/// Appends `fftconv-to-butterfly`: conv-to-fft, monarch-decompose, fusion.
void buildButterflyPipeline(OpPassManager &pm, llvm::StringRef order,
                            llvm::StringRef chip, int64_t sharedMemoryPerBlock);

/// Registers `fftconv-to-cpu` and `fftconv-to-butterfly` with the pass
/// registry.
/// fftconv-to-butterfly, then butterfly-to-gpu and the kernels down to PTX
/// (gpu-module-to-binary{format=isa}); the host function stays a function
/// of gpu.launch_func ops.
void buildPTXPipeline(OpPassManager &pm, llvm::StringRef order,
                      llvm::StringRef chip, int64_t threads = 0,
                      int64_t batchTile = 0, int64_t singleKernelMax = 8192);

void registerPipelines();

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_PIPELINES_PIPELINES_H
