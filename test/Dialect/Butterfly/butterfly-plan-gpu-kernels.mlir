// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels | FileCheck %s
// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="chip=sm_80 threads=128 batch-tile=4 precision=split" | FileCheck %s --check-prefix=OPTS
// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=8192" | FileCheck %s --check-prefix=SKM

// N = 256: the single kernel at half precision, the decomposition's factors
// of M = 128, 2 warps, two sequences a block (the batch).
// CHECK-LABEL: func @small
// CHECK: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 8], threads = 64, batch_tile = 2>
// The options are taken as given; the batch tile is capped at the batch.
// OPTS-LABEL: func @small
// OPTS: plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_80", factors = [16, 8], threads = 128, batch_tile = 2>
// SKM-LABEL: func @small
// SKM: plan = #butterfly.gpu_plan<single_kernel, half,
func.func @small(%u: tensor<2x4x128xf16>, %k: tensor<4x128xf32>) -> tensor<2x4x128xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x4x128xf16>, tensor<4x128xf32>) -> tensor<2x4x128xf16>
  return %y : tensor<2x4x128xf16>
}

// -----

// N = 16K: one kernel up to single-kernel-max, three passes past it (split
// precision; rows of 4096 = 16 x 16 x 16, columns of 4; f16 data, so an f16
// workspace between the passes). One kernel: 16 warps a block past
// M = 4096, as many of its 2 sequences as 128 KiB holds.
// CHECK-LABEL: func @mid
// CHECK: plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [{{.*}}], threads = 512, batch_tile = 2>
// SKM-LABEL: func @mid
// SKM: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [4], factors = [16, 16, 2, 8], threads = 256, batch_tile = 1, workspace = f16>
func.func @mid(%u: tensor<2x2x8192xf16>, %k: tensor<2x8192xf32>) -> tensor<2x2x8192xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x2x8192xf16>, tensor<2x8192xf32>) -> tensor<2x2x8192xf16>
  return %y : tensor<2x2x8192xf16>
}

// -----

// N = 64K, past shared memory: the decomposition's three-pass chain; the
// plan sits on its conv region, between the outer passes.
// CHECK-LABEL: func @long
// CHECK: butterfly.fused outer_forward
// CHECK-NOT: plan =
// CHECK: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16], factors = [16, 16, 2, 8], threads = 256, batch_tile = 1, workspace = f16>
// CHECK: butterfly.fused outer_inverse
// CHECK-NOT: plan =
// CHECK: return
// OPTS-LABEL: func @long
// OPTS: plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_80", outer_factors = [16], factors = [16, 16, 2, 8], threads = 128, batch_tile = 1, workspace = f16>
func.func @long(%u: tensor<2x2x32768xf16>, %k: tensor<2x32768xf32>) -> tensor<2x2x32768xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x2x32768xf16>, tensor<2x32768xf32>) -> tensor<2x2x32768xf16>
  return %y : tensor<2x2x32768xf16>
}

// -----

// bf16 data: the three-pass form at half precision when none is asked for
// (bf16's own roundings are most of its error budget), rows of 4096 on
// factors of 16 and an f16 workspace of scaled values; split when asked
// for.
// CHECK-LABEL: func @long_bf16
// CHECK: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_90", outer_factors = [16], factors = [16, 16, 16], threads = 256, batch_tile = 1, workspace = f16>
// OPTS-LABEL: func @long_bf16
// OPTS: plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_80", outer_factors = [16], factors = [16, 16, 2, 8], threads = 128, batch_tile = 1, workspace = f16>
func.func @long_bf16(%u: tensor<2x2x32768xbf16>, %k: tensor<2x32768xf32>) -> tensor<2x2x32768xbf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x2x32768xbf16>, tensor<2x32768xf32>) -> tensor<2x2x32768xbf16>
  return %y : tensor<2x2x32768xbf16>
}

// -----

// Frequency-sparse (band = 1024 of N = 16384, f32): the decomposition's
// [32, 16, 16] runs as [16, 16, 32], the 32 last, where the band frees a
// tile of the spectrum-side stage; without the band the order stays.
// CHECK-LABEL: func @band
// CHECK: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [16, 16, 32],
// CHECK: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [32, 16, 16],
func.func @band(%u: tensor<1x2x16384xf32>, %k: tensor<2x16384xf32>) -> (tensor<1x2x16384xf32>, tensor<1x2x16384xf32>) {
  %kf = fftconv.rfft %k n = 16384 : tensor<2x16384xf32> -> tensor<2x8193xcomplex<f32>>
  %uf = fftconv.rfft %u n = 16384 : tensor<1x2x16384xf32> -> tensor<1x2x8193xcomplex<f32>>
  %p = fftconv.channel_mul %uf, %kf band = 1024 : tensor<1x2x8193xcomplex<f32>>, tensor<2x8193xcomplex<f32>>
  %y = fftconv.irfft %p n = 16384 : tensor<1x2x8193xcomplex<f32>> -> tensor<1x2x16384xf32>
  %q = fftconv.channel_mul %uf, %kf : tensor<1x2x8193xcomplex<f32>>, tensor<2x8193xcomplex<f32>>
  %z = fftconv.irfft %q n = 16384 : tensor<1x2x8193xcomplex<f32>> -> tensor<1x2x16384xf32>
  return %y, %z : tensor<1x2x16384xf32>, tensor<1x2x16384xf32>
}
