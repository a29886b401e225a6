// RUN: fftconv-opt %s -butterfly-expand-monarch | FileCheck %s

// Order 3, Monarch order out: three stages, twiddles between them, no
// permutation.
// CHECK-LABEL: func @forward_permuted
// CHECK: %[[F0:.*]] = butterfly.dft : tensor<16x16xcomplex<f32>>
// CHECK: %[[S0:.*]] = butterfly.kron %[[F0]], %{{.*}} stride = 256
// CHECK: %[[T0:.*]] = butterfly.twiddle %[[S0]] rows = 16, cols = 256
// CHECK: %[[F1:.*]] = butterfly.dft : tensor<16x16xcomplex<f32>>
// CHECK: %[[S1:.*]] = butterfly.kron %[[F1]], %[[T0]] stride = 16
// CHECK: %[[T1:.*]] = butterfly.twiddle %[[S1]] rows = 16, cols = 16
// CHECK: %[[F2:.*]] = butterfly.dft : tensor<16x16xcomplex<f32>>
// CHECK: %[[S2:.*]] = butterfly.kron %[[F2]], %[[T1]] stride = 1
// CHECK-NOT: butterfly.permute
// CHECK: return %[[S2]]
func.func @forward_permuted(%x: tensor<2x4096xcomplex<f32>>) -> tensor<2x4096xcomplex<f32>> {
  %0 = butterfly.monarch %x factors = [16, 16, 16] permuted : tensor<2x4096xcomplex<f32>>
  return %0 : tensor<2x4096xcomplex<f32>>
}

// Natural order: the digit reversal of [16, 32] is one 16 x 32 transpose.
// CHECK-LABEL: func @forward_natural
// CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 32
// CHECK: butterfly.twiddle %{{.*}} rows = 16, cols = 32
// CHECK: %[[S:.*]] = butterfly.kron %{{.*}}, %{{.*}} stride = 1
// CHECK: %[[P:.*]] = butterfly.permute %[[S]] rows = 16, cols = 32
// CHECK: return %[[P]]
func.func @forward_natural(%x: tensor<2x512xcomplex<f32>>) -> tensor<2x512xcomplex<f32>> {
  %0 = butterfly.monarch %x factors = [16, 32] : tensor<2x512xcomplex<f32>>
  return %0 : tensor<2x512xcomplex<f32>>
}

// Inverse: the stages in reverse, inverse twiddles before inverse factors;
// a natural-order input is first put in Monarch order.
// CHECK-LABEL: func @inverse_natural
// CHECK-SAME: (%[[X:.*]]: tensor<2x512xcomplex<f32>>)
// CHECK: %[[P:.*]] = butterfly.permute %[[X]] rows = 32, cols = 16
// CHECK: %[[G1:.*]] = butterfly.dft inverse : tensor<32x32xcomplex<f32>>
// CHECK: %[[S1:.*]] = butterfly.kron %[[G1]], %[[P]] stride = 1
// CHECK: %[[G0:.*]] = butterfly.dft inverse : tensor<16x16xcomplex<f32>>
// CHECK: %[[T:.*]] = butterfly.twiddle %[[S1]] rows = 16, cols = 32 inverse
// CHECK: %[[S0:.*]] = butterfly.kron %[[G0]], %[[T]] stride = 32
// CHECK: return %[[S0]]
func.func @inverse_natural(%x: tensor<2x512xcomplex<f32>>) -> tensor<2x512xcomplex<f32>> {
  %0 = butterfly.monarch %x factors = [16, 32] inverse : tensor<2x512xcomplex<f32>>
  return %0 : tensor<2x512xcomplex<f32>>
}

// Order 1 is the dense DFT.
// CHECK-LABEL: func @order_one
// CHECK: %[[F:.*]] = butterfly.dft : tensor<64x64xcomplex<f32>>
// CHECK: butterfly.kron %[[F]], %{{.*}} stride = 1
// CHECK-NOT: butterfly.twiddle
func.func @order_one(%x: tensor<2x64xcomplex<f32>>) -> tensor<2x64xcomplex<f32>> {
  %0 = butterfly.monarch %x factors = [64] : tensor<2x64xcomplex<f32>>
  return %0 : tensor<2x64xcomplex<f32>>
}

// Known zeros reach the first stage as a block extent: 500 nonzero inputs
// of stride 32 are 16 of the 32 leading-digit values.
// CHECK-LABEL: func @partial
// CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 32 input_extent = 16
// CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 1 :
// CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 1 :
// CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 32 output_extent = 16
func.func @partial(%x: tensor<2x1024xcomplex<f32>>, %w: tensor<2x1024xcomplex<f32>>) -> (tensor<2x1024xcomplex<f32>>, tensor<2x1024xcomplex<f32>>) {
  %0 = butterfly.monarch %x factors = [32, 32] permuted nonzero_inputs = 500 : tensor<2x1024xcomplex<f32>>
  %1 = butterfly.monarch %w factors = [32, 32] inverse permuted needed_outputs = 500 : tensor<2x1024xcomplex<f32>>
  return %0, %1 : tensor<2x1024xcomplex<f32>>, tensor<2x1024xcomplex<f32>>
}

// Frequency-sparse: a spectral band of 100 of 1024 frequencies lives in the
// last digit's values [0, 4) and [28, 32): the spectrum-side stages skip
// the 24 others.
// CHECK-LABEL: func @band
// CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 32 :
// CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 1 output_band = 4 :
// CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 1 input_band = 4 :
// CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 32 :
func.func @band(%x: tensor<2x1024xcomplex<f32>>, %w: tensor<2x1024xcomplex<f32>>) -> (tensor<2x1024xcomplex<f32>>, tensor<2x1024xcomplex<f32>>) {
  %0 = butterfly.monarch %x factors = [32, 32] permuted spectral_band = 100 : tensor<2x1024xcomplex<f32>>
  %1 = butterfly.monarch %w factors = [32, 32] inverse permuted spectral_band = 100 : tensor<2x1024xcomplex<f32>>
  return %0, %1 : tensor<2x1024xcomplex<f32>>, tensor<2x1024xcomplex<f32>>
}
