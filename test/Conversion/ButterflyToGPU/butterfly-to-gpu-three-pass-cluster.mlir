// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=32768 three-pass-cluster=8" -butterfly-to-gpu | FileCheck %s

// A three-pass convolution on clusters of 8 blocks: K's two kernels, then
// one kernel whose blocks exchange the rows through each other's shared
// memory, one buffer a block: each thread reads its share (4 groups of 8
// values at 256 threads), a cluster barrier, its stores to the peers
// (mapa, 16-byte stores of the high and low f16 planes at Split), a
// cluster barrier; once after the outer forward pass, once after the inner
// pass. No workspace: the host function takes K's buffer alone.
// CHECK-LABEL: gpu.func @causal_64k_conv0_clustered(
// CHECK-SAME: nvvm.cluster_dim = array<i32: 8, 1, 1>
// CHECK: nvvm.cluster.arrive
// CHECK: nvvm.mapa {{.*}} : !llvm.ptr<3> -> !llvm.ptr<7>
// CHECK-COUNT-4: llvm.store {{.*}} {alignment = 16 : i64} : vector<8xf16>, !llvm.ptr<7>
// CHECK: nvvm.mapa
// CHECK: nvvm.mapa
// CHECK: nvvm.mapa
// CHECK-NOT: nvvm.mapa
// CHECK: nvvm.cluster.arrive
// CHECK: nvvm.cluster.arrive
// CHECK-COUNT-4: nvvm.mapa
// CHECK-NOT: nvvm.mapa
// CHECK: nvvm.cluster.arrive
// CHECK-NOT: nvvm.cluster.arrive
// CHECK: gpu.return
// CHECK-LABEL: func.func @causal_64k(
// CHECK-SAME: %{{.*}}: memref<8x4x32768xf16> {fftconv.role = "input"}, %{{.*}}: memref<4x32768xf32> {fftconv.role = "input"}, %{{.*}}: memref<8x4x32768xf16> {fftconv.role = "output"}, %{{.*}}: memref<4x131072xf32> {{{.*}}fftconv.role = "workspace"}) attributes
// CHECK: gpu.launch_func @causal_64k_kernels::@causal_64k_conv0_spectrum_outer
// CHECK: gpu.launch_func @causal_64k_kernels::@causal_64k_conv0_spectrum_inner
// CHECK: gpu.launch_func @causal_64k_kernels::@causal_64k_conv0_clustered blocks in (%c8, %c4{{.*}}, %c4{{.*}}) threads in (%c256{{.*}}) dynamic_shared_memory_size %c65536_i32
func.func @causal_64k(%u: tensor<8x4x32768xf16>, %k: tensor<4x32768xf32>) -> tensor<8x4x32768xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<8x4x32768xf16>, tensor<4x32768xf32>) -> tensor<8x4x32768xf16>
  return %y : tensor<8x4x32768xf16>
}
