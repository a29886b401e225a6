// RUN: fftconv-opt %s -split-input-file -butterfly-to-gpu -verify-diagnostics

// butterfly-to-gpu reads how each convolution becomes kernels off its plan
// (butterfly-plan-gpu-kernels) and decides nothing itself.

// A conv region without a plan.
func.func @unplanned(%arg0: tensor<1x1x128xf32>, %arg1: tensor<1x128xf32>) -> tensor<1x1x128xf32> {
  %0 = butterfly.pack_real %arg1 : tensor<1x128xf32> -> tensor<1x128xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [16, 8] nonzero_inputs = 64 : tensor<1x128xcomplex<f32>>
  %2 = butterfly.real_spectrum %1 : tensor<1x128xcomplex<f32>> -> tensor<1x129xcomplex<f32>>
  %3 = butterfly.conv_spectrum %2 : tensor<1x129xcomplex<f32>> -> tensor<1x2x128xcomplex<f32>>
  %4 = butterfly.permute %3 rows = 8, cols = 16 : tensor<1x2x128xcomplex<f32>>
  // expected-error @+1 {{the GPU lowering needs a plan on the conv region (run butterfly-plan-gpu-kernels first)}}
  %5 = butterfly.fused conv ins(%arg0, %4 : tensor<1x1x128xf32>, tensor<1x2x128xcomplex<f32>>) onchip_bytes = 5632 {
  ^bb0(%arg2: tensor<1x1x128xf32>, %arg3: tensor<1x2x128xcomplex<f32>>):
    %6 = butterfly.pack_real %arg2 : tensor<1x1x128xf32> -> tensor<1x1x128xcomplex<f32>>
    %7 = butterfly.monarch %6 factors = [16, 8] permuted nonzero_inputs = 64 : tensor<1x1x128xcomplex<f32>>
    %8 = butterfly.hermitian_mul %7, %arg3 factors = [16, 8] {butterfly.onchip_bytes = 5632 : i64} : tensor<1x1x128xcomplex<f32>>, tensor<1x2x128xcomplex<f32>>
    %9 = butterfly.monarch %8 factors = [16, 8] inverse permuted needed_outputs = 64 : tensor<1x1x128xcomplex<f32>>
    %10 = butterfly.unpack_real %9 : tensor<1x1x128xcomplex<f32>> -> tensor<1x1x128xf32>
    butterfly.yield %10 : tensor<1x1x128xf32>
  } -> tensor<1x1x128xf32>
  return %5 : tensor<1x1x128xf32>
}

// -----

// A plan for another transform: M = 128 points, not 32 x 8.
func.func @wrong_factors(%arg0: tensor<1x1x128xf32>, %arg1: tensor<1x128xf32>) -> tensor<1x1x128xf32> {
  %0 = butterfly.pack_real %arg1 : tensor<1x128xf32> -> tensor<1x128xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [16, 8] nonzero_inputs = 64 : tensor<1x128xcomplex<f32>>
  %2 = butterfly.real_spectrum %1 : tensor<1x128xcomplex<f32>> -> tensor<1x129xcomplex<f32>>
  %3 = butterfly.conv_spectrum %2 : tensor<1x129xcomplex<f32>> -> tensor<1x2x128xcomplex<f32>>
  %4 = butterfly.permute %3 rows = 8, cols = 16 : tensor<1x2x128xcomplex<f32>>
  // expected-error @+1 {{the GPU plan's factors multiply to 256, but the transform has 128 points}}
  %5 = butterfly.fused conv ins(%arg0, %4 : tensor<1x1x128xf32>, tensor<1x2x128xcomplex<f32>>) onchip_bytes = 5632 plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [32, 8], threads = 64, batch_tile = 1> {
  ^bb0(%arg2: tensor<1x1x128xf32>, %arg3: tensor<1x2x128xcomplex<f32>>):
    %6 = butterfly.pack_real %arg2 : tensor<1x1x128xf32> -> tensor<1x1x128xcomplex<f32>>
    %7 = butterfly.monarch %6 factors = [16, 8] permuted nonzero_inputs = 64 : tensor<1x1x128xcomplex<f32>>
    %8 = butterfly.hermitian_mul %7, %arg3 factors = [16, 8] {butterfly.onchip_bytes = 5632 : i64} : tensor<1x1x128xcomplex<f32>>, tensor<1x2x128xcomplex<f32>>
    %9 = butterfly.monarch %8 factors = [16, 8] inverse permuted needed_outputs = 64 : tensor<1x1x128xcomplex<f32>>
    %10 = butterfly.unpack_real %9 : tensor<1x1x128xcomplex<f32>> -> tensor<1x1x128xf32>
    butterfly.yield %10 : tensor<1x1x128xf32>
  } -> tensor<1x1x128xf32>
  return %5 : tensor<1x1x128xf32>
}

// -----

// The outer passes of a chain go through memory: a chain is three passes.
func.func @chain_in_one_kernel(%arg0: tensor<1x1x128xf32>, %arg1: tensor<1x128xf32>) -> tensor<1x1x128xf32> {
  %0 = butterfly.pack_real %arg1 : tensor<1x128xf32> -> tensor<1x128xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [16, 8] nonzero_inputs = 64 : tensor<1x128xcomplex<f32>>
  %2 = butterfly.real_spectrum %1 : tensor<1x128xcomplex<f32>> -> tensor<1x129xcomplex<f32>>
  %3 = butterfly.conv_spectrum %2 : tensor<1x129xcomplex<f32>> -> tensor<1x2x128xcomplex<f32>>
  %4 = butterfly.permute %3 rows = 8, cols = 16 : tensor<1x2x128xcomplex<f32>>
  %5 = butterfly.fused outer_forward ins(%arg0 : tensor<1x1x128xf32>) onchip_bytes = 2176 {
  ^bb0(%arg2: tensor<1x1x128xf32>):
    %8 = butterfly.pack_real %arg2 {butterfly.outer_pass} : tensor<1x1x128xf32> -> tensor<1x1x128xcomplex<f32>>
    %9 = butterfly.dft {butterfly.outer_pass} : tensor<16x16xcomplex<f32>>
    %10 = butterfly.kron %9, %8 stride = 8 input_extent = 8 {butterfly.outer_pass} : tensor<16x16xcomplex<f32>>, tensor<1x1x128xcomplex<f32>>
    %11 = butterfly.twiddle %10 rows = 16, cols = 8 {butterfly.outer_pass} : tensor<1x1x128xcomplex<f32>>
    butterfly.yield %11 : tensor<1x1x128xcomplex<f32>>
  } -> tensor<1x1x128xcomplex<f32>>
  // expected-error @+1 {{the GPU lowering runs an outer_forward, conv, outer_inverse chain in the three_pass form only}}
  %6 = butterfly.fused conv ins(%5, %4 : tensor<1x1x128xcomplex<f32>>, tensor<1x2x128xcomplex<f32>>) onchip_bytes = 896 plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 8], threads = 64, batch_tile = 1> {
  ^bb0(%arg2: tensor<1x1x128xcomplex<f32>>, %arg3: tensor<1x2x128xcomplex<f32>>):
    %expanded = tensor.expand_shape %arg2 [[0], [1], [2, 3]] output_shape [1, 1, 16, 8] : tensor<1x1x128xcomplex<f32>> into tensor<1x1x16x8xcomplex<f32>>
    %8 = butterfly.monarch %expanded factors = [8] permuted : tensor<1x1x16x8xcomplex<f32>>
    %collapsed = tensor.collapse_shape %8 [[0], [1], [2, 3]] : tensor<1x1x16x8xcomplex<f32>> into tensor<1x1x128xcomplex<f32>>
    %9 = butterfly.hermitian_mul %collapsed, %arg3 factors = [16, 8] {butterfly.onchip_bytes = 896 : i64, butterfly.outer_onchip_bytes = 2176 : i64} : tensor<1x1x128xcomplex<f32>>, tensor<1x2x128xcomplex<f32>>
    %expanded_0 = tensor.expand_shape %9 [[0], [1], [2, 3]] output_shape [1, 1, 16, 8] : tensor<1x1x128xcomplex<f32>> into tensor<1x1x16x8xcomplex<f32>>
    %10 = butterfly.monarch %expanded_0 factors = [8] inverse permuted : tensor<1x1x16x8xcomplex<f32>>
    %collapsed_1 = tensor.collapse_shape %10 [[0], [1], [2, 3]] : tensor<1x1x16x8xcomplex<f32>> into tensor<1x1x128xcomplex<f32>>
    butterfly.yield %collapsed_1 : tensor<1x1x128xcomplex<f32>>
  } -> tensor<1x1x128xcomplex<f32>>
  %7 = butterfly.fused outer_inverse ins(%6 : tensor<1x1x128xcomplex<f32>>) onchip_bytes = 2176 {
  ^bb0(%arg2: tensor<1x1x128xcomplex<f32>>):
    %8 = butterfly.dft inverse {butterfly.outer_pass} : tensor<16x16xcomplex<f32>>
    %9 = butterfly.twiddle %arg2 rows = 16, cols = 8 inverse {butterfly.outer_pass} : tensor<1x1x128xcomplex<f32>>
    %10 = butterfly.kron %8, %9 stride = 8 output_extent = 8 {butterfly.outer_pass} : tensor<16x16xcomplex<f32>>, tensor<1x1x128xcomplex<f32>>
    %11 = butterfly.unpack_real %10 {butterfly.outer_pass} : tensor<1x1x128xcomplex<f32>> -> tensor<1x1x128xf32>
    butterfly.yield %11 : tensor<1x1x128xf32>
  } -> tensor<1x1x128xf32>
  return %7 : tensor<1x1x128xf32>
}


// -----

// One gpu.module a function, for one chip.
func.func @two_chips(%arg0: tensor<1x1x128xf32>, %arg1: tensor<1x128xf32>, %arg2: tensor<1x1x128xf32>) -> (tensor<1x1x128xf32>, tensor<1x1x128xf32>) {
  %0 = butterfly.pack_real %arg1 : tensor<1x128xf32> -> tensor<1x128xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [16, 8] nonzero_inputs = 64 : tensor<1x128xcomplex<f32>>
  %2 = butterfly.real_spectrum %1 : tensor<1x128xcomplex<f32>> -> tensor<1x129xcomplex<f32>>
  %3 = butterfly.conv_spectrum %2 : tensor<1x129xcomplex<f32>> -> tensor<1x2x128xcomplex<f32>>
  %4 = butterfly.permute %3 rows = 8, cols = 16 : tensor<1x2x128xcomplex<f32>>
  %5 = butterfly.fused conv ins(%arg0, %4 : tensor<1x1x128xf32>, tensor<1x2x128xcomplex<f32>>) onchip_bytes = 5632 plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 8], threads = 64, batch_tile = 1> {
  ^bb0(%arg3: tensor<1x1x128xf32>, %arg4: tensor<1x2x128xcomplex<f32>>):
    %12 = butterfly.pack_real %arg3 : tensor<1x1x128xf32> -> tensor<1x1x128xcomplex<f32>>
    %13 = butterfly.monarch %12 factors = [16, 8] permuted nonzero_inputs = 64 : tensor<1x1x128xcomplex<f32>>
    %14 = butterfly.hermitian_mul %13, %arg4 factors = [16, 8] {butterfly.onchip_bytes = 5632 : i64} : tensor<1x1x128xcomplex<f32>>, tensor<1x2x128xcomplex<f32>>
    %15 = butterfly.monarch %14 factors = [16, 8] inverse permuted needed_outputs = 64 : tensor<1x1x128xcomplex<f32>>
    %16 = butterfly.unpack_real %15 : tensor<1x1x128xcomplex<f32>> -> tensor<1x1x128xf32>
    butterfly.yield %16 : tensor<1x1x128xf32>
  } -> tensor<1x1x128xf32>
  %6 = butterfly.pack_real %arg1 : tensor<1x128xf32> -> tensor<1x128xcomplex<f32>>
  %7 = butterfly.monarch %6 factors = [16, 8] nonzero_inputs = 64 : tensor<1x128xcomplex<f32>>
  %8 = butterfly.real_spectrum %7 : tensor<1x128xcomplex<f32>> -> tensor<1x129xcomplex<f32>>
  %9 = butterfly.conv_spectrum %8 : tensor<1x129xcomplex<f32>> -> tensor<1x2x128xcomplex<f32>>
  %10 = butterfly.permute %9 rows = 8, cols = 16 : tensor<1x2x128xcomplex<f32>>
  // expected-error @+1 {{the GPU lowering needs one chip a function: this plan is for sm_80, an earlier one for sm_90}}
  %11 = butterfly.fused conv ins(%arg2, %10 : tensor<1x1x128xf32>, tensor<1x2x128xcomplex<f32>>) onchip_bytes = 5632 plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_80", factors = [16, 8], threads = 64, batch_tile = 1> {
  ^bb0(%arg3: tensor<1x1x128xf32>, %arg4: tensor<1x2x128xcomplex<f32>>):
    %12 = butterfly.pack_real %arg3 : tensor<1x1x128xf32> -> tensor<1x1x128xcomplex<f32>>
    %13 = butterfly.monarch %12 factors = [16, 8] permuted nonzero_inputs = 64 : tensor<1x1x128xcomplex<f32>>
    %14 = butterfly.hermitian_mul %13, %arg4 factors = [16, 8] {butterfly.onchip_bytes = 5632 : i64} : tensor<1x1x128xcomplex<f32>>, tensor<1x2x128xcomplex<f32>>
    %15 = butterfly.monarch %14 factors = [16, 8] inverse permuted needed_outputs = 64 : tensor<1x1x128xcomplex<f32>>
    %16 = butterfly.unpack_real %15 : tensor<1x1x128xcomplex<f32>> -> tensor<1x1x128xf32>
    butterfly.yield %16 : tensor<1x1x128xf32>
  } -> tensor<1x1x128xf32>
  return %5, %11 : tensor<1x1x128xf32>, tensor<1x1x128xf32>
}

// -----

// Past 4096 rows an outer block owns 4 columns, and a tensor-core stage's
// tile is 8: the last outer stage must be a factor of 8 or less (the FMA
// units), as the planner's [32, 32, 8] is.
#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @narrow_outer_last_on_tensor_cores(%arg0: tensor<1x1x16777216xf16>, %arg1: tensor<1x16777216xf32>) -> tensor<1x1x16777216xf16> {
  %0 = butterfly.pack_real %arg1 : tensor<1x16777216xf32> -> tensor<1x16777216xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [64, 64, 64, 64] nonzero_inputs = 8388608 : tensor<1x16777216xcomplex<f32>>
  %2 = butterfly.real_spectrum %1 : tensor<1x16777216xcomplex<f32>> -> tensor<1x16777217xcomplex<f32>>
  %3 = butterfly.conv_spectrum %2 : tensor<1x16777217xcomplex<f32>> -> tensor<1x2x16777216xcomplex<f32>>
  %4 = butterfly.permute %3 rows = 64, cols = 64 : tensor<1x2x16777216xcomplex<f32>>
  %5 = butterfly.permute %4 rows = 64, cols = 4096 : tensor<1x2x16777216xcomplex<f32>>
  %6 = butterfly.permute %5 rows = 64, cols = 262144 : tensor<1x2x16777216xcomplex<f32>>
  %7 = butterfly.fused outer_forward ins(%arg0 : tensor<1x1x16777216xf16>) onchip_bytes = 49152 {
  ^bb0(%arg2: tensor<1x1x16777216xf16>):
    %10 = tensor.empty() : tensor<1x1x16777216xf32>
    %11 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg2 : tensor<1x1x16777216xf16>) outs(%10 : tensor<1x1x16777216xf32>) {
    ^bb0(%in: f16, %out: f32):
      %19 = arith.extf %in : f16 to f32
      linalg.yield %19 : f32
    } -> tensor<1x1x16777216xf32>
    %12 = butterfly.pack_real %11 {butterfly.outer_pass} : tensor<1x1x16777216xf32> -> tensor<1x1x16777216xcomplex<f32>>
    %13 = butterfly.dft {butterfly.outer_pass} : tensor<64x64xcomplex<f32>>
    %14 = butterfly.kron %13, %12 stride = 262144 input_extent = 32 {butterfly.outer_pass} : tensor<64x64xcomplex<f32>>, tensor<1x1x16777216xcomplex<f32>>
    %15 = butterfly.twiddle %14 rows = 64, cols = 262144 {butterfly.outer_pass} : tensor<1x1x16777216xcomplex<f32>>
    %16 = butterfly.dft {butterfly.outer_pass} : tensor<64x64xcomplex<f32>>
    %17 = butterfly.kron %16, %15 stride = 4096 {butterfly.outer_pass} : tensor<64x64xcomplex<f32>>, tensor<1x1x16777216xcomplex<f32>>
    %18 = butterfly.twiddle %17 rows = 64, cols = 4096 {butterfly.outer_pass} : tensor<1x1x16777216xcomplex<f32>>
    butterfly.yield %18 : tensor<1x1x16777216xcomplex<f32>>
  } -> tensor<1x1x16777216xcomplex<f32>>
  // expected-error @+1 {{the GPU plan's outer blocks of 8192 rows own 4 columns, fewer than a tensor-core stage's tile: its last outer factor must be at most 8, got 16}}
  %8 = butterfly.fused conv ins(%7, %6 : tensor<1x1x16777216xcomplex<f32>>, tensor<1x2x16777216xcomplex<f32>>) onchip_bytes = 114688 plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [32, 16, 16], factors = [16, 16, 16], threads = 256, batch_tile = 1, workspace = f16> {
  ^bb0(%arg2: tensor<1x1x16777216xcomplex<f32>>, %arg3: tensor<1x2x16777216xcomplex<f32>>):
    %expanded = tensor.expand_shape %arg2 [[0], [1], [2, 3]] output_shape [1, 1, 4096, 4096] : tensor<1x1x16777216xcomplex<f32>> into tensor<1x1x4096x4096xcomplex<f32>>
    %10 = butterfly.monarch %expanded factors = [64, 64] permuted : tensor<1x1x4096x4096xcomplex<f32>>
    %collapsed = tensor.collapse_shape %10 [[0], [1], [2, 3]] : tensor<1x1x4096x4096xcomplex<f32>> into tensor<1x1x16777216xcomplex<f32>>
    %11 = butterfly.hermitian_mul %collapsed, %arg3 factors = [64, 64, 64, 64] {butterfly.onchip_bytes = 114688 : i64, butterfly.outer_onchip_bytes = 49152 : i64} : tensor<1x1x16777216xcomplex<f32>>, tensor<1x2x16777216xcomplex<f32>>
    %expanded_0 = tensor.expand_shape %11 [[0], [1], [2, 3]] output_shape [1, 1, 4096, 4096] : tensor<1x1x16777216xcomplex<f32>> into tensor<1x1x4096x4096xcomplex<f32>>
    %12 = butterfly.monarch %expanded_0 factors = [64, 64] inverse permuted : tensor<1x1x4096x4096xcomplex<f32>>
    %collapsed_1 = tensor.collapse_shape %12 [[0], [1], [2, 3]] : tensor<1x1x4096x4096xcomplex<f32>> into tensor<1x1x16777216xcomplex<f32>>
    butterfly.yield %collapsed_1 : tensor<1x1x16777216xcomplex<f32>>
  } -> tensor<1x1x16777216xcomplex<f32>>
  %9 = butterfly.fused outer_inverse ins(%8 : tensor<1x1x16777216xcomplex<f32>>) onchip_bytes = 49152 {
  ^bb0(%arg2: tensor<1x1x16777216xcomplex<f32>>):
    %10 = butterfly.dft inverse {butterfly.outer_pass} : tensor<64x64xcomplex<f32>>
    %11 = butterfly.twiddle %arg2 rows = 64, cols = 4096 inverse {butterfly.outer_pass} : tensor<1x1x16777216xcomplex<f32>>
    %12 = butterfly.kron %10, %11 stride = 4096 {butterfly.outer_pass} : tensor<64x64xcomplex<f32>>, tensor<1x1x16777216xcomplex<f32>>
    %13 = butterfly.dft inverse {butterfly.outer_pass} : tensor<64x64xcomplex<f32>>
    %14 = butterfly.twiddle %12 rows = 64, cols = 262144 inverse {butterfly.outer_pass} : tensor<1x1x16777216xcomplex<f32>>
    %15 = butterfly.kron %13, %14 stride = 262144 output_extent = 32 {butterfly.outer_pass} : tensor<64x64xcomplex<f32>>, tensor<1x1x16777216xcomplex<f32>>
    %16 = butterfly.unpack_real %15 {butterfly.outer_pass} : tensor<1x1x16777216xcomplex<f32>> -> tensor<1x1x16777216xf32>
    %17 = tensor.empty() : tensor<1x1x16777216xf16>
    %18 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%16 : tensor<1x1x16777216xf32>) outs(%17 : tensor<1x1x16777216xf16>) {
    ^bb0(%in: f32, %out: f16):
      %19 = arith.truncf %in : f32 to f16
      linalg.yield %19 : f16
    } -> tensor<1x1x16777216xf16>
    butterfly.yield %18 : tensor<1x1x16777216xf16>
  } -> tensor<1x1x16777216xf16>
  return %9 : tensor<1x1x16777216xf16>
}

// -----

// A cluster of blocks is the cross spectrum's (a block of v's spectra and
// one of g's) or a three-pass form's, not a single-kernel convolution's.
func.func @clustered_conv(%arg0: tensor<1x1x128xf32>, %arg1: tensor<1x128xf32>) -> tensor<1x1x128xf32> {
  %0 = butterfly.pack_real %arg1 : tensor<1x128xf32> -> tensor<1x128xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [16, 8] nonzero_inputs = 64 : tensor<1x128xcomplex<f32>>
  %2 = butterfly.real_spectrum %1 : tensor<1x128xcomplex<f32>> -> tensor<1x129xcomplex<f32>>
  %3 = butterfly.conv_spectrum %2 : tensor<1x129xcomplex<f32>> -> tensor<1x2x128xcomplex<f32>>
  %4 = butterfly.permute %3 rows = 8, cols = 16 : tensor<1x2x128xcomplex<f32>>
  // expected-error @+1 {{the GPU lowering runs a cluster of blocks only for a kernel gradient's single-kernel cross spectrum and a convolution's three-pass form}}
  %5 = butterfly.fused conv ins(%arg0, %4 : tensor<1x1x128xf32>, tensor<1x2x128xcomplex<f32>>) onchip_bytes = 5632 plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 8], cluster = 2, threads = 64, batch_tile = 1> {
  ^bb0(%arg2: tensor<1x1x128xf32>, %arg3: tensor<1x2x128xcomplex<f32>>):
    %6 = butterfly.pack_real %arg2 : tensor<1x1x128xf32> -> tensor<1x1x128xcomplex<f32>>
    %7 = butterfly.monarch %6 factors = [16, 8] permuted nonzero_inputs = 64 : tensor<1x1x128xcomplex<f32>>
    %8 = butterfly.hermitian_mul %7, %arg3 factors = [16, 8] {butterfly.onchip_bytes = 5632 : i64} : tensor<1x1x128xcomplex<f32>>, tensor<1x2x128xcomplex<f32>>
    %9 = butterfly.monarch %8 factors = [16, 8] inverse permuted needed_outputs = 64 : tensor<1x1x128xcomplex<f32>>
    %10 = butterfly.unpack_real %9 : tensor<1x1x128xcomplex<f32>> -> tensor<1x1x128xf32>
    butterfly.yield %10 : tensor<1x1x128xf32>
  } -> tensor<1x1x128xf32>
  return %5 : tensor<1x1x128xf32>
}

// -----

// An in_cross_spectrum convolution runs inside its kernel gradient's cross
// spectrum: a function without one has no kernel to run it.
func.func @no_cross_spectrum(%arg0: tensor<1x1x128xf32>, %arg1: tensor<1x128xf32>) -> tensor<1x1x128xf32> {
  %0 = butterfly.pack_real %arg1 : tensor<1x128xf32> -> tensor<1x128xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [16, 8] nonzero_inputs = 64 : tensor<1x128xcomplex<f32>>
  %2 = butterfly.real_spectrum %1 : tensor<1x128xcomplex<f32>> -> tensor<1x129xcomplex<f32>>
  %3 = butterfly.conv_spectrum %2 : tensor<1x129xcomplex<f32>> -> tensor<1x2x128xcomplex<f32>>
  %4 = butterfly.permute %3 rows = 8, cols = 16 : tensor<1x2x128xcomplex<f32>>
  // expected-error @+1 {{the GPU lowering runs an in_cross_spectrum convolution inside a single-kernel cross spectrum that transforms its sequence}}
  %5 = butterfly.fused conv ins(%arg0, %4 : tensor<1x1x128xf32>, tensor<1x2x128xcomplex<f32>>) onchip_bytes = 5632 plan = #butterfly.gpu_plan<in_cross_spectrum, half, chip = "sm_90", factors = [16, 8], threads = 64, batch_tile = 1> {
  ^bb0(%arg2: tensor<1x1x128xf32>, %arg3: tensor<1x2x128xcomplex<f32>>):
    %6 = butterfly.pack_real %arg2 : tensor<1x1x128xf32> -> tensor<1x1x128xcomplex<f32>>
    %7 = butterfly.monarch %6 factors = [16, 8] permuted nonzero_inputs = 64 : tensor<1x1x128xcomplex<f32>>
    %8 = butterfly.hermitian_mul %7, %arg3 factors = [16, 8] {butterfly.onchip_bytes = 5632 : i64} : tensor<1x1x128xcomplex<f32>>, tensor<1x2x128xcomplex<f32>>
    %9 = butterfly.monarch %8 factors = [16, 8] inverse permuted needed_outputs = 64 : tensor<1x1x128xcomplex<f32>>
    %10 = butterfly.unpack_real %9 : tensor<1x1x128xcomplex<f32>> -> tensor<1x1x128xf32>
    butterfly.yield %10 : tensor<1x1x128xf32>
  } -> tensor<1x1x128xf32>
  return %5 : tensor<1x1x128xf32>
}

// -----

// A cluster's blocks share no range scale: its three passes run f16 data.
#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @clustered_bf16(%arg0: tensor<1x1x32768xbf16>, %arg1: tensor<1x32768xf32>) -> tensor<1x1x32768xbf16> {
  %0 = butterfly.pack_real %arg1 : tensor<1x32768xf32> -> tensor<1x32768xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [32, 32, 32] nonzero_inputs = 16384 : tensor<1x32768xcomplex<f32>>
  %2 = butterfly.real_spectrum %1 : tensor<1x32768xcomplex<f32>> -> tensor<1x32769xcomplex<f32>>
  %3 = butterfly.conv_spectrum %2 : tensor<1x32769xcomplex<f32>> -> tensor<1x2x32768xcomplex<f32>>
  %4 = butterfly.permute %3 rows = 32, cols = 32 : tensor<1x2x32768xcomplex<f32>>
  %5 = butterfly.permute %4 rows = 32, cols = 1024 : tensor<1x2x32768xcomplex<f32>>
  %6 = butterfly.fused outer_forward ins(%arg0 : tensor<1x1x32768xbf16>) onchip_bytes = 4224 {
  ^bb0(%arg2: tensor<1x1x32768xbf16>):
    %9 = tensor.empty() : tensor<1x1x32768xf32>
    %10 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg2 : tensor<1x1x32768xbf16>) outs(%9 : tensor<1x1x32768xf32>) {
    ^bb0(%in: bf16, %out: f32):
      %15 = arith.extf %in : bf16 to f32
      linalg.yield %15 : f32
    } -> tensor<1x1x32768xf32>
    %11 = butterfly.pack_real %10 {butterfly.outer_pass} : tensor<1x1x32768xf32> -> tensor<1x1x32768xcomplex<f32>>
    %12 = butterfly.dft {butterfly.outer_pass} : tensor<32x32xcomplex<f32>>
    %13 = butterfly.kron %12, %11 stride = 1024 input_extent = 16 {butterfly.outer_pass} : tensor<32x32xcomplex<f32>>, tensor<1x1x32768xcomplex<f32>>
    %14 = butterfly.twiddle %13 rows = 32, cols = 1024 {butterfly.outer_pass} : tensor<1x1x32768xcomplex<f32>>
    butterfly.yield %14 : tensor<1x1x32768xcomplex<f32>>
  } -> tensor<1x1x32768xcomplex<f32>>
// expected-error @+1 {{a clustered three-pass kernel runs f16 data on one GPU}}
  %7 = butterfly.fused conv ins(%6, %5 : tensor<1x1x32768xcomplex<f32>>, tensor<1x2x32768xcomplex<f32>>) onchip_bytes = 28672 plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_90", outer_factors = [16], factors = [16, 16, 16], cluster = 8, threads = 256, batch_tile = 1> {
  ^bb0(%arg2: tensor<1x1x32768xcomplex<f32>>, %arg3: tensor<1x2x32768xcomplex<f32>>):
    %expanded = tensor.expand_shape %arg2 [[0], [1], [2, 3]] output_shape [1, 1, 32, 1024] : tensor<1x1x32768xcomplex<f32>> into tensor<1x1x32x1024xcomplex<f32>>
    %9 = butterfly.monarch %expanded factors = [32, 32] permuted : tensor<1x1x32x1024xcomplex<f32>>
    %collapsed = tensor.collapse_shape %9 [[0], [1], [2, 3]] : tensor<1x1x32x1024xcomplex<f32>> into tensor<1x1x32768xcomplex<f32>>
    %10 = butterfly.hermitian_mul %collapsed, %arg3 factors = [32, 32, 32] {butterfly.onchip_bytes = 28672 : i64, butterfly.outer_onchip_bytes = 4224 : i64} : tensor<1x1x32768xcomplex<f32>>, tensor<1x2x32768xcomplex<f32>>
    %expanded_0 = tensor.expand_shape %10 [[0], [1], [2, 3]] output_shape [1, 1, 32, 1024] : tensor<1x1x32768xcomplex<f32>> into tensor<1x1x32x1024xcomplex<f32>>
    %11 = butterfly.monarch %expanded_0 factors = [32, 32] inverse permuted : tensor<1x1x32x1024xcomplex<f32>>
    %collapsed_1 = tensor.collapse_shape %11 [[0], [1], [2, 3]] : tensor<1x1x32x1024xcomplex<f32>> into tensor<1x1x32768xcomplex<f32>>
    butterfly.yield %collapsed_1 : tensor<1x1x32768xcomplex<f32>>
  } -> tensor<1x1x32768xcomplex<f32>>
  %8 = butterfly.fused outer_inverse ins(%7 : tensor<1x1x32768xcomplex<f32>>) onchip_bytes = 4224 {
  ^bb0(%arg2: tensor<1x1x32768xcomplex<f32>>):
    %9 = butterfly.dft inverse {butterfly.outer_pass} : tensor<32x32xcomplex<f32>>
    %10 = butterfly.twiddle %arg2 rows = 32, cols = 1024 inverse {butterfly.outer_pass} : tensor<1x1x32768xcomplex<f32>>
    %11 = butterfly.kron %9, %10 stride = 1024 output_extent = 16 {butterfly.outer_pass} : tensor<32x32xcomplex<f32>>, tensor<1x1x32768xcomplex<f32>>
    %12 = butterfly.unpack_real %11 {butterfly.outer_pass} : tensor<1x1x32768xcomplex<f32>> -> tensor<1x1x32768xf32>
    %13 = tensor.empty() : tensor<1x1x32768xbf16>
    %14 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%12 : tensor<1x1x32768xf32>) outs(%13 : tensor<1x1x32768xbf16>) {
    ^bb0(%in: f32, %out: bf16):
      %15 = arith.truncf %in : f32 to bf16
      linalg.yield %15 : bf16
    } -> tensor<1x1x32768xbf16>
    butterfly.yield %14 : tensor<1x1x32768xbf16>
  } -> tensor<1x1x32768xbf16>
  return %8 : tensor<1x1x32768xbf16>
}

// -----

// bf16 data's f16 workspace holds each block's values with its scale: not
// through a sharded exchange.
#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @sharded_bf16_f16_workspace(%arg0: tensor<1x1x32768xbf16>, %arg1: tensor<1x32768xf32>) -> tensor<1x1x32768xbf16> {
  %0 = butterfly.pack_real %arg1 : tensor<1x32768xf32> -> tensor<1x32768xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [32, 32, 32] nonzero_inputs = 16384 : tensor<1x32768xcomplex<f32>>
  %2 = butterfly.real_spectrum %1 : tensor<1x32768xcomplex<f32>> -> tensor<1x32769xcomplex<f32>>
  %3 = butterfly.conv_spectrum %2 : tensor<1x32769xcomplex<f32>> -> tensor<1x2x32768xcomplex<f32>>
  %4 = butterfly.permute %3 rows = 32, cols = 32 : tensor<1x2x32768xcomplex<f32>>
  %5 = butterfly.permute %4 rows = 32, cols = 1024 : tensor<1x2x32768xcomplex<f32>>
  %6 = butterfly.fused outer_forward ins(%arg0 : tensor<1x1x32768xbf16>) onchip_bytes = 4224 {
  ^bb0(%arg2: tensor<1x1x32768xbf16>):
    %9 = tensor.empty() : tensor<1x1x32768xf32>
    %10 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg2 : tensor<1x1x32768xbf16>) outs(%9 : tensor<1x1x32768xf32>) {
    ^bb0(%in: bf16, %out: f32):
      %15 = arith.extf %in : bf16 to f32
      linalg.yield %15 : f32
    } -> tensor<1x1x32768xf32>
    %11 = butterfly.pack_real %10 {butterfly.outer_pass} : tensor<1x1x32768xf32> -> tensor<1x1x32768xcomplex<f32>>
    %12 = butterfly.dft {butterfly.outer_pass} : tensor<32x32xcomplex<f32>>
    %13 = butterfly.kron %12, %11 stride = 1024 input_extent = 16 {butterfly.outer_pass} : tensor<32x32xcomplex<f32>>, tensor<1x1x32768xcomplex<f32>>
    %14 = butterfly.twiddle %13 rows = 32, cols = 1024 {butterfly.outer_pass} : tensor<1x1x32768xcomplex<f32>>
    butterfly.yield %14 : tensor<1x1x32768xcomplex<f32>>
  } -> tensor<1x1x32768xcomplex<f32>>
// expected-error @+1 {{the GPU lowering keeps bf16 data's three-pass workspace in f16 on one GPU only}}
  %7 = butterfly.fused conv ins(%6, %5 : tensor<1x1x32768xcomplex<f32>>, tensor<1x2x32768xcomplex<f32>>) onchip_bytes = 28672 plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_90", ranks = 2, rank = 0, outer_factors = [16], factors = [16, 16, 16], threads = 256, batch_tile = 1, workspace = f16> {
  ^bb0(%arg2: tensor<1x1x32768xcomplex<f32>>, %arg3: tensor<1x2x32768xcomplex<f32>>):
    %expanded = tensor.expand_shape %arg2 [[0], [1], [2, 3]] output_shape [1, 1, 32, 1024] : tensor<1x1x32768xcomplex<f32>> into tensor<1x1x32x1024xcomplex<f32>>
    %9 = butterfly.monarch %expanded factors = [32, 32] permuted : tensor<1x1x32x1024xcomplex<f32>>
    %collapsed = tensor.collapse_shape %9 [[0], [1], [2, 3]] : tensor<1x1x32x1024xcomplex<f32>> into tensor<1x1x32768xcomplex<f32>>
    %10 = butterfly.hermitian_mul %collapsed, %arg3 factors = [32, 32, 32] {butterfly.onchip_bytes = 28672 : i64, butterfly.outer_onchip_bytes = 4224 : i64} : tensor<1x1x32768xcomplex<f32>>, tensor<1x2x32768xcomplex<f32>>
    %expanded_0 = tensor.expand_shape %10 [[0], [1], [2, 3]] output_shape [1, 1, 32, 1024] : tensor<1x1x32768xcomplex<f32>> into tensor<1x1x32x1024xcomplex<f32>>
    %11 = butterfly.monarch %expanded_0 factors = [32, 32] inverse permuted : tensor<1x1x32x1024xcomplex<f32>>
    %collapsed_1 = tensor.collapse_shape %11 [[0], [1], [2, 3]] : tensor<1x1x32x1024xcomplex<f32>> into tensor<1x1x32768xcomplex<f32>>
    butterfly.yield %collapsed_1 : tensor<1x1x32768xcomplex<f32>>
  } -> tensor<1x1x32768xcomplex<f32>>
  %8 = butterfly.fused outer_inverse ins(%7 : tensor<1x1x32768xcomplex<f32>>) onchip_bytes = 4224 {
  ^bb0(%arg2: tensor<1x1x32768xcomplex<f32>>):
    %9 = butterfly.dft inverse {butterfly.outer_pass} : tensor<32x32xcomplex<f32>>
    %10 = butterfly.twiddle %arg2 rows = 32, cols = 1024 inverse {butterfly.outer_pass} : tensor<1x1x32768xcomplex<f32>>
    %11 = butterfly.kron %9, %10 stride = 1024 output_extent = 16 {butterfly.outer_pass} : tensor<32x32xcomplex<f32>>, tensor<1x1x32768xcomplex<f32>>
    %12 = butterfly.unpack_real %11 {butterfly.outer_pass} : tensor<1x1x32768xcomplex<f32>> -> tensor<1x1x32768xf32>
    %13 = tensor.empty() : tensor<1x1x32768xbf16>
    %14 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%12 : tensor<1x1x32768xf32>) outs(%13 : tensor<1x1x32768xbf16>) {
    ^bb0(%in: f32, %out: bf16):
      %15 = arith.truncf %in : f32 to bf16
      linalg.yield %15 : bf16
    } -> tensor<1x1x32768xbf16>
    butterfly.yield %14 : tensor<1x1x32768xbf16>
  } -> tensor<1x1x32768xbf16>
  return %8 : tensor<1x1x32768xbf16>
}

// -----

// f32 data in an f16 workspace would lose most of its digits.
#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @f32_f16_workspace(%arg0: tensor<1x1x32768xf32>, %arg1: tensor<1x32768xf32>) -> tensor<1x1x32768xf32> {
  %0 = butterfly.pack_real %arg1 : tensor<1x32768xf32> -> tensor<1x32768xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [32, 32, 32] nonzero_inputs = 16384 : tensor<1x32768xcomplex<f32>>
  %2 = butterfly.real_spectrum %1 : tensor<1x32768xcomplex<f32>> -> tensor<1x32769xcomplex<f32>>
  %3 = butterfly.conv_spectrum %2 : tensor<1x32769xcomplex<f32>> -> tensor<1x2x32768xcomplex<f32>>
  %4 = butterfly.permute %3 rows = 32, cols = 32 : tensor<1x2x32768xcomplex<f32>>
  %5 = butterfly.permute %4 rows = 32, cols = 1024 : tensor<1x2x32768xcomplex<f32>>
  %6 = butterfly.fused outer_forward ins(%arg0 : tensor<1x1x32768xf32>) onchip_bytes = 4224 {
  ^bb0(%arg2: tensor<1x1x32768xf32>):
    %9 = tensor.empty() : tensor<1x1x32768xf32>
    %10 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg2 : tensor<1x1x32768xf32>) outs(%9 : tensor<1x1x32768xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x1x32768xf32>
    %11 = butterfly.pack_real %10 {butterfly.outer_pass} : tensor<1x1x32768xf32> -> tensor<1x1x32768xcomplex<f32>>
    %12 = butterfly.dft {butterfly.outer_pass} : tensor<32x32xcomplex<f32>>
    %13 = butterfly.kron %12, %11 stride = 1024 input_extent = 16 {butterfly.outer_pass} : tensor<32x32xcomplex<f32>>, tensor<1x1x32768xcomplex<f32>>
    %14 = butterfly.twiddle %13 rows = 32, cols = 1024 {butterfly.outer_pass} : tensor<1x1x32768xcomplex<f32>>
    butterfly.yield %14 : tensor<1x1x32768xcomplex<f32>>
  } -> tensor<1x1x32768xcomplex<f32>>
// expected-error @+1 {{the GPU lowering keeps an f16 three-pass workspace for f16 and bf16 data only}}
  %7 = butterfly.fused conv ins(%6, %5 : tensor<1x1x32768xcomplex<f32>>, tensor<1x2x32768xcomplex<f32>>) onchip_bytes = 28672 plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_90", outer_factors = [16], factors = [16, 16, 16], threads = 256, batch_tile = 1, workspace = f16> {
  ^bb0(%arg2: tensor<1x1x32768xcomplex<f32>>, %arg3: tensor<1x2x32768xcomplex<f32>>):
    %expanded = tensor.expand_shape %arg2 [[0], [1], [2, 3]] output_shape [1, 1, 32, 1024] : tensor<1x1x32768xcomplex<f32>> into tensor<1x1x32x1024xcomplex<f32>>
    %9 = butterfly.monarch %expanded factors = [32, 32] permuted : tensor<1x1x32x1024xcomplex<f32>>
    %collapsed = tensor.collapse_shape %9 [[0], [1], [2, 3]] : tensor<1x1x32x1024xcomplex<f32>> into tensor<1x1x32768xcomplex<f32>>
    %10 = butterfly.hermitian_mul %collapsed, %arg3 factors = [32, 32, 32] {butterfly.onchip_bytes = 28672 : i64, butterfly.outer_onchip_bytes = 4224 : i64} : tensor<1x1x32768xcomplex<f32>>, tensor<1x2x32768xcomplex<f32>>
    %expanded_0 = tensor.expand_shape %10 [[0], [1], [2, 3]] output_shape [1, 1, 32, 1024] : tensor<1x1x32768xcomplex<f32>> into tensor<1x1x32x1024xcomplex<f32>>
    %11 = butterfly.monarch %expanded_0 factors = [32, 32] inverse permuted : tensor<1x1x32x1024xcomplex<f32>>
    %collapsed_1 = tensor.collapse_shape %11 [[0], [1], [2, 3]] : tensor<1x1x32x1024xcomplex<f32>> into tensor<1x1x32768xcomplex<f32>>
    butterfly.yield %collapsed_1 : tensor<1x1x32768xcomplex<f32>>
  } -> tensor<1x1x32768xcomplex<f32>>
  %8 = butterfly.fused outer_inverse ins(%7 : tensor<1x1x32768xcomplex<f32>>) onchip_bytes = 4224 {
  ^bb0(%arg2: tensor<1x1x32768xcomplex<f32>>):
    %9 = butterfly.dft inverse {butterfly.outer_pass} : tensor<32x32xcomplex<f32>>
    %10 = butterfly.twiddle %arg2 rows = 32, cols = 1024 inverse {butterfly.outer_pass} : tensor<1x1x32768xcomplex<f32>>
    %11 = butterfly.kron %9, %10 stride = 1024 output_extent = 16 {butterfly.outer_pass} : tensor<32x32xcomplex<f32>>, tensor<1x1x32768xcomplex<f32>>
    %12 = butterfly.unpack_real %11 {butterfly.outer_pass} : tensor<1x1x32768xcomplex<f32>> -> tensor<1x1x32768xf32>
    %13 = tensor.empty() : tensor<1x1x32768xf32>
    %14 = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%12 : tensor<1x1x32768xf32>) outs(%13 : tensor<1x1x32768xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<1x1x32768xf32>
    butterfly.yield %14 : tensor<1x1x32768xf32>
  } -> tensor<1x1x32768xf32>
  return %8 : tensor<1x1x32768xf32>
}
