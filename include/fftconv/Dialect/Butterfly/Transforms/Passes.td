//===- Passes.td - butterfly transformation passes --------*- tablegen -*-===//

#ifndef FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_PASSES_TD
#define FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ButterflyExpandMonarch : Pass<"butterfly-expand-monarch"> {
  let summary = "Expand butterfly.monarch into its dft/kron/twiddle/permute stages";
  let description = [{
    Rewrites every `butterfly.monarch` into the explicit order-p product of
    `butterfly.dft` factors applied with `butterfly.kron`, the
    `butterfly.twiddle` diagonals between stages and, where the op asks for
    natural order, the `butterfly.permute` digit reversal. The result
    computes the same transform, stage by stage.
  }];
  let dependentDialects = ["::mlir::butterfly::ButterflyDialect"];
}

#endif // FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_PASSES_TD
