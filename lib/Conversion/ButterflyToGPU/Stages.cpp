//===- Stages.cpp - the order of the stages and Monarch positions -*- C++ -*-=//
//
// Stage s of the first `transformed` factors views a position as [a, m, c]
// and transforms the middle digit in place; the forward stages leave the
// spectrum in Monarch order (digit-reversed), the inverse stages run
// backwards and leave the signal in natural order.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include <numeric>

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

StageShape KernelEmitter::stage(size_t s) const {
  ArrayRef<int64_t> factors = layout.factors;
  ArrayRef<int64_t> after = factors.drop_front(s + 1);
  return {factors[s], std::accumulate(after.begin(), after.end(), int64_t(1),
                                      std::multiplies<int64_t>())};
}

void KernelEmitter::emitStage(size_t s, bool inverse) {
  if (onWarpgroup(s))
    emitWarpgroupStage(s, inverse);
  else if (layout.factors[s] >= 16)
    emitTensorCoreStage(s, inverse);
  else
    emitFMAStage(s, inverse);
  barrier();
}

void KernelEmitter::emitForward(bool skipLast) {
  std::optional<size_t> pair = fusedPair();
  for (size_t s = 0; s < layout.transformed - (skipLast ? 1 : 0); ++s) {
    if (pair && s == *pair) {
      emitTensorCorePair(s, /*inverse=*/false);
      barrier();
      ++s;
      continue;
    }
    emitStage(s, /*inverse=*/false);
  }
}

bool KernelEmitter::lastStageWritesOutputs() const {
  std::optional<size_t> pair = fusedPair();
  return layout.directOutput && layout.transformed > 1 &&
         !(pair && *pair == 0) && !onWarpgroup(0) &&
         layout.factors.front() >= 16 && stage(0).stride >= 8;
}

void KernelEmitter::emitInverse(bool skipLast, OutputSink sink) {
  bool direct = lastStageWritesOutputs();
  assert(bool(sink) == direct && "a direct output needs a sink");
  std::optional<size_t> pair = fusedPair();
  size_t last = direct ? 1 : 0;
  for (size_t s = layout.transformed - (skipLast ? 1 : 0); s-- > last;) {
    if (pair && s == *pair + 1) {
      emitTensorCorePair(*pair, /*inverse=*/true);
      barrier();
      --s;
      continue;
    }
    emitStage(s, /*inverse=*/true);
  }
  // The outputs leave the block: no barrier after them.
  if (direct)
    emitTensorCoreStage(0, /*inverse=*/true, sink);
}

Value KernelEmitter::frequency(Value position) {
  Value f = c(0);
  int64_t weight = 1;
  for (size_t s = 0; s < layout.transformed; ++s) {
    StageShape shape = stage(s);
    Value digit = remc(divc(position, shape.stride), shape.size);
    f = add(f, mulc(digit, weight));
    weight *= shape.size;
  }
  return f;
}

Value KernelEmitter::positionOf(Value f) {
  return positionIn(layout.factors, f, layout.transformed);
}

Value KernelEmitter::positionIn(ArrayRef<int64_t> factors, Value f,
                                std::optional<size_t> transformed) {
  Value position = c(0);
  int64_t weight = 1;
  for (size_t s = 0; s < transformed.value_or(factors.size()); ++s) {
    ArrayRef<int64_t> after = factors.drop_front(s + 1);
    int64_t stride = std::accumulate(after.begin(), after.end(), int64_t(1),
                                     std::multiplies<int64_t>());
    Value digit = remc(divc(f, weight), factors[s]);
    position = add(position, mulc(digit, stride));
    weight *= factors[s];
  }
  return position;
}

Value KernelEmitter::mirror(Value f) {
  return positionOf(remc(sub(c(layout.length), f), layout.length));
}
