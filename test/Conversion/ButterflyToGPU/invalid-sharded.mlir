// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="ranks=2 rank=0" -butterfly-to-gpu -verify-diagnostics

// A rank's buffers are its columns of every row: Smooth on k would read
// neighbouring taps on the other rank (Squash, tap by tap, would not).
func.func @smoothed(%u: tensor<2x1x32768xf16>, %k: tensor<1x32768xf32>) -> tensor<2x1x32768xf16> {
  %q = fftconv.squash %k lambda = 0.1 : tensor<1x32768xf32>
  %s = fftconv.smooth %q width = 3 : tensor<1x32768xf32>
  // expected-error @+1 {{a sharded convolution needs a kernel of taps read one by one (squash at most: no smooth, reverse kernel or circulation) and whole rows of 4096 samples, got 32768}}
  %y = fftconv.conv causal %u, %s : (tensor<2x1x32768xf16>, tensor<1x32768xf32>) -> tensor<2x1x32768xf16>
  return %y : tensor<2x1x32768xf16>
}

// -----

// A partial kernel of part of a row.
func.func @partial_kernel(%u: tensor<2x1x32768xf16>, %k: tensor<1x1000xf32>) -> tensor<2x1x32768xf16> {
  // expected-error @+1 {{a sharded convolution needs a kernel of taps read one by one (squash at most: no smooth, reverse kernel or circulation) and whole rows of 4096 samples, got 1000}}
  %y = fftconv.conv causal %u, %k : (tensor<2x1x32768xf16>, tensor<1x1000xf32>) -> tensor<2x1x32768xf16>
  return %y : tensor<2x1x32768xf16>
}

// -----

// The rows fix a function's layout: every convolution sharded alike.
func.func @two(%u: tensor<2x1x32768xf16>, %v: tensor<2x1x4194304xf16>, %k: tensor<1x32768xf32>, %kv: tensor<1x4194304xf32>) -> (tensor<2x1x32768xf16>, tensor<2x1x4194304xf16>) {
  %y = fftconv.conv causal %u, %k : (tensor<2x1x32768xf16>, tensor<1x32768xf32>) -> tensor<2x1x32768xf16>
  // expected-error @+1 {{the GPU lowering shards every convolution of a function alike (the same ranks and rows of 4096 samples)}}
  %z = fftconv.conv circular %v, %kv : (tensor<2x1x4194304xf16>, tensor<1x4194304xf32>) -> tensor<2x1x4194304xf16>
  return %y, %z : tensor<2x1x32768xf16>, tensor<2x1x4194304xf16>
}
