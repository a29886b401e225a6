//===- ButterflyToLinalg.h - butterfly to linalg lowering -------*- C++ -*-===//

#ifndef FFTCONV_CONVERSION_BUTTERFLYTOLINALG_BUTTERFLYTOLINALG_H
#define FFTCONV_CONVERSION_BUTTERFLYTOLINALG_BUTTERFLYTOLINALG_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace fftconv {

#define GEN_PASS_DECL_BUTTERFLYTOLINALG
#include "fftconv/Conversion/Passes.h.inc"

/// Patterns that lower every butterfly op to linalg/tensor/arith/complex.
/// butterfly.monarch is expanded first (see populateExpandMonarchPatterns).
void populateButterflyToLinalgPatterns(RewritePatternSet &patterns);

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_CONVERSION_BUTTERFLYTOLINALG_BUTTERFLYTOLINALG_H
