//===- FFTConvToLinalg.h - fftconv to linalg lowering -----------*- C++ -*-===//

#ifndef FFTCONV_CONVERSION_FFTCONVTOLINALG_FFTCONVTOLINALG_H
#define FFTCONV_CONVERSION_FFTCONVTOLINALG_FFTCONVTOLINALG_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace fftconv {

#define GEN_PASS_DECL_FFTCONVTOLINALG
#include "fftconv/Conversion/Passes.h.inc"

/// Patterns that lower every fftconv op to linalg/tensor/arith/math/complex.
void populateFFTConvToLinalgPatterns(RewritePatternSet &patterns);

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_CONVERSION_FFTCONVTOLINALG_FFTCONVTOLINALG_H
