// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="precision=split" -verify-diagnostics

// Asked for split precision, a causal L = 2^27 (a transform of 2^28) is
// past its rows of 16384 and outer blocks of 8192 rows (the outer kernels
// at half past 2048, on 4 columns past 4096); auto takes half.
func.func @past_split(%u: tensor<1x1x134217728xf16>, %k: tensor<1x134217728xf32>) -> tensor<1x1x134217728xf16> {
  // expected-error @+1 {{a transform of 268435456 points is past the three-pass GPU kernels at split precision (up to 134217728 points at split, 268435456 at half)}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x134217728xf16>, tensor<1x134217728xf32>) -> tensor<1x1x134217728xf16>
  return %y : tensor<1x1x134217728xf16>
}
