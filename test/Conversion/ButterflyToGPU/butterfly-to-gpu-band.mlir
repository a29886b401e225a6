// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels -butterfly-to-gpu | FileCheck %s
// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=4096" -butterfly-to-gpu | FileCheck %s --check-prefix=TP

// A frequency-sparse circular convolution, f32 (Split precision: three
// products a term), N = 2048: M = 1024 = 32 x 32. Band 256 keeps the
// packed frequencies min(f, M - f) < 256: the last digits 0-7 and 24-31.

// The spectrum kernel zeroes k's spectrum at bins f >= 256 (kf at f, km at
// M - f).
// CHECK-LABEL: gpu.func @band_conv0_spectrum(
// CHECK: %[[INSIDE:.*]] = arith.cmpi ult, %{{.*}}, %c256_i32{{(_[0-9]+)?}} : i32
// CHECK: arith.select %[[INSIDE]], %{{.*}}, %{{.*}} : f32
// CHECK: %[[MIRROR_BAND:.*]] = arith.constant 256 : i32
// CHECK: arith.cmpi ult, %{{.*}}, %[[MIRROR_BAND]] : i32
// CHECK: gpu.return

// The convolution kernel: a stage of 32 is 2 row tiles x 2 slabs x 4 terms
// x 3 products = 48, four stages 192 without the band. The last forward
// stage computes one row tile (the band's 16 digits), the first inverse
// stage reads one slab: 48 + 24 + 24 + 48. The last stage writes the
// outputs (a direct output) with the block's 2 sequences unrolled, so its
// 48 appear twice: 72, then 24 + 96.
// CHECK-LABEL: gpu.func @band_conv0(
// CHECK-COUNT-72: nvgpu.mma.sync
// The spectral product meets the band's 32 blocks x 16 positions only.
// CHECK: %[[LIVE:.*]] = arith.constant 512 : i32
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[LIVE]]
// CHECK-COUNT-120: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK: gpu.return
func.func @band(%u: tensor<2x4x2048xf32>, %k: tensor<4x2048xf32>) -> tensor<2x4x2048xf32> {
  %kf = fftconv.rfft %k n = 2048 : tensor<4x2048xf32> -> tensor<4x1025xcomplex<f32>>
  %uf = fftconv.rfft %u n = 2048 : tensor<2x4x2048xf32> -> tensor<2x4x1025xcomplex<f32>>
  %p = fftconv.channel_mul %uf, %kf band = 256 : tensor<2x4x1025xcomplex<f32>>, tensor<4x1025xcomplex<f32>>
  %y = fftconv.irfft %p n = 2048 : tensor<2x4x1025xcomplex<f32>> -> tensor<2x4x2048xf32>
  return %y : tensor<2x4x2048xf32>
}

// -----

// The three-pass form (N = 8192 past single-kernel-max = 4096) has no
// spectral_band on its transforms: its inner spectrum kernel zeroes K at
// the frequencies k1 + N1 k2 with min(f, N - f) >= 1000, 4 at a time.
// TP-LABEL: gpu.func @long_band_conv0_spectrum_inner(
// TP: %[[BAND:.*]] = arith.constant 1000 : i32
// TP: arith.cmpi ult, %{{.*}}, %[[BAND]] : i32
// TP: %[[MASK:.*]] = vector.from_elements %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : vector<4xi1>
// TP: arith.select %[[MASK]], %{{.*}}, %{{.*}} : vector<4xi1>, vector<4xf32>
// TP: arith.select %[[MASK]], %{{.*}}, %{{.*}} : vector<4xi1>, vector<4xf32>
// TP: gpu.return
func.func @long_band(%u: tensor<2x4x8192xf32>, %k: tensor<4x8192xf32>) -> tensor<2x4x8192xf32> {
  %kf = fftconv.rfft %k n = 8192 : tensor<4x8192xf32> -> tensor<4x4097xcomplex<f32>>
  %uf = fftconv.rfft %u n = 8192 : tensor<2x4x8192xf32> -> tensor<2x4x4097xcomplex<f32>>
  %p = fftconv.channel_mul %uf, %kf band = 1000 : tensor<2x4x4097xcomplex<f32>>, tensor<4x4097xcomplex<f32>>
  %y = fftconv.irfft %p n = 8192 : tensor<2x4x4097xcomplex<f32>> -> tensor<2x4x8192xf32>
  return %y : tensor<2x4x8192xf32>
}
