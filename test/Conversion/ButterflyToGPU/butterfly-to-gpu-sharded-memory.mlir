// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="ranks=4 rank=1" -butterfly-to-gpu | FileCheck %s

// Rank 1 of 4 of a causal convolution of 2^23 points over B x H = 8 x 64,
// where one GPU's workspace (what the output's bytes hold: 2 pairs of
// every channel, 128 (pair, channel) sequences of 8 MiB a rank) bounds the
// rank's, not the chunks' least size (6 buffers of 128 MiB): the three
// workspace sets of two buffers hold 1 pair of 16 channels each (6 x 16 <=
// 128), the 4 pairs x 4 channel chunks run as 16 chunks, and K's exchange
// is in place, so that one buffer holds K (butterfly-to-gpu-sharded.mlir
// has a rank that memory does not bound: K's rows in a buffer of their
// own). Its inner blocks (rows of 16384 at Split, one block an SM) run 512
// threads, its outer blocks 256.

// CHECK-LABEL: func.func @long
// CHECK-SAME: %[[K:[^:]*]]: memref<4x1x64x1048576xf32> {fftconv.role = "workspace"}, %[[A0:[^:]*]]: memref<4x1x16x1048576xf16> {fftconv.role = "workspace"},
// CHECK-SAME: %[[B0:[^:]*]]: memref<4x1x16x1048576xf16> {fftconv.role = "workspace"}, %{{[^:]*}}: memref<4x1x16x1048576xf16> {fftconv.role = "workspace"},
// CHECK-SAME: %{{[^:]*}}: memref<4x1x16x1048576xf16> {fftconv.role = "workspace"}, %{{[^:]*}}: memref<4x1x16x1048576xf16> {fftconv.role = "workspace"},
// CHECK-SAME: %{{[^:]*}}: memref<4x1x16x1048576xf16> {fftconv.role = "workspace"})
// CHECK-SAME: attributes
// CHECK: gpu.launch_func @long_kernels::@long_conv0_spectrum_outer {{.*}} args({{.*}}, %[[K]] : {{.*}})
// CHECK-NEXT: butterfly.exchange %[[K]] to %[[K]] : memref<4x1x64x1048576xf32>
// CHECK: gpu.launch_func @long_kernels::@long_conv0_outer_forward_0 {{.*}} threads in (%c256{{[_0-9]*}}, {{.*}} args({{.*}}, %[[A0]] : {{.*}})
// CHECK-NEXT: butterfly.exchange %[[A0]] to %[[B0]]
// CHECK: gpu.launch_func @long_kernels::@long_conv0_spectrum_inner {{.*}} threads in (%c512{{[_0-9]*}}, {{.*}} args(%[[K]] : {{.*}})
// CHECK: gpu.launch_func @long_kernels::@long_conv0_inner_c0 {{.*}} threads in (%c512{{[_0-9]*}}, {{.*}} args(%[[B0]] : {{.*}}, %[[K]] : {{.*}})
// CHECK: gpu.launch_func @long_kernels::@long_conv0_outer_inverse_15
func.func @long(%u: tensor<8x64x4194304xf16>, %k: tensor<64x4194304xf32>) -> tensor<8x64x4194304xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<8x64x4194304xf16>, tensor<64x4194304xf32>) -> tensor<8x64x4194304xf16>
  return %y : tensor<8x64x4194304xf16>
}
