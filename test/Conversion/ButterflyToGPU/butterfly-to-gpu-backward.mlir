// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels -butterfly-to-gpu | FileCheck %s

// The backward of a gated causal convolution with skip, f16, N = 256: the
// correlation (conjugate spectrum) writes du and dpre, the postgate's
// convolution dpost, and the kernel gradient's two kernels dk and dD.

// The cross spectrum: v and g in, the group's row of partial spectra
// (M + 1 bins, then lag 0 and a pad: 2 (128 + 2) values) out; v * g summed
// directly for dD.
// CHECK-LABEL: gpu.func @hyena_backward_kernel_gradient0_cross_spectrum
// CHECK-SAME: %{{.*}}: memref<1x4x260xf32> {llvm.noalias}) kernel
// CHECK: vector.reduction <add>
// CHECK: gpu.return
// The inverse: the row in, dk and dD out.
// CHECK-LABEL: gpu.func @hyena_backward_kernel_gradient0_inverse
// CHECK-SAME: (%{{.*}}: memref<1x4x260xf32> {llvm.noalias}, %{{.*}}: memref<4x128xf32> {llvm.noalias}, %{{.*}}: memref<4xf32> {llvm.noalias}) kernel

// The host: the inputs, the five gradients, two spectra and the row.
// CHECK-LABEL: func.func @hyena_backward
// CHECK-SAME: %[[DU:[a-z0-9]+]]: memref<3x4x128xf16> {fftconv.role = "output"}, %[[DK:[a-z0-9]+]]: memref<4x128xf32> {fftconv.role = "output"}, %[[DPRE:[a-z0-9]+]]: memref<3x4x128xf16> {fftconv.role = "output"}, %[[DPOST:[a-z0-9]+]]: memref<3x4x128xf16> {fftconv.role = "output"}, %[[DD:[a-z0-9]+]]: memref<4xf32> {fftconv.role = "output"}
// CHECK-SAME: memref<1x4x260xf32> {fftconv.role = "workspace"}
// CHECK: gpu.launch_func @hyena_backward_kernels::@hyena_backward_conv0_spectrum
// CHECK: gpu.launch_func @hyena_backward_kernels::@hyena_backward_conv0 {{.*}} args({{.*}}, %[[DU]] : memref<3x4x128xf16>, %[[DPRE]] : memref<3x4x128xf16>)
// CHECK: gpu.launch_func @hyena_backward_kernels::@hyena_backward_conv1_spectrum
// CHECK: gpu.launch_func @hyena_backward_kernels::@hyena_backward_conv1 {{.*}} %[[DPOST]] : memref<3x4x128xf16>)
// CHECK: gpu.launch_func @hyena_backward_kernels::@hyena_backward_kernel_gradient0_cross_spectrum
// CHECK: gpu.launch_func @hyena_backward_kernels::@hyena_backward_kernel_gradient0_inverse {{.*}} %[[DK]] : memref<4x128xf32>, %[[DD]] : memref<4xf32>)
func.func @hyena_backward(%u: tensor<3x4x128xf16>, %k: tensor<4x128xf32>, %pre: tensor<3x4x128xf16>, %post: tensor<3x4x128xf16>, %d: tensor<4xf32>, %dy: tensor<3x4x128xf16>)
    -> (tensor<3x4x128xf16>, tensor<4x128xf32>, tensor<3x4x128xf16>, tensor<3x4x128xf16>, tensor<4xf32>) {
  %g:5 = fftconv.conv_grad causal %u, %k pregate %pre postgate %post skip %d grad %dy wrt [input, kernel, pregate, postgate, skip]
      : (tensor<3x4x128xf16>, tensor<4x128xf32>, tensor<3x4x128xf16>, tensor<3x4x128xf16>, tensor<4xf32>, tensor<3x4x128xf16>)
      -> (tensor<3x4x128xf16>, tensor<4x128xf32>, tensor<3x4x128xf16>, tensor<3x4x128xf16>, tensor<4xf32>)
  return %g#0, %g#1, %g#2, %g#3, %g#4 : tensor<3x4x128xf16>, tensor<4x128xf32>, tensor<3x4x128xf16>, tensor<3x4x128xf16>, tensor<4xf32>
}

// The cross spectrum of a causal backward, f16, N = 2048 (M = 1024 =
// 32 x 32 at Half: a stage is 2 row tiles x 2 slabs x 4 terms = 16
// products): v and g are zero past their 1024 samples (512 packed values),
// so the first stage skips the slab that reads only zeros, 8 + 16 = 24.
// A circular backward of the same M (L = 2048) transforms all of it,
// 16 + 16. Then the tile's products: a thread's item is a frequency below
// M / 2 with its mirror M - f (the spectra are Hermitian), 512 of them,
// and the first thread takes the middle frequency M / 2.
// CHECK-LABEL: gpu.func @causal_gradient_kernel_gradient0_cross_spectrum(
// CHECK: %[[TID:[0-9]+]] = arith.index_castui %thread_id_x
// CHECK-COUNT-24: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK: scf.for %{{.*}} = %[[TID]] to %c512_i32{{[_0-9]*}} step
// CHECK: %[[FIRST:[0-9]+]] = arith.cmpi eq, %[[TID]], %c0_i32{{[_0-9]*}}
// CHECK-NEXT: scf.if %[[FIRST]]
// CHECK: gpu.return
func.func @causal_gradient(%u: tensor<4x4x1024xf16>, %k: tensor<4x1024xf32>, %dy: tensor<4x4x1024xf16>) -> tensor<4x1024xf32> {
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<4x4x1024xf16>, tensor<4x1024xf32>, tensor<4x4x1024xf16>) -> tensor<4x1024xf32>
  return %dk : tensor<4x1024xf32>
}

// CHECK-LABEL: gpu.func @circular_gradient_kernel_gradient0_cross_spectrum(
// CHECK-COUNT-32: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK: gpu.return
func.func @circular_gradient(%u: tensor<4x4x2048xf16>, %k: tensor<4x2048xf32>, %dy: tensor<4x4x2048xf16>) -> tensor<4x2048xf32> {
  %dk = fftconv.conv_grad circular %u, %k grad %dy wrt [kernel]
      : (tensor<4x4x2048xf16>, tensor<4x2048xf32>, tensor<4x4x2048xf16>) -> tensor<4x2048xf32>
  return %dk : tensor<4x2048xf32>
}
