//===- FFTConvPlugin.cpp - fftconv-mlir as an MLIR plugin -------*- C++ -*-===//
//
// Lets other MLIR tools built on the same libMLIR.so (Debian's mlir-opt-22
// among them) load the fftconv and butterfly dialects
// (--load-dialect-plugin) and the project's passes and pipelines
// (--load-pass-plugin).
//
//===----------------------------------------------------------------------===//

#include "fftconv/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"

using namespace mlir;

extern "C" LLVM_ATTRIBUTE_WEAK DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "FFTConvDialects", LLVM_VERSION_STRING,
          [](DialectRegistry *registry) {
            fftconv::registerAllDialects(*registry);
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "FFTConvPasses", LLVM_VERSION_STRING,
          []() { fftconv::registerAllPasses(); }};
}
