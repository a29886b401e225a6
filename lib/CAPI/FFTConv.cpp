//===- FFTConv.cpp - C API of fftconv-mlir ----------------------*- C++ -*-===//

#include "fftconv-c/FFTConv.h"

#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"
#include "fftconv/Dialect/FFTConv/IR/FFTConv.h"
#include "fftconv/InitAll.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(FFTConv, fftconv,
                                      mlir::fftconv::FFTConvDialect)
MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(Butterfly, butterfly,
                                      mlir::butterfly::ButterflyDialect)

void fftconvRegisterAllDialects(MlirDialectRegistry registry) {
  mlir::DialectRegistry &cppRegistry = *unwrap(registry);
  mlir::registerAllDialects(cppRegistry);
  mlir::registerAllExtensions(cppRegistry);
  mlir::fftconv::registerAllDialects(cppRegistry);
}

void fftconvRegisterAllPasses() {
  // Once per process (it guards itself), with the upstream passes our
  // pipelines name.
  mlir::fftconv::registerAllPasses();
}
