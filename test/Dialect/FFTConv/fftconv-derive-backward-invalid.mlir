// RUN: fftconv-opt %s -fftconv-derive-backward -split-input-file -verify-diagnostics

func.func @unsupported_op(%u: tensor<1x2x32xf32>, %k: tensor<2x32xf32>) -> tensor<1x2x32xf32> {
  %y = fftconv.conv causal %u, %k : (tensor<1x2x32xf32>, tensor<2x32xf32>) -> tensor<1x2x32xf32>
  // expected-error @+1 {{fftconv-derive-backward: cannot differentiate 'arith.addf'; a forward function may hold only fftconv.conv, with fftconv.squash and fftconv.smooth on its operands, and constants}}
  %z = arith.addf %y, %u : tensor<1x2x32xf32>
  return %z : tensor<1x2x32xf32>
}

// -----

// expected-error @+1 {{fftconv-derive-backward: @taken_backward already exists}}
func.func @taken(%u: tensor<1x2x32xf32>, %k: tensor<2x32xf32>) -> tensor<1x2x32xf32> {
  %y = fftconv.conv causal %u, %k : (tensor<1x2x32xf32>, tensor<2x32xf32>) -> tensor<1x2x32xf32>
  return %y : tensor<1x2x32xf32>
}
func.func private @taken_backward()
