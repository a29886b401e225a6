// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=1024" -verify-diagnostics

// The three-pass form's inner kernel runs rows of at least 4096 points, and
// its outer kernels at least two of them.
func.func @too_short_for_three_passes(%u: tensor<1x1x1024xf16>, %k: tensor<1x1024xf32>) -> tensor<1x1x1024xf16> {
  // expected-error @+1 {{the three-pass GPU kernels need a transform of at least 8192 points, a power of two}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x1024xf16>, tensor<1x1024xf32>) -> tensor<1x1x1024xf16>
  return %y : tensor<1x1x1024xf16>
}
