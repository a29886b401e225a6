// RUN: fftconv-opt %s -fftconv-conv-to-fft | FileCheck %s
// RUN: fftconv-opt %s -fftconv-to-cpu -o /dev/null

// The largest sizes the verifier accepts are accepted, and lower: L = 2^31
// with K = L has the largest FFT size, 2^32 (the verifier's limits are in
// invalid-sizes.mlir).

// CHECK-LABEL: func.func @longest_conv
func.func @longest_conv(%u: tensor<1x1x2147483648xf32>, %k: tensor<1x2147483648xf32>) -> tensor<1x1x2147483648xf32> {
  // CHECK: fftconv.rfft %{{.*}} n = 4294967296
  // CHECK: fftconv.irfft %{{.*}} n = 4294967296
  %y = fftconv.conv causal %u, %k : (tensor<1x1x2147483648xf32>, tensor<1x2147483648xf32>) -> tensor<1x1x2147483648xf32>
  return %y : tensor<1x1x2147483648xf32>
}

// CHECK-LABEL: func.func @longest_fft
func.func @longest_fft(%x: tensor<4x8xcomplex<f32>>) -> tensor<4x4294967296xcomplex<f32>> {
  %y = fftconv.fft %x n = 4294967296 : tensor<4x8xcomplex<f32>> -> tensor<4x4294967296xcomplex<f32>>
  return %y : tensor<4x4294967296xcomplex<f32>>
}

// 2^56 elements exactly.
// CHECK-LABEL: func.func @most_elements
func.func @most_elements(%k: tensor<16777216x4294967296xf32>) -> tensor<16777216x4294967296xf32> {
  %y = fftconv.squash %k lambda = 1.0 : tensor<16777216x4294967296xf32>
  return %y : tensor<16777216x4294967296xf32>
}

// B x H x L = 2^54 exactly: its spectra (B x H x (N/2 + 1), N = 2^16) fit.
// CHECK-LABEL: func.func @most_conv_elements
func.func @most_conv_elements(%u: tensor<137438953472x4x32768xf16>, %k: tensor<4x32768xf32>) -> tensor<137438953472x4x32768xf16> {
  // CHECK: fftconv.irfft %{{.*}} n = 65536
  %y = fftconv.conv causal %u, %k : (tensor<137438953472x4x32768xf16>, tensor<4x32768xf32>) -> tensor<137438953472x4x32768xf16>
  return %y : tensor<137438953472x4x32768xf16>
}
