// RUN: fftconv-opt %s -fftconv-to-linalg -verify-diagnostics

// The direct lowering is written for B x H x L: a multi-head convolution is
// flattened first (fftconv-to-cpu does).
func.func @multi_head(%u: tensor<2x3x4x1x64xf32>, %k: tensor<4x64xf32>) -> tensor<2x3x4x1x64xf32> {
  // expected-error @+1 {{'fftconv.conv' op is multi-head: fftconv-to-linalg lowers the B x H x L form (run fftconv-flatten-heads first, as fftconv-to-cpu does)}}
  %y = fftconv.conv causal %u, %k : (tensor<2x3x4x1x64xf32>, tensor<4x64xf32>) -> tensor<2x3x4x1x64xf32>
  return %y : tensor<2x3x4x1x64xf32>
}
