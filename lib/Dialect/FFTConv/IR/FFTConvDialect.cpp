//===- FFTConvDialect.cpp - fftconv dialect ---------------------*- C++ -*-===//

#include "fftconv/Dialect/FFTConv/IR/FFTConv.h"

#include "mlir/IR/Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

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

Operation *FFTConvDialect::materializeConstant(OpBuilder &builder,
                                               Attribute value, Type type,
                                               Location loc) {
  return arith::ConstantOp::materialize(builder, value, type, loc);
}
