//===- GPUProgram.h - PTX and the launch manifest ---------------*- C++ -*-===//
//
// What a runtime needs to run a compiled program without MLIR: the PTX and a
// JSON manifest of the buffers and launches (docs/gpu-manifest.md).
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_TARGET_GPUPROGRAM_H
#define FFTCONV_TARGET_GPUPROGRAM_H

#include "fftconv/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir {
class DialectRegistry;
namespace fftconv {

struct GPUProgram {
  std::string ptx;
  std::string manifest; // JSON
};

/// Reads the program off a module that fftconv-to-ptx produced: one host
/// function of gpu.launch_func ops and the gpu.binary they launch.
/// `ptxFileName` is what the manifest's "ptx" field names.
FailureOr<GPUProgram> extractGPUProgram(ModuleOp module, StringRef chip,
                                        StringRef ptxFileName);

/// Runs fftconv-to-ptx with `options` on `module` and extracts the
/// program. Diagnostics go to the context's handlers.
FailureOr<GPUProgram> compileToGPUProgram(ModuleOp module,
                                          StringRef ptxFileName,
                                          const PTXPipelineOptions &options);

/// What a context needs to serialize kernels to PTX: the LLVM IR
/// translations and the NVVM target.
void registerGPUCompilation(DialectRegistry &registry);

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_TARGET_GPUPROGRAM_H
