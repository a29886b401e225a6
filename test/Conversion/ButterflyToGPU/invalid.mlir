// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels -butterfly-to-gpu -verify-diagnostics

// A constant kernel folds into a constant spectrum on the host; the GPU
// lowering computes spectra on the GPU from a kernel argument.
func.func @constant_kernel(%u: tensor<1x1x128xf32>) -> tensor<1x1x128xf32> {
  %k = arith.constant dense<0.5> : tensor<1x128xf32>
  // expected-error @+1 {{computes the kernel spectrum on the GPU from a kernel given as a function argument}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x128xf32>, tensor<1x128xf32>) -> tensor<1x1x128xf32>
  return %y : tensor<1x1x128xf32>
}

// -----

// Work outside the convolution has no kernel.
func.func @outside(%u: tensor<1x1x128xf32>, %k: tensor<1x128xf32>) -> (tensor<1x1x128xf32>, tensor<1x128xf32>) {
  %y = fftconv.conv causal %u, %k : (tensor<1x1x128xf32>, tensor<1x128xf32>) -> tensor<1x1x128xf32>
  // expected-error @+1 {{has no kernel for 'fftconv.squash' outside a fused convolution region}}
  %s = fftconv.squash %k lambda = 0.1 : tensor<1x128xf32>
  return %y, %s : tensor<1x1x128xf32>, tensor<1x128xf32>
}


// -----

// An outer_inverse region is the last of a three-pass chain, never alone.
func.func @lonely_outer_inverse(%x: tensor<1x1x8xf32>) -> tensor<1x1x8xf32> {
  // expected-error @+1 {{does not run 'outer_inverse' regions on their own}}
  %y = butterfly.fused outer_inverse ins(%x : tensor<1x1x8xf32>) onchip_bytes = 64 {
  ^bb0(%a: tensor<1x1x8xf32>):
    butterfly.yield %a : tensor<1x1x8xf32>
  } -> tensor<1x1x8xf32>
  return %y : tensor<1x1x8xf32>
}

// -----

// An outer_forward region must feed a conv region.
func.func @broken_chain(%x: tensor<1x1x8xf32>) -> tensor<1x1x8xf32> {
  // expected-error @+1 {{needs an outer_forward region to feed one conv region}}
  %y = butterfly.fused outer_forward ins(%x : tensor<1x1x8xf32>) onchip_bytes = 64 {
  ^bb0(%a: tensor<1x1x8xf32>):
    butterfly.yield %a : tensor<1x1x8xf32>
  } -> tensor<1x1x8xf32>
  return %y : tensor<1x1x8xf32>
}
