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

LogicalResult
FFTConvDialect::verifyOperationAttribute(Operation *op,
                                         NamedAttribute attribute) {
  if (attribute.getName() != kElementTypeAttrName)
    return success();
  auto type = dyn_cast<TypeAttr>(attribute.getValue());
  if (!type || !isa<IntegerType, FloatType>(type.getValue()))
    return op->emitError()
           << "'" << kElementTypeAttrName
           << "' must name the integer or float element type of the "
              "convolution's data, got "
           << attribute.getValue();
  return success();
}

Operation *FFTConvDialect::materializeConstant(OpBuilder &builder,
                                               Attribute value, Type type,
                                               Location loc) {
  return arith::ConstantOp::materialize(builder, value, type, loc);
}
