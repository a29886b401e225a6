// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="restage=1" | FileCheck %s

// f16 data at Half precision (fp16's 5e-4): a causal convolution's single
// kernel takes three stages ending in 8, which the kernel runs with the
// spectral product and the first inverse stage as one pass in registers
// (two f16 roundings fewer each way), in blocks of 4 warps and 2 sequences.
// CHECK-LABEL: func @causal_f16_8k
// CHECK: plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [32, 16, 8], threads = 128, batch_tile = 2>
func.func @causal_f16_8k(%u: tensor<8x2x4096xf16>, %k: tensor<2x4096xf32>) -> tensor<8x2x4096xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<8x2x4096xf16>, tensor<2x4096xf32>) -> tensor<8x2x4096xf16>
  return %y : tensor<8x2x4096xf16>
}

// -----

// bf16's budget (2e-3) does not need it: the decomposition's factors, in
// blocks of 8 warps and 4 sequences.
// CHECK-LABEL: func @causal_bf16_8k
// CHECK: plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 16, 16], threads = 256, batch_tile = 4>
func.func @causal_bf16_8k(%u: tensor<8x2x4096xbf16>, %k: tensor<2x4096xf32>) -> tensor<8x2x4096xbf16> {
  %y = fftconv.conv causal %u, %k : (tensor<8x2x4096xbf16>, tensor<2x4096xf32>) -> tensor<8x2x4096xbf16>
  return %y : tensor<8x2x4096xbf16>
}

// -----

// Circular, in blocks of 8 warps, the separate passes are faster.
// CHECK-LABEL: func @circular_f16_8k
// CHECK: plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 16, 16], threads = 256, batch_tile = 4>
func.func @circular_f16_8k(%u: tensor<8x2x8192xf16>, %k: tensor<2x8192xf32>) -> tensor<8x2x8192xf16> {
  %y = fftconv.conv circular %u, %k : (tensor<8x2x8192xf16>, tensor<2x8192xf32>) -> tensor<8x2x8192xf16>
  return %y : tensor<8x2x8192xf16>
}

// -----

// In blocks of 16 warps the fused pass takes the pair's place, circular
// too.
// CHECK-LABEL: func @circular_f16_16k
// CHECK: plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [32, 32, 8], threads = 512, batch_tile = 4>
func.func @circular_f16_16k(%u: tensor<8x2x16384xf16>, %k: tensor<2x16384xf32>) -> tensor<8x2x16384xf16> {
  %y = fftconv.conv circular %u, %k : (tensor<8x2x16384xf16>, tensor<2x16384xf32>) -> tensor<8x2x16384xf16>
  return %y : tensor<8x2x16384xf16>
}

// -----

// M = 16384 has no three factors of at most 32 ending in 8.
// CHECK-LABEL: func @causal_f16_32k
// CHECK: plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [32, 32, 16], threads = 512, batch_tile = 2>
func.func @causal_f16_32k(%u: tensor<8x2x16384xf16>, %k: tensor<2x16384xf32>) -> tensor<8x2x16384xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<8x2x16384xf16>, tensor<2x16384xf32>) -> tensor<8x2x16384xf16>
  return %y : tensor<8x2x16384xf16>
}
