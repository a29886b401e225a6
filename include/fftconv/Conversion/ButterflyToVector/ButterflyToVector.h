//===- ButterflyToVector.h - Monarch DFTs as vector codelets ----*- C++ -*-===//

#ifndef FFTCONV_CONVERSION_BUTTERFLYTOVECTOR_BUTTERFLYTOVECTOR_H
#define FFTCONV_CONVERSION_BUTTERFLYTOVECTOR_BUTTERFLYTOVECTOR_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace fftconv {

#define GEN_PASS_DECL_BUTTERFLYTOVECTOR
#include "fftconv/Conversion/Passes.h.inc"

/// Patterns that lower butterfly.monarch ops whose factors are powers of two
/// up to `maxFactor` (and that have no spectral band) to scf loops of DFT
/// codelets on vector<`vectorWidth` x f32> planes, on tensors. Other
/// monarch ops are left for butterfly-to-linalg.
void populateButterflyToVectorPatterns(RewritePatternSet &patterns,
                                       int64_t vectorWidth, int64_t maxFactor);

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_CONVERSION_BUTTERFLYTOVECTOR_BUTTERFLYTOVECTOR_H
