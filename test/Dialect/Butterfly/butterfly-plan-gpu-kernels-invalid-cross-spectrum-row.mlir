// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="chip=sm_80 batch-tile=10" -verify-diagnostics

// The single-kernel cross spectrum sums its row (M + 1 complex f32) in
// shared memory beside its tile of 10 batch elements (20 sequences of
// 2048 complex values at Half): past the sm_80 block's memory, and
// N = 4096 is too short for the three-pass form it would take otherwise.
func.func @cross_spectrum_row_past_shared_memory(%u: tensor<10x1x2048xf16>, %k: tensor<1x2048xf32>, %dy: tensor<10x1x2048xf16>) -> tensor<1x2048xf32> {
  // expected-error @+1 {{the single-kernel cross spectrum, summing its row, needs 181256 bytes of shared memory a block, more than the 166912 the chip has}}
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<10x1x2048xf16>, tensor<1x2048xf32>, tensor<10x1x2048xf16>) -> tensor<1x2048xf32>
  return %dk : tensor<1x2048xf32>
}
