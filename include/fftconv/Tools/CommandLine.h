//===- CommandLine.h - What the project's tools show on --help --*- C++ -*-===//
//
// Debian's libLLVM.so registers every backend's command-line options when it
// loads (about 1200 of them), so a tool linking it would list them all under
// --help. The project's tools show their own options and MLIR's; the rest
// stay available under --help-hidden.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_TOOLS_COMMANDLINE_H
#define FFTCONV_TOOLS_COMMANDLINE_H

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir {
namespace fftconv {

/// The project's version, as CMake's project() declares it.
const char *getVersion();

/// Prints "<tool> (fftconv-mlir <version>)" and the LLVM/MLIR it was built
/// against: what --version shows.
void printVersion(llvm::raw_ostream &os);

/// Hides from --help every option registered so far (those that libLLVM.so
/// and libMLIR.so register at load time) except --help, --version and the
/// options of `toolCategory`, and installs printVersion as the --version
/// printer. Call it first in main(), before MLIR registers the options the
/// tool should show.
void setUpToolCommandLine(llvm::cl::OptionCategory *toolCategory = nullptr);

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_TOOLS_COMMANDLINE_H
