//===- Pipelines.h - fftconv pass pipelines ---------------------*- C++ -*-===//

#ifndef FFTCONV_PIPELINES_PIPELINES_H
#define FFTCONV_PIPELINES_PIPELINES_H

#include "fftconv/Conversion/ButterflyToGPU/ButterflyToGPU.h"

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

/// Appends `fftconv-to-ptx`: fftconv-to-butterfly (for `gpu.chip`), then
/// butterfly-to-gpu with `gpu` and the kernels down to PTX
/// (gpu-module-to-binary{format=isa}); the host function stays a function
/// of gpu.launch_func ops.
void buildPTXPipeline(OpPassManager &pm, llvm::StringRef order,
                      const ButterflyToGPUOptions &gpu);

/// Registers `fftconv-to-cpu`, `fftconv-to-butterfly` and `fftconv-to-ptx`
/// with the pass registry.
void registerPipelines();

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_PIPELINES_PIPELINES_H
