//===- Pipelines.h - fftconv pass pipelines ---------------------*- C++ -*-===//

#ifndef FFTCONV_PIPELINES_PIPELINES_H
#define FFTCONV_PIPELINES_PIPELINES_H

#include "llvm/ADT/StringRef.h"

namespace mlir {
class OpPassManager;
namespace fftconv {

/// The textual form of the CPU pipeline: both dialects to linalg, bufferize,
/// loops, LLVM. Its result runs under mlir-runner.
llvm::StringRef getCPUPipelineText();

/// Appends the CPU pipeline (`fftconv-to-cpu`) to `pm`.
void buildCPUPipeline(OpPassManager &pm);

/// Registers `fftconv-to-cpu` with the pass registry.
void registerCPUPipeline();

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_PIPELINES_PIPELINES_H
