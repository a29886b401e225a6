//===- Spectral.h - host-side spectral arithmetic ---------------*- C++ -*-===//
//
// The arithmetic the compiler itself does on constants: DFTs for folding a
// constant kernel's spectrum, the real-input trick's kernel coefficients,
// and Monarch-order index maps. Double precision throughout; no MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_SUPPORT_SPECTRAL_H
#define FFTCONV_SUPPORT_SPECTRAL_H

#include "llvm/ADT/ArrayRef.h"

#include <complex>
#include <cstdint>
#include <vector>

namespace mlir {
namespace fftconv {

using Complex = std::complex<double>;

/// The DFT of `x` (length n): `y[k] = sum_j x[j] exp(-+2 pi i jk/n)`, `+` and
/// scaled by 1/n when `inverse`. O(n log n) for powers of two, O(n^2)
/// otherwise.
std::vector<Complex> computeDFT(llvm::ArrayRef<Complex> x, bool inverse);

/// numpy.fft.rfft(x, n): `x` zero-padded or cropped to n, bins 0..n/2.
std::vector<Complex> computeRFFT(llvm::ArrayRef<double> x, int64_t n);

/// The coefficients A (first M entries) and B (next M entries) of
/// butterfly.conv_spectrum from the M + 1 bins `kf` of rfft(k, 2M).
std::vector<Complex> computeConvSpectrum(llvm::ArrayRef<Complex> kf);

/// For Monarch order over `factors`: entry p is the frequency stored at
/// position p, i.e. k1 + N1 k2 + N1 N2 k3 + ... for the row-major digits
/// (k1, ..., kp) of p.
std::vector<int64_t> monarchFrequencies(llvm::ArrayRef<int64_t> factors);

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_SUPPORT_SPECTRAL_H
