// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="max-row-length=4096" -verify-diagnostics

// Rows of at most 4096 (max-row-length), and outer blocks holding 8192 of
// them at Half (on 4 columns past 4096; the outer kernels of Split too): up
// to 2^25 points at either precision, so auto keeps Split; a causal L =
// 2^25 (a transform of 2^26) is past it.
func.func @past_the_rows(%u: tensor<1x1x33554432xf16>, %k: tensor<1x33554432xf32>) -> tensor<1x1x33554432xf16> {
  // expected-error @+1 {{a transform of 67108864 points is past the three-pass GPU kernels at split precision (up to 33554432 points at split, 33554432 at half, with rows of at most 4096)}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x33554432xf16>, tensor<1x33554432xf32>) -> tensor<1x1x33554432xf16>
  return %y : tensor<1x1x33554432xf16>
}
