// RUN: fftconv-opt %s -split-input-file -butterfly-to-gpu -verify-diagnostics

// A channel_inverse region runs after the cross_spectrum region it reads.
func.func @lonely_inverse(%s: tensor<1x9xcomplex<f32>>) -> tensor<1x16xf32> {
  // expected-error @+1 {{runs a channel_inverse region after the cross_spectrum region it reads only}}
  %r = butterfly.fused channel_inverse ins(%s : tensor<1x9xcomplex<f32>>) onchip_bytes = 0 plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [8], threads = 64, batch_tile = 1> {
  ^bb0(%a: tensor<1x9xcomplex<f32>>):
    %z = butterfly.real_spectrum %a inverse : tensor<1x9xcomplex<f32>> -> tensor<1x8xcomplex<f32>>
    %t = butterfly.monarch %z factors = [8] inverse : tensor<1x8xcomplex<f32>>
    %x = butterfly.unpack_real %t : tensor<1x8xcomplex<f32>> -> tensor<1x16xf32>
    butterfly.yield %x : tensor<1x16xf32>
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}

// -----

// The cross spectrum of two forward transforms of real sequences.
func.func @not_a_cross_spectrum(%v: tensor<1x9xcomplex<f32>>) -> tensor<1x9xcomplex<f32>> {
  // expected-error @+1 {{needs a cross_spectrum region to yield the cross spectrum of two forward transforms (pack_real, monarch, real_spectrum) of real sequences}}
  %s = butterfly.fused cross_spectrum ins(%v : tensor<1x9xcomplex<f32>>) onchip_bytes = 0 plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [8], threads = 64, batch_tile = 1> {
  ^bb0(%a: tensor<1x9xcomplex<f32>>):
    butterfly.yield %a : tensor<1x9xcomplex<f32>>
  } -> tensor<1x9xcomplex<f32>>
  return %s : tensor<1x9xcomplex<f32>>
}

// -----

// The cross spectrum is inverted on the GPU, never returned as it is.
func.func @cross_spectrum_returned(%v: tensor<1x1x16xf32>, %g: tensor<1x1x16xf32>) -> tensor<1x9xcomplex<f32>> {
  // expected-error @+1 {{needs the cross spectrum to feed one channel_inverse region}}
  %s = butterfly.fused cross_spectrum ins(%v, %g : tensor<1x1x16xf32>, tensor<1x1x16xf32>) onchip_bytes = 0 plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [8], threads = 64, batch_tile = 1> {
  ^bb0(%a: tensor<1x1x16xf32>, %b: tensor<1x1x16xf32>):
    %za = butterfly.pack_real %a : tensor<1x1x16xf32> -> tensor<1x1x8xcomplex<f32>>
    %fa = butterfly.monarch %za factors = [8] : tensor<1x1x8xcomplex<f32>>
    %ra = butterfly.real_spectrum %fa : tensor<1x1x8xcomplex<f32>> -> tensor<1x1x9xcomplex<f32>>
    %zb = butterfly.pack_real %b : tensor<1x1x16xf32> -> tensor<1x1x8xcomplex<f32>>
    %fb = butterfly.monarch %zb factors = [8] : tensor<1x1x8xcomplex<f32>>
    %rb = butterfly.real_spectrum %fb : tensor<1x1x8xcomplex<f32>> -> tensor<1x1x9xcomplex<f32>>
    %c = fftconv.cross_spectrum %ra, %rb : tensor<1x1x9xcomplex<f32>> -> tensor<1x9xcomplex<f32>>
    butterfly.yield %c : tensor<1x9xcomplex<f32>>
  } -> tensor<1x9xcomplex<f32>>
  return %s : tensor<1x9xcomplex<f32>>
}

// -----

// What a channel_inverse region yields: first lags of the inverse.
func.func @not_lags(%v: tensor<1x1x16xf32>, %g: tensor<1x1x16xf32>) -> tensor<1x9xcomplex<f32>> {
  %s = butterfly.fused cross_spectrum ins(%v, %g : tensor<1x1x16xf32>, tensor<1x1x16xf32>) onchip_bytes = 0 plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [8], threads = 64, batch_tile = 1> {
  ^bb0(%a: tensor<1x1x16xf32>, %b: tensor<1x1x16xf32>):
    %za = butterfly.pack_real %a : tensor<1x1x16xf32> -> tensor<1x1x8xcomplex<f32>>
    %fa = butterfly.monarch %za factors = [8] : tensor<1x1x8xcomplex<f32>>
    %ra = butterfly.real_spectrum %fa : tensor<1x1x8xcomplex<f32>> -> tensor<1x1x9xcomplex<f32>>
    %zb = butterfly.pack_real %b : tensor<1x1x16xf32> -> tensor<1x1x8xcomplex<f32>>
    %fb = butterfly.monarch %zb factors = [8] : tensor<1x1x8xcomplex<f32>>
    %rb = butterfly.real_spectrum %fb : tensor<1x1x8xcomplex<f32>> -> tensor<1x1x9xcomplex<f32>>
    %c = fftconv.cross_spectrum %ra, %rb : tensor<1x1x9xcomplex<f32>> -> tensor<1x9xcomplex<f32>>
    butterfly.yield %c : tensor<1x9xcomplex<f32>>
  } -> tensor<1x9xcomplex<f32>>
  // expected-error @+1 {{needs a channel_inverse region to yield the first lags of the inverse of its spectrum}}
  %r = butterfly.fused channel_inverse ins(%s : tensor<1x9xcomplex<f32>>) onchip_bytes = 0 plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [8], threads = 64, batch_tile = 1> {
  ^bb0(%a: tensor<1x9xcomplex<f32>>):
    butterfly.yield %a : tensor<1x9xcomplex<f32>>
  } -> tensor<1x9xcomplex<f32>>
  return %r : tensor<1x9xcomplex<f32>>
}

// -----

// The kernel gradient's regions need their plans.
func.func @unplanned(%v: tensor<1x1x16xf32>, %g: tensor<1x1x16xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{needs a plan on the region (run butterfly-plan-gpu-kernels first)}}
  %s = butterfly.fused cross_spectrum ins(%v, %g : tensor<1x1x16xf32>, tensor<1x1x16xf32>) onchip_bytes = 0 {
  ^bb0(%a: tensor<1x1x16xf32>, %b: tensor<1x1x16xf32>):
    %za = butterfly.pack_real %a : tensor<1x1x16xf32> -> tensor<1x1x8xcomplex<f32>>
    %fa = butterfly.monarch %za factors = [8] : tensor<1x1x8xcomplex<f32>>
    %ra = butterfly.real_spectrum %fa : tensor<1x1x8xcomplex<f32>> -> tensor<1x1x9xcomplex<f32>>
    %zb = butterfly.pack_real %b : tensor<1x1x16xf32> -> tensor<1x1x8xcomplex<f32>>
    %fb = butterfly.monarch %zb factors = [8] : tensor<1x1x8xcomplex<f32>>
    %rb = butterfly.real_spectrum %fb : tensor<1x1x8xcomplex<f32>> -> tensor<1x1x9xcomplex<f32>>
    %c = fftconv.cross_spectrum %ra, %rb : tensor<1x1x9xcomplex<f32>> -> tensor<1x9xcomplex<f32>>
    butterfly.yield %c : tensor<1x9xcomplex<f32>>
  } -> tensor<1x9xcomplex<f32>>
  %r = butterfly.fused channel_inverse ins(%s : tensor<1x9xcomplex<f32>>) onchip_bytes = 0 {
  ^bb0(%a: tensor<1x9xcomplex<f32>>):
    %z = butterfly.real_spectrum %a inverse : tensor<1x9xcomplex<f32>> -> tensor<1x8xcomplex<f32>>
    %t = butterfly.monarch %z factors = [8] inverse : tensor<1x8xcomplex<f32>>
    %x = butterfly.unpack_real %t : tensor<1x8xcomplex<f32>> -> tensor<1x16xf32>
    butterfly.yield %x : tensor<1x16xf32>
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}

// -----

// Past the lags, only the transposes of k's regularizers (smooth, and
// squash's subgradient of a kernel given as an input).
func.func @not_a_regularizer(%v: tensor<1x1x16xf32>, %g: tensor<1x1x16xf32>, %k: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %s = butterfly.fused cross_spectrum ins(%v, %g : tensor<1x1x16xf32>, tensor<1x1x16xf32>) onchip_bytes = 0 plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [8], threads = 64, batch_tile = 1> {
  ^bb0(%a: tensor<1x1x16xf32>, %b: tensor<1x1x16xf32>):
    %za = butterfly.pack_real %a : tensor<1x1x16xf32> -> tensor<1x1x8xcomplex<f32>>
    %fa = butterfly.monarch %za factors = [8] : tensor<1x1x8xcomplex<f32>>
    %ra = butterfly.real_spectrum %fa : tensor<1x1x8xcomplex<f32>> -> tensor<1x1x9xcomplex<f32>>
    %zb = butterfly.pack_real %b : tensor<1x1x16xf32> -> tensor<1x1x8xcomplex<f32>>
    %fb = butterfly.monarch %zb factors = [8] : tensor<1x1x8xcomplex<f32>>
    %rb = butterfly.real_spectrum %fb : tensor<1x1x8xcomplex<f32>> -> tensor<1x1x9xcomplex<f32>>
    %c = fftconv.cross_spectrum %ra, %rb : tensor<1x1x9xcomplex<f32>> -> tensor<1x9xcomplex<f32>>
    butterfly.yield %c : tensor<1x9xcomplex<f32>>
  } -> tensor<1x9xcomplex<f32>>
  // expected-error @+1 {{takes the kernel gradient through squash's subgradient (zero where |k| <= lambda) of a kernel given as an input, and smooth, only}}
  %r = butterfly.fused channel_inverse ins(%s, %k : tensor<1x9xcomplex<f32>>, tensor<1x16xf32>) onchip_bytes = 0 plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [8], threads = 64, batch_tile = 1> {
  ^bb0(%a: tensor<1x9xcomplex<f32>>, %kk: tensor<1x16xf32>):
    %z = butterfly.real_spectrum %a inverse : tensor<1x9xcomplex<f32>> -> tensor<1x8xcomplex<f32>>
    %t = butterfly.monarch %z factors = [8] inverse : tensor<1x8xcomplex<f32>>
    %x = butterfly.unpack_real %t : tensor<1x8xcomplex<f32>> -> tensor<1x16xf32>
    %e = tensor.empty() : tensor<1x16xf32>
    %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
        ins(%kk, %x : tensor<1x16xf32>, tensor<1x16xf32>) outs(%e : tensor<1x16xf32>) {
    ^bb1(%p: f32, %q: f32, %o: f32):
      %w = arith.mulf %p, %q : f32
      linalg.yield %w : f32
    } -> tensor<1x16xf32>
    butterfly.yield %m : tensor<1x16xf32>
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}

// -----

// The three-pass inverse reads the sums the cross spectrum's kernels left
// in their order: both regions in one form, with the same factors.
func.func @mixed_forms(%v: tensor<2x1x16xf32>, %g: tensor<2x1x16xf32>) -> tensor<1x16xf32> {
  %s = butterfly.fused cross_spectrum ins(%v, %g : tensor<2x1x16xf32>, tensor<2x1x16xf32>) onchip_bytes = 0 plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [2], factors = [8], threads = 64, batch_tile = 1> {
  ^bb0(%a: tensor<2x1x16xf32>, %b: tensor<2x1x16xf32>):
    %za = butterfly.pack_real %a : tensor<2x1x16xf32> -> tensor<2x1x8xcomplex<f32>>
    %fa = butterfly.monarch %za factors = [8] : tensor<2x1x8xcomplex<f32>>
    %ra = butterfly.real_spectrum %fa : tensor<2x1x8xcomplex<f32>> -> tensor<2x1x9xcomplex<f32>>
    %zb = butterfly.pack_real %b : tensor<2x1x16xf32> -> tensor<2x1x8xcomplex<f32>>
    %fb = butterfly.monarch %zb factors = [8] : tensor<2x1x8xcomplex<f32>>
    %rb = butterfly.real_spectrum %fb : tensor<2x1x8xcomplex<f32>> -> tensor<2x1x9xcomplex<f32>>
    %c = fftconv.cross_spectrum %ra, %rb : tensor<2x1x9xcomplex<f32>> -> tensor<1x9xcomplex<f32>>
    butterfly.yield %c : tensor<1x9xcomplex<f32>>
  } -> tensor<1x9xcomplex<f32>>
  // expected-error @+1 {{needs the channel_inverse region planned in the form and with the factors of its cross_spectrum region}}
  %r = butterfly.fused channel_inverse ins(%s : tensor<1x9xcomplex<f32>>) onchip_bytes = 0 plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [8], threads = 64, batch_tile = 1> {
  ^bb0(%a: tensor<1x9xcomplex<f32>>):
    %z = butterfly.real_spectrum %a inverse : tensor<1x9xcomplex<f32>> -> tensor<1x8xcomplex<f32>>
    %t = butterfly.monarch %z factors = [8] inverse : tensor<1x8xcomplex<f32>>
    %x = butterfly.unpack_real %t : tensor<1x8xcomplex<f32>> -> tensor<1x16xf32>
    butterfly.yield %x : tensor<1x16xf32>
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}

// -----

// A cluster of blocks is the cross spectrum's, not its channel inverse's.
#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @inverse_cluster(%arg0: tensor<1x1x128xf16>, %arg1: tensor<1x128xf32>, %arg2: tensor<1x1x128xf16>) -> tensor<1x128xf32> {
  %0 = butterfly.fused cross_spectrum ins(%arg0, %arg2 : tensor<1x1x128xf16>, tensor<1x1x128xf16>) onchip_bytes = 2048 plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 8], threads = 64, batch_tile = 1> {
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
  // expected-error @+1 {{the GPU lowering runs a cluster of blocks only for a kernel gradient's single-kernel cross spectrum and a convolution's three-pass form}}
  %1 = butterfly.fused channel_inverse ins(%0 : tensor<1x129xcomplex<f32>>) onchip_bytes = 0 plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [16, 8], cluster = 2, threads = 64, batch_tile = 1> {
  ^bb0(%arg3: tensor<1x129xcomplex<f32>>):
    %2 = butterfly.real_spectrum %arg3 inverse : tensor<1x129xcomplex<f32>> -> tensor<1x128xcomplex<f32>>
    %3 = butterfly.monarch %2 factors = [16, 8] inverse needed_outputs = 64 : tensor<1x128xcomplex<f32>>
    %4 = butterfly.unpack_real %3 : tensor<1x128xcomplex<f32>> -> tensor<1x128xf32>
    butterfly.yield %4 : tensor<1x128xf32>
  } -> tensor<1x128xf32>
  return %1 : tensor<1x128xf32>
}

// -----

// in_cross_spectrum is a form of the convolutions a cross spectrum runs,
// not of the cross spectrum.
#map_in_cross = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @in_cross_spectrum_gradient(%arg0: tensor<1x1x128xf16>, %arg1: tensor<1x128xf32>, %arg2: tensor<1x1x128xf16>) -> tensor<1x128xf32> {
  // expected-error @+1 {{the GPU lowering takes in_cross_spectrum plans on conv regions only}}
  %0 = butterfly.fused cross_spectrum ins(%arg0, %arg2 : tensor<1x1x128xf16>, tensor<1x1x128xf16>) onchip_bytes = 2048 plan = #butterfly.gpu_plan<in_cross_spectrum, half, chip = "sm_90", factors = [16, 8], threads = 64, batch_tile = 1> {
  ^bb0(%arg3: tensor<1x1x128xf16>, %arg4: tensor<1x1x128xf16>):
    %2 = tensor.empty() : tensor<1x1x128xf32>
    %3 = linalg.generic {indexing_maps = [#map_in_cross, #map_in_cross], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg3 : tensor<1x1x128xf16>) outs(%2 : tensor<1x1x128xf32>) {
    ^bb0(%in: f16, %out: f32):
      %13 = arith.extf %in : f16 to f32
      linalg.yield %13 : f32
    } -> tensor<1x1x128xf32>
    %4 = tensor.empty() : tensor<1x1x128xf32>
    %5 = linalg.generic {indexing_maps = [#map_in_cross, #map_in_cross], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg4 : tensor<1x1x128xf16>) outs(%4 : tensor<1x1x128xf32>) {
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

// -----

// bf16 data's f16 workspace holds each block's values with its scale: not
// through a sharded kernel gradient's exchanges.
#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @sharded_bf16_gradient_f16_workspace(%v: tensor<2x1x16xbf16>, %g: tensor<2x1x16xbf16>) -> tensor<1x16xf32> {
  // expected-error @+1 {{the GPU lowering keeps bf16 data's three-pass workspace in f16 on one GPU only}}
  %s = butterfly.fused cross_spectrum ins(%v, %g : tensor<2x1x16xbf16>, tensor<2x1x16xbf16>) onchip_bytes = 0 plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_90", ranks = 2, rank = 0, outer_factors = [2], factors = [8], threads = 64, batch_tile = 1, workspace = f16> {
  ^bb0(%a16: tensor<2x1x16xbf16>, %b16: tensor<2x1x16xbf16>):
    %ea = tensor.empty() : tensor<2x1x16xf32>
    %a = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%a16 : tensor<2x1x16xbf16>) outs(%ea : tensor<2x1x16xf32>) {
    ^bb1(%in: bf16, %out: f32):
      %w = arith.extf %in : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<2x1x16xf32>
    %eb = tensor.empty() : tensor<2x1x16xf32>
    %b = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%b16 : tensor<2x1x16xbf16>) outs(%eb : tensor<2x1x16xf32>) {
    ^bb1(%in: bf16, %out: f32):
      %w = arith.extf %in : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<2x1x16xf32>
    %za = butterfly.pack_real %a : tensor<2x1x16xf32> -> tensor<2x1x8xcomplex<f32>>
    %fa = butterfly.monarch %za factors = [8] : tensor<2x1x8xcomplex<f32>>
    %ra = butterfly.real_spectrum %fa : tensor<2x1x8xcomplex<f32>> -> tensor<2x1x9xcomplex<f32>>
    %zb = butterfly.pack_real %b : tensor<2x1x16xf32> -> tensor<2x1x8xcomplex<f32>>
    %fb = butterfly.monarch %zb factors = [8] : tensor<2x1x8xcomplex<f32>>
    %rb = butterfly.real_spectrum %fb : tensor<2x1x8xcomplex<f32>> -> tensor<2x1x9xcomplex<f32>>
    %c = fftconv.cross_spectrum %ra, %rb : tensor<2x1x9xcomplex<f32>> -> tensor<1x9xcomplex<f32>>
    butterfly.yield %c : tensor<1x9xcomplex<f32>>
  } -> tensor<1x9xcomplex<f32>>
  %r = butterfly.fused channel_inverse ins(%s : tensor<1x9xcomplex<f32>>) onchip_bytes = 0 plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [2], factors = [8], threads = 64, batch_tile = 1> {
  ^bb0(%a: tensor<1x9xcomplex<f32>>):
    %z = butterfly.real_spectrum %a inverse : tensor<1x9xcomplex<f32>> -> tensor<1x8xcomplex<f32>>
    %t = butterfly.monarch %z factors = [8] inverse : tensor<1x8xcomplex<f32>>
    %x = butterfly.unpack_real %t : tensor<1x8xcomplex<f32>> -> tensor<1x16xf32>
    butterfly.yield %x : tensor<1x16xf32>
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}

// -----

// f32 data's spectra in an f16 workspace would lose most of their digits.
#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @f32_gradient_f16_workspace(%v: tensor<2x1x16xf32>, %g: tensor<2x1x16xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{the GPU lowering keeps an f16 three-pass workspace for f16 and bf16 data only}}
  %s = butterfly.fused cross_spectrum ins(%v, %g : tensor<2x1x16xf32>, tensor<2x1x16xf32>) onchip_bytes = 0 plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_90", outer_factors = [2], factors = [8], threads = 64, batch_tile = 1, workspace = f16> {
  ^bb0(%a16: tensor<2x1x16xf32>, %b16: tensor<2x1x16xf32>):
    %ea = tensor.empty() : tensor<2x1x16xf32>
    %a = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%a16 : tensor<2x1x16xf32>) outs(%ea : tensor<2x1x16xf32>) {
    ^bb1(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<2x1x16xf32>
    %eb = tensor.empty() : tensor<2x1x16xf32>
    %b = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel"]} ins(%b16 : tensor<2x1x16xf32>) outs(%eb : tensor<2x1x16xf32>) {
    ^bb1(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<2x1x16xf32>
    %za = butterfly.pack_real %a : tensor<2x1x16xf32> -> tensor<2x1x8xcomplex<f32>>
    %fa = butterfly.monarch %za factors = [8] : tensor<2x1x8xcomplex<f32>>
    %ra = butterfly.real_spectrum %fa : tensor<2x1x8xcomplex<f32>> -> tensor<2x1x9xcomplex<f32>>
    %zb = butterfly.pack_real %b : tensor<2x1x16xf32> -> tensor<2x1x8xcomplex<f32>>
    %fb = butterfly.monarch %zb factors = [8] : tensor<2x1x8xcomplex<f32>>
    %rb = butterfly.real_spectrum %fb : tensor<2x1x8xcomplex<f32>> -> tensor<2x1x9xcomplex<f32>>
    %c = fftconv.cross_spectrum %ra, %rb : tensor<2x1x9xcomplex<f32>> -> tensor<1x9xcomplex<f32>>
    butterfly.yield %c : tensor<1x9xcomplex<f32>>
  } -> tensor<1x9xcomplex<f32>>
  %r = butterfly.fused channel_inverse ins(%s : tensor<1x9xcomplex<f32>>) onchip_bytes = 0 plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [2], factors = [8], threads = 64, batch_tile = 1> {
  ^bb0(%a: tensor<1x9xcomplex<f32>>):
    %z = butterfly.real_spectrum %a inverse : tensor<1x9xcomplex<f32>> -> tensor<1x8xcomplex<f32>>
    %t = butterfly.monarch %z factors = [8] inverse : tensor<1x8xcomplex<f32>>
    %x = butterfly.unpack_real %t : tensor<1x8xcomplex<f32>> -> tensor<1x16xf32>
    butterfly.yield %x : tensor<1x16xf32>
  } -> tensor<1x16xf32>
  return %r : tensor<1x16xf32>
}
