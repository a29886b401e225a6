// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels | FileCheck %s
// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="precision=split" | FileCheck %s --check-prefix=SPLIT

// A single-kernel cross spectrum's block holds v and g of the batch
// elements of its tile and sums their terms into its row (M + 1 complex
// f32) beside them. The tile is as many elements as fill 64 KiB, at least
// two and at most eight, and fewer where the row does not fit beside them:
// each tile pays for a pass over the row and two barriers.

// M = 512 at Half: 2 KiB a sequence, eight elements (32 KiB).
// CHECK-LABEL: func @short_rows
// CHECK: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [32, 16], threads = 64, batch_tile = 8>
// SPLIT-LABEL: func @short_rows
// SPLIT: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [32, 16], threads = 64, batch_tile = 8>
func.func @short_rows(%u: tensor<16x4x512xf16>, %k: tensor<4x512xf32>, %dy: tensor<16x4x512xf16>) -> tensor<4x512xf32> {
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<16x4x512xf16>, tensor<4x512xf32>, tensor<16x4x512xf16>) -> tensor<4x512xf32>
  return %dk : tensor<4x512xf32>
}

// M = 2048: 8 KiB a sequence at Half, four elements (64 KiB); 16 KiB at
// Split, two. 8 warps from M = 2048 on, causal or not.
// CHECK-LABEL: func @mid_rows
// CHECK: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 16, 8], threads = 256, batch_tile = 4>
// SPLIT-LABEL: func @mid_rows
// SPLIT: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [16, 16, 8], threads = 256, batch_tile = 2>
func.func @mid_rows(%u: tensor<16x4x2048xf16>, %k: tensor<4x2048xf32>, %dy: tensor<16x4x2048xf16>) -> tensor<4x2048xf32> {
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<16x4x2048xf16>, tensor<4x2048xf32>, tensor<16x4x2048xf16>) -> tensor<4x2048xf32>
  return %dk : tensor<4x2048xf32>
}

// M = 8192: 32 KiB a sequence at Half, two elements (128 KiB) beside the
// 64 KiB row; at Split two would take 256 KiB, one fits (192 KiB).
// CHECK-LABEL: func @long_rows
// CHECK: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [32, 16, 16], threads = 512, batch_tile = 2>
// SPLIT-LABEL: func @long_rows
// SPLIT: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [32, 16, 16], threads = 512, batch_tile = 1>
func.func @long_rows(%u: tensor<16x4x8192xf16>, %k: tensor<4x8192xf32>, %dy: tensor<16x4x8192xf16>) -> tensor<4x8192xf32> {
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<16x4x8192xf16>, tensor<4x8192xf32>, tensor<16x4x8192xf16>) -> tensor<4x8192xf32>
  return %dk : tensor<4x8192xf32>
}

// The cross spectrum's threads are its own: at M = 4096 a causal f16
// convolution (here the correlation, du) runs 4 warps for its fused pass,
// the cross spectrum, which runs none, 8.
// CHECK-LABEL: func @threads_apart
// CHECK: butterfly.fused conv {{.*}} threads = 128,
// CHECK: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 16, 16], threads = 256, batch_tile = 2>
func.func @threads_apart(%u: tensor<16x4x4096xf16>, %k: tensor<4x4096xf32>, %dy: tensor<16x4x4096xf16>) -> (tensor<16x4x4096xf16>, tensor<4x4096xf32>) {
  %du, %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel]
      : (tensor<16x4x4096xf16>, tensor<4x4096xf32>, tensor<16x4x4096xf16>) -> (tensor<16x4x4096xf16>, tensor<4x4096xf32>)
  return %du, %dk : tensor<16x4x4096xf16>, tensor<4x4096xf32>
}
