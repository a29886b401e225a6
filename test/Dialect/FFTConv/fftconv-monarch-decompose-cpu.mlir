// RUN: fftconv-opt %s -fftconv-monarch-decompose="chip=cpu" -split-input-file | FileCheck %s

// The CPU target: no outer passes at any size, codelet factors (up to 32),
// and the kernel's coefficients straight from its packed transform in
// Monarch order (no real_spectrum, no conv_spectrum, no permutes).
// CHECK-LABEL: func @conv_64k
// CHECK-SAME: (%[[V:.*]]: tensor<1x2x32768xf32>, %[[K:.*]]: tensor<2x32768xf32>)
// CHECK: %[[KZ:.*]] = butterfly.pack_real %[[K]] : tensor<2x32768xf32> -> tensor<2x32768xcomplex<f32>>
// CHECK: %[[KS:.*]] = butterfly.monarch %[[KZ]] factors = [32, 32, 32] permuted
// CHECK: %[[C:.*]] = butterfly.packed_conv_spectrum %[[KS]] factors = [32, 32, 32] : tensor<2x32768xcomplex<f32>> -> tensor<2x2x32768xcomplex<f32>>
// CHECK: %[[S:.*]] = butterfly.monarch %{{.*}} factors = [32, 32, 32] permuted
// CHECK: butterfly.hermitian_mul %[[S]], %[[C]] factors = [32, 32, 32]
// CHECK-NOT: butterfly.kron
// CHECK-NOT: butterfly.permute
// CHECK-NOT: butterfly.real_spectrum
// CHECK-NOT: fftconv.
func.func @conv_64k(%v: tensor<1x2x32768xf32>, %k: tensor<2x32768xf32>) -> tensor<1x2x65536xf32> {
  %kf = fftconv.rfft %k n = 65536 : tensor<2x32768xf32> -> tensor<2x32769xcomplex<f32>>
  %vf = fftconv.rfft %v n = 65536 : tensor<1x2x32768xf32> -> tensor<1x2x32769xcomplex<f32>>
  %p = fftconv.channel_mul %vf, %kf : tensor<1x2x32769xcomplex<f32>>, tensor<2x32769xcomplex<f32>>
  %z = fftconv.irfft %p n = 65536 : tensor<1x2x32769xcomplex<f32>> -> tensor<1x2x65536xf32>
  return %z : tensor<1x2x65536xf32>
}

// -----

// A spectrum given as such (not an rfft here) takes conv_spectrum and the
// digit reversal, as on the GPU.
// CHECK-LABEL: func @given_spectrum
// CHECK: butterfly.conv_spectrum
// CHECK: butterfly.permute
// CHECK-NOT: butterfly.packed_conv_spectrum
func.func @given_spectrum(%v: tensor<1x2x512xf32>, %kf: tensor<2x513xcomplex<f32>>) -> tensor<1x2x1024xf32> {
  %vf = fftconv.rfft %v n = 1024 : tensor<1x2x512xf32> -> tensor<1x2x513xcomplex<f32>>
  %p = fftconv.channel_mul %vf, %kf : tensor<1x2x513xcomplex<f32>>, tensor<2x513xcomplex<f32>>
  %z = fftconv.irfft %p n = 1024 : tensor<1x2x513xcomplex<f32>> -> tensor<1x2x1024xf32>
  return %z : tensor<1x2x1024xf32>
}
