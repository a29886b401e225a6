//===- SpectralProduct.cpp - butterfly.hermitian_mul on the GPU -*- C++ -*-===//
//
// The product of a real convolution at half size in Monarch order:
// y[p] = A[p] x[p] + B[p] conj(x[s(p)]), s(p) the position of the mirrored
// frequency, with the coefficients A, B of butterfly.conv_spectrum.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

KernelEmitter::Complex KernelEmitter::loadCoefficient(Value coefficients,
                                                      Value h, int64_t which,
                                                      Value position) {
  auto pairType = VectorType::get({2}, f32);
  auto load = vector::LoadOp::create(
      b, loc, pairType, coefficients,
      ValueRange{index(h), index(c(which)), index(mulc(position, 2))});
  load.setAlignment(8);
  return {vector::ExtractOp::create(b, loc, load, ArrayRef<int64_t>{0}),
          vector::ExtractOp::create(b, loc, load, ArrayRef<int64_t>{1})};
}

void KernelEmitter::storeCoefficient(Value coefficients, Value h, int64_t which,
                                     Value position, Complex x) {
  auto pairType = VectorType::get({2}, f32);
  Value pair =
      vector::FromElementsOp::create(b, loc, pairType, ValueRange{x.re, x.im});
  auto store = vector::StoreOp::create(
      b, loc, pair, coefficients,
      ValueRange{index(h), index(c(which)), index(mulc(position, 2))});
  store.setAlignment(8);
}

/// Each pair {p, s(p)} is handled by the thread that meets its smaller
/// position, for every sequence of the tile with the same coefficients.
/// Frequency-sparse, only the band's positions are met (the first inverse
/// stage reads no other); a pair with one of them outside, which the band's
/// zero coefficients make zero, is handled by the thread that meets the
/// other.
void KernelEmitter::emitSpectralProduct(Value coefficients, Value h) {
  std::optional<LiveDigits> band = bandWindow(layout.factors.size() - 1);
  int64_t m = layout.factors.back();
  int64_t positions = band ? layout.length / m * band->count : layout.length;
  distribute(tid, layout.threads, positions, [&](Value live) {
    // The last digit has stride 1: live position i is digit
    // (first + i mod count) mod m of block i / count.
    Value p = live;
    if (band)
      p = add(mulc(divc(live, band->count), m),
              remc(addc(remc(live, band->count), band->first), m));
    Value q = mirror(frequency(p));
    Value notAfter =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, p, q);
    if (band) {
      Value mirrorOutside = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::uge,
          remc(addc(remc(q, m), m - band->first), m), c(band->count));
      notAfter = arith::OrIOp::create(b, loc, notAfter, mirrorOutside);
    }
    when(notAfter, [&] {
      MirrorPair pair;
      pair.offsetP = swizzle(p);
      pair.offsetQ = swizzle(q);
      pair.ap = loadCoefficient(coefficients, h, 0, p);
      pair.bp = loadCoefficient(coefficients, h, 1, p);
      pair.aq = loadCoefficient(coefficients, h, 0, q);
      pair.bq = loadCoefficient(coefficients, h, 1, q);
      if (double scale = productScale(); scale != 1.0) {
        Value s = cf(scale);
        for (Complex *coefficient : {&pair.ap, &pair.bp, &pair.aq, &pair.bq})
          *coefficient = cscale(*coefficient, s);
      }
      pair.distinct = ult(p, q);
      forEachSequence([&](Value seq) { emitMirrorPair(seq, pair); });
    });
  });
  barrier();
}

void KernelEmitter::emitMirrorPair(Value seq, const MirrorPair &pair) {
  Complex xp = load(seq, pair.offsetP), xq = load(seq, pair.offsetQ);
  Complex yp = cadd(cmul(pair.ap, xp), cmul(pair.bp, conj(xq)));
  // The mirror of the middle frequency (and of 0) is itself: one store.
  when(pair.distinct, [&] {
    store(seq, pair.offsetQ, cadd(cmul(pair.aq, xq), cmul(pair.bq, conj(xp))));
  });
  store(seq, pair.offsetP, yp);
}
