// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="ranks=3" -verify-diagnostics

// A sequence is sharded over a power of two of ranks (the three-pass view's
// rows and columns split evenly): refused where the plans would be made.
// expected-error @+1 {{ranks must be a power of two (1: not sharded) and rank one of them, got ranks = 3, rank = 0}}
func.func @three_ranks(%u: tensor<2x1x32768xf16>, %k: tensor<1x32768xf32>) -> tensor<2x1x32768xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x1x32768xf16>, tensor<1x32768xf32>) -> tensor<2x1x32768xf16>
  return %y : tensor<2x1x32768xf16>
}
