// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="restage=1" | FileCheck %s
// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="restage=1 chip=sm_90a" | FileCheck %s --check-prefix=WGMMA

// The single kernel's block shapes at Half precision where the current
// kernels measured them fastest (bench/results/block-shapes-2026-11-29-h200.md).
// A circular convolution at M = 2048 (N = 4096) runs 8 warps, a causal
// one 4; on sm_90a, ending in a stage on the warpgroup MMA, 4.
// CHECK-LABEL: func @circular_f16_4k
// CHECK: threads = 256, batch_tile = 4>
// WGMMA-LABEL: func @circular_f16_4k
// WGMMA: factors = [32, 64], threads = 128, batch_tile = 4>
func.func @circular_f16_4k(%u: tensor<8x2x4096xf16>, %k: tensor<2x4096xf32>) -> tensor<8x2x4096xf16> {
  %y = fftconv.conv circular %u, %k : (tensor<8x2x4096xf16>, tensor<2x4096xf32>) -> tensor<8x2x4096xf16>
  return %y : tensor<8x2x4096xf16>
}

// -----

// CHECK-LABEL: func @causal_f16_4k
// CHECK: threads = 128, batch_tile = 4>
func.func @causal_f16_4k(%u: tensor<8x2x2048xf16>, %k: tensor<2x2048xf32>) -> tensor<8x2x2048xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<8x2x2048xf16>, tensor<2x2048xf32>) -> tensor<8x2x2048xf16>
  return %y : tensor<8x2x2048xf16>
}

// -----

// A circular convolution at M = 512 holds 4 sequences a block, a causal
// one 8.
// CHECK-LABEL: func @circular_bf16_1k
// CHECK: threads = 64, batch_tile = 4>
func.func @circular_bf16_1k(%u: tensor<8x2x1024xbf16>, %k: tensor<2x1024xf32>) -> tensor<8x2x1024xbf16> {
  %y = fftconv.conv circular %u, %k : (tensor<8x2x1024xbf16>, tensor<2x1024xf32>) -> tensor<8x2x1024xbf16>
  return %y : tensor<8x2x1024xbf16>
}

// -----

// CHECK-LABEL: func @causal_bf16_1k
// CHECK: threads = 64, batch_tile = 8>
func.func @causal_bf16_1k(%u: tensor<8x2x512xbf16>, %k: tensor<2x512xf32>) -> tensor<8x2x512xbf16> {
  %y = fftconv.conv causal %u, %k : (tensor<8x2x512xbf16>, tensor<2x512xf32>) -> tensor<8x2x512xbf16>
  return %y : tensor<8x2x512xbf16>
}

// -----

// At Split precision the shapes stay as before: 4 warps at M = 2048.
// CHECK-LABEL: func @circular_f32_4k
// CHECK: single_kernel, split
// CHECK-SAME: threads = 128
func.func @circular_f32_4k(%u: tensor<8x2x4096xf32>, %k: tensor<2x4096xf32>) -> tensor<8x2x4096xf32> {
  %y = fftconv.conv circular %u, %k : (tensor<8x2x4096xf32>, tensor<2x4096xf32>) -> tensor<8x2x4096xf32>
  return %y : tensor<8x2x4096xf32>
}
