// RUN: fftconv-opt %s -canonicalize | FileCheck %s

// CHECK-LABEL: func @permute_roundtrip
// CHECK-SAME: (%[[X:.*]]: tensor<2x512xcomplex<f32>>)
// CHECK-NEXT: return %[[X]]
func.func @permute_roundtrip(%x: tensor<2x512xcomplex<f32>>) -> tensor<2x512xcomplex<f32>> {
  %0 = butterfly.permute %x rows = 16, cols = 32 : tensor<2x512xcomplex<f32>>
  %1 = butterfly.permute %0 rows = 32, cols = 16 : tensor<2x512xcomplex<f32>>
  return %1 : tensor<2x512xcomplex<f32>>
}

// Transposing r x c twice is not the identity unless r = c.
// CHECK-LABEL: func @permute_twice
// CHECK: butterfly.permute
// CHECK: butterfly.permute
func.func @permute_twice(%x: tensor<2x512xcomplex<f32>>) -> tensor<2x512xcomplex<f32>> {
  %0 = butterfly.permute %x rows = 16, cols = 32 : tensor<2x512xcomplex<f32>>
  %1 = butterfly.permute %0 rows = 16, cols = 32 : tensor<2x512xcomplex<f32>>
  return %1 : tensor<2x512xcomplex<f32>>
}

// CHECK-LABEL: func @trivial_views
// CHECK-SAME: (%[[X:.*]]: tensor<2x512xcomplex<f32>>)
// CHECK-NEXT: return %[[X]], %[[X]]
func.func @trivial_views(%x: tensor<2x512xcomplex<f32>>) -> (tensor<2x512xcomplex<f32>>, tensor<2x512xcomplex<f32>>) {
  %0 = butterfly.permute %x rows = 1, cols = 32 : tensor<2x512xcomplex<f32>>
  %1 = butterfly.twiddle %x rows = 512, cols = 1 : tensor<2x512xcomplex<f32>>
  return %0, %1 : tensor<2x512xcomplex<f32>>, tensor<2x512xcomplex<f32>>
}

// CHECK-LABEL: func @twiddle_inverse
// CHECK-SAME: (%[[X:.*]]: tensor<2x512xcomplex<f32>>)
// CHECK-NEXT: return %[[X]]
func.func @twiddle_inverse(%x: tensor<2x512xcomplex<f32>>) -> tensor<2x512xcomplex<f32>> {
  %0 = butterfly.twiddle %x rows = 16, cols = 32 : tensor<2x512xcomplex<f32>>
  %1 = butterfly.twiddle %0 rows = 16, cols = 32 inverse : tensor<2x512xcomplex<f32>>
  return %1 : tensor<2x512xcomplex<f32>>
}

// CHECK-LABEL: func @monarch_roundtrip
// CHECK-SAME: (%[[X:.*]]: tensor<2x4096xcomplex<f32>>)
// CHECK-NEXT: return %[[X]]
func.func @monarch_roundtrip(%x: tensor<2x4096xcomplex<f32>>) -> tensor<2x4096xcomplex<f32>> {
  %0 = butterfly.monarch %x factors = [16, 16, 16] permuted : tensor<2x4096xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [16, 16, 16] inverse permuted : tensor<2x4096xcomplex<f32>>
  return %1 : tensor<2x4096xcomplex<f32>>
}

// The inverse reads natural order where the forward left Monarch order.
// CHECK-LABEL: func @monarch_order_mismatch
// CHECK-COUNT-2: butterfly.monarch
func.func @monarch_order_mismatch(%x: tensor<2x4096xcomplex<f32>>) -> tensor<2x4096xcomplex<f32>> {
  %0 = butterfly.monarch %x factors = [16, 16, 16] permuted : tensor<2x4096xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [16, 16, 16] inverse : tensor<2x4096xcomplex<f32>>
  return %1 : tensor<2x4096xcomplex<f32>>
}
