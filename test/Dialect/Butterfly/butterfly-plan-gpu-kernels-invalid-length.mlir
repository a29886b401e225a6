// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels -verify-diagnostics

// The three-pass kernels hold rows of at most 128 KiB and outer blocks of
// at most 8192 rows (4 columns past 4096): 2^27 points at split precision
// (its outer kernels at half past 2048 rows), 2^28 at half (what auto
// takes past 2^26). A causal L = 2^28 needs a transform of 2^29.
func.func @too_long(%u: tensor<1x1x268435456xf16>, %k: tensor<1x268435456xf32>) -> tensor<1x1x268435456xf16> {
  // expected-error @+1 {{a transform of 536870912 points is past the three-pass GPU kernels at half precision (up to 134217728 points at split, 268435456 at half)}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x268435456xf16>, tensor<1x268435456xf32>) -> tensor<1x1x268435456xf16>
  return %y : tensor<1x1x268435456xf16>
}
