// RUN: fftconv-opt %s -canonicalize | FileCheck %s

// CHECK-LABEL: func @ifft_of_fft
// CHECK-SAME: (%[[X:.*]]: tensor<3x64xcomplex<f32>>)
// CHECK-NEXT: return %[[X]], %[[X]]
func.func @ifft_of_fft(%x: tensor<3x64xcomplex<f32>>) -> (tensor<3x64xcomplex<f32>>, tensor<3x64xcomplex<f32>>) {
  %0 = fftconv.fft %x n = 64 : tensor<3x64xcomplex<f32>> -> tensor<3x64xcomplex<f32>>
  %1 = fftconv.ifft %0 n = 64 : tensor<3x64xcomplex<f32>> -> tensor<3x64xcomplex<f32>>
  %2 = fftconv.ifft %x n = 64 : tensor<3x64xcomplex<f32>> -> tensor<3x64xcomplex<f32>>
  %3 = fftconv.fft %2 n = 64 : tensor<3x64xcomplex<f32>> -> tensor<3x64xcomplex<f32>>
  return %1, %3 : tensor<3x64xcomplex<f32>>, tensor<3x64xcomplex<f32>>
}

// Padding on the way in is not undone by the inverse: no fold.
// CHECK-LABEL: func @ifft_of_padded_fft
// CHECK: fftconv.fft
// CHECK: fftconv.ifft
func.func @ifft_of_padded_fft(%x: tensor<3x48xcomplex<f32>>) -> tensor<3x64xcomplex<f32>> {
  %0 = fftconv.fft %x n = 64 : tensor<3x48xcomplex<f32>> -> tensor<3x64xcomplex<f32>>
  %1 = fftconv.ifft %0 n = 64 : tensor<3x64xcomplex<f32>> -> tensor<3x64xcomplex<f32>>
  return %1 : tensor<3x64xcomplex<f32>>
}

// CHECK-LABEL: func @irfft_of_rfft
// CHECK-SAME: (%[[X:.*]]: tensor<3x64xf32>)
// CHECK-NEXT: return %[[X]]
func.func @irfft_of_rfft(%x: tensor<3x64xf32>) -> tensor<3x64xf32> {
  %0 = fftconv.rfft %x n = 64 : tensor<3x64xf32> -> tensor<3x33xcomplex<f32>>
  %1 = fftconv.irfft %0 n = 64 : tensor<3x33xcomplex<f32>> -> tensor<3x64xf32>
  return %1 : tensor<3x64xf32>
}

// A mismatched length crops: no fold.
// CHECK-LABEL: func @irfft_of_rfft_other_n
// CHECK: fftconv.irfft
func.func @irfft_of_rfft_other_n(%x: tensor<3x64xf32>) -> tensor<3x63xf32> {
  %0 = fftconv.rfft %x n = 64 : tensor<3x64xf32> -> tensor<3x33xcomplex<f32>>
  %1 = fftconv.irfft %0 n = 63 : tensor<3x33xcomplex<f32>> -> tensor<3x63xf32>
  return %1 : tensor<3x63xf32>
}

// CHECK-LABEL: func @squash_zero
// CHECK-SAME: (%[[K:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: return %[[K]]
func.func @squash_zero(%k: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = fftconv.squash %k lambda = 0.0 : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// CHECK-LABEL: func @squash_of_squash
// CHECK-SAME: (%[[K:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: %[[S:.*]] = fftconv.squash %[[K]] lambda = 3.000000e-01
// CHECK-NEXT: return %[[S]]
func.func @squash_of_squash(%k: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = fftconv.squash %k lambda = 0.125 : tensor<4x8xf32>
  %1 = fftconv.squash %0 lambda = 0.175 : tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// CHECK-LABEL: func @smooth_width_one
// CHECK-SAME: (%[[K:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: return %[[K]]
func.func @smooth_width_one(%k: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = fftconv.smooth %k width = 1 : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// Dead, side-effect-free convolutions disappear.
// CHECK-LABEL: func @dead_conv
// CHECK-NOT: fftconv.conv
func.func @dead_conv(%u: tensor<1x2x8xf32>, %k: tensor<2x8xf32>) {
  %0 = fftconv.conv causal %u, %k : (tensor<1x2x8xf32>, tensor<2x8xf32>) -> tensor<1x2x8xf32>
  return
}

// A constant kernel's spectrum folds (computed in f64): 1, 2, 3 padded to 4.
// CHECK-LABEL: func @rfft_constant
// CHECK-NEXT: %[[C:.*]] = arith.constant dense<{{\[}}[(6.000000e+00,0.000000e+00), (-2.000000e+00,-2.000000e+00), (2.000000e+00,0.000000e+00)]]> : tensor<1x3xcomplex<f32>>
// CHECK-NEXT: return %[[C]]
func.func @rfft_constant() -> tensor<1x3xcomplex<f32>> {
  %k = arith.constant dense<[[1.0, 2.0, 3.0]]> : tensor<1x3xf32>
  %0 = fftconv.rfft %k n = 4 : tensor<1x3xf32> -> tensor<1x3xcomplex<f32>>
  return %0 : tensor<1x3xcomplex<f32>>
}
