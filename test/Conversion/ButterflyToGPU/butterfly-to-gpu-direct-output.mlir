// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="precision=half" -butterfly-to-gpu | FileCheck %s
// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="precision=split" -butterfly-to-gpu | FileCheck %s --check-prefix=SPLIT

// The last inverse stage of a convolution whose epilogue reads no sequence
// writes the outputs from its accumulators: a lane's two neighbouring
// complex results, 4 f16 outputs, per row of a tile, for each of the
// block's sequences (unrolled), after the last barrier; no pass of 16-byte
// rows follows. At Split too, the low halves' products in the accumulators.
// CHECK-LABEL: gpu.func @causal_conv0(
// CHECK-COUNT-5: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: nvgpu.mma.sync
// CHECK-COUNT-8: vector.store %{{.*}} : memref<4x2x2048xf16>, vector<4xf16>
// CHECK-NOT: vector.store %{{.*}} : memref<4x2x2048xf16>
// CHECK: gpu.return
// SPLIT-LABEL: gpu.func @causal_conv0(
// SPLIT: gpu.barrier
// SPLIT-NOT: memref<4x2x2048xf16>, vector<8xf16>
// SPLIT: vector.store %{{.*}} : memref<4x2x2048xf16>, vector<4xf16>
// SPLIT-NOT: memref<4x2x2048xf16>, vector<8xf16>
// SPLIT: gpu.return
func.func @causal(%u: tensor<4x2x2048xf16>, %k: tensor<2x2048xf32>) -> tensor<4x2x2048xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<4x2x2048xf16>, tensor<2x2048xf32>) -> tensor<4x2x2048xf16>
  return %y : tensor<4x2x2048xf16>
}

// -----

// A pregate is the prologue's: the outputs still leave from the stage.
// CHECK-LABEL: gpu.func @pregated_conv0(
// CHECK-COUNT-8: vector.store %{{.*}} : memref<4x2x2048xf16>, vector<4xf16>
func.func @pregated(%u: tensor<4x2x2048xf16>, %k: tensor<2x2048xf32>, %p: tensor<4x2x2048xf16>) -> tensor<4x2x2048xf16> {
  %y = fftconv.conv causal %u, %k pregate %p : (tensor<4x2x2048xf16>, tensor<2x2048xf32>, tensor<4x2x2048xf16>) -> tensor<4x2x2048xf16>
  return %y : tensor<4x2x2048xf16>
}

// -----

// A postgate is read by the epilogue: the stage would wait for its loads
// (measured slower), so the outputs take the pass of 16-byte rows.
// CHECK-LABEL: gpu.func @gated_conv0(
// CHECK-NOT: xf16>, vector<4xf16>
// CHECK: vector.load %{{.*}} : memref<4x2x2048xf16>, vector<8xf16>
// CHECK: vector.store %{{.*}} : memref<4x2x2048xf16>, vector<8xf16>
// CHECK: gpu.return
func.func @gated(%u: tensor<4x2x2048xf16>, %k: tensor<2x2048xf32>, %p: tensor<4x2x2048xf16>, %q: tensor<4x2x2048xf16>) -> tensor<4x2x2048xf16> {
  %y = fftconv.conv circular %u, %k pregate %p postgate %q : (tensor<4x2x2048xf16>, tensor<2x2048xf32>, tensor<4x2x2048xf16>, tensor<4x2x2048xf16>) -> tensor<4x2x2048xf16>
  return %y : tensor<4x2x2048xf16>
}

// -----

// Rows of 1022 outputs are not a whole number of a lane's 4: the masked
// pass of 8 writes them.
// CHECK-LABEL: gpu.func @unaligned_conv0(
// CHECK-NOT: xf16>, vector<4xf16>
// CHECK: vector.maskedstore %{{.*}} : memref<4x2x1022xf16>, vector<8xi1>, vector<8xf16>
// CHECK: gpu.return
func.func @unaligned(%u: tensor<4x2x1022xf16>, %k: tensor<2x1022xf32>) -> tensor<4x2x1022xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<4x2x1022xf16>, tensor<2x1022xf32>) -> tensor<4x2x1022xf16>
  return %y : tensor<4x2x1022xf16>
}
