// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-to-gpu -verify-diagnostics

// The kernels read and write 8 elements at a time.
func.func @odd_length(%u: tensor<2x4x1020xf16>, %k: tensor<4x1020xf32>) -> tensor<2x4x1020xf16> {
  // expected-error @+1 {{sequence length must be a multiple of 8}}
  %y = fftconv.conv causal %u, %k : (tensor<2x4x1020xf16>, tensor<4x1020xf32>) -> tensor<2x4x1020xf16>
  return %y : tensor<2x4x1020xf16>
}

// -----

// Transforms past on-chip memory take the three-pass form, which has no GPU
// kernels yet.
func.func @three_pass(%u: tensor<1x1x65536xf16>, %k: tensor<1x65536xf32>) -> tensor<1x1x65536xf16> {
  // expected-error @+1 {{does not run 'outer_forward' regions yet}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x65536xf16>, tensor<1x65536xf32>) -> tensor<1x1x65536xf16>
  return %y : tensor<1x1x65536xf16>
}

// -----

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

