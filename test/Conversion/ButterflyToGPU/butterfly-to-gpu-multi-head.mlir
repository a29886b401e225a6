// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels -butterfly-to-gpu | FileCheck %s

// A multi-head convolution (Hyena's b ho v z l, one block): its sequences
// are the rows [B * G, H, L] of the arguments' own memory. The host keeps
// the 5-D buffers (the manifest's shapes) and hands the kernels views of
// them; no kernel reshapes anything.
// CHECK-LABEL: func.func @multi_head
// CHECK-SAME: (%[[U:.*]]: memref<2x3x4x1x1024xf16> {fftconv.role = "input"}, %[[K:.*]]: memref<4x1024xf32> {fftconv.role = "input"}, %[[X:.*]]: memref<2x3x4x1x1024xf16> {fftconv.role = "input"}, %[[D:.*]]: memref<4xf32> {fftconv.role = "input"}, %[[Y:.*]]: memref<2x3x4x1x1024xf16> {fftconv.role = "output"}
// CHECK-DAG: %[[UROWS:.*]] = memref.collapse_shape %[[U]] {{\[}}[0, 1], [2, 3], [4]] : memref<2x3x4x1x1024xf16> into memref<6x4x1024xf16>
// CHECK-DAG: %[[XROWS:.*]] = memref.collapse_shape %[[X]] {{\[}}[0, 1], [2, 3], [4]]
// CHECK-DAG: %[[YROWS:.*]] = memref.collapse_shape %[[Y]] {{\[}}[0, 1], [2, 3], [4]]
// CHECK: gpu.launch_func @multi_head_kernels::@multi_head_conv0_spectrum {{.*}} args(%[[K]] : memref<4x1024xf32>
// CHECK: gpu.launch_func @multi_head_kernels::@multi_head_conv0 {{.*}} args(%[[UROWS]] : memref<6x4x1024xf16>, %[[XROWS]] : memref<6x4x1024xf16>, %{{.*}}, %[[D]] : memref<4xf32>, %[[YROWS]] : memref<6x4x1024xf16>)
func.func @multi_head(%u: tensor<2x3x4x1x1024xf16>, %k: tensor<4x1024xf32>, %x: tensor<2x3x4x1x1024xf16>, %d: tensor<4xf32>) -> tensor<2x3x4x1x1024xf16> {
  %y = fftconv.conv causal %u, %k pregate %x skip %d : (tensor<2x3x4x1x1024xf16>, tensor<4x1024xf32>, tensor<2x3x4x1x1024xf16>, tensor<4xf32>) -> tensor<2x3x4x1x1024xf16>
  return %y : tensor<2x3x4x1x1024xf16>
}

// -----

// Hyena's blocks (Z = 2): the channel axis is not next to the sequence.
// The kernels read and write [B * G, H, Z, L] views of the 5-D buffers and
// find row b of channel h at [b / Z, h, b mod Z]; the transposes
// fftconv-flatten-heads wrote are never computed.
// CHECK-LABEL: gpu.func @blocks_conv0(%{{.*}}: memref<6x4x2x512xf16> {llvm.noalias}
// CHECK: arith.divui %{{.*}}, %c2
// CHECK: arith.remui %{{.*}}, %c2
// CHECK-LABEL: func.func @blocks
// CHECK-SAME: (%[[U:.*]]: memref<2x3x4x2x512xf16> {fftconv.role = "input"}
// CHECK: %[[UROWS:.*]] = memref.collapse_shape %[[U]] {{\[}}[0, 1], [2], [3], [4]] : memref<2x3x4x2x512xf16> into memref<6x4x2x512xf16>
// CHECK: gpu.launch_func @blocks_kernels::@blocks_conv0 {{.*}} args(%[[UROWS]] : memref<6x4x2x512xf16>
// CHECK-NOT: linalg.transpose
func.func @blocks(%u: tensor<2x3x4x2x512xf16>, %k: tensor<4x512xf32>) -> tensor<2x3x4x2x512xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x3x4x2x512xf16>, tensor<4x512xf32>) -> tensor<2x3x4x2x512xf16>
  return %y : tensor<2x3x4x2x512xf16>
}
