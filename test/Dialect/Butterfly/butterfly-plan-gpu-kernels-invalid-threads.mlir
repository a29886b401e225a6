// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="threads=48" -verify-diagnostics

// The kernels' stages are written for whole warps, in both forms.
func.func @partial_warp(%u: tensor<2x4x128xf16>, %k: tensor<4x128xf32>) -> tensor<2x4x128xf16> {
  // expected-error @+1 {{the block size must be a multiple of 32}}
  %y = fftconv.conv causal %u, %k : (tensor<2x4x128xf16>, tensor<4x128xf32>) -> tensor<2x4x128xf16>
  return %y : tensor<2x4x128xf16>
}

// -----

func.func @three_pass_partial_warp(%u: tensor<1x1x65536xf16>, %k: tensor<1x65536xf32>) -> tensor<1x1x65536xf16> {
  // expected-error @+1 {{the block size must be a multiple of 32}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x65536xf16>, tensor<1x65536xf32>) -> tensor<1x1x65536xf16>
  return %y : tensor<1x1x65536xf16>
}
