// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels -verify-diagnostics

// The three-pass kernels hold rows of at most 128 KiB and outer blocks of
// 8 columns: 2^26 points at split precision (its outer kernels at half past
// 2048 rows), 2^27 at half (what auto takes past 2^25). A causal L = 2^27
// needs a transform of 2^28.
func.func @too_long(%u: tensor<1x1x134217728xf16>, %k: tensor<1x134217728xf32>) -> tensor<1x1x134217728xf16> {
  // expected-error @+1 {{a transform of 268435456 points is past the three-pass GPU kernels at half precision (up to 67108864 points at split, 134217728 at half)}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x134217728xf16>, tensor<1x134217728xf32>) -> tensor<1x1x134217728xf16>
  return %y : tensor<1x1x134217728xf16>
}
