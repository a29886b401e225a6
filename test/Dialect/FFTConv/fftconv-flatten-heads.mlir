// RUN: fftconv-opt %s -split-input-file -fftconv-flatten-heads | FileCheck %s

// One block: the heads are rows of the batch, by reshapes alone.
// CHECK-LABEL: func.func @one_block
// CHECK-SAME: (%[[U:.*]]: tensor<2x3x4x1x64xf16>, %[[K:.*]]: tensor<4x64xf32>, %[[G:.*]]: tensor<2x3x4x1x64xf16>, %[[D:.*]]: tensor<4xf32>)
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %[[U]] {{\[}}[0, 1], [2, 3], [4]] : tensor<2x3x4x1x64xf16> into tensor<6x4x64xf16>
// CHECK: %[[GATE:.*]] = tensor.collapse_shape %[[G]] {{\[}}[0, 1], [2, 3], [4]]
// CHECK: %[[Y:.*]] = fftconv.conv causal %[[ROWS]], %[[K]] postgate %[[GATE]] skip %[[D]] : (tensor<6x4x64xf16>, tensor<4x64xf32>, tensor<6x4x64xf16>, tensor<4xf32>) -> tensor<6x4x64xf16>
// CHECK: %[[OUT:.*]] = tensor.expand_shape %[[Y]] {{\[}}[0, 1], [2, 3], [4]] output_shape [2, 3, 4, 1, 64]
// CHECK: return %[[OUT]]
func.func @one_block(%u: tensor<2x3x4x1x64xf16>, %k: tensor<4x64xf32>, %g: tensor<2x3x4x1x64xf16>, %d: tensor<4xf32>) -> tensor<2x3x4x1x64xf16> {
  %y = fftconv.conv causal %u, %k postgate %g skip %d : (tensor<2x3x4x1x64xf16>, tensor<4x64xf32>, tensor<2x3x4x1x64xf16>, tensor<4xf32>) -> tensor<2x3x4x1x64xf16>
  return %y : tensor<2x3x4x1x64xf16>
}

// -----

// Several blocks: the heads join the batch (a reshape), the channel axis
// moves next to the sequence (a transpose, which the GPU kernels read as a
// map of their rows), and back after.
// CHECK-LABEL: func.func @blocks
// CHECK: %[[BATCH:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2], [3], [4]] : tensor<2x3x4x5x64xf32> into tensor<6x4x5x64xf32>
// CHECK: %[[MOVED:.*]] = linalg.transpose ins(%[[BATCH]] : tensor<6x4x5x64xf32>) outs(%{{.*}} : tensor<6x5x4x64xf32>) permutation = [0, 2, 1, 3]
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %[[MOVED]] {{\[}}[0, 1], [2], [3]] : tensor<6x5x4x64xf32> into tensor<30x4x64xf32>
// CHECK: %[[Y:.*]] = fftconv.conv causal %[[ROWS]], %{{.*}} reverse %{{.*}} : (tensor<30x4x64xf32>, tensor<4x64xf32>, tensor<4x32xf32>) -> tensor<30x4x64xf32>
// CHECK: %[[EXPANDED:.*]] = tensor.expand_shape %[[Y]] {{\[}}[0, 1], [2], [3]] output_shape [6, 5, 4, 64]
// CHECK: %[[BACK:.*]] = linalg.transpose ins(%[[EXPANDED]] : tensor<6x5x4x64xf32>) outs(%{{.*}} : tensor<6x4x5x64xf32>) permutation = [0, 2, 1, 3]
// CHECK: tensor.expand_shape %[[BACK]] {{\[}}[0, 1], [2], [3], [4]] output_shape [2, 3, 4, 5, 64]
func.func @blocks(%u: tensor<2x3x4x5x64xf32>, %k: tensor<4x64xf32>, %kr: tensor<4x32xf32>) -> tensor<2x3x4x5x64xf32> {
  %y = fftconv.conv causal %u, %k reverse %kr : (tensor<2x3x4x5x64xf32>, tensor<4x64xf32>, tensor<4x32xf32>) -> tensor<2x3x4x5x64xf32>
  return %y : tensor<2x3x4x5x64xf32>
}

// -----

// A conv_grad: the sequences' gradients come back as heads, those of the
// kernels are sums over every row already.
// CHECK-LABEL: func.func @gradient
// CHECK: %[[GRADS:.*]]:3 = fftconv.conv_grad causal %{{.*}}, %{{.*}} reverse %{{.*}} grad %{{.*}} wrt [input, kernel, reverse_kernel] : (tensor<6x4x64xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<6x4x64xf32>) -> (tensor<6x4x64xf32>, tensor<4x64xf32>, tensor<4x64xf32>)
// CHECK: %[[DU:.*]] = tensor.expand_shape %[[GRADS]]#0
// CHECK: return %[[DU]], %[[GRADS]]#1, %[[GRADS]]#2
func.func @gradient(%u: tensor<2x3x4x1x64xf32>, %k: tensor<4x64xf32>, %kr: tensor<4x64xf32>, %dy: tensor<2x3x4x1x64xf32>) -> (tensor<2x3x4x1x64xf32>, tensor<4x64xf32>, tensor<4x64xf32>) {
  %du, %dk, %dkr = fftconv.conv_grad causal %u, %k reverse %kr grad %dy wrt [input, kernel, reverse_kernel]
      : (tensor<2x3x4x1x64xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<2x3x4x1x64xf32>) -> (tensor<2x3x4x1x64xf32>, tensor<4x64xf32>, tensor<4x64xf32>)
  return %du, %dk, %dkr : tensor<2x3x4x1x64xf32>, tensor<4x64xf32>, tensor<4x64xf32>
}
