//===- FMAStage.cpp - stages of 2, 4 and 8 on the FMA units -----*- C++ -*-===//
//
// A small factor is a dense DFT per column, one thread a column, in f32:
// the factor's entries are constants, and the twiddle of the stage is
// applied to each output before it is stored.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include <cmath>

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

void KernelEmitter::emitFMAStage(size_t s, bool inverse) {
  StageShape shape = stage(s);
  int64_t m = shape.size, stride = shape.stride;
  int64_t columns = layout.length / m;
  distribute(tid, layout.threads, columns, [&](Value column) {
    // The column's m positions, their swizzles and twiddles, once for the
    // sequences of the group.
    Value base =
        add(mulc(divc(column, stride), m * stride), remc(column, stride));
    SmallVector<Value> offsets;
    SmallVector<std::optional<Complex>> twiddles;
    for (int64_t n = 0; n < m; ++n) {
      Value position = addc(base, n * stride);
      offsets.push_back(swizzle(position));
      twiddles.push_back(twiddle(s, inverse, position));
    }
    forEachSequence([&](Value seq) {
      emitFMAColumn(seq, shape, inverse, offsets, twiddles);
    });
  });
}

void KernelEmitter::emitFMAColumn(Value seq, StageShape shape, bool inverse,
                                  ArrayRef<Value> offsets,
                                  ArrayRef<std::optional<Complex>> twiddles) {
  int64_t m = shape.size;
  // The stage's 1/sqrt(m) rides on the factor's entries.
  double scale = 1.0 / std::sqrt(double(m));
  double sign = inverse ? 1.0 : -1.0;
  SmallVector<Complex> x;
  for (int64_t n = 0; n < m; ++n)
    x.push_back(load(seq, offsets[n]));
  for (int64_t k = 0; k < m; ++k) {
    Complex acc = cscale(x[0], cf(scale));
    for (int64_t n = 1; n < m; ++n) {
      double angle = sign * 2.0 * M_PI * double((k * n) % m) / double(m);
      acc = cadd(acc, cmul(x[n], {cf(scale * std::cos(angle)),
                                  cf(scale * std::sin(angle))}));
    }
    if (twiddles[k])
      acc = cmul(acc, *twiddles[k]);
    store(seq, offsets[k], acc);
  }
}
