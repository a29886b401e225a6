// RUN: fftconv-opt %s -fftconv-derive-backward="arguments=0,2" -verify-diagnostics

// expected-error @+1 {{fftconv-derive-backward: asks for the gradient of argument 2 of a function of 2 arguments}}
func.func @two_arguments(%u: tensor<1x2x32xf32>, %k: tensor<2x32xf32>) -> tensor<1x2x32xf32> {
  %y = fftconv.conv causal %u, %k : (tensor<1x2x32xf32>, tensor<2x32xf32>) -> tensor<1x2x32xf32>
  return %y : tensor<1x2x32xf32>
}
