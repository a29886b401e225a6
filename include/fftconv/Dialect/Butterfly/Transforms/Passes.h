//===- Passes.h - butterfly transformation passes ---------------*- C++ -*-===//

#ifndef FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_PASSES_H
#define FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_PASSES_H

#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"
#include "fftconv/Dialect/Butterfly/Transforms/CostModel.h"
#include "fftconv/Dialect/Butterfly/Transforms/GPUPlan.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace butterfly {

#define GEN_PASS_DECL
#include "fftconv/Dialect/Butterfly/Transforms/Passes.h.inc"

/// Patterns that rewrite butterfly.monarch into dft/kron/twiddle/permute.
void populateExpandMonarchPatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "fftconv/Dialect/Butterfly/Transforms/Passes.h.inc"

} // namespace butterfly
} // namespace mlir

#endif // FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_PASSES_H
