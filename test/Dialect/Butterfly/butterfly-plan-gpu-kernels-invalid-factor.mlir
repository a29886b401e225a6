// RUN: fftconv-opt %s -fftconv-to-butterfly="order=1" -butterfly-plan-gpu-kernels -verify-diagnostics

// Factors above 32 would not fit the tensor-core stage's registers (order 1
// makes the whole transform one factor of 128).
func.func @large_factor(%u: tensor<1x1x128xf32>, %k: tensor<1x128xf32>) -> tensor<1x1x128xf32> {
  // expected-error @+1 {{factor 128 is not one the GPU kernels run}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x128xf32>, tensor<1x128xf32>) -> tensor<1x1x128xf32>
  return %y : tensor<1x1x128xf32>
}
