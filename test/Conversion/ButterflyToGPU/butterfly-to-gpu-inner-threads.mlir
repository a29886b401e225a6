// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=8192" \
// RUN:   | sed -e 's/\(fused cross_spectrum.*factors = \[[0-9, ]*\], \)threads = 256/\1inner_threads = 512, threads = 256/' \
// RUN:   | fftconv-opt -butterfly-to-gpu | FileCheck %s

// A plan's inner_threads is what butterfly-to-gpu builds and launches the
// inner kernels with, a kernel gradient's cross-spectrum kernel included
// (the planner gives it from rows of 8192 on, where a block fills an SM;
// this test sets it at rows of 4096), its outer kernels
// keeping the plan's threads.
// CHECK-LABEL: func.func @kernel_gradient
// CHECK: gpu.launch_func @kernel_gradient_kernels::@kernel_gradient_kernel_gradient0_outer_forward_v_0 {{.*}} threads in (%c256{{[_0-9]*}},
// CHECK: gpu.launch_func @kernel_gradient_kernels::@kernel_gradient_kernel_gradient0_cross_spectrum {{.*}} threads in (%c512{{[_0-9]*}},
// CHECK: gpu.launch_func @kernel_gradient_kernels::@kernel_gradient_kernel_gradient0_cross_spectrum_add {{.*}} threads in (%c512{{[_0-9]*}},
// CHECK: gpu.launch_func @kernel_gradient_kernels::@kernel_gradient_kernel_gradient0_inner_inverse {{.*}} threads in (%c256{{[_0-9]*}},
func.func @kernel_gradient(%u: tensor<3x4x8192xf16>, %k: tensor<4x8192xf32>, %dy: tensor<3x4x8192xf16>) -> tensor<4x8192xf32> {
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<3x4x8192xf16>, tensor<4x8192xf32>, tensor<3x4x8192xf16>) -> tensor<4x8192xf32>
  return %dk : tensor<4x8192xf32>
}
