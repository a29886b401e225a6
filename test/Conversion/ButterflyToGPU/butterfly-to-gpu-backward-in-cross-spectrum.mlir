// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels -butterfly-to-gpu | FileCheck %s

// The backward of a gated causal convolution, bf16, N = 256: the planner
// gives the correlation (du, dpre) and the postgate's convolution (dpost)
// in_cross_spectrum plans, and the kernel gradient's cross-spectrum kernel
// runs them from the spectra of v and g it holds. Its arguments: its own
// (u, pre, dy, post, the row), then those each convolution's kernel would
// take: the postgate's (u, pre, K's coefficients, dy, dpost: %arg5 ..
// %arg9), the correlation's (dy, post, conj(K)'s coefficients, pre, u, du,
// dpre: %arg10 .. %arg16). Per tile, after the terms and a barrier: one
// product over v's and g's sequences (3 each), a pair's coefficients of
// both convolutions loaded and picked by the sequence's side; the inverse
// stages over both; each side's outputs through its epilogue.
// CHECK-LABEL: gpu.func @gated_bf16_kernel_gradient0_cross_spectrum(
// CHECK: gpu.barrier
// CHECK-COUNT-4: vector.load %arg7[
// CHECK-COUNT-4: vector.load %arg12[
// CHECK: scf.for %[[SEQ:.*]] = 
// CHECK: %[[LATER:.*]] = arith.cmpi uge, %[[SEQ]], %c3_i32
// CHECK-NEXT: arith.select %[[LATER]]
// CHECK: nvgpu.mma.sync
// CHECK: vector.store %{{.*}}, %arg9[
// CHECK: vector.store %{{.*}}, %arg15[
// CHECK: vector.store %{{.*}}, %arg16[
// CHECK: gpu.return
// The host: the two spectrum kernels (coefficients at Monarch positions),
// the cross spectrum, the inverse; no convolution kernels of their own.
// CHECK-LABEL: func.func @gated_bf16(
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.launch_func @gated_bf16_kernels::@gated_bf16_conv1_spectrum
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.launch_func @gated_bf16_kernels::@gated_bf16_conv0_spectrum
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.launch_func @gated_bf16_kernels::@gated_bf16_kernel_gradient0_cross_spectrum
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.launch_func @gated_bf16_kernels::@gated_bf16_kernel_gradient0_inverse
// CHECK-NOT: gpu.launch_func
// CHECK: return
func.func @gated_bf16(%u: tensor<3x4x128xbf16>, %k: tensor<4x128xf32>, %pre: tensor<3x4x128xbf16>, %post: tensor<3x4x128xbf16>, %dy: tensor<3x4x128xbf16>)
    -> (tensor<3x4x128xbf16>, tensor<4x128xf32>, tensor<3x4x128xbf16>, tensor<3x4x128xbf16>) {
  %g:4 = fftconv.conv_grad causal %u, %k pregate %pre postgate %post grad %dy wrt [input, kernel, pregate, postgate]
      : (tensor<3x4x128xbf16>, tensor<4x128xf32>, tensor<3x4x128xbf16>, tensor<3x4x128xbf16>, tensor<3x4x128xbf16>)
      -> (tensor<3x4x128xbf16>, tensor<4x128xf32>, tensor<3x4x128xbf16>, tensor<3x4x128xbf16>)
  return %g#0, %g#1, %g#2, %g#3 : tensor<3x4x128xbf16>, tensor<4x128xf32>, tensor<3x4x128xbf16>, tensor<3x4x128xbf16>
}

// -----

// At 16K (M = 8192, blocks of 16 warps) the one product over both sides'
// sequences starts the next position's coefficients into L1, both
// convolutions' A and B at the position and at its mirror; one side's
// product (a causal backward's correlation alone) does not: measured
// slower (GradientKernels.cpp).
// CHECK-LABEL: gpu.func @gated_16k_kernel_gradient0_cross_spectrum(
// CHECK: scf.for {{.*}} step %c512_i32
// CHECK-COUNT-8: nvvm.prefetch level = L1, {{.*}} : !llvm.ptr<1>
// CHECK-NOT: nvvm.prefetch
// CHECK: gpu.return
func.func @gated_16k(%u: tensor<2x2x16384xbf16>, %k: tensor<2x16384xf32>, %pre: tensor<2x2x16384xbf16>, %post: tensor<2x2x16384xbf16>, %dy: tensor<2x2x16384xbf16>)
    -> (tensor<2x2x16384xbf16>, tensor<2x16384xf32>, tensor<2x2x16384xbf16>, tensor<2x2x16384xbf16>) {
  %g:4 = fftconv.conv_grad circular %u, %k pregate %pre postgate %post grad %dy wrt [input, kernel, pregate, postgate]
      : (tensor<2x2x16384xbf16>, tensor<2x16384xf32>, tensor<2x2x16384xbf16>, tensor<2x2x16384xbf16>, tensor<2x2x16384xbf16>)
      -> (tensor<2x2x16384xbf16>, tensor<2x16384xf32>, tensor<2x2x16384xbf16>, tensor<2x2x16384xbf16>)
  return %g#0, %g#1, %g#2, %g#3 : tensor<2x2x16384xbf16>, tensor<2x16384xf32>, tensor<2x2x16384xbf16>, tensor<2x2x16384xbf16>
}

// -----

// CHECK-LABEL: gpu.func @causal_16k_kernel_gradient0_cross_spectrum(
// CHECK-NOT: nvvm.prefetch
// CHECK: gpu.return
func.func @causal_16k(%u: tensor<2x2x8192xbf16>, %k: tensor<2x8192xf32>, %dy: tensor<2x2x8192xbf16>)
    -> (tensor<2x2x8192xbf16>, tensor<2x8192xf32>) {
  %g:2 = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel]
      : (tensor<2x2x8192xbf16>, tensor<2x8192xf32>, tensor<2x2x8192xbf16>) -> (tensor<2x2x8192xbf16>, tensor<2x8192xf32>)
  return %g#0, %g#1 : tensor<2x2x8192xbf16>, tensor<2x8192xf32>
}

// -----

// At 32K the cross spectrum runs on a cluster of two blocks, each running
// its side's convolution: each side's product prefetches the next
// position's coefficients (A and B at the position and at its mirror).
// CHECK-LABEL: gpu.func @gated_32k_kernel_gradient0_cross_spectrum(
// CHECK-SAME: nvvm.cluster_dim = array<i32: 2, 1, 1>
// CHECK-COUNT-4: nvvm.prefetch level = L1, {{.*}} : !llvm.ptr<1>
// CHECK: } else {
// CHECK-COUNT-4: nvvm.prefetch level = L1, {{.*}} : !llvm.ptr<1>
// CHECK-NOT: nvvm.prefetch
// CHECK: gpu.return
func.func @gated_32k(%u: tensor<2x2x32768xbf16>, %k: tensor<2x32768xf32>, %pre: tensor<2x2x32768xbf16>, %post: tensor<2x2x32768xbf16>, %dy: tensor<2x2x32768xbf16>)
    -> (tensor<2x2x32768xbf16>, tensor<2x32768xf32>, tensor<2x2x32768xbf16>, tensor<2x2x32768xbf16>) {
  %g:4 = fftconv.conv_grad circular %u, %k pregate %pre postgate %post grad %dy wrt [input, kernel, pregate, postgate]
      : (tensor<2x2x32768xbf16>, tensor<2x32768xf32>, tensor<2x2x32768xbf16>, tensor<2x2x32768xbf16>, tensor<2x2x32768xbf16>)
      -> (tensor<2x2x32768xbf16>, tensor<2x32768xf32>, tensor<2x2x32768xbf16>, tensor<2x2x32768xbf16>)
  return %g#0, %g#1, %g#2, %g#3 : tensor<2x2x32768xbf16>, tensor<2x32768xf32>, tensor<2x2x32768xbf16>, tensor<2x2x32768xbf16>
}

