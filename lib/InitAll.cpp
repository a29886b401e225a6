//===- InitAll.cpp - register everything of fftconv-mlir --------*- C++ -*-===//

#include "fftconv/InitAll.h"

#include "fftconv/Conversion/Passes.h"
#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"
#include "fftconv/Dialect/Butterfly/Transforms/Passes.h"
#include "fftconv/Dialect/FFTConv/IR/FFTConv.h"
#include "fftconv/Dialect/FFTConv/Transforms/Passes.h"
#include "fftconv/Pipelines/Pipelines.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

#include <mutex>

void mlir::fftconv::registerAllDialects(DialectRegistry &registry) {
  registry.insert<FFTConvDialect, butterfly::ButterflyDialect>();
}

void mlir::fftconv::registerAllPasses() {
  // Once per process: registering a pipeline twice is fatal.
  static std::once_flag once;
  std::call_once(once, [] {
    // The upstream passes our pipelines name. Registering a pass that is
    // already registered is harmless, so a host tool's own registrations
    // (mlir-opt's registerAllPasses) do not conflict.
    registerTransformsPasses();
    registerConversionPasses();
    bufferization::registerBufferizationPasses();
    memref::registerMemRefPasses();
    registerLinalgPasses();
    arith::registerArithPasses();
    registerGPUPasses();
    butterfly::registerButterflyPasses();
    registerFFTConvPasses();
    registerFFTConvConversionPasses();
    registerPipelines();
  });
}
