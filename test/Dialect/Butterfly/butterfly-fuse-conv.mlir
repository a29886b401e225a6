// RUN: fftconv-opt %s -butterfly-fuse-conv -split-input-file | FileCheck %s

// One region per convolution: the pregate product and packing, the forward
// transform, the spectral product, the inverse, the crop and the postgate.
// The per-channel coefficients stay outside and are read by the region.
// CHECK-LABEL: func @conv
// CHECK-SAME: (%[[U:.*]]: tensor<2x4x1000xf32>, %[[G:.*]]: tensor<2x4x1000xf32>, %[[KF:.*]]: tensor<4x513xcomplex<f32>>)
// CHECK: %[[C:.*]] = butterfly.conv_spectrum %[[KF]]
// CHECK: %[[CM:.*]] = butterfly.permute %[[C]]
// CHECK: %[[Y:.*]] = butterfly.fused conv ins(%[[U]], %[[G]], %[[CM]] : tensor<2x4x1000xf32>, tensor<2x4x1000xf32>, tensor<4x2x512xcomplex<f32>>) onchip_bytes = 11264 {
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<2x4x1000xf32>, %[[B:.*]]: tensor<2x4x1000xf32>, %[[CC:.*]]: tensor<4x2x512xcomplex<f32>>):
// CHECK: linalg.generic {{.*}} ins(%[[A]], %[[B]]
// CHECK: butterfly.pack_real
// CHECK: butterfly.monarch {{.*}} permuted
// CHECK: butterfly.hermitian_mul %{{.*}}, %[[CC]]
// CHECK: butterfly.monarch {{.*}} inverse permuted
// CHECK: butterfly.unpack_real
// CHECK: %[[R:.*]] = linalg.generic
// CHECK: butterfly.yield %[[R]] : tensor<2x4x1000xf32>
// CHECK: return %[[Y]]
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @conv(%u: tensor<2x4x1000xf32>, %g: tensor<2x4x1000xf32>, %kf: tensor<4x513xcomplex<f32>>) -> tensor<2x4x1000xf32> {
  %e = tensor.empty() : tensor<2x4x1000xf32>
  %v = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%u, %g : tensor<2x4x1000xf32>, tensor<2x4x1000xf32>) outs(%e : tensor<2x4x1000xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<2x4x1000xf32>
  %z = butterfly.pack_real %v : tensor<2x4x1000xf32> -> tensor<2x4x512xcomplex<f32>>
  %c = butterfly.conv_spectrum %kf : tensor<4x513xcomplex<f32>> -> tensor<4x2x512xcomplex<f32>>
  %cm = butterfly.permute %c rows = 16, cols = 32 : tensor<4x2x512xcomplex<f32>>
  %s = butterfly.monarch %z factors = [32, 16] permuted : tensor<2x4x512xcomplex<f32>>
  %p = butterfly.hermitian_mul %s, %cm factors = [32, 16] {butterfly.onchip_bytes = 11264 : i64} : tensor<2x4x512xcomplex<f32>>, tensor<4x2x512xcomplex<f32>>
  %i = butterfly.monarch %p factors = [32, 16] inverse permuted : tensor<2x4x512xcomplex<f32>>
  %r = butterfly.unpack_real %i : tensor<2x4x512xcomplex<f32>> -> tensor<2x4x1000xf32>
  %e2 = tensor.empty() : tensor<2x4x1000xf32>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%r, %g : tensor<2x4x1000xf32>, tensor<2x4x1000xf32>) outs(%e2 : tensor<2x4x1000xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<2x4x1000xf32>
  return %y : tensor<2x4x1000xf32>
}

// -----

// A producer that something outside the convolution also reads is not
// pulled in: it is computed once, outside, and the region reads it.
// CHECK-LABEL: func @shared_input
// CHECK: %[[Z:.*]] = butterfly.pack_real
// CHECK: %[[F:.*]] = butterfly.fused conv ins(%[[Z]], %{{.*}} : tensor<1x1x32xcomplex<f32>>, tensor<1x2x32xcomplex<f32>>) onchip_bytes = 0
// CHECK: return %[[Z]], %[[F]]
func.func @shared_input(%x: tensor<1x1x64xf32>, %c: tensor<1x2x32xcomplex<f32>>) -> (tensor<1x1x32xcomplex<f32>>, tensor<1x1x64xf32>) {
  %z = butterfly.pack_real %x : tensor<1x1x64xf32> -> tensor<1x1x32xcomplex<f32>>
  %p = butterfly.hermitian_mul %z, %c : tensor<1x1x32xcomplex<f32>>, tensor<1x2x32xcomplex<f32>>
  %r = butterfly.unpack_real %p : tensor<1x1x32xcomplex<f32>> -> tensor<1x1x64xf32>
  return %z, %r : tensor<1x1x32xcomplex<f32>>, tensor<1x1x64xf32>
}

// -----

// Three-pass form: the tagged outer stages become their own regions.
// CHECK-LABEL: func @three_pass
// CHECK: %[[F:.*]] = butterfly.fused outer_forward ins(%{{.*}} : tensor<1x1x1024xf32>) onchip_bytes = 1088
// CHECK: butterfly.kron
// CHECK: %[[C:.*]] = butterfly.fused conv ins(%[[F]], %{{.*}} : {{.*}}) onchip_bytes = 7168
// CHECK: butterfly.hermitian_mul
// CHECK: %[[I:.*]] = butterfly.fused outer_inverse ins(%[[C]] : tensor<1x1x512xcomplex<f32>>) onchip_bytes = 1088
// CHECK: butterfly.unpack_real
// CHECK: return %[[I]]
func.func @three_pass(%x: tensor<1x1x1024xf32>, %c: tensor<1x2x512xcomplex<f32>>) -> tensor<1x1x1024xf32> {
  %z = butterfly.pack_real %x {butterfly.outer_pass} : tensor<1x1x1024xf32> -> tensor<1x1x512xcomplex<f32>>
  %f = butterfly.dft {butterfly.outer_pass} : tensor<16x16xcomplex<f32>>
  %k = butterfly.kron %f, %z stride = 32 {butterfly.outer_pass} : tensor<16x16xcomplex<f32>>, tensor<1x1x512xcomplex<f32>>
  %t = butterfly.twiddle %k rows = 16, cols = 32 {butterfly.outer_pass} : tensor<1x1x512xcomplex<f32>>
  %v = tensor.expand_shape %t [[0], [1], [2, 3]] output_shape [1, 1, 16, 32] : tensor<1x1x512xcomplex<f32>> into tensor<1x1x16x32xcomplex<f32>>
  %s = butterfly.monarch %v factors = [32] permuted : tensor<1x1x16x32xcomplex<f32>>
  %sc = tensor.collapse_shape %s [[0], [1], [2, 3]] : tensor<1x1x16x32xcomplex<f32>> into tensor<1x1x512xcomplex<f32>>
  %p = butterfly.hermitian_mul %sc, %c factors = [16, 32] {butterfly.onchip_bytes = 7168 : i64, butterfly.outer_onchip_bytes = 1088 : i64} : tensor<1x1x512xcomplex<f32>>, tensor<1x2x512xcomplex<f32>>
  %pv = tensor.expand_shape %p [[0], [1], [2, 3]] output_shape [1, 1, 16, 32] : tensor<1x1x512xcomplex<f32>> into tensor<1x1x16x32xcomplex<f32>>
  %i = butterfly.monarch %pv factors = [32] inverse permuted : tensor<1x1x16x32xcomplex<f32>>
  %ic = tensor.collapse_shape %i [[0], [1], [2, 3]] : tensor<1x1x16x32xcomplex<f32>> into tensor<1x1x512xcomplex<f32>>
  %g = butterfly.dft inverse {butterfly.outer_pass} : tensor<16x16xcomplex<f32>>
  %ti = butterfly.twiddle %ic rows = 16, cols = 32 inverse {butterfly.outer_pass} : tensor<1x1x512xcomplex<f32>>
  %ki = butterfly.kron %g, %ti stride = 32 {butterfly.outer_pass} : tensor<16x16xcomplex<f32>>, tensor<1x1x512xcomplex<f32>>
  %y = butterfly.unpack_real %ki {butterfly.outer_pass} : tensor<1x1x512xcomplex<f32>> -> tensor<1x1x1024xf32>
  return %y : tensor<1x1x1024xf32>
}

// -----

// Chained convolutions, the first read only by the second: each becomes its
// own region. The first ends at its unpack_real, the second starts at its
// pack_real and reads the first region's result as an operand.
// CHECK-LABEL: func @chained
// CHECK-SAME: (%[[X:.*]]: tensor<1x1x64xf32>, %[[C1:.*]]: tensor<1x2x32xcomplex<f32>>, %[[C2:.*]]: tensor<1x2x32xcomplex<f32>>)
// CHECK: %[[F1:.*]] = butterfly.fused conv ins(%[[X]], %[[C1]] : tensor<1x1x64xf32>, tensor<1x2x32xcomplex<f32>>) onchip_bytes = 1024 {
// CHECK: butterfly.pack_real
// CHECK: butterfly.monarch {{.*}} permuted
// CHECK: butterfly.hermitian_mul
// CHECK: butterfly.monarch {{.*}} inverse permuted
// CHECK: %[[R1:.*]] = butterfly.unpack_real
// CHECK-NEXT: butterfly.yield %[[R1]] : tensor<1x1x64xf32>
// CHECK-NEXT: } -> tensor<1x1x64xf32>
// CHECK-NEXT: %[[F2:.*]] = butterfly.fused conv ins(%[[F1]], %[[C2]] : tensor<1x1x64xf32>, tensor<1x2x32xcomplex<f32>>) onchip_bytes = 2048 {
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<1x1x64xf32>, %{{.*}}: tensor<1x2x32xcomplex<f32>>):
// CHECK-NEXT: butterfly.pack_real %[[A]]
// CHECK: butterfly.monarch {{.*}} permuted
// CHECK: butterfly.hermitian_mul
// CHECK: butterfly.monarch {{.*}} inverse permuted
// CHECK: %[[R2:.*]] = butterfly.unpack_real
// CHECK-NEXT: butterfly.yield %[[R2]] : tensor<1x1x64xf32>
// CHECK-NEXT: } -> tensor<1x1x64xf32>
// CHECK-NEXT: return %[[F2]]
func.func @chained(%x: tensor<1x1x64xf32>, %c1: tensor<1x2x32xcomplex<f32>>, %c2: tensor<1x2x32xcomplex<f32>>) -> tensor<1x1x64xf32> {
  %z1 = butterfly.pack_real %x : tensor<1x1x64xf32> -> tensor<1x1x32xcomplex<f32>>
  %s1 = butterfly.monarch %z1 factors = [32] permuted : tensor<1x1x32xcomplex<f32>>
  %p1 = butterfly.hermitian_mul %s1, %c1 factors = [32] {butterfly.onchip_bytes = 1024 : i64} : tensor<1x1x32xcomplex<f32>>, tensor<1x2x32xcomplex<f32>>
  %i1 = butterfly.monarch %p1 factors = [32] inverse permuted : tensor<1x1x32xcomplex<f32>>
  %r1 = butterfly.unpack_real %i1 : tensor<1x1x32xcomplex<f32>> -> tensor<1x1x64xf32>
  %z2 = butterfly.pack_real %r1 : tensor<1x1x64xf32> -> tensor<1x1x32xcomplex<f32>>
  %s2 = butterfly.monarch %z2 factors = [32] permuted : tensor<1x1x32xcomplex<f32>>
  %p2 = butterfly.hermitian_mul %s2, %c2 factors = [32] {butterfly.onchip_bytes = 2048 : i64} : tensor<1x1x32xcomplex<f32>>, tensor<1x2x32xcomplex<f32>>
  %i2 = butterfly.monarch %p2 factors = [32] inverse permuted : tensor<1x1x32xcomplex<f32>>
  %r2 = butterfly.unpack_real %i2 : tensor<1x1x32xcomplex<f32>> -> tensor<1x1x64xf32>
  return %r2 : tensor<1x1x64xf32>
}
