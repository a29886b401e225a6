// RUN: fftconv-opt %s -butterfly-to-gpu | FileCheck %s

// A bf16 gated backward whose cross spectrum runs on a cluster of two
// blocks (the plan of butterfly-plan-gpu-kernels at M = 16384, given here
// at M = 128 so that the kernel stays small) runs its in_cross_spectrum
// convolutions in its blocks: after the second cluster barrier (the other
// block has read the spectra) block 0 multiplies v's spectra by K's
// coefficients (%arg7) and writes dpost (%arg9), block 1 g's by conj(K)'s
// (%arg12) and writes du and dpre (%arg15, %arg16); each unscales by its own
// range unscale, from the slot past its 2 x 65 row slots (130); a block
// barrier keeps the next tile's loads from overwriting what the outputs
// read.
// CHECK-LABEL: gpu.func @gated_bf16_kernel_gradient0_cross_spectrum(
// CHECK-SAME: nvvm.cluster_dim = array<i32: 2, 1, 1>
// CHECK: %[[FIRST:[0-9]+]] = arith.cmpi eq, %{{.*}}, %c0_i32
// CHECK: nvvm.cluster.arrive {aligned}
// CHECK: nvvm.cluster.arrive {aligned}
// CHECK-NEXT: nvvm.cluster.wait {aligned}
// CHECK-NEXT: scf.if %[[FIRST]] {
// CHECK-COUNT-4: vector.load %arg7[
// CHECK: nvgpu.mma.sync
// CHECK: memref.load %{{.*}}[%{{.*}}] : memref<132xf32
// CHECK: vector.store %{{.*}}, %arg9[
// CHECK: } else {
// CHECK-COUNT-4: vector.load %arg12[
// CHECK: nvgpu.mma.sync
// CHECK: memref.load %{{.*}}[%{{.*}}] : memref<132xf32
// CHECK: vector.store %{{.*}}, %arg15[
// CHECK: vector.store %{{.*}}, %arg16[
// CHECK: gpu.barrier
// CHECK-NEXT: }
// CHECK: gpu.return
// CHECK-LABEL: func.func @gated_bf16(
// CHECK-NOT: gpu.launch_func @gated_bf16_kernels::@gated_bf16_conv0 blocks
// CHECK: gpu.launch_func @gated_bf16_kernels::@gated_bf16_kernel_gradient0_cross_spectrum blocks in (%c8,
#map = affine_map<(d0, d1) -> (d0, d1)>
#map1 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @gated_bf16(%arg0: tensor<3x4x128xbf16>, %arg1: tensor<4x128xf32>, %arg2: tensor<3x4x128xbf16>, %arg3: tensor<3x4x128xbf16>, %arg4: tensor<3x4x128xbf16>) -> (tensor<3x4x128xbf16>, tensor<4x128xf32>, tensor<3x4x128xbf16>, tensor<3x4x128xbf16>) {
  %0 = butterfly.pack_real %arg1 : tensor<4x128xf32> -> tensor<4x128xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [16, 8] nonzero_inputs = 64 : tensor<4x128xcomplex<f32>>
  %2 = butterfly.real_spectrum %1 : tensor<4x128xcomplex<f32>> -> tensor<4x129xcomplex<f32>>
  %3 = tensor.empty() : tensor<4x129xcomplex<f32>>
  %4 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%2 : tensor<4x129xcomplex<f32>>) outs(%3 : tensor<4x129xcomplex<f32>>) {
  ^bb0(%in: complex<f32>, %out: complex<f32>):
    %16 = complex.conj %in : complex<f32>
    linalg.yield %16 : complex<f32>
  } -> tensor<4x129xcomplex<f32>>
  %5 = butterfly.conv_spectrum %4 : tensor<4x129xcomplex<f32>> -> tensor<4x2x128xcomplex<f32>>
  %6 = butterfly.permute %5 rows = 8, cols = 16 : tensor<4x2x128xcomplex<f32>>
  %7 = butterfly.fused cross_spectrum ins(%arg0, %arg2, %arg4, %arg3 : tensor<3x4x128xbf16>, tensor<3x4x128xbf16>, tensor<3x4x128xbf16>, tensor<3x4x128xbf16>) onchip_bytes = 2048 plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 8], cluster = 2, threads = 64, batch_tile = 3> {
  ^bb0(%arg5: tensor<3x4x128xbf16>, %arg6: tensor<3x4x128xbf16>, %arg7: tensor<3x4x128xbf16>, %arg8: tensor<3x4x128xbf16>):
    %16 = tensor.empty() : tensor<3x4x128xf32>
    %17 = linalg.generic {indexing_maps = [#map1, #map1, #map1], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg5, %arg6 : tensor<3x4x128xbf16>, tensor<3x4x128xbf16>) outs(%16 : tensor<3x4x128xf32>) {
    ^bb0(%in: bf16, %in_0: bf16, %out: f32):
      %27 = arith.extf %in : bf16 to f32
      %28 = arith.extf %in_0 : bf16 to f32
      %29 = arith.mulf %27, %28 : f32
      linalg.yield %29 : f32
    } -> tensor<3x4x128xf32>
    %18 = tensor.empty() : tensor<3x4x128xf32>
    %19 = linalg.generic {indexing_maps = [#map1, #map1, #map1], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg7, %arg8 : tensor<3x4x128xbf16>, tensor<3x4x128xbf16>) outs(%18 : tensor<3x4x128xf32>) {
    ^bb0(%in: bf16, %in_0: bf16, %out: f32):
      %27 = arith.extf %in : bf16 to f32
      %28 = arith.extf %in_0 : bf16 to f32
      %29 = arith.mulf %27, %28 : f32
      linalg.yield %29 : f32
    } -> tensor<3x4x128xf32>
    %20 = butterfly.pack_real %19 : tensor<3x4x128xf32> -> tensor<3x4x128xcomplex<f32>>
    %21 = butterfly.monarch %20 factors = [16, 8] nonzero_inputs = 64 : tensor<3x4x128xcomplex<f32>>
    %22 = butterfly.real_spectrum %21 : tensor<3x4x128xcomplex<f32>> -> tensor<3x4x129xcomplex<f32>>
    %23 = butterfly.pack_real %17 : tensor<3x4x128xf32> -> tensor<3x4x128xcomplex<f32>>
    %24 = butterfly.monarch %23 factors = [16, 8] nonzero_inputs = 64 : tensor<3x4x128xcomplex<f32>>
    %25 = butterfly.real_spectrum %24 : tensor<3x4x128xcomplex<f32>> -> tensor<3x4x129xcomplex<f32>>
    %26 = fftconv.cross_spectrum %25, %22 : tensor<3x4x129xcomplex<f32>> -> tensor<4x129xcomplex<f32>>
    butterfly.yield %26 : tensor<4x129xcomplex<f32>>
  } -> tensor<4x129xcomplex<f32>>
  %8 = butterfly.fused channel_inverse ins(%7 : tensor<4x129xcomplex<f32>>) onchip_bytes = 0 plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [16, 8], threads = 64, batch_tile = 1> {
  ^bb0(%arg5: tensor<4x129xcomplex<f32>>):
    %16 = butterfly.real_spectrum %arg5 inverse : tensor<4x129xcomplex<f32>> -> tensor<4x128xcomplex<f32>>
    %17 = butterfly.monarch %16 factors = [16, 8] inverse needed_outputs = 64 : tensor<4x128xcomplex<f32>>
    %18 = butterfly.unpack_real %17 : tensor<4x128xcomplex<f32>> -> tensor<4x128xf32>
    butterfly.yield %18 : tensor<4x128xf32>
  } -> tensor<4x128xf32>
  %9:2 = butterfly.fused conv ins(%arg4, %arg3, %6, %arg2, %arg0 : tensor<3x4x128xbf16>, tensor<3x4x128xbf16>, tensor<4x2x128xcomplex<f32>>, tensor<3x4x128xbf16>, tensor<3x4x128xbf16>) onchip_bytes = 2816 plan = #butterfly.gpu_plan<in_cross_spectrum, half, chip = "sm_90", factors = [16, 8], threads = 64, batch_tile = 3> {
  ^bb0(%arg5: tensor<3x4x128xbf16>, %arg6: tensor<3x4x128xbf16>, %arg7: tensor<4x2x128xcomplex<f32>>, %arg8: tensor<3x4x128xbf16>, %arg9: tensor<3x4x128xbf16>):
    %16 = tensor.empty() : tensor<3x4x128xf32>
    %17 = linalg.generic {indexing_maps = [#map1, #map1, #map1], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg5, %arg6 : tensor<3x4x128xbf16>, tensor<3x4x128xbf16>) outs(%16 : tensor<3x4x128xf32>) {
    ^bb0(%in: bf16, %in_0: bf16, %out: f32):
      %27 = arith.extf %in : bf16 to f32
      %28 = arith.extf %in_0 : bf16 to f32
      %29 = arith.mulf %27, %28 : f32
      linalg.yield %29 : f32
    } -> tensor<3x4x128xf32>
    %18 = butterfly.pack_real %17 : tensor<3x4x128xf32> -> tensor<3x4x128xcomplex<f32>>
    %19 = butterfly.monarch %18 factors = [16, 8] permuted nonzero_inputs = 64 : tensor<3x4x128xcomplex<f32>>
    %20 = butterfly.hermitian_mul %19, %arg7 factors = [16, 8] {butterfly.onchip_bytes = 2816 : i64} : tensor<3x4x128xcomplex<f32>>, tensor<4x2x128xcomplex<f32>>
    %21 = butterfly.monarch %20 factors = [16, 8] inverse permuted needed_outputs = 64 : tensor<3x4x128xcomplex<f32>>
    %22 = butterfly.unpack_real %21 : tensor<3x4x128xcomplex<f32>> -> tensor<3x4x128xf32>
    %23 = tensor.empty() : tensor<3x4x128xbf16>
    %24 = linalg.generic {indexing_maps = [#map1, #map1, #map1], iterator_types = ["parallel", "parallel", "parallel"]} ins(%22, %arg8 : tensor<3x4x128xf32>, tensor<3x4x128xbf16>) outs(%23 : tensor<3x4x128xbf16>) {
    ^bb0(%in: f32, %in_0: bf16, %out: bf16):
      %27 = arith.extf %in_0 : bf16 to f32
      %28 = arith.mulf %in, %27 : f32
      %29 = arith.truncf %28 : f32 to bf16
      linalg.yield %29 : bf16
    } -> tensor<3x4x128xbf16>
    %25 = tensor.empty() : tensor<3x4x128xbf16>
    %26 = linalg.generic {indexing_maps = [#map1, #map1, #map1], iterator_types = ["parallel", "parallel", "parallel"]} ins(%22, %arg9 : tensor<3x4x128xf32>, tensor<3x4x128xbf16>) outs(%25 : tensor<3x4x128xbf16>) {
    ^bb0(%in: f32, %in_0: bf16, %out: bf16):
      %27 = arith.extf %in_0 : bf16 to f32
      %28 = arith.mulf %in, %27 : f32
      %29 = arith.truncf %28 : f32 to bf16
      linalg.yield %29 : bf16
    } -> tensor<3x4x128xbf16>
    butterfly.yield %24, %26 : tensor<3x4x128xbf16>, tensor<3x4x128xbf16>
  } -> tensor<3x4x128xbf16>, tensor<3x4x128xbf16>
  %10 = butterfly.pack_real %arg1 : tensor<4x128xf32> -> tensor<4x128xcomplex<f32>>
  %11 = butterfly.monarch %10 factors = [16, 8] nonzero_inputs = 64 : tensor<4x128xcomplex<f32>>
  %12 = butterfly.real_spectrum %11 : tensor<4x128xcomplex<f32>> -> tensor<4x129xcomplex<f32>>
  %13 = butterfly.conv_spectrum %12 : tensor<4x129xcomplex<f32>> -> tensor<4x2x128xcomplex<f32>>
  %14 = butterfly.permute %13 rows = 8, cols = 16 : tensor<4x2x128xcomplex<f32>>
  %15 = butterfly.fused conv ins(%arg0, %arg2, %14, %arg4 : tensor<3x4x128xbf16>, tensor<3x4x128xbf16>, tensor<4x2x128xcomplex<f32>>, tensor<3x4x128xbf16>) onchip_bytes = 2816 plan = #butterfly.gpu_plan<in_cross_spectrum, half, chip = "sm_90", factors = [16, 8], threads = 64, batch_tile = 3> {
  ^bb0(%arg5: tensor<3x4x128xbf16>, %arg6: tensor<3x4x128xbf16>, %arg7: tensor<4x2x128xcomplex<f32>>, %arg8: tensor<3x4x128xbf16>):
    %16 = tensor.empty() : tensor<3x4x128xf32>
    %17 = linalg.generic {indexing_maps = [#map1, #map1, #map1], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg5, %arg6 : tensor<3x4x128xbf16>, tensor<3x4x128xbf16>) outs(%16 : tensor<3x4x128xf32>) {
    ^bb0(%in: bf16, %in_0: bf16, %out: f32):
      %25 = arith.extf %in : bf16 to f32
      %26 = arith.extf %in_0 : bf16 to f32
      %27 = arith.mulf %25, %26 : f32
      linalg.yield %27 : f32
    } -> tensor<3x4x128xf32>
    %18 = butterfly.pack_real %17 : tensor<3x4x128xf32> -> tensor<3x4x128xcomplex<f32>>
    %19 = butterfly.monarch %18 factors = [16, 8] permuted nonzero_inputs = 64 : tensor<3x4x128xcomplex<f32>>
    %20 = butterfly.hermitian_mul %19, %arg7 factors = [16, 8] {butterfly.onchip_bytes = 2816 : i64} : tensor<3x4x128xcomplex<f32>>, tensor<4x2x128xcomplex<f32>>
    %21 = butterfly.monarch %20 factors = [16, 8] inverse permuted needed_outputs = 64 : tensor<3x4x128xcomplex<f32>>
    %22 = butterfly.unpack_real %21 : tensor<3x4x128xcomplex<f32>> -> tensor<3x4x128xf32>
    %23 = tensor.empty() : tensor<3x4x128xbf16>
    %24 = linalg.generic {indexing_maps = [#map1, #map1, #map1], iterator_types = ["parallel", "parallel", "parallel"]} ins(%22, %arg8 : tensor<3x4x128xf32>, tensor<3x4x128xbf16>) outs(%23 : tensor<3x4x128xbf16>) {
    ^bb0(%in: f32, %in_0: bf16, %out: bf16):
      %25 = arith.extf %in_0 : bf16 to f32
      %26 = arith.mulf %in, %25 : f32
      %27 = arith.truncf %26 : f32 to bf16
      linalg.yield %27 : bf16
    } -> tensor<3x4x128xbf16>
    butterfly.yield %24 : tensor<3x4x128xbf16>
  } -> tensor<3x4x128xbf16>
  return %9#0, %8, %9#1, %15 : tensor<3x4x128xbf16>, tensor<4x128xf32>, tensor<3x4x128xbf16>, tensor<3x4x128xbf16>
}
