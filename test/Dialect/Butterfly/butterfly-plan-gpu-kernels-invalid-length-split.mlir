// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="precision=split" -verify-diagnostics

// Asked for split precision, a causal L = 2^25 (a transform of 2^26) is
// past its rows of 16384 and outer blocks of 2048 rows; auto takes half.
func.func @past_split(%u: tensor<1x1x33554432xf16>, %k: tensor<1x33554432xf32>) -> tensor<1x1x33554432xf16> {
  // expected-error @+1 {{a transform of 67108864 points is past the three-pass GPU kernels at split precision (up to 33554432 points at split, 134217728 at half)}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x33554432xf16>, tensor<1x33554432xf32>) -> tensor<1x1x33554432xf16>
  return %y : tensor<1x1x33554432xf16>
}
