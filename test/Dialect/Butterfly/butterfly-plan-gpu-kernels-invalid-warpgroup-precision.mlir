// RUN: fftconv-opt %s -butterfly-plan-gpu-kernels="chip=sm_90a precision=split" -verify-diagnostics

// The warpgroup stage's factor is one f16 operand: Half precision only.
#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
  func.func @split(%arg0: tensor<2x4x2048xf16>, %arg1: tensor<4x2048xf32>) -> tensor<2x4x2048xf16> {
    %0 = butterfly.pack_real %arg1 : tensor<4x2048xf32> -> tensor<4x2048xcomplex<f32>>
    %1 = butterfly.monarch %0 factors = [32, 64] nonzero_inputs = 1024 : tensor<4x2048xcomplex<f32>>
    %2 = butterfly.real_spectrum %1 : tensor<4x2048xcomplex<f32>> -> tensor<4x2049xcomplex<f32>>
    %3 = butterfly.conv_spectrum %2 : tensor<4x2049xcomplex<f32>> -> tensor<4x2x2048xcomplex<f32>>
    %4 = butterfly.permute %3 rows = 64, cols = 32 : tensor<4x2x2048xcomplex<f32>>
    // expected-error @+1 {{a stage of 64 (the warpgroup MMA) needs Half precision}}
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
