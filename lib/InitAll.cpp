//===- InitAll.cpp - register everything of fftconv-mlir --------*- C++ -*-===//

#include "fftconv/InitAll.h"

#include "fftconv/Conversion/Passes.h"
#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"
#include "fftconv/Dialect/Butterfly/Transforms/Passes.h"
#include "fftconv/Dialect/FFTConv/IR/FFTConv.h"
#include "fftconv/Dialect/FFTConv/Transforms/Passes.h"
#include "fftconv/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"

void mlir::fftconv::registerAllDialects(DialectRegistry &registry) {
  registry.insert<FFTConvDialect, butterfly::ButterflyDialect>();
}

void mlir::fftconv::registerAllPasses() {
  butterfly::registerButterflyPasses();
  registerFFTConvPasses();
  registerFFTConvConversionPasses();
  registerPipelines();
}
