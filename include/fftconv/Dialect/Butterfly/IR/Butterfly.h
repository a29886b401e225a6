//===- Butterfly.h - butterfly dialect --------------------------*- C++ -*-===//
//
// The butterfly dialect: Monarch factorizations of the DFT.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLY_H
#define FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLY_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "fftconv/Dialect/Butterfly/IR/ButterflyOpsDialect.h.inc"

#define GET_OP_CLASSES
#include "fftconv/Dialect/Butterfly/IR/ButterflyOps.h.inc"

#endif // FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLY_H
