// RUN: fftconv-opt %s -fftconv-derive-backward -split-input-file | FileCheck %s

// One convolution: @f_backward takes the forward's inputs and dy, and
// returns one gradient per input; the forward is unchanged.
// CHECK-LABEL: func.func @conv(
// CHECK: fftconv.conv causal
// CHECK-LABEL: func.func @conv_backward
// CHECK-SAME: (%[[U:.*]]: tensor<2x4x64xf16>, %[[K:.*]]: tensor<4x40xf32>, %[[DY:.*]]: tensor<2x4x64xf16>) -> (tensor<2x4x64xf16>, tensor<4x40xf32>)
// CHECK-SAME: attributes {fftconv.derived_backward}
// CHECK-NEXT: %[[G:.*]]:2 = fftconv.conv_grad causal %[[U]], %[[K]] grad %[[DY]] wrt [input, kernel]
// CHECK-NEXT: return %[[G]]#0, %[[G]]#1
func.func @conv(%u: tensor<2x4x64xf16>, %k: tensor<4x40xf32>) -> tensor<2x4x64xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x4x64xf16>, tensor<4x40xf32>) -> tensor<2x4x64xf16>
  return %y : tensor<2x4x64xf16>
}

// -----

// Two independent convolutions sharing the kernel: its gradients add up;
// the unused argument gets zeros.
// CHECK-LABEL: func.func @two_convs_backward
// CHECK-SAME: (%[[A:.*]]: tensor<1x2x32xf32>, %[[B:.*]]: tensor<1x2x32xf32>, %[[K:.*]]: tensor<2x32xf32>, %[[X:.*]]: tensor<2xf32>, %[[DA:.*]]: tensor<1x2x32xf32>, %[[DB:.*]]: tensor<1x2x32xf32>)
// CHECK-DAG: %[[G2:.*]]:2 = fftconv.conv_grad circular %[[B]], %[[K]] grad %[[DB]] wrt [input, kernel]
// CHECK-DAG: %[[G1:.*]]:2 = fftconv.conv_grad causal %[[A]], %[[K]] grad %[[DA]] wrt [input, kernel]
// CHECK: %[[DK:.*]] = linalg.generic {{.*}} ins(%[[G2]]#1, %[[G1]]#1
// CHECK: arith.addf
// CHECK: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK: return %[[G1]]#0, %[[G2]]#0, %[[DK]], %[[Z]]
func.func @two_convs(%a: tensor<1x2x32xf32>, %b: tensor<1x2x32xf32>, %k: tensor<2x32xf32>, %unused: tensor<2xf32>)
    -> (tensor<1x2x32xf32>, tensor<1x2x32xf32>) {
  %ya = fftconv.conv causal %a, %k : (tensor<1x2x32xf32>, tensor<2x32xf32>) -> tensor<1x2x32xf32>
  %yb = fftconv.conv circular %b, %k : (tensor<1x2x32xf32>, tensor<2x32xf32>) -> tensor<1x2x32xf32>
  return %ya, %yb : tensor<1x2x32xf32>, tensor<1x2x32xf32>
}

// -----

// Regularized kernel: the forward's squash and smooth are replayed, the
// gradient goes back through Smooth's transpose (Smooth itself) and
// Squash's subgradient (zero where |k| <= lambda).
// CHECK-LABEL: func.func @regularized_backward
// CHECK: %[[SQ:.*]] = fftconv.squash %{{.*}} lambda = 1.000000e-01
// CHECK: %[[SM:.*]] = fftconv.smooth %[[SQ]] width = 3
// CHECK: %[[G:.*]]:2 = fftconv.conv_grad causal %{{.*}}, %[[SM]] grad %{{.*}} wrt [input, kernel]
// CHECK: %[[T:.*]] = fftconv.smooth %[[G]]#1 width = 3
// CHECK: %[[S:.*]] = linalg.generic
// CHECK: math.absf
// CHECK: arith.cmpf ogt
// CHECK: return %[[G]]#0, %[[S]]
func.func @regularized(%u: tensor<1x2x32xf32>, %k: tensor<2x32xf32>) -> tensor<1x2x32xf32> {
  %sq = fftconv.squash %k lambda = 0.1 : tensor<2x32xf32>
  %sm = fftconv.smooth %sq width = 3 : tensor<2x32xf32>
  %y = fftconv.conv causal %u, %sm : (tensor<1x2x32xf32>, tensor<2x32xf32>) -> tensor<1x2x32xf32>
  return %y : tensor<1x2x32xf32>
}

// -----

// A constant kernel needs no gradient: only the input's is asked for.
// CHECK-LABEL: func.func @constant_kernel_backward
// CHECK: fftconv.conv_grad causal %{{.*}}, %{{.*}} grad %{{.*}} wrt [input] :
func.func @constant_kernel(%u: tensor<1x1x8xf32>) -> tensor<1x1x8xf32> {
  %k = arith.constant dense<1.0> : tensor<1x8xf32>
  %y = fftconv.conv causal %u, %k : (tensor<1x1x8xf32>, tensor<1x8xf32>) -> tensor<1x1x8xf32>
  return %y : tensor<1x1x8xf32>
}
