// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="max-row-length=4096" -verify-diagnostics

// Rows of at most 4096 (max-row-length), and an outer block of 8 columns
// holding 4096 of them at Half (the outer kernels of Split too): up to 2^24
// points; a causal L = 2^25 (a transform of 2^26) is past it.
func.func @past_the_rows(%u: tensor<1x1x33554432xf16>, %k: tensor<1x33554432xf32>) -> tensor<1x1x33554432xf16> {
  // expected-error @+1 {{a transform of 67108864 points is past the three-pass GPU kernels at half precision (up to 16777216 points at split, 16777216 at half, with rows of at most 4096)}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x33554432xf16>, tensor<1x33554432xf32>) -> tensor<1x1x33554432xf16>
  return %y : tensor<1x1x33554432xf16>
}
