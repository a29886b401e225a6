// RUN: fftconv-opt %s -fftconv-monarch-decompose | FileCheck %s

// rfft crops an input longer than n; pack_real takes at most 2M = n values,
// so the decomposition of a convolution in FFT form crops first (it fed the
// 10000 values to pack_real, which failed verification; found by
// scripts/fuzz.py). Numerics: test/Integration/test_decomposition.py.

// CHECK-LABEL: func.func @cropped
// CHECK: %[[CROP:.*]] = tensor.extract_slice %{{.*}}[0, 0, 0] [2, 4, 8192] [1, 1, 1] : tensor<2x4x10000xf32> to tensor<2x4x8192xf32>
// CHECK: butterfly.pack_real %[[CROP]] : tensor<2x4x8192xf32> -> tensor<2x4x4096xcomplex<f32>>
func.func @cropped(%v: tensor<2x4x10000xf32>, %kf: tensor<4x4097xcomplex<f32>>) -> tensor<2x4x8192xf32> {
  %vf = fftconv.rfft %v n = 8192 : tensor<2x4x10000xf32> -> tensor<2x4x4097xcomplex<f32>>
  %p = fftconv.channel_mul %vf, %kf {fftconv.element_type = f16} : tensor<2x4x4097xcomplex<f32>>, tensor<4x4097xcomplex<f32>>
  %z = fftconv.irfft %p n = 8192 : tensor<2x4x4097xcomplex<f32>> -> tensor<2x4x8192xf32>
  return %z : tensor<2x4x8192xf32>
}

// A shorter input is zero-padded by pack_real itself: no slice.
// CHECK-LABEL: func.func @padded
// CHECK-NOT: tensor.extract_slice
// CHECK: butterfly.pack_real %{{.*}} : tensor<2x4x5000xf32> -> tensor<2x4x4096xcomplex<f32>>
func.func @padded(%v: tensor<2x4x5000xf32>, %kf: tensor<4x4097xcomplex<f32>>) -> tensor<2x4x8192xf32> {
  %vf = fftconv.rfft %v n = 8192 : tensor<2x4x5000xf32> -> tensor<2x4x4097xcomplex<f32>>
  %p = fftconv.channel_mul %vf, %kf {fftconv.element_type = f16} : tensor<2x4x4097xcomplex<f32>>, tensor<4x4097xcomplex<f32>>
  %z = fftconv.irfft %p n = 8192 : tensor<2x4x4097xcomplex<f32>> -> tensor<2x4x8192xf32>
  return %z : tensor<2x4x8192xf32>
}
