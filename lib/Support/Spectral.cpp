//===- Spectral.cpp - host-side spectral arithmetic -------------*- C++ -*-===//

#include "fftconv/Support/Spectral.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::fftconv;

/// exp(sign * 2 pi i * (e mod n) / n), reduced first so the angle is exact
/// up to one rounding.
static Complex rootOfUnity(int64_t e, int64_t n, double sign) {
  double angle = sign * 2.0 * llvm::numbers::pi * double(e % n) / double(n);
  return Complex(std::cos(angle), std::sin(angle));
}

std::vector<Complex> mlir::fftconv::computeDFT(llvm::ArrayRef<Complex> x,
                                               bool inverse) {
  int64_t n = x.size();
  double sign = inverse ? 1.0 : -1.0;
  std::vector<Complex> y(n);
  if (n > 0 && llvm::isPowerOf2_64(n)) {
    // Iterative radix-2: bit-reversed load, then log2(n) butterfly passes.
    int bits = llvm::Log2_64(n);
    for (int64_t i = 0; i < n; ++i) {
      int64_t r = 0;
      for (int b = 0; b < bits; ++b)
        r |= ((i >> b) & 1) << (bits - 1 - b);
      y[r] = x[i];
    }
    for (int64_t len = 2; len <= n; len *= 2) {
      for (int64_t start = 0; start < n; start += len) {
        for (int64_t j = 0; j < len / 2; ++j) {
          Complex w = rootOfUnity(j, len, sign);
          Complex even = y[start + j], odd = w * y[start + j + len / 2];
          y[start + j] = even + odd;
          y[start + j + len / 2] = even - odd;
        }
      }
    }
  } else {
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < n; ++j)
        y[k] += x[j] * rootOfUnity(j * k, n, sign);
  }
  if (inverse)
    for (Complex &value : y)
      value /= double(n);
  return y;
}

std::vector<Complex> mlir::fftconv::computeRFFT(llvm::ArrayRef<double> x,
                                                int64_t n) {
  std::vector<Complex> padded(n);
  for (int64_t j = 0; j < n && j < int64_t(x.size()); ++j)
    padded[j] = x[j];
  std::vector<Complex> full = computeDFT(padded, /*inverse=*/false);
  full.resize(n / 2 + 1);
  return full;
}

std::vector<Complex>
mlir::fftconv::computeConvSpectrum(llvm::ArrayRef<Complex> kf) {
  int64_t half = kf.size() - 1;
  int64_t n = 2 * half;
  const Complex i(0.0, 1.0);
  auto a = [&](int64_t k) { return 0.5 * (1.0 - i * rootOfUnity(k, n, -1)); };
  auto b = [&](int64_t k) { return 0.5 * (1.0 + i * rootOfUnity(k, n, -1)); };
  // Bins 0 and M of a real kernel's spectrum are real; as irfft does, only
  // their real parts count.
  auto bin = [&](int64_t f) {
    return (f == 0 || f == half) ? Complex(kf[f].real()) : kf[f];
  };
  std::vector<Complex> coefficients(2 * half);
  for (int64_t k = 0; k < half; ++k) {
    Complex c1 = 0.5 * (1.0 + i * rootOfUnity(k, n, 1));
    Complex c2 = 0.5 * (1.0 - i * rootOfUnity(k, n, 1));
    Complex mirrored = std::conj(bin(half - k));
    coefficients[k] =
        c1 * bin(k) * a(k) + c2 * mirrored * std::conj(b(half - k));
    coefficients[half + k] =
        c1 * bin(k) * b(k) + c2 * mirrored * std::conj(a(half - k));
  }
  return coefficients;
}

std::vector<int64_t>
mlir::fftconv::monarchFrequencies(llvm::ArrayRef<int64_t> factors) {
  int64_t n = 1;
  for (int64_t factor : factors)
    n *= factor;
  std::vector<int64_t> frequencies(n);
  for (int64_t p = 0; p < n; ++p) {
    // The digits of p, most significant first (row-major over the
    // factors), weigh 1, N1, N1 N2, ... in the frequency.
    int64_t rest = p, frequency = 0, stride = n, place = 1;
    for (int64_t factor : factors) {
      stride /= factor;
      frequency += (rest / stride) * place;
      rest %= stride;
      place *= factor;
    }
    frequencies[p] = frequency;
  }
  return frequencies;
}
