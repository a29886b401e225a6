// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="chip=sm_90 precision=half" -butterfly-to-gpu | FileCheck %s
// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="chip=sm_90 precision=split" -butterfly-to-gpu | FileCheck %s --check-prefix=SPLIT
// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="chip=sm_80 precision=half" -butterfly-to-gpu | FileCheck %s --check-prefix=SM80

// On sm_90 a tensor-core stage whose digit has a stride writes each row
// tile of 16 digits back as four 8x8 matrices (Re and Im, rows 0-7 and
// 8-15) by one stmatrix, a lane's row address in the shared planes; at
// Split one for the high halves and one for the low. [32, 32]: the first
// forward stage's two row tiles; the last inverse stage writes the outputs
// itself (the direct output) and the last digit has no stride. sm_80 has
// no stmatrix: 32-bit stores.
// CHECK-LABEL: gpu.func @circular_conv0(
// CHECK: nvgpu.mma.sync
// CHECK-COUNT-2: nvvm.stmatrix %{{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>} : !llvm.ptr<3>, i32, i32, i32, i32
// CHECK-NOT: nvvm.stmatrix
// CHECK: gpu.return
// SPLIT-LABEL: gpu.func @circular_conv0(
// SPLIT-COUNT-4: nvvm.stmatrix
// SPLIT-NOT: nvvm.stmatrix
// SPLIT: gpu.return
// SM80-NOT: nvvm.stmatrix
// SM80-LABEL: gpu.func @circular_conv0(
// SM80: nvgpu.mma.sync
// SM80: vector.store %{{.*}} : memref<8192xf16, #gpu.address_space<workgroup>>, vector<2xf16>
// SM80-NOT: nvvm.stmatrix
func.func @circular(%u: tensor<4x2x2048xf16>, %k: tensor<2x2048xf32>) -> tensor<4x2x2048xf16> {
  %y = fftconv.conv circular %u, %k : (tensor<4x2x2048xf16>, tensor<2x2048xf32>) -> tensor<4x2x2048xf16>
  return %y : tensor<4x2x2048xf16>
}
