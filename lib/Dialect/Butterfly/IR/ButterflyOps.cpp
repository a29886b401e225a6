//===- ButterflyOps.cpp - butterfly operations ------------------*- C++ -*-===//
//
// Verifiers and folders of the butterfly ops.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::butterfly;

/// Every butterfly op reads static sizes to define its index view.
static LogicalResult verifyStaticTensor(Operation *op, StringRef what,
                                        RankedTensorType type) {
  if (type.getRank() < 1)
    return op->emitOpError()
           << "expects " << what << " of rank at least 1, got " << type;
  if (!type.hasStaticShape() || llvm::is_contained(type.getShape(), 0))
    return op->emitOpError() << "expects " << what
                             << " with a static non-empty shape, got " << type;
  return success();
}

/// The last axis (length N) must split as [a, block] with block = `blockSize`
/// (the product of the op's view sizes).
static LogicalResult verifyBlocking(Operation *op, RankedTensorType type,
                                    int64_t blockSize, StringRef view) {
  int64_t length = type.getShape().back();
  if (length % blockSize != 0)
    return op->emitOpError()
           << "expects the last dimension (" << length
           << ") to be a multiple of " << view << " = " << blockSize;
  return success();
}

//===----------------------------------------------------------------------===//
// DFTOp
//===----------------------------------------------------------------------===//

LogicalResult DFTOp::verify() {
  RankedTensorType type = getResult().getType();
  if (failed(verifyStaticTensor(*this, "result", type)))
    return failure();
  if (type.getRank() != 2 || type.getDimSize(0) != type.getDimSize(1))
    return emitOpError() << "expects a square m x m result, got " << type;
  return success();
}

//===----------------------------------------------------------------------===//
// KronOp
//===----------------------------------------------------------------------===//

LogicalResult KronOp::verify() {
  RankedTensorType factorType = getFactor().getType();
  RankedTensorType inputType = getInput().getType();
  if (failed(verifyStaticTensor(*this, "factor", factorType)) ||
      failed(verifyStaticTensor(*this, "input", inputType)))
    return failure();
  int64_t rank = factorType.getRank();
  if ((rank != 2 && rank != 3) ||
      factorType.getDimSize(rank - 1) != factorType.getDimSize(rank - 2))
    return emitOpError() << "expects an m x m factor or a x m x m blocks, got "
                         << factorType;
  if (failed(verifyBlocking(*this, inputType, getFactorSize() * getStride(),
                            "factor size * stride")))
    return failure();
  if (rank == 3 && factorType.getDimSize(0) != getNumBlocks())
    return emitOpError() << "expects one factor block per outer block: "
                         << getNumBlocks() << " blocks, got "
                         << factorType.getDimSize(0);
  return success();
}

//===----------------------------------------------------------------------===//
// TwiddleOp
//===----------------------------------------------------------------------===//

LogicalResult TwiddleOp::verify() {
  if (failed(verifyStaticTensor(*this, "input", getInput().getType())))
    return failure();
  return verifyBlocking(*this, getInput().getType(), getRows() * getCols(),
                        "rows * cols");
}

OpFoldResult TwiddleOp::fold(FoldAdaptor) {
  // The forward and the inverse twiddle of one view cancel exactly.
  auto inner = getInput().getDefiningOp<TwiddleOp>();
  if (inner && inner.getRows() == getRows() && inner.getCols() == getCols() &&
      inner.getInverse() != getInverse())
    return inner.getInput();
  // exp(-2 pi i k j / (rows * cols)) = 1 when either index range is {0}.
  if (getRows() == 1 || getCols() == 1)
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// PermuteOp
//===----------------------------------------------------------------------===//

LogicalResult PermuteOp::verify() {
  if (failed(verifyStaticTensor(*this, "input", getInput().getType())))
    return failure();
  return verifyBlocking(*this, getInput().getType(), getRows() * getCols(),
                        "rows * cols");
}

OpFoldResult PermuteOp::fold(FoldAdaptor) {
  // Transposing a 1 x c or r x 1 view moves nothing.
  if (getRows() == 1 || getCols() == 1)
    return getInput();
  // Transposing r x c and then c x r restores the order.
  auto inner = getInput().getDefiningOp<PermuteOp>();
  if (inner && inner.getRows() == getCols() && inner.getCols() == getRows())
    return inner.getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// MonarchOp
//===----------------------------------------------------------------------===//

LogicalResult MonarchOp::verify() {
  if (failed(verifyStaticTensor(*this, "input", getInput().getType())))
    return failure();
  ArrayRef<int64_t> factors = getFactors();
  if (factors.empty())
    return emitOpError() << "expects at least one factor";
  int64_t product = 1;
  for (int64_t factor : factors) {
    if (factor < 2)
      return emitOpError() << "expects every factor to be at least 2, got "
                           << factor;
    product *= factor;
  }
  int64_t length = getInput().getType().getShape().back();
  if (product != length)
    return emitOpError() << "expects the factors to multiply to the last "
                         << "dimension (" << length << "), got " << product;
  return success();
}

OpFoldResult MonarchOp::fold(FoldAdaptor) {
  // A forward and an inverse transform with the same factors and the same
  // order convention in between cancel.
  auto inner = getInput().getDefiningOp<MonarchOp>();
  if (inner && inner.getFactors() == getFactors() &&
      inner.getPermuted() == getPermuted() &&
      inner.getInverse() != getInverse())
    return inner.getInput();
  return {};
}

#define GET_OP_CLASSES
#include "fftconv/Dialect/Butterfly/IR/ButterflyOps.cpp.inc"
