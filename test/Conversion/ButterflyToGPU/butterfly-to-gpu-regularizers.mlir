// RUN: fftconv-opt %s -fftconv-derive-backward -fftconv-to-butterfly -butterfly-plan-gpu-kernels -butterfly-to-gpu | FileCheck %s

// Squash and Smooth on k run where k is read: in the spectrum kernels
// (Squash as x - clamp(x, -lambda, lambda), Smooth as a sum of its window),
// and their transposes where dk is written: the channel-inverse kernel
// averages the lags over Smooth's window and zeroes the taps Squash zeroed,
// reading k.

// The forward's spectrum kernel.
// CHECK-LABEL: gpu.func @reg_conv0_spectrum
// CHECK: arith.minimumf
// CHECK: arith.maximumf
// CHECK: gpu.return

// The backward's inverse: the row, dk, then k.
// CHECK-LABEL: gpu.func @reg_backward_kernel_gradient0_inverse
// CHECK-SAME: (%{{.*}}: memref<1x4x516xf32> {llvm.noalias}, %{{.*}}: memref<4x256xf32> {llvm.noalias}, %[[K:.*]]: memref<4x256xf32> {llvm.noalias}) kernel
// CHECK: memref.load %[[K]]
// CHECK: math.absf
// CHECK: arith.cmpf ogt
// CHECK: gpu.return

// The backward's host: the correlation's spectrum regularizes k too.
// CHECK-LABEL: func.func @reg_backward
// CHECK: gpu.launch_func @reg_backward_kernels::@reg_backward_conv0_spectrum
// CHECK: gpu.launch_func @reg_backward_kernels::@reg_backward_kernel_gradient0_inverse {{.*}}, %arg1 : memref<4x256xf32>)
func.func @reg(%u: tensor<2x4x256xf16>, %k: tensor<4x256xf32>) -> tensor<2x4x256xf16> {
  %sq = fftconv.squash %k lambda = 0.01 : tensor<4x256xf32>
  %sm = fftconv.smooth %sq width = 3 : tensor<4x256xf32>
  %y = fftconv.conv causal %u, %sm : (tensor<2x4x256xf16>, tensor<4x256xf32>) -> tensor<2x4x256xf16>
  return %y : tensor<2x4x256xf16>
}
