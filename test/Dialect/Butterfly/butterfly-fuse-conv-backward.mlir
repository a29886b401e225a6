// RUN: fftconv-opt %s -split-input-file -fftconv-conv-grad-to-fft -fftconv-conv-to-fft -canonicalize -fftconv-monarch-decompose -canonicalize -butterfly-fuse-conv | FileCheck %s

// The backward of a gated convolution with skip: the correlation is a conv
// region that writes du and dpre (both read dv); the postgate's gradient a
// conv region of its own; the kernel gradient a cross_spectrum region (the
// transforms of v and g and their batch-reduced cross spectrum) and a
// channel_inverse region (dk and dD from one inverse). g = postgate * dy
// feeds three regions: each computes it again from dy and the postgate
// instead of reading it from memory.
// CHECK-LABEL: func @gated_skip
// CHECK-SAME: (%[[U:.*]]: tensor<2x4x64xf16>, %[[K:.*]]: tensor<4x64xf32>, %[[PRE:.*]]: tensor<2x4x64xf16>, %[[POST:.*]]: tensor<2x4x64xf16>, %[[D:.*]]: tensor<4xf32>, %[[DY:.*]]: tensor<2x4x64xf16>)
// CHECK-NOT: iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: %[[CROSS:.*]] = butterfly.fused cross_spectrum ins(%[[U]], %[[PRE]], %[[DY]], %[[POST]] :
// CHECK: fftconv.cross_spectrum
// CHECK: butterfly.yield %{{.*}} : tensor<4x65xcomplex<f32>>
// CHECK: %[[DV:.*]]:2 = butterfly.fused conv ins(%[[DY]], %[[POST]], %{{.*}}, %[[D]], %[[PRE]], %[[U]] :
// CHECK: butterfly.hermitian_mul
// CHECK: butterfly.yield %{{.*}}, %{{.*}} : tensor<2x4x64xf16>, tensor<2x4x64xf16>
// CHECK: %[[DPOST:.*]] = butterfly.fused conv ins(%[[U]], %[[PRE]], %{{.*}}, %[[D]], %[[DY]] :
// CHECK: %[[DKDD:.*]]:2 = butterfly.fused channel_inverse ins(%[[CROSS]] : tensor<4x65xcomplex<f32>>)
// CHECK: butterfly.real_spectrum %{{.*}} inverse
// CHECK: butterfly.monarch %{{.*}} inverse
// CHECK: tensor.collapse_shape
// CHECK: butterfly.yield %{{.*}}, %{{.*}} : tensor<4x64xf32>, tensor<4xf32>
// CHECK: return %[[DV]]#0, %[[DKDD]]#0, %[[DV]]#1, %[[DPOST]], %[[DKDD]]#1
func.func @gated_skip(%u: tensor<2x4x64xf16>, %k: tensor<4x64xf32>, %pre: tensor<2x4x64xf16>,
                      %post: tensor<2x4x64xf16>, %d: tensor<4xf32>, %dy: tensor<2x4x64xf16>)
    -> (tensor<2x4x64xf16>, tensor<4x64xf32>, tensor<2x4x64xf16>, tensor<2x4x64xf16>, tensor<4xf32>) {
  %g:5 = fftconv.conv_grad causal %u, %k pregate %pre postgate %post skip %d grad %dy wrt [input, kernel, pregate, postgate, skip]
      : (tensor<2x4x64xf16>, tensor<4x64xf32>, tensor<2x4x64xf16>, tensor<2x4x64xf16>, tensor<4xf32>, tensor<2x4x64xf16>)
      -> (tensor<2x4x64xf16>, tensor<4x64xf32>, tensor<2x4x64xf16>, tensor<2x4x64xf16>, tensor<4xf32>)
  return %g#0, %g#1, %g#2, %g#3, %g#4 : tensor<2x4x64xf16>, tensor<4x64xf32>, tensor<2x4x64xf16>, tensor<2x4x64xf16>, tensor<4xf32>
}

// -----

// Only the kernel's gradient: the two regions of the kernel gradient alone.
// CHECK-LABEL: func @kernel_only
// CHECK-NOT: butterfly.fused conv
// CHECK: butterfly.fused cross_spectrum
// CHECK: butterfly.fused channel_inverse
// CHECK-NOT: butterfly.fused
// CHECK: return
func.func @kernel_only(%u: tensor<3x2x64xf16>, %k: tensor<2x64xf32>, %dy: tensor<3x2x64xf16>) -> tensor<2x64xf32> {
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<3x2x64xf16>, tensor<2x64xf32>, tensor<3x2x64xf16>) -> tensor<2x64xf32>
  return %dk : tensor<2x64xf32>
}
