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

def ButterflyFuseConv : Pass<"butterfly-fuse-conv"> {
  let summary = "Group each decomposed convolution into fused kernel regions";
  let description = [{
    Around each `butterfly.hermitian_mul` (the spectral product of a
    decomposed convolution), collects the forward stages and everything
    before them that feeds only the convolution (pregate, casts, packing),
    and the inverse stages, the unpacking and the crop, skip, postgate and
    rounding after it, and outlines them into one `butterfly.fused` region
    of kind `conv`: the unit that becomes one GPU kernel. The kernel's
    coefficients (computed once per channel) stay outside and become an
    input. In the three-pass form (ops tagged `butterfly.outer_pass` by the
    decomposition) the outer passes through memory become regions of their
    own, `outer_forward` and `outer_inverse`, around the inner `conv`
    region.
  }];
  let dependentDialects = ["::mlir::butterfly::ButterflyDialect"];
}

#endif // FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_PASSES_TD
