// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels -butterfly-to-gpu | FileCheck %s

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
