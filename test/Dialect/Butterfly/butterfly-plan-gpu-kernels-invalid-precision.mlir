// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="precision=quad" -verify-diagnostics

// A precision the kernels do not have.
// expected-error @+1 {{unknown precision 'quad': expected auto, split or half}}
func.func @unknown_precision(%u: tensor<2x4x128xf16>, %k: tensor<4x128xf32>) -> tensor<2x4x128xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x4x128xf16>, tensor<4x128xf32>) -> tensor<2x4x128xf16>
  return %y : tensor<2x4x128xf16>
}
