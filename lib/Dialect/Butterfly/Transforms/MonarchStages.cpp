//===- MonarchStages.cpp - building the stages of a Monarch DFT -*- C++ -*-===//

#include "fftconv/Dialect/Butterfly/Transforms/MonarchStages.h"

#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"

using namespace mlir;
using namespace mlir::butterfly;

static int64_t product(ArrayRef<int64_t> sizes) {
  int64_t result = 1;
  for (int64_t size : sizes)
    result *= size;
  return result;
}

Value mlir::butterfly::buildMonarchStage(OpBuilder &b, Location loc,
                                         Value value, ArrayRef<int64_t> factors,
                                         size_t stage, bool inverse,
                                         const StageKnownZeros &zeros) {
  Type elementType = cast<RankedTensorType>(value.getType()).getElementType();
  int64_t size = factors[stage];
  int64_t stride = product(factors.drop_front(stage + 1));
  auto factorType = RankedTensorType::get({size, size}, elementType);
  Value factor = DFTOp::create(b, loc, factorType, inverse);
  if (inverse && stride > 1)
    value = TwiddleOp::create(b, loc, value, size, stride, /*inverse=*/true);
  auto kron = KronOp::create(b, loc, factor, value, stride);
  if (zeros.inputExtent && *zeros.inputExtent < size)
    kron.setInputExtent(*zeros.inputExtent);
  if (zeros.outputExtent && *zeros.outputExtent < size)
    kron.setOutputExtent(*zeros.outputExtent);
  // A band of t low and t high values skips something only if 2t < m.
  if (zeros.inputBand && 2 * *zeros.inputBand < size)
    kron.setInputBand(*zeros.inputBand);
  if (zeros.outputBand && 2 * *zeros.outputBand < size)
    kron.setOutputBand(*zeros.outputBand);
  value = kron;
  if (!inverse && stride > 1)
    value = TwiddleOp::create(b, loc, value, size, stride, /*inverse=*/false);
  return value;
}

Value mlir::butterfly::buildDigitReversal(OpBuilder &b, Location loc,
                                          Value value,
                                          ArrayRef<int64_t> radices) {
  // Reverse the trailing digits of each block first, then transpose the
  // leading digit with the rest.
  for (size_t digit = radices.size() - 1; digit-- > 0;)
    value = PermuteOp::create(b, loc, value, radices[digit],
                              product(radices.drop_front(digit + 1)));
  return value;
}
