//===- Passes.td - fftconv conversion passes --------------*- tablegen -*-===//

#ifndef FFTCONV_CONVERSION_PASSES_TD
#define FFTCONV_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def FFTConvToLinalg : Pass<"fftconv-to-linalg"> {
  let summary = "Lower fftconv ops to direct algorithms in linalg on tensors";
  let description = [{
    The CPU reference lowering of the fftconv dialect: `fftconv.conv` as a
    direct convolution (a `linalg.generic` reduction over the kernel taps,
    with the gates and the skip as elementwise steps), the FFT ops as direct
    DFTs with twiddles computed in f64, and the regularizers as elementwise
    and windowed `linalg.generic`s. Slow on purpose: it is the oracle that
    every faster rewrite is checked against.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::complex::ComplexDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def ButterflyToLinalg : Pass<"butterfly-to-linalg"> {
  let summary = "Lower butterfly ops to linalg on tensors";
  let description = [{
    `butterfly.dft` becomes a `linalg.generic` that computes the factor
    from its indices, `butterfly.kron` a batched matrix product over a
    reshaped view, `butterfly.twiddle` an elementwise product,
    `butterfly.permute` a `linalg.transpose`, and `butterfly.monarch` is
    first expanded into those stages.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::complex::ComplexDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // FFTCONV_CONVERSION_PASSES_TD
