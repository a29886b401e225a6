// RUN: fftconv-opt %s -butterfly-plan-gpu-kernels="chip=sm_90a" | FileCheck %s
// RUN: fftconv-opt %s -butterfly-plan-gpu-kernels="chip=sm_90a" -butterfly-to-gpu | FileCheck %s --check-prefix=GPU

// sm_90a: a last stage of 64 runs on the warpgroup MMA. The convolution
// kernel copies the factor's image ([Fr; Fi], 16 KiB) into shared memory
// past the sequences, fences the stores before each warpgroup stage, and
// issues two m64n32k16 products (the Re and the Im outputs) for each of 8
// k-steps (the Re inputs, then the Im inputs), forward and inverse; the
// inverse negates Fi through scale-a. The spectrum kernel runs the 64 as
// two stages of 8 at Split precision.
// CHECK-LABEL: func @warpgroup
// CHECK: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90a", factors = [32, 64], threads = 128,
// GPU: gpu.module {{.*}}#nvvm.target<O = 3, chip = "sm_90a"
// GPU: memref.global "private" constant @warpgroup_factor_64_half : memref<8192xf16, #gpu.address_space<global>>
// GPU-LABEL: gpu.func @warpgroup_conv0_spectrum
// GPU-NOT: wgmma
// GPU-LABEL: gpu.func @warpgroup_conv0(
// GPU: memref.get_global @warpgroup_factor_64_half
// GPU: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// GPU: nvvm.wgmma.fence.aligned
// GPU-COUNT-16: nvvm.wgmma.mma_async {{.*}}, <m = 64, n = 32, k = 16>, D[<f32>, <one>], A[<f16>, <{{one|neg}}>, <row>], B[<f16>, <one>, <col>]
// GPU: nvvm.wgmma.commit.group.sync.aligned
// GPU: nvvm.wgmma.wait.group.sync.aligned 0
// GPU: nvvm.fence.proxy
// GPU: nvvm.wgmma.fence.aligned
// GPU-COUNT-16: nvvm.wgmma.mma_async {{.*}}, <m = 64, n = 32, k = 16>, D[<f32>, <one>], A[<f16>, <{{one|neg}}>, <row>], B[<f16>, <one>, <col>]
// GPU: nvvm.wgmma.wait.group.sync.aligned 0
// GPU: gpu.return
#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
  func.func @warpgroup(%arg0: tensor<2x4x2048xf16>, %arg1: tensor<4x2048xf32>) -> tensor<2x4x2048xf16> {
    %0 = butterfly.pack_real %arg1 : tensor<4x2048xf32> -> tensor<4x2048xcomplex<f32>>
    %1 = butterfly.monarch %0 factors = [32, 64] nonzero_inputs = 1024 : tensor<4x2048xcomplex<f32>>
    %2 = butterfly.real_spectrum %1 : tensor<4x2048xcomplex<f32>> -> tensor<4x2049xcomplex<f32>>
    %3 = butterfly.conv_spectrum %2 : tensor<4x2049xcomplex<f32>> -> tensor<4x2x2048xcomplex<f32>>
    %4 = butterfly.permute %3 rows = 64, cols = 32 : tensor<4x2x2048xcomplex<f32>>
    %5 = butterfly.fused conv ins(%arg0, %4 : tensor<2x4x2048xf16>, tensor<4x2x2048xcomplex<f32>>) onchip_bytes = 45056 {
    ^bb0(%arg2: tensor<2x4x2048xf16>, %arg3: tensor<4x2x2048xcomplex<f32>>):
      %6 = tensor.empty() : tensor<2x4x2048xf32>
      %7 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg2 : tensor<2x4x2048xf16>) outs(%6 : tensor<2x4x2048xf32>) {
      ^bb0(%in: f16, %out: f32):
        %15 = arith.extf %in : f16 to f32
        linalg.yield %15 : f32
      } -> tensor<2x4x2048xf32>
      %8 = butterfly.pack_real %7 : tensor<2x4x2048xf32> -> tensor<2x4x2048xcomplex<f32>>
      %9 = butterfly.monarch %8 factors = [32, 64] permuted nonzero_inputs = 1024 : tensor<2x4x2048xcomplex<f32>>
      %10 = butterfly.hermitian_mul %9, %arg3 factors = [32, 64] {butterfly.onchip_bytes = 45056 : i64} : tensor<2x4x2048xcomplex<f32>>, tensor<4x2x2048xcomplex<f32>>
      %11 = butterfly.monarch %10 factors = [32, 64] inverse permuted needed_outputs = 1024 : tensor<2x4x2048xcomplex<f32>>
      %12 = butterfly.unpack_real %11 : tensor<2x4x2048xcomplex<f32>> -> tensor<2x4x2048xf32>
      %13 = tensor.empty() : tensor<2x4x2048xf16>
      %14 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%12 : tensor<2x4x2048xf32>) outs(%13 : tensor<2x4x2048xf16>) {
      ^bb0(%in: f32, %out: f16):
        %15 = arith.truncf %in : f32 to f16
        linalg.yield %15 : f16
      } -> tensor<2x4x2048xf16>
      butterfly.yield %14 : tensor<2x4x2048xf16>
    } -> tensor<2x4x2048xf16>
    return %5 : tensor<2x4x2048xf16>
  }
