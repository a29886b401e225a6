//===- FFTConv.h - fftconv dialect ------------------------------*- C++ -*-===//
//
// The fftconv dialect: long convolutions, FFTs and kernel regularizers.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_DIALECT_FFTCONV_IR_FFTCONV_H
#define FFTCONV_DIALECT_FFTCONV_IR_FFTCONV_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "fftconv/Dialect/FFTConv/IR/FFTConvOpsDialect.h.inc"

#include "fftconv/Dialect/FFTConv/IR/FFTConvEnums.h.inc"

#define GET_OP_CLASSES
#include "fftconv/Dialect/FFTConv/IR/FFTConvOps.h.inc"

namespace mlir::fftconv {
/// Discardable attribute on the fftconv.channel_mul of an expanded
/// convolution: the element type of the convolution's data (an integer or
/// float type), which sizes the fused kernel's buffers.
constexpr llvm::StringLiteral kElementTypeAttrName = "fftconv.element_type";

/// The operands of a convolution (fftconv.conv or fftconv.conv_grad) that
/// have gradients, each with its bit of `wrt`, in the order of
/// fftconv.conv_grad's results; absent optional operands are null.
template <typename ConvLikeOp>
SmallVector<std::pair<ConvGradients, Value>, 6>
getGradientOperands(ConvLikeOp op) {
  return {{ConvGradients::Input, op.getInput()},
          {ConvGradients::Kernel, op.getKernel()},
          {ConvGradients::Pregate, op.getPregate()},
          {ConvGradients::Postgate, op.getPostgate()},
          {ConvGradients::Skip, op.getSkip()},
          {ConvGradients::ReverseKernel, op.getReverse()}};
}
} // namespace mlir::fftconv

#endif // FFTCONV_DIALECT_FFTCONV_IR_FFTCONV_H
