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

#include "fftconv/Dialect/Butterfly/IR/ButterflyEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "fftconv/Dialect/Butterfly/IR/ButterflyAttrs.h.inc"

#define GET_OP_CLASSES
#include "fftconv/Dialect/Butterfly/IR/ButterflyOps.h.inc"

namespace mlir {
namespace butterfly {

/// Discardable attribute on the ops of the outer passes through memory of
/// the three-pass form (set by the decomposition, read by the fusion).
constexpr llvm::StringLiteral kOuterPassAttrName = "butterfly.outer_pass";

/// Discardable attributes on a decomposed spectral product: the on-chip
/// bytes per sequence of the fused kernel around it and of its outer passes.
constexpr llvm::StringLiteral kOnchipBytesAttrName = "butterfly.onchip_bytes";
constexpr llvm::StringLiteral kOuterOnchipBytesAttrName =
    "butterfly.outer_onchip_bytes";

} // namespace butterfly
} // namespace mlir

#endif // FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLY_H
