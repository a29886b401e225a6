// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=8192" -butterfly-to-gpu | FileCheck %s

// The backward of a causal convolution past the single-kernel form (N =
// 16K, B = 3: two chunks of one pair): du by the three-pass correlation,
// whose spectrum kernel stores conj(K) (K scaled back by sqrt(N) = 128,
// its imaginary part negated); dk by the three-pass kernel gradient.

// CHECK-LABEL: gpu.func @backward_conv0_spectrum_inner
// CHECK-DAG: arith.constant 1.280000e+02 : f32
// CHECK-DAG: arith.constant -1.280000e+02 : f32
// CHECK: gpu.return

// The pairs of v (u) and of g (dy) into two workspaces of one pair's
// spectra; the inner kernel's rows of both in, the running sums out.
// CHECK-LABEL: gpu.func @backward_kernel_gradient0_outer_forward_v_0
// CHECK-SAME: %{{.*}}: memref<1x4x32768xf32> {llvm.noalias}) kernel
// CHECK-LABEL: gpu.func @backward_kernel_gradient0_cross_spectrum
// CHECK-SAME: (%{{.*}}: memref<1x4x32768xf32> {llvm.noalias}, %{{.*}}: memref<1x4x32768xf32> {llvm.noalias}, %{{.*}}: memref<1x4x32768xf32> {llvm.noalias}) kernel
// CHECK: nvgpu.mma.sync
// CHECK-NOT: gpu.func
// CHECK: vector.store {{.*}} : memref<1x4x32768xf32>, vector<8xf32>
// The later chunk's kernel adds to the sums it loads.
// CHECK-LABEL: gpu.func @backward_kernel_gradient0_cross_spectrum_add
// CHECK: vector.load {{.*}} : memref<1x4x32768xf32>, vector<8xf32>
// The lags: dk from them, scaled by sqrt(N).
// CHECK-LABEL: gpu.func @backward_kernel_gradient0_lags
// CHECK-SAME: (%{{.*}}: memref<4x8192xf32> {llvm.noalias}, %{{.*}}: memref<4x8192xf32> {llvm.noalias}) kernel
// CHECK: arith.constant 1.280000e+02 : f32

// CHECK-LABEL: func.func @backward
// CHECK: @backward_conv0_spectrum_outer
// CHECK: @backward_conv0_spectrum_inner
// CHECK: @backward_conv0_outer_forward_0
// CHECK: @backward_conv0_inner
// CHECK: @backward_conv0_outer_inverse_0
// CHECK: @backward_conv0_outer_forward_1
// CHECK: @backward_kernel_gradient0_outer_forward_v_0
// CHECK: @backward_kernel_gradient0_outer_forward_g_0
// CHECK: @backward_kernel_gradient0_cross_spectrum blocks in (%c4{{.*}}, %c4{{.*}}, %c1{{.*}}) {{.*}} dynamic_shared_memory_size %c98304_i32
// CHECK: @backward_kernel_gradient0_outer_forward_v_1
// CHECK: @backward_kernel_gradient0_outer_forward_g_1
// CHECK: @backward_kernel_gradient0_cross_spectrum_add
// CHECK: @backward_kernel_gradient0_inner_inverse
// CHECK: @backward_kernel_gradient0_outer_inverse
// CHECK: @backward_kernel_gradient0_lags blocks in (%c4{{.*}}, %c1{{.*}}, %c1{{.*}})
func.func @backward(%u: tensor<3x4x8192xf16>, %k: tensor<4x8192xf32>, %dy: tensor<3x4x8192xf16>) -> (tensor<3x4x8192xf16>, tensor<4x8192xf32>) {
  %du, %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel]
      : (tensor<3x4x8192xf16>, tensor<4x8192xf32>, tensor<3x4x8192xf16>) -> (tensor<3x4x8192xf16>, tensor<4x8192xf32>)
  return %du, %dk : tensor<3x4x8192xf16>, tensor<4x8192xf32>
}
