// RUN: fftconv-opt %s -fftconv-derive-backward="arguments=1" | FileCheck %s
// RUN: fftconv-opt %s -fftconv-derive-backward="arguments=3,0" | FileCheck %s --check-prefix=ORDER

// Asked for the kernel's gradient alone, the backward computes nothing else:
// the other arguments act as constants.
// CHECK-LABEL: func.func @gated_backward
// CHECK-SAME: -> tensor<4x40xf32>
// CHECK-NEXT: %[[DK:.*]] = fftconv.conv_grad causal %{{.*}}, %{{.*}} pregate %{{.*}} postgate %{{.*}} grad %{{.*}} wrt [kernel]
// CHECK-NEXT: return %[[DK]] : tensor<4x40xf32>
// The gradients come back in the order asked for.
// ORDER-LABEL: func.func @gated_backward
// ORDER-SAME: -> (tensor<2x4x64xf16>, tensor<2x4x64xf16>)
// ORDER-NEXT: %[[G:.*]]:2 = fftconv.conv_grad {{.*}} wrt [input, postgate]
// ORDER-NEXT: return %[[G]]#1, %[[G]]#0
func.func @gated(%u: tensor<2x4x64xf16>, %k: tensor<4x40xf32>, %pre: tensor<2x4x64xf16>, %post: tensor<2x4x64xf16>) -> tensor<2x4x64xf16> {
  %y = fftconv.conv causal %u, %k pregate %pre postgate %post : (tensor<2x4x64xf16>, tensor<4x40xf32>, tensor<2x4x64xf16>, tensor<2x4x64xf16>) -> tensor<2x4x64xf16>
  return %y : tensor<2x4x64xf16>
}
