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

// Outputs that a crop drops are never unpacked.
// CHECK-LABEL: func @crop_unpack
// CHECK: %[[Y:.*]] = butterfly.unpack_real %{{.*}} : tensor<2x512xcomplex<f32>> -> tensor<2x1000xf32>
// CHECK-NOT: tensor.extract_slice
// CHECK: return %[[Y]]
func.func @crop_unpack(%z: tensor<2x512xcomplex<f32>>) -> tensor<2x1000xf32> {
  %0 = butterfly.unpack_real %z : tensor<2x512xcomplex<f32>> -> tensor<2x1024xf32>
  %1 = tensor.extract_slice %0[0, 0] [2, 1000] [1, 1] : tensor<2x1024xf32> to tensor<2x1000xf32>
  return %1 : tensor<2x1000xf32>
}

// A crop at an offset is not a prefix: it stays.
// CHECK-LABEL: func @crop_unpack_offset
// CHECK: tensor.extract_slice
func.func @crop_unpack_offset(%z: tensor<2x512xcomplex<f32>>) -> tensor<2x1000xf32> {
  %0 = butterfly.unpack_real %z : tensor<2x512xcomplex<f32>> -> tensor<2x1024xf32>
  %1 = tensor.extract_slice %0[0, 4] [2, 1000] [1, 1] : tensor<2x1024xf32> to tensor<2x1000xf32>
  return %1 : tensor<2x1000xf32>
}

// A constant kernel's coefficients and their Monarch order are computed at
// compile time.
// CHECK-LABEL: func @constant_coefficients
// CHECK-NEXT: %[[C:.*]] = arith.constant dense<{{.*}}> : tensor<1x2x4xcomplex<f32>>
// CHECK-NEXT: return %[[C]]
func.func @constant_coefficients() -> tensor<1x2x4xcomplex<f32>> {
  %kf = arith.constant dense<[[(1.0, 0.0), (0.5, -0.5), (0.25, 0.0), (0.5, 0.5), (1.0, 0.0)]]> : tensor<1x5xcomplex<f32>>
  %0 = butterfly.conv_spectrum %kf : tensor<1x5xcomplex<f32>> -> tensor<1x2x4xcomplex<f32>>
  %1 = butterfly.permute %0 rows = 2, cols = 2 : tensor<1x2x4xcomplex<f32>>
  return %1 : tensor<1x2x4xcomplex<f32>>
}

// Stride permutation of a constant, moved at compile time.
// CHECK-LABEL: func @constant_permute
// CHECK-NEXT: arith.constant dense<{{\[}}[(0.000000e+00,0.000000e+00), (2.000000e+00,0.000000e+00), (1.000000e+00,0.000000e+00), (3.000000e+00,0.000000e+00)]]>
func.func @constant_permute() -> tensor<1x4xcomplex<f32>> {
  %x = arith.constant dense<[[(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0)]]> : tensor<1x4xcomplex<f32>>
  %0 = butterfly.permute %x rows = 2, cols = 2 : tensor<1x4xcomplex<f32>>
  return %0 : tensor<1x4xcomplex<f32>>
}

// Partial convolution: 1000 real samples fill 500 of 1024 complex points,
// and only 500 points of the inverse are unpacked; the transforms learn it.
// CHECK-LABEL: func @known_zeros
// CHECK: butterfly.monarch %{{.*}} factors = [32, 32] permuted nonzero_inputs = 500
// CHECK: butterfly.monarch %{{.*}} factors = [32, 32] inverse permuted needed_outputs = 500
func.func @known_zeros(%x: tensor<2x1000xf32>, %w: tensor<2x1024xcomplex<f32>>) -> (tensor<2x1024xcomplex<f32>>, tensor<2x1000xf32>) {
  %z = butterfly.pack_real %x : tensor<2x1000xf32> -> tensor<2x1024xcomplex<f32>>
  %s = butterfly.monarch %z factors = [32, 32] permuted : tensor<2x1024xcomplex<f32>>
  %i = butterfly.monarch %w factors = [32, 32] inverse permuted : tensor<2x1024xcomplex<f32>>
  %y = butterfly.unpack_real %i : tensor<2x1024xcomplex<f32>> -> tensor<2x1000xf32>
  return %s, %y : tensor<2x1024xcomplex<f32>>, tensor<2x1000xf32>
}

// The same for the outer stages of the three-pass form (a = 1 only).
// CHECK-LABEL: func @known_zero_blocks
// CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 16 input_extent = 32
// CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 16 output_extent = 20
func.func @known_zero_blocks(%x: tensor<2x1000xf32>, %f: tensor<64x64xcomplex<f32>>) -> tensor<2x640xf32> {
  %z = butterfly.pack_real %x : tensor<2x1000xf32> -> tensor<2x1024xcomplex<f32>>
  %k = butterfly.kron %f, %z stride = 16 : tensor<64x64xcomplex<f32>>, tensor<2x1024xcomplex<f32>>
  %k2 = butterfly.kron %f, %k stride = 16 : tensor<64x64xcomplex<f32>>, tensor<2x1024xcomplex<f32>>
  %y = butterfly.unpack_real %k2 : tensor<2x1024xcomplex<f32>> -> tensor<2x640xf32>
  return %y : tensor<2x640xf32>
}
