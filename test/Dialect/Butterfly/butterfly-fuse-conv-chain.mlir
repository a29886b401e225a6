// RUN: fftconv-opt %s -fftconv-derive-backward -fftconv-to-butterfly | FileCheck %s

// The backward of two chained gated convolutions (Hyena of order 3): the
// conv region of the second convolution's gradient also yields v of its
// recomputed input, which the kernel gradient of the first reads. The
// regions are outlined at their last op and the block put back in
// def-before-use order (the verifier refused the function before).
// CHECK-LABEL: func.func @chain_backward
// CHECK: %[[DV:.*]] = butterfly.fused conv ins(%arg8, %arg0, %{{.*}} :
// CHECK: %[[V:.*]]:2 = butterfly.fused conv ins(%arg3, %arg2, %{{.*}}, %arg5, %arg1, %arg8, %arg0, %[[DV]], %arg7 :
// CHECK: butterfly.fused conv ins(%[[V]]#0,
// CHECK: butterfly.fused cross_spectrum ins(%arg8, %arg0, %[[DV]],
// CHECK: butterfly.fused cross_spectrum ins(%arg8, %arg0, %[[V]]#0 :
// CHECK: return
func.func @chain(%x0: tensor<4x4x64xf32>, %x1: tensor<4x4x64xf32>, %x2: tensor<4x4x64xf32>, %u: tensor<4x4x64xf32>, %k0: tensor<4x64xf32>, %d0: tensor<4xf32>, %k1: tensor<4x64xf32>, %d1: tensor<4xf32>) -> tensor<4x4x64xf32> {
  %0 = fftconv.conv causal %u, %k0 pregate %x2 skip %d0 : (tensor<4x4x64xf32>, tensor<4x64xf32>, tensor<4x4x64xf32>, tensor<4xf32>) -> tensor<4x4x64xf32>
  %1 = fftconv.conv causal %0, %k1 pregate %x1 postgate %x0 skip %d1 : (tensor<4x4x64xf32>, tensor<4x64xf32>, tensor<4x4x64xf32>, tensor<4x4x64xf32>, tensor<4xf32>) -> tensor<4x4x64xf32>
  return %1 : tensor<4x4x64xf32>
}
