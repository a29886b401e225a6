// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels -butterfly-to-gpu | FileCheck %s
// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=4096" -butterfly-to-gpu | FileCheck %s --check-prefix=TP

// L = 1020 is not a multiple of 8: the single kernel reads and writes the
// rows through masks of the lanes below L (a partial last chunk of 4, and
// element-aligned accesses everywhere), the gates and the output included.
// CHECK-LABEL: gpu.func @odd_conv0(
// CHECK: arith.cmpi slt, %{{.*}} : vector<8xi32>
// CHECK: vector.maskedload %{{.*}} : memref<2x4x1020xf16>, vector<8xi1>, vector<8xf16> into vector<8xf16>
// CHECK-NOT: vector.load %{{.*}} : memref<2x4x1020xf16>
// CHECK: vector.maskedstore %{{.*}} : memref<2x4x1020xf16>, vector<8xi1>, vector<8xf16>
// CHECK-NOT: vector.store %{{.*}} : memref<2x4x1020xf16>
// CHECK: gpu.return
func.func @odd(%u: tensor<2x4x1020xf16>, %k: tensor<4x1020xf32>, %pre: tensor<2x4x1020xf16>, %post: tensor<2x4x1020xf16>) -> tensor<2x4x1020xf16> {
  %y = fftconv.conv causal %u, %k pregate %pre postgate %post : (tensor<2x4x1020xf16>, tensor<4x1020xf32>, tensor<2x4x1020xf16>, tensor<2x4x1020xf16>) -> tensor<2x4x1020xf16>
  return %y : tensor<2x4x1020xf16>
}

// In the three-pass form (L = 4092, N = 8192 past single-kernel-max =
// 4096) the outer kernels do the same: the forward one reads u and the
// gates through the masks, the inverse one writes y through them.
// TP-LABEL: gpu.func @odd_long_conv0_outer_forward(
// TP: vector.maskedload %{{.*}} : memref<2x4x4092xf16>, vector<8xi1>, vector<8xf16> into vector<8xf16>
// TP-NOT: vector.load %{{.*}} : memref<2x4x4092xf16>
// TP: gpu.return
// TP-LABEL: gpu.func @odd_long_conv0_outer_inverse(
// TP: vector.maskedstore %{{.*}} : memref<2x4x4092xf16>, vector<8xi1>, vector<8xf16>
// TP-NOT: vector.store %{{.*}} : memref<2x4x4092xf16>
// TP: gpu.return
func.func @odd_long(%u: tensor<2x4x4092xf16>, %k: tensor<4x4092xf32>, %pre: tensor<2x4x4092xf16>, %post: tensor<2x4x4092xf16>) -> tensor<2x4x4092xf16> {
  %y = fftconv.conv causal %u, %k pregate %pre postgate %post : (tensor<2x4x4092xf16>, tensor<4x4092xf32>, tensor<2x4x4092xf16>, tensor<2x4x4092xf16>) -> tensor<2x4x4092xf16>
  return %y : tensor<2x4x4092xf16>
}
