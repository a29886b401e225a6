//===- fftconv-opt.cpp - the mlir-opt of fftconv-mlir -----------*- C++ -*-===//
//
// mlir-opt with the fftconv and butterfly dialects, the project's passes and
// pipelines, and every upstream dialect and pass the pipelines use.
//
//===----------------------------------------------------------------------===//

#include "fftconv/InitAll.h"
#include "fftconv/Target/GPUProgram.h"
#include "fftconv/Tools/CommandLine.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::fftconv::setUpToolCommandLine();
  mlir::registerAllPasses();
  mlir::fftconv::registerAllPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::fftconv::registerAllDialects(registry);
  mlir::fftconv::registerGPUCompilation(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "fftconv-mlir optimizer driver\n", registry));
}
