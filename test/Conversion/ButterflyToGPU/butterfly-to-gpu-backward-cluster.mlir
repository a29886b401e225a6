// RUN: fftconv-opt %s -butterfly-to-gpu | FileCheck %s

// A kernel gradient's cross spectrum planned on a cluster of two blocks
// (`cluster = 2`, which butterfly-plan-gpu-kernels gives at M = 16384;
// here M = 128 = 16 x 8 so that the kernel stays small): launched in
// clusters of two consecutive blocks along x, two a channel. Block 0
// transforms v, block 1 g; between two cluster barriers each sums the
// items of its quarter of the frequencies (M / 4 = 32), reading the other
// block's spectra (and its range unscale, 4 bytes past the 1024 of its
// planes and 2 x 65 slots) through distributed shared memory; block 0's
// first thread takes the middle frequency. Each block writes its half of
// the row.
// CHECK-LABEL: gpu.func @clustered_kernel_gradient0_cross_spectrum(
// CHECK-SAME: nvvm.cluster_dim = array<i32: 2, 1, 1>
// CHECK: %[[TID:[0-9]+]] = arith.index_castui %thread_id_x
// CHECK: %[[PEER:[0-9]+]] = nvvm.mapa %{{.*}} : !llvm.ptr<3> -> !llvm.ptr<7>
// CHECK: %[[FIRST:[0-9]+]] = arith.cmpi eq, %{{.*}}, %c0_i32
// CHECK: scf.for
// CHECK: scf.if %[[FIRST]]
// CHECK: } else {
// CHECK: nvvm.cluster.arrive {aligned}
// CHECK-NEXT: nvvm.cluster.wait {aligned}
// CHECK-NEXT: scf.if %[[FIRST]]
// CHECK: llvm.getelementptr %[[PEER]][%c1032_i32]
// CHECK: scf.for %{{.*}} = %[[TID]] to %c32_i32 step
// CHECK: llvm.load %{{.*}} : !llvm.ptr<7> -> f16
// CHECK: scf.if
// CHECK: } else {
// CHECK: scf.for %{{.*}} = %[[TID]] to %c32_i32 step
// CHECK: llvm.load %{{.*}} : !llvm.ptr<7> -> f16
// CHECK: nvvm.cluster.arrive {aligned}
// CHECK-NEXT: nvvm.cluster.wait {aligned}
// CHECK-NEXT: }
// CHECK-NEXT: scf.if %[[FIRST]]
// CHECK: scf.for %{{.*}} = %[[TID]] to %c32_i32 step
// CHECK: gpu.return
// CHECK-LABEL: func.func @clustered
// CHECK: gpu.launch_func @clustered_kernels::@clustered_kernel_gradient0_cross_spectrum blocks in (%c2, %c1, %c1{{.*}}) threads in (%c64,
#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @clustered(%arg0: tensor<1x1x128xf16>, %arg1: tensor<1x128xf32>, %arg2: tensor<1x1x128xf16>) -> tensor<1x128xf32> {
  %0 = butterfly.fused cross_spectrum ins(%arg0, %arg2 : tensor<1x1x128xf16>, tensor<1x1x128xf16>) onchip_bytes = 2048 plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 8], cluster = 2, threads = 64, batch_tile = 1> {
  ^bb0(%arg3: tensor<1x1x128xf16>, %arg4: tensor<1x1x128xf16>):
    %2 = tensor.empty() : tensor<1x1x128xf32>
    %3 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg3 : tensor<1x1x128xf16>) outs(%2 : tensor<1x1x128xf32>) {
    ^bb0(%in: f16, %out: f32):
      %13 = arith.extf %in : f16 to f32
      linalg.yield %13 : f32
    } -> tensor<1x1x128xf32>
    %4 = tensor.empty() : tensor<1x1x128xf32>
    %5 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg4 : tensor<1x1x128xf16>) outs(%4 : tensor<1x1x128xf32>) {
    ^bb0(%in: f16, %out: f32):
      %13 = arith.extf %in : f16 to f32
      linalg.yield %13 : f32
    } -> tensor<1x1x128xf32>
    %6 = butterfly.pack_real %5 : tensor<1x1x128xf32> -> tensor<1x1x128xcomplex<f32>>
    %7 = butterfly.monarch %6 factors = [16, 8] nonzero_inputs = 64 : tensor<1x1x128xcomplex<f32>>
    %8 = butterfly.real_spectrum %7 : tensor<1x1x128xcomplex<f32>> -> tensor<1x1x129xcomplex<f32>>
    %9 = butterfly.pack_real %3 : tensor<1x1x128xf32> -> tensor<1x1x128xcomplex<f32>>
    %10 = butterfly.monarch %9 factors = [16, 8] nonzero_inputs = 64 : tensor<1x1x128xcomplex<f32>>
    %11 = butterfly.real_spectrum %10 : tensor<1x1x128xcomplex<f32>> -> tensor<1x1x129xcomplex<f32>>
    %12 = fftconv.cross_spectrum %11, %8 : tensor<1x1x129xcomplex<f32>> -> tensor<1x129xcomplex<f32>>
    butterfly.yield %12 : tensor<1x129xcomplex<f32>>
  } -> tensor<1x129xcomplex<f32>>
  %1 = butterfly.fused channel_inverse ins(%0 : tensor<1x129xcomplex<f32>>) onchip_bytes = 0 plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [16, 8], threads = 64, batch_tile = 1> {
  ^bb0(%arg3: tensor<1x129xcomplex<f32>>):
    %2 = butterfly.real_spectrum %arg3 inverse : tensor<1x129xcomplex<f32>> -> tensor<1x128xcomplex<f32>>
    %3 = butterfly.monarch %2 factors = [16, 8] inverse needed_outputs = 64 : tensor<1x128xcomplex<f32>>
    %4 = butterfly.unpack_real %3 : tensor<1x128xcomplex<f32>> -> tensor<1x128xf32>
    butterfly.yield %4 : tensor<1x128xf32>
  } -> tensor<1x128xf32>
  return %1 : tensor<1x128xf32>
}
