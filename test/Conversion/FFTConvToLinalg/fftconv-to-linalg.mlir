// RUN: fftconv-opt %s -fftconv-to-linalg -split-input-file | FileCheck %s

// Causal: taps reaching before t = 0 read index 0 and are masked to zero;
// accumulation is in f64; the skip term and the rounding to f16 follow in
// one elementwise epilogue.
// CHECK-LABEL: func @conv_causal_skip
// CHECK: %[[ACC:.*]] = linalg.fill ins(%{{.*}} : f64) outs(%{{.*}} : tensor<2x3x16xf64>)
// CHECK: %[[SUM:.*]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK-SAME: outs(%[[ACC]]
// CHECK: %[[VALID:.*]] = arith.cmpi uge
// CHECK: tensor.extract %{{.*}} : tensor<2x3x16xf16>
// CHECK: arith.select %[[VALID]]
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[SUM]], %{{.*}}, %{{.*}} : tensor<2x3x16xf64>, tensor<2x3x16xf16>, tensor<3xf32>)
// CHECK: arith.truncf %{{.*}} : f64 to f16
// CHECK-NOT: fftconv.
func.func @conv_causal_skip(%u: tensor<2x3x16xf16>, %k: tensor<3x8xf32>, %d: tensor<3xf32>) -> tensor<2x3x16xf16> {
  %y = fftconv.conv causal %u, %k skip %d : (tensor<2x3x16xf16>, tensor<3x8xf32>, tensor<3xf32>) -> tensor<2x3x16xf16>
  return %y : tensor<2x3x16xf16>
}

// -----

// Circular: the source index wraps modulo L; no mask.
// CHECK-LABEL: func @conv_circular_gated
// CHECK: linalg.generic
// CHECK: arith.remui
// CHECK-NOT: arith.cmpi
// CHECK: tensor.extract
// CHECK: tensor.extract
// CHECK: linalg.generic
// CHECK: linalg.yield %{{.*}} : f32
func.func @conv_circular_gated(%u: tensor<1x2x8xf32>, %k: tensor<2x8xf32>, %g: tensor<1x2x8xf32>) -> tensor<1x2x8xf32> {
  %y = fftconv.conv circular %u, %k pregate %g postgate %g : (tensor<1x2x8xf32>, tensor<2x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  return %y : tensor<1x2x8xf32>
}

// -----

// Cropping: only the first n inputs enter the sum.
// CHECK-LABEL: func @fft_crop
// CHECK: %[[X:.*]] = tensor.extract_slice %{{.*}}[0, 0] [3, 64] [1, 1] : tensor<3x80xcomplex<f32>> to tensor<3x64xcomplex<f32>>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[X]] : tensor<3x64xcomplex<f32>>) outs(%{{.*}} : tensor<3x64xcomplex<f64>>)
// CHECK: math.cos
// CHECK: math.sin
// CHECK: complex.mul
func.func @fft_crop(%x: tensor<3x80xcomplex<f32>>) -> tensor<3x64xcomplex<f32>> {
  %y = fftconv.fft %x n = 64 : tensor<3x80xcomplex<f32>> -> tensor<3x64xcomplex<f32>>
  return %y : tensor<3x64xcomplex<f32>>
}

// -----

// Padding: the reduction runs over the 48 given inputs only.
// CHECK-LABEL: func @rfft_pad
// CHECK-NOT: tensor.extract_slice
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}} : tensor<3x48xf32>) outs(%{{.*}} : tensor<3x33xcomplex<f64>>)
func.func @rfft_pad(%x: tensor<3x48xf32>) -> tensor<3x33xcomplex<f32>> {
  %y = fftconv.rfft %x n = 64 : tensor<3x48xf32> -> tensor<3x33xcomplex<f32>>
  return %y : tensor<3x33xcomplex<f32>>
}

// -----

// CHECK-LABEL: func @ifft_irfft
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<3x64xcomplex<f64>>)
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [3, 33] [1, 1]
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<3x64xf64>)
func.func @ifft_irfft(%x: tensor<3x64xcomplex<f32>>) -> (tensor<3x64xcomplex<f32>>, tensor<3x64xf32>) {
  %0 = fftconv.ifft %x n = 64 : tensor<3x64xcomplex<f32>> -> tensor<3x64xcomplex<f32>>
  %1 = fftconv.irfft %x n = 64 : tensor<3x64xcomplex<f32>> -> tensor<3x64xf32>
  return %0, %1 : tensor<3x64xcomplex<f32>>, tensor<3x64xf32>
}

// -----

// CHECK-LABEL: func @regularizers
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK: math.copysign
// CHECK: %[[WINDOW:.*]] = tensor.empty() : tensor<5xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[WINDOW]] : tensor<5xf32>)
// CHECK: arith.constant 2.000000e-01 : f64
func.func @regularizers(%k: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = fftconv.squash %k lambda = 0.5 : tensor<4x8xf32>
  %1 = fftconv.smooth %k width = 5 : tensor<4x8xf32>
  return %0, %1 : tensor<4x8xf32>, tensor<4x8xf32>
}
