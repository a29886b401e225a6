// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels -butterfly-to-gpu | FileCheck %s

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
