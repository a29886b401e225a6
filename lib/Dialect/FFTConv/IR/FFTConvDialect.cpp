//===- FFTConvDialect.cpp - fftconv dialect ---------------------*- C++ -*-===//

#include "fftconv/Dialect/FFTConv/IR/FFTConv.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::fftconv;

#include "fftconv/Dialect/FFTConv/IR/FFTConvOpsDialect.cpp.inc"

#include "fftconv/Dialect/FFTConv/IR/FFTConvEnums.cpp.inc"

void FFTConvDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "fftconv/Dialect/FFTConv/IR/FFTConvOps.cpp.inc"
      >();
}
