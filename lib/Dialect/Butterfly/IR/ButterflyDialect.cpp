//===- ButterflyDialect.cpp - butterfly dialect -----------------*- C++ -*-===//

#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::butterfly;

#include "fftconv/Dialect/Butterfly/IR/ButterflyOpsDialect.cpp.inc"

void ButterflyDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "fftconv/Dialect/Butterfly/IR/ButterflyOps.cpp.inc"
      >();
}

Operation *ButterflyDialect::materializeConstant(OpBuilder &builder,
                                                 Attribute value, Type type,
                                                 Location loc) {
  return arith::ConstantOp::materialize(builder, value, type, loc);
}
