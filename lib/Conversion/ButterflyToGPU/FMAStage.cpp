//===- FMAStage.cpp - stages of 2, 4 and 8 on the FMA units -----*- C++ -*-===//
//
// A small factor is a DFT per column, one thread a column, in f32, computed
// as a radix-2 FFT whose rotations are constants: by 1 and -i (or i) they
// cost nothing, by the odd eighth roots two adds and two multiplies. The
// dense product it replaces took m - 1 complex multiply-adds an output (58
// FP instructions a point at m = 8, 62% of the 4K kernel's instructions,
// measured with Nsight Compute); the FFT takes 7. The stage's 1/sqrt(m)
// rides on the twiddle where the output has one. The fused product pass
// (SpectralProduct.cpp) runs its last stage, a 16 included, through the
// same transform.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include <cmath>

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

/// The stage's 1/sqrt(m) (the transforms are unitary: KernelEmitter.h).
static double normalization(int64_t m) { return 1.0 / std::sqrt(double(m)); }

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
      // The stage's 1/sqrt(m) on the twiddle, once for the group.
      twiddles.push_back(fmaTwiddle(s, inverse, position));
    }
    forEachSequence([&](Value seq) {
      emitFMAColumn(seq, shape, inverse, offsets, twiddles);
    });
  });
}

/// y = e + w o and z = e - w o for w = exp(sign 2 pi i k / m), with the
/// rotations by a quarter and an odd eighth of a turn written out.
static std::pair<KernelEmitter::Complex, KernelEmitter::Complex>
rotateAndCombine(KernelEmitter &emitter, KernelEmitter::Complex e,
                 KernelEmitter::Complex o, int64_t k, int64_t m, double sign) {
  using Complex = KernelEmitter::Complex;
  auto sum = [&](Complex x, Complex y) { return emitter.cadd(x, y); };
  auto difference = [&](Complex x, Complex y) -> Complex {
    return {emitter.fsub(x.re, y.re), emitter.fsub(x.im, y.im)};
  };
  int64_t eighths = 8 * k / m; // w = exp(sign 2 pi i eighths / 8)
  if (k == 0)
    return {sum(e, o), difference(e, o)};
  if (8 * k == 2 * m) {
    // w o = sign i o = (-sign o.im, sign o.re).
    Complex y{emitter.fsub(e.re, o.im), emitter.fadd(e.im, o.re)};
    Complex z{emitter.fadd(e.re, o.im), emitter.fsub(e.im, o.re)};
    if (sign < 0)
      std::swap(y, z);
    return {y, z};
  }
  if (8 * k % m == 0 && eighths % 2 == 1) {
    // w = (c, s) with |c| = |s| = 1/sqrt(2): w o = (c o.re - s o.im,
    // s o.re + c o.im), one sum and one difference, each times c.
    double c = std::cos(sign * M_PI * double(eighths) / 4.0);
    double s = std::sin(sign * M_PI * double(eighths) / 4.0);
    Value a = o.re, b = o.im;
    Complex w = (c > 0) == (s > 0)
                    ? Complex{emitter.fmul(emitter.fsub(a, b), emitter.cf(c)),
                              emitter.fmul(emitter.fadd(a, b), emitter.cf(c))}
                    : Complex{emitter.fmul(emitter.fadd(a, b), emitter.cf(c)),
                              emitter.fmul(emitter.fsub(b, a), emitter.cf(c))};
    return {sum(e, w), difference(e, w)};
  }
  double angle = sign * 2.0 * M_PI * double(k) / double(m);
  Complex w = emitter.cmul(
      o, {emitter.cf(std::cos(angle)), emitter.cf(std::sin(angle))});
  return {sum(e, w), difference(e, w)};
}

/// The unnormalized DFT of x (a power-of-two length) by decimation in time.
static SmallVector<KernelEmitter::Complex>
radix2DFT(KernelEmitter &emitter, ArrayRef<KernelEmitter::Complex> x,
          double sign) {
  int64_t m = x.size();
  if (m == 1)
    return {x[0]};
  SmallVector<KernelEmitter::Complex> even, odd;
  for (int64_t n = 0; n < m; ++n)
    (n % 2 ? odd : even).push_back(x[n]);
  SmallVector<KernelEmitter::Complex> e = radix2DFT(emitter, even, sign);
  SmallVector<KernelEmitter::Complex> o = radix2DFT(emitter, odd, sign);
  SmallVector<KernelEmitter::Complex> y(m);
  for (int64_t k = 0; k < m / 2; ++k)
    std::tie(y[k], y[k + m / 2]) =
        rotateAndCombine(emitter, e[k], o[k], k, m, sign);
  return y;
}

SmallVector<Value> KernelEmitter::digitChunks(Value start, int64_t m) {
  SmallVector<Value> chunks;
  for (int64_t first = 0; first < m; first += kDigitChunk)
    chunks.push_back(swizzle(addc(start, first)));
  return chunks;
}

SmallVector<KernelEmitter::Complex>
KernelEmitter::loadDigits(Value seq, ArrayRef<Value> chunks, int64_t m) {
  auto part = [&](Value values, int64_t n) -> Value {
    return vector::ExtractOp::create(b, loc, values, ArrayRef<int64_t>{n});
  };
  int64_t count = std::min(m, kDigitChunk);
  SmallVector<Complex> x;
  for (Value chunk : chunks) {
    Complex values = {loadPart(seq, ReHigh, chunk, count),
                      loadPart(seq, ImHigh, chunk, count)};
    for (int64_t n = 0; n < count; ++n)
      x.push_back({part(values.re, n), part(values.im, n)});
  }
  return x;
}

void KernelEmitter::storeDigits(Value seq, ArrayRef<Value> chunks,
                                ArrayRef<Complex> y) {
  int64_t count = std::min<int64_t>(y.size(), kDigitChunk);
  auto vectorType = VectorType::get({count}, f32);
  for (auto [i, chunk] : llvm::enumerate(chunks)) {
    SmallVector<Value> re, im;
    for (const Complex &value : y.slice(i * count, count)) {
      re.push_back(value.re);
      im.push_back(value.im);
    }
    store(seq, chunk,
          {vector::FromElementsOp::create(b, loc, vectorType, re),
           vector::FromElementsOp::create(b, loc, vectorType, im)});
  }
}

SmallVector<KernelEmitter::Complex>
KernelEmitter::fmaTransform(ArrayRef<Complex> x, bool inverse,
                            ArrayRef<std::optional<Complex>> twiddles,
                            double extraScale) {
  int64_t m = x.size();
  SmallVector<Complex> y = radix2DFT(*this, x, inverse ? 1.0 : -1.0);
  // The stage's 1/sqrt(m): with the twiddle (scaled in emitFMAStage) or by
  // itself.
  Value scale = cf(normalization(m) * extraScale);
  for (int64_t k = 0; k < m; ++k)
    y[k] = twiddles[k] ? cmul(y[k], *twiddles[k]) : cscale(y[k], scale);
  return y;
}

std::optional<KernelEmitter::Complex>
KernelEmitter::fmaTwiddle(size_t s, bool inverse, Value position) {
  std::optional<Complex> w = twiddle(s, inverse, position);
  if (!w)
    return std::nullopt;
  return cscale(*w, cf(normalization(layout.factors[s])));
}

SmallVector<std::optional<KernelEmitter::Complex>>
KernelEmitter::lastStageTwiddles(bool inverse, Value start, double extraScale) {
  size_t last = layout.factors.size() - 1;
  int64_t m = layout.factors[last];
  SmallVector<std::optional<Complex>> twiddles(m);
  if (!hasTwiddle(last, inverse))
    return twiddles;
  assert(inverse && layout.transformed == layout.factors.size() &&
         "only the first inverse stage's twiddle follows the last digit");
  // Twiddles.cpp: the exponent is the previous stage's digit times the
  // column, here the last digit d: the twiddle is r^d.
  StageShape level = stage(last - 1);
  Value digit = remc(divc(start, level.stride), level.size);
  Complex r = root(digit, level.size * level.stride, 1.0);
  // The scale rides on the first power: r^d scaled is the scaled r^(d-1)
  // times r, one product a digit instead of a product and a scaling.
  Complex power = cscale(r, cf(normalization(m) * extraScale));
  for (int64_t d = 1; d < m; ++d) {
    twiddles[d] = power;
    if (d + 1 < m)
      power = cmul(power, r);
  }
  return twiddles;
}

void KernelEmitter::emitFMAColumn(Value seq, StageShape shape, bool inverse,
                                  ArrayRef<Value> offsets,
                                  ArrayRef<std::optional<Complex>> twiddles) {
  int64_t m = shape.size;
  assert(llvm::isPowerOf2_64(m) && "FMA stages are of 2, 4 or 8");
  // The last digit's m positions are consecutive and within one swizzled
  // 16-byte chunk: one vector access a plane instead of m scalar ones (the
  // scalars, a column a thread 16 bytes apart, conflicted 3-way in 4K's
  // last stage).
  bool contiguous = shape.stride == 1;
  SmallVector<Complex> x;
  if (contiguous) {
    x = loadDigits(seq, offsets.take_front(), m);
  } else {
    for (int64_t n = 0; n < m; ++n)
      x.push_back(load(seq, offsets[n]));
  }
  SmallVector<Complex> y = fmaTransform(x, inverse, twiddles);
  if (!contiguous) {
    for (int64_t k = 0; k < m; ++k)
      store(seq, offsets[k], y[k]);
    return;
  }
  storeDigits(seq, offsets.take_front(), y);
}
