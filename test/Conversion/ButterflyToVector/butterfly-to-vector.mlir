// RUN: fftconv-opt %s -butterfly-to-vector="vector-width=8" -split-input-file | FileCheck %s
// RUN: fftconv-opt %s -butterfly-to-vector -split-input-file | FileCheck %s --check-prefix=DEFAULT
// RUN: fftconv-opt %s -butterfly-to-vector="vector-width=4 max-factor=8" -split-input-file | FileCheck %s --check-prefix=NARROW

// The twiddle's roots w^j once per call, then one task of rows: each row is
// split into planes, stage 0 runs on lanes along its stride (16 columns,
// 8 at a time; the 8 nonzero inputs of a codelet one read of a plane's
// [a, f, c] view, its 16 outputs one write), the last stage (stride 1) on
// lanes along the blocks through a transpose in registers, and the planes
// are joined.
// CHECK-LABEL: func.func @forward
// CHECK: linalg.generic
// CHECK: math.cos
// CHECK: scf.forall (%{{.*}}) in (1)
// CHECK: complex.re
// CHECK: tensor.expand_shape {{.*}} into tensor<1x1x16x16xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<16xf32>, vector<8xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<1x1x16x16xf32>, vector<8x8xf32>
// CHECK: vector.transfer_write {{.*}} : vector<16x8xf32>, tensor<1x1x16x16xf32>
// CHECK: tensor.collapse_shape {{.*}} into tensor<1x256xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<1x16x16xf32>, vector<8x16xf32>
// CHECK: vector.transpose {{.*}} [1, 0] : vector<8x16xf32> to vector<16x8xf32>
// CHECK: vector.transpose {{.*}} [1, 0] : vector<16x8xf32> to vector<8x16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<8x16xf32>, tensor<1x16x16xf32>
// CHECK: complex.create
// CHECK: tensor.parallel_insert_slice
// CHECK-NOT: butterfly.
// DEFAULT-LABEL: func.func @forward
// DEFAULT: vector.transfer_read {{.*}} : tensor<16xf32>, vector<16xf32>
// NARROW-LABEL: func.func @forward
// NARROW: butterfly.monarch
func.func @forward(%x: tensor<4x256xcomplex<f32>>) -> tensor<4x256xcomplex<f32>> {
  %y = butterfly.monarch %x factors = [16, 16] permuted nonzero_inputs = 128 : tensor<4x256xcomplex<f32>>
  return %y : tensor<4x256xcomplex<f32>>
}

// -----

// Natural order in: the digit reversal first (as permutes, for
// butterfly-to-linalg); the inverse's 1/N is applied once, in the join.
// Rows of a rank-3 tensor are its leading dimensions.
// CHECK-LABEL: func.func @inverse_natural
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 1.562500e-02 : f32
// CHECK-DAG: butterfly.permute
// CHECK: tensor.collapse_shape {{.*}} into tensor<6x64xcomplex<f32>>
// CHECK: scf.forall
// CHECK: arith.mulf %{{.*}}, %[[SCALE]] : f32
// CHECK: tensor.expand_shape {{.*}} into tensor<2x3x64xcomplex<f32>>
// NARROW-LABEL: func.func @inverse_natural
// NARROW: vector<4xf32>
func.func @inverse_natural(%x: tensor<2x3x64xcomplex<f32>>) -> tensor<2x3x64xcomplex<f32>> {
  %y = butterfly.monarch %x factors = [8, 8] inverse : tensor<2x3x64xcomplex<f32>>
  return %y : tensor<2x3x64xcomplex<f32>>
}

// -----

// Left to butterfly-to-linalg: a factor above max-factor, a factor that is
// not a power of two, a frequency band.
// CHECK-LABEL: func.func @dense
// CHECK-COUNT-3: butterfly.monarch
func.func @dense(%x: tensor<2x64xcomplex<f32>>, %z: tensor<2x12xcomplex<f32>>) -> (tensor<2x64xcomplex<f32>>, tensor<2x12xcomplex<f32>>, tensor<2x64xcomplex<f32>>) {
  %a = butterfly.monarch %x factors = [64] : tensor<2x64xcomplex<f32>>
  %b = butterfly.monarch %z factors = [3, 4] : tensor<2x12xcomplex<f32>>
  %c = butterfly.monarch %x factors = [8, 8] permuted spectral_band = 8 : tensor<2x64xcomplex<f32>>
  return %a, %b, %c : tensor<2x64xcomplex<f32>>, tensor<2x12xcomplex<f32>>, tensor<2x64xcomplex<f32>>
}

// -----

// The real-input trick's packing and unpacking around a transform are
// fused into the rows' split and join: the rows are read from the real
// input (odd length: the last value's imaginary partner is zero), and an
// inverse writes the real result.
// CHECK-LABEL: func.func @pack_rows
// CHECK-NOT: butterfly.
// CHECK: tensor.extract %{{.*}} : tensor<2x63xf32>
// CHECK-NOT: butterfly.
func.func @pack_rows(%x: tensor<2x63xf32>) -> tensor<2x32xcomplex<f32>> {
  %z = butterfly.pack_real %x : tensor<2x63xf32> -> tensor<2x32xcomplex<f32>>
  %s = butterfly.monarch %z factors = [8, 4] permuted : tensor<2x32xcomplex<f32>>
  return %s : tensor<2x32xcomplex<f32>>
}

// CHECK-LABEL: func.func @unpack_rows
// CHECK-NOT: butterfly.
// CHECK: scf.forall {{.*}} -> (tensor<2x63xf32>)
// CHECK-NOT: butterfly.
func.func @unpack_rows(%s: tensor<2x32xcomplex<f32>>) -> tensor<2x63xf32> {
  %i = butterfly.monarch %s factors = [8, 4] inverse permuted : tensor<2x32xcomplex<f32>>
  %y = butterfly.unpack_real %i : tensor<2x32xcomplex<f32>> -> tensor<2x63xf32>
  return %y : tensor<2x63xf32>
}
