// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="precision=split" -verify-diagnostics

// Asked for split precision, a causal L = 2^26 (a transform of 2^27) is
// past its rows of 16384 and outer blocks of 4096 rows (the outer kernels
// at half past 2048); auto takes half.
func.func @past_split(%u: tensor<1x1x67108864xf16>, %k: tensor<1x67108864xf32>) -> tensor<1x1x67108864xf16> {
  // expected-error @+1 {{a transform of 134217728 points is past the three-pass GPU kernels at split precision (up to 67108864 points at split, 134217728 at half)}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x67108864xf16>, tensor<1x67108864xf32>) -> tensor<1x1x67108864xf16>
  return %y : tensor<1x1x67108864xf16>
}
