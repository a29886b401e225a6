// RUN: fftconv-opt %s -fftconv-conv-to-fft="min-size=256" -split-input-file | FileCheck %s
// RUN: fftconv-opt %s -fftconv-conv-grad-to-fft="min-size=256" -split-input-file | FileCheck %s --check-prefix=GRAD

// A short causal convolution is padded to the smallest size asked for
// (the GPU kernels' 256), which is exact: only more zero padding.
// CHECK-LABEL: func @short_causal
// CHECK: fftconv.rfft %{{.*}} n = 256 : tensor<4x24xf32> -> tensor<4x129xcomplex<f32>>
// CHECK: fftconv.irfft %{{.*}} n = 256
func.func @short_causal(%u: tensor<2x4x24xf32>, %k: tensor<4x24xf32>) -> tensor<2x4x24xf32> {
  %y = fftconv.conv causal %u, %k : (tensor<2x4x24xf32>, tensor<4x24xf32>) -> tensor<2x4x24xf32>
  return %y : tensor<2x4x24xf32>
}

// -----

// A circular convolution shorter than the smallest size asked for takes
// the circulated taps too (N >= 2L, at least that size).
// CHECK-LABEL: func @short_circular
// CHECK: fftconv.circulate %{{.*}} period = 32 : tensor<4x32xf32> -> tensor<4x256xf32>
// CHECK: fftconv.rfft %{{.*}} n = 256 :
func.func @short_circular(%u: tensor<2x4x32xf32>, %k: tensor<4x32xf32>) -> tensor<2x4x32xf32> {
  %y = fftconv.conv circular %u, %k : (tensor<2x4x32xf32>, tensor<4x32xf32>) -> tensor<2x4x32xf32>
  return %y : tensor<2x4x32xf32>
}

// -----

// The gradients take the forward's padded size.
// GRAD-LABEL: func @short_grad
// GRAD: fftconv.rfft %{{.*}} n = 256
// GRAD: fftconv.irfft %{{.*}} n = 256
func.func @short_grad(%u: tensor<2x4x24xf32>, %k: tensor<4x24xf32>, %dy: tensor<2x4x24xf32>) -> tensor<2x4x24xf32> {
  %du = fftconv.conv_grad causal %u, %k grad %dy wrt [input]
      : (tensor<2x4x24xf32>, tensor<4x24xf32>, tensor<2x4x24xf32>) -> tensor<2x4x24xf32>
  return %du : tensor<2x4x24xf32>
}
