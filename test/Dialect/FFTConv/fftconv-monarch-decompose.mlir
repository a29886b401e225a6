// RUN: fftconv-opt %s -fftconv-monarch-decompose -split-input-file | FileCheck %s
// RUN: fftconv-opt %s -fftconv-monarch-decompose="order=2" -split-input-file | FileCheck %s --check-prefix=ORDER2
// RUN: fftconv-opt %s -fftconv-monarch-decompose="smem-per-block=8192" -split-input-file | FileCheck %s --check-prefix=SMALL
// RUN: fftconv-opt %s -fftconv-monarch-decompose="chip=sm_80" -split-input-file | FileCheck %s --check-prefix=SM80

// A convolution of FFT size N = 8192 in f16 runs at half size M = 4096 in
// Monarch order: the cost model picks 16 x 16 x 16 (order 3) on sm_90.
// CHECK-LABEL: func @conv_8k
// CHECK-SAME: (%[[V:.*]]: tensor<2x4x4096xf32>, %[[KF:.*]]: tensor<4x4097xcomplex<f32>>)
// CHECK: %[[Z:.*]] = butterfly.pack_real %[[V]] : tensor<2x4x4096xf32> -> tensor<2x4x4096xcomplex<f32>>
// CHECK: %[[C:.*]] = butterfly.conv_spectrum %[[KF]] : tensor<4x4097xcomplex<f32>> -> tensor<4x2x4096xcomplex<f32>>
// CHECK: %[[C1:.*]] = butterfly.permute %[[C]] rows = 16, cols = 16
// CHECK: %[[CM:.*]] = butterfly.permute %[[C1]] rows = 16, cols = 256
// CHECK: %[[S:.*]] = butterfly.monarch %[[Z]] factors = [16, 16, 16] permuted
// CHECK: %[[P:.*]] = butterfly.hermitian_mul %[[S]], %[[CM]] factors = [16, 16, 16] {butterfly.onchip_bytes = 50176 : i64}
// CHECK: %[[B:.*]] = butterfly.monarch %[[P]] factors = [16, 16, 16] inverse permuted
// CHECK: butterfly.unpack_real %[[B]] : tensor<2x4x4096xcomplex<f32>> -> tensor<2x4x8192xf32>
// CHECK-NOT: fftconv.
// ORDER2-LABEL: func @conv_8k
// ORDER2: butterfly.monarch %{{.*}} factors = [64, 64] permuted
// SMALL-LABEL: func @conv_8k
// SMALL: butterfly.kron {{.*}} {butterfly.outer_pass}
// SMALL: butterfly.monarch %{{.*}} factors = [16, 16] permuted : tensor<2x4x16x256xcomplex<f32>>
// SMALL: butterfly.hermitian_mul {{.*}} factors = [16, 16, 16]
func.func @conv_8k(%v: tensor<2x4x4096xf32>, %kf: tensor<4x4097xcomplex<f32>>) -> tensor<2x4x8192xf32> {
  %vf = fftconv.rfft %v n = 8192 : tensor<2x4x4096xf32> -> tensor<2x4x4097xcomplex<f32>>
  %p = fftconv.channel_mul %vf, %kf {fftconv.element_type = f16} : tensor<2x4x4097xcomplex<f32>>, tensor<4x4097xcomplex<f32>>
  %z = fftconv.irfft %p n = 8192 : tensor<2x4x4097xcomplex<f32>> -> tensor<2x4x8192xf32>
  return %z : tensor<2x4x8192xf32>
}

// -----

// N = 65536 in f16 (M = 32768): 32 x 32 x 32 does not fit in shared memory
// with its coefficients, so one 32-point outer pass goes through memory on
// sm_90; sm_80's smaller budget already splits N = 32768.
// CHECK-LABEL: func @conv_64k
// CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 1024 {butterfly.outer_pass}
// CHECK: butterfly.monarch %{{.*}} factors = [32, 32] permuted : tensor<1x1x32x1024xcomplex<f32>>
// CHECK: butterfly.hermitian_mul {{.*}} factors = [32, 32, 32] {butterfly.onchip_bytes = 28672 : i64, butterfly.outer_onchip_bytes = 4224 : i64}
// SM80-LABEL: func @conv_64k
// SM80: butterfly.hermitian_mul {{.*}} factors = [32, 32, 32]
func.func @conv_64k(%v: tensor<1x1x32768xf32>, %kf: tensor<1x32769xcomplex<f32>>) -> tensor<1x1x65536xf32> {
  %vf = fftconv.rfft %v n = 65536 : tensor<1x1x32768xf32> -> tensor<1x1x32769xcomplex<f32>>
  %p = fftconv.channel_mul %vf, %kf {fftconv.element_type = f16} : tensor<1x1x32769xcomplex<f32>>, tensor<1x32769xcomplex<f32>>
  %z = fftconv.irfft %p n = 65536 : tensor<1x1x32769xcomplex<f32>> -> tensor<1x1x65536xf32>
  return %z : tensor<1x1x65536xf32>
}

// -----

// Standalone transforms: natural order in and out.
// CHECK-LABEL: func @standalone
// CHECK: %[[X:.*]] = tensor.pad
// CHECK: %[[F:.*]] = butterfly.monarch %[[X]] factors = [64] : tensor<3x64xcomplex<f32>>
// CHECK: %[[IF:.*]] = butterfly.monarch %{{.*}} factors = [64] inverse : tensor<3x64xcomplex<f32>>
// CHECK: %[[R:.*]] = butterfly.pack_real %{{.*}} : tensor<3x48xf32> -> tensor<3x32xcomplex<f32>>
// CHECK: %[[RM:.*]] = butterfly.monarch %[[R]] factors = [32]
// CHECK: %[[RS:.*]] = butterfly.real_spectrum %[[RM]] : tensor<3x32xcomplex<f32>> -> tensor<3x33xcomplex<f32>>
// CHECK: %[[I:.*]] = butterfly.real_spectrum %{{.*}} inverse : tensor<3x33xcomplex<f32>> -> tensor<3x32xcomplex<f32>>
// CHECK: %[[IM:.*]] = butterfly.monarch %[[I]] factors = [32] inverse
// CHECK: %[[U:.*]] = butterfly.unpack_real %[[IM]] : tensor<3x32xcomplex<f32>> -> tensor<3x64xf32>
// Odd real sizes have no real-input trick: they stay.
// CHECK: %[[ODD:.*]] = fftconv.rfft %{{.*}} n = 63
// CHECK: return %[[F]], %[[IF]], %[[RS]], %[[U]], %[[ODD]]
func.func @standalone(%c: tensor<3x48xcomplex<f32>>, %r: tensor<3x48xf32>, %s: tensor<3x33xcomplex<f32>>)
    -> (tensor<3x64xcomplex<f32>>, tensor<3x64xcomplex<f32>>, tensor<3x33xcomplex<f32>>, tensor<3x64xf32>, tensor<3x32xcomplex<f32>>) {
  %0 = fftconv.fft %c n = 64 : tensor<3x48xcomplex<f32>> -> tensor<3x64xcomplex<f32>>
  %1 = fftconv.ifft %c n = 64 : tensor<3x48xcomplex<f32>> -> tensor<3x64xcomplex<f32>>
  %2 = fftconv.rfft %r n = 64 : tensor<3x48xf32> -> tensor<3x33xcomplex<f32>>
  %3 = fftconv.irfft %s n = 64 : tensor<3x33xcomplex<f32>> -> tensor<3x64xf32>
  %4 = fftconv.rfft %r n = 63 : tensor<3x48xf32> -> tensor<3x32xcomplex<f32>>
  return %0, %1, %2, %3, %4 : tensor<3x64xcomplex<f32>>, tensor<3x64xcomplex<f32>>, tensor<3x33xcomplex<f32>>, tensor<3x64xf32>, tensor<3x32xcomplex<f32>>
}

// -----

// Frequency-sparse: the band reaches the coefficients and both transforms.
// CHECK-LABEL: func @band
// CHECK: butterfly.conv_spectrum %{{.*}} band = 300
// CHECK: butterfly.monarch %{{.*}} permuted spectral_band = 300
// CHECK: butterfly.monarch %{{.*}} inverse permuted spectral_band = 300
func.func @band(%v: tensor<2x4x4096xf32>, %kf: tensor<4x4097xcomplex<f32>>) -> tensor<2x4x8192xf32> {
  %vf = fftconv.rfft %v n = 8192 : tensor<2x4x4096xf32> -> tensor<2x4x4097xcomplex<f32>>
  %p = fftconv.channel_mul %vf, %kf band = 300 : tensor<2x4x4097xcomplex<f32>>, tensor<4x4097xcomplex<f32>>
  %z = fftconv.irfft %p n = 8192 : tensor<2x4x4097xcomplex<f32>> -> tensor<2x4x8192xf32>
  return %z : tensor<2x4x8192xf32>
}

// -----

// The backward's correlation (a conjugate product) takes the convolution's
// decomposition: the kernel spectrum is conjugated explicitly, once per
// channel, before it is put in Monarch order.
// CHECK-LABEL: func @correlation
// CHECK-SAME: (%[[G:.*]]: tensor<2x4x512xf32>, %[[KF:.*]]: tensor<4x513xcomplex<f32>>)
// CHECK: %[[CONJ:.*]] = linalg.generic
// CHECK: complex.conj
// CHECK: butterfly.pack_real %[[G]]
// CHECK: butterfly.conv_spectrum %[[CONJ]]
// CHECK: butterfly.hermitian_mul
// CHECK: butterfly.unpack_real
// CHECK-NOT: fftconv.channel_mul
func.func @correlation(%g: tensor<2x4x512xf32>, %kf: tensor<4x513xcomplex<f32>>) -> tensor<2x4x1024xf32> {
  %gf = fftconv.rfft %g n = 1024 : tensor<2x4x512xf32> -> tensor<2x4x513xcomplex<f32>>
  %p = fftconv.channel_mul %gf, %kf conjugate : tensor<2x4x513xcomplex<f32>>, tensor<4x513xcomplex<f32>>
  %z = fftconv.irfft %p n = 1024 : tensor<2x4x513xcomplex<f32>> -> tensor<2x4x1024xf32>
  return %z : tensor<2x4x1024xf32>
}
