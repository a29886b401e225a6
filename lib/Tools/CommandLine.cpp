//===- CommandLine.cpp - What the project's tools show on --help -*- C++
//-*-===//

#include "fftconv/Tools/CommandLine.h"
#include "fftconv/Version.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"

using namespace llvm;

const char *mlir::fftconv::getVersion() { return FFTCONV_VERSION; }

void mlir::fftconv::printVersion(raw_ostream &os) {
  os << "fftconv-mlir " << FFTCONV_VERSION << "\n"
     << "  built on LLVM and MLIR " << LLVM_VERSION_STRING << "\n";
}

void mlir::fftconv::setUpToolCommandLine(cl::OptionCategory *toolCategory) {
  // Options every tool keeps visible: LLVM's generic ones.
  static const StringSet<> kept = {"help", "help-list", "help-hidden",
                                   "help-list-hidden", "version"};
  for (auto &entry : cl::getRegisteredOptions()) {
    cl::Option *option = entry.second;
    if (kept.contains(entry.first) ||
        (toolCategory && llvm::is_contained(option->Categories, toolCategory)))
      continue;
    option->setHiddenFlag(cl::Hidden);
  }
  cl::SetVersionPrinter(printVersion);
}
