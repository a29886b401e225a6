//===- InitAll.h - register everything of fftconv-mlir ----------*- C++ -*-===//

#ifndef FFTCONV_INITALL_H
#define FFTCONV_INITALL_H

namespace mlir {
class DialectRegistry;
namespace fftconv {

/// Inserts the fftconv and butterfly dialects into `registry`.
void registerAllDialects(DialectRegistry &registry);

/// Registers the project's passes and pipelines, and the upstream passes the
/// pipelines name, with the global registry; once per process.
void registerAllPasses();

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_INITALL_H
