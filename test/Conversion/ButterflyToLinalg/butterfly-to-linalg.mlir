// RUN: fftconv-opt %s -butterfly-to-linalg -split-input-file | FileCheck %s

// CHECK-DAG: #[[FACTOR:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d2, d4)>
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func @kron
// CHECK: %[[VIEW:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2, 3]] output_shape [2, 16, 16, 2]
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[FACTOR]], #[[IN]], #[[OUT]]]
// CHECK-SAME: ins(%{{.*}}, %[[VIEW]]
// CHECK: complex.mul
// CHECK: complex.add
// CHECK: tensor.collapse_shape %[[Y]] {{\[}}[0], [1, 2, 3]]
func.func @kron(%x: tensor<2x512xcomplex<f32>>, %f: tensor<16x16xcomplex<f32>>) -> tensor<2x512xcomplex<f32>> {
  %0 = butterfly.kron %f, %x stride = 2 : tensor<16x16xcomplex<f32>>, tensor<2x512xcomplex<f32>>
  return %0 : tensor<2x512xcomplex<f32>>
}

// -----

// One learned block per outer index: the factor map reads the block index.
// CHECK-DAG: #[[BLOCKS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d4)>
// CHECK-LABEL: func @kron_blocks
// CHECK: linalg.generic {indexing_maps = [#[[BLOCKS]],
func.func @kron_blocks(%x: tensor<2x64xcomplex<f32>>, %f: tensor<8x8x8xcomplex<f32>>) -> tensor<2x64xcomplex<f32>> {
  %0 = butterfly.kron %f, %x stride = 1 : tensor<8x8x8xcomplex<f32>>, tensor<2x64xcomplex<f32>>
  return %0 : tensor<2x64xcomplex<f32>>
}

// -----

// CHECK-LABEL: func @permute
// CHECK: %[[VIEW:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 1, 16, 32]
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[VIEW]] : tensor<2x1x16x32xcomplex<f32>>) outs(%{{.*}} : tensor<2x1x32x16xcomplex<f32>>) permutation = [0, 1, 3, 2]
// CHECK: tensor.collapse_shape %[[T]]
func.func @permute(%x: tensor<2x512xcomplex<f32>>) -> tensor<2x512xcomplex<f32>> {
  %0 = butterfly.permute %x rows = 16, cols = 32 : tensor<2x512xcomplex<f32>>
  return %0 : tensor<2x512xcomplex<f32>>
}

// -----

// CHECK-LABEL: func @dft_twiddle
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<16x16xcomplex<f32>>)
// CHECK: math.cos
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x2x16x16xcomplex<f32>>)
// CHECK: complex.mul
func.func @dft_twiddle(%x: tensor<2x512xcomplex<f32>>) -> (tensor<16x16xcomplex<f32>>, tensor<2x512xcomplex<f32>>) {
  %0 = butterfly.dft inverse : tensor<16x16xcomplex<f32>>
  %1 = butterfly.twiddle %x rows = 16, cols = 16 : tensor<2x512xcomplex<f32>>
  return %0, %1 : tensor<16x16xcomplex<f32>>, tensor<2x512xcomplex<f32>>
}

// -----

// monarch is expanded into its stages on the way.
// CHECK-LABEL: func @monarch
// CHECK-COUNT-2: linalg.transpose
// CHECK-NOT: butterfly.
func.func @monarch(%x: tensor<2x64xcomplex<f32>>) -> tensor<2x64xcomplex<f32>> {
  %0 = butterfly.monarch %x factors = [4, 4, 4] : tensor<2x64xcomplex<f32>>
  return %0 : tensor<2x64xcomplex<f32>>
}

// -----

// Known-zero input blocks are not read; unread output blocks are zero.
// CHECK-LABEL: func @kron_extents
// CHECK: %[[V:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 1, 32, 32]
// CHECK: %[[IN:.*]] = tensor.extract_slice %[[V]][0, 0, 0, 0] [2, 1, 16, 32] [1, 1, 1, 1]
// CHECK: %[[F:.*]] = tensor.extract_slice %{{.*}}[0, 0] [20, 16] [1, 1]
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[F]], %[[IN]] : tensor<20x16xcomplex<f32>>, tensor<2x1x16x32xcomplex<f32>>) outs(%{{.*}} : tensor<2x1x20x32xcomplex<f32>>)
// CHECK: tensor.pad %[[P]] low[0, 0, 0, 0] high[0, 0, 12, 0]
func.func @kron_extents(%x: tensor<2x1024xcomplex<f32>>, %f: tensor<32x32xcomplex<f32>>) -> tensor<2x1024xcomplex<f32>> {
  %0 = butterfly.kron %f, %x stride = 32 input_extent = 16 output_extent = 20 : tensor<32x32xcomplex<f32>>, tensor<2x1024xcomplex<f32>>
  return %0 : tensor<2x1024xcomplex<f32>>
}

// -----

// Bands: the reference zeroes the factor outside them.
// CHECK-LABEL: func @kron_band
// CHECK: %[[F:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<32x32xcomplex<f32>>)
// CHECK: arith.cmpi ult
// CHECK: arith.cmpi uge
// CHECK: arith.select
// CHECK: linalg.generic {{.*}} ins(%[[F]], %{{.*}} : tensor<32x32xcomplex<f32>>, tensor<2x32x32x1xcomplex<f32>>)
func.func @kron_band(%x: tensor<2x1024xcomplex<f32>>, %f: tensor<32x32xcomplex<f32>>) -> tensor<2x1024xcomplex<f32>> {
  %0 = butterfly.kron %f, %x stride = 1 output_band = 4 : tensor<32x32xcomplex<f32>>, tensor<2x1024xcomplex<f32>>
  return %0 : tensor<2x1024xcomplex<f32>>
}

// -----

// A learned Monarch product: one kron per stage, each block picked by its
// position (i, j), real arithmetic for real weights.
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d2, d4)>
// CHECK-LABEL: func @monarch_linear
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3]] output_shape [1, 32, 32, 32]
// CHECK: linalg.generic {indexing_maps = [#[[W]],
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2], [3]] output_shape [32, 1, 32, 32]
// CHECK-NOT: butterfly.
func.func @monarch_linear(%x: tensor<8x1024xf32>, %w0: tensor<32x32x32xf32>, %w1: tensor<32x32x32xf32>) -> tensor<8x1024xf32> {
  %0 = butterfly.monarch_linear %x, [%w0, %w1] : tensor<8x1024xf32>, [tensor<32x32x32xf32>, tensor<32x32x32xf32>]
  return %0 : tensor<8x1024xf32>
}
