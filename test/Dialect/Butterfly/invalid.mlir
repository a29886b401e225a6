// RUN: fftconv-opt %s -split-input-file -verify-diagnostics

// A DFT factor is square.
func.func @dft_not_square() {
  // expected-error @+1 {{expects a square m x m result, got 'tensor<16x8xcomplex<f32>>'}}
  %0 = butterfly.dft : tensor<16x8xcomplex<f32>>
  return
}

// -----

func.func @dft_rank() {
  // expected-error @+1 {{expects a square m x m result, got 'tensor<16xcomplex<f32>>'}}
  %0 = butterfly.dft : tensor<16xcomplex<f32>>
  return
}

// -----

// The algebra is over complex<f32>.
func.func @dft_real() {
  // expected-error @+1 {{result #0 must be ranked tensor of complex type with 32-bit float elements values}}
  %0 = butterfly.dft : tensor<16x16xf32>
  return
}

// -----

func.func @dft_dynamic() {
  // expected-error @+1 {{expects result with a static non-empty shape}}
  %0 = butterfly.dft : tensor<?x?xcomplex<f32>>
  return
}

// -----

// The factor's digit must divide the axis: N = a * m * stride.
func.func @kron_blocking(%f: tensor<16x16xcomplex<f32>>, %x: tensor<2x100xcomplex<f32>>) {
  // expected-error @+1 {{expects the last dimension (100) to be a multiple of factor size * stride = 32}}
  %0 = butterfly.kron %f, %x stride = 2 : tensor<16x16xcomplex<f32>>, tensor<2x100xcomplex<f32>>
  return
}

// -----

func.func @kron_factor_shape(%f: tensor<16x8xcomplex<f32>>, %x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{expects an m x m factor, a x m x m or a x c x m x m blocks, got 'tensor<16x8xcomplex<f32>>'}}
  %0 = butterfly.kron %f, %x stride = 1 : tensor<16x8xcomplex<f32>>, tensor<2x64xcomplex<f32>>
  return
}

// -----

// Block-diagonal factors need one block per outer index a = N / (m * stride).
func.func @kron_block_count(%f: tensor<3x8x8xcomplex<f32>>, %x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{expects one factor block per outer block: 8 blocks, got 3}}
  %0 = butterfly.kron %f, %x stride = 1 : tensor<3x8x8xcomplex<f32>>, tensor<2x64xcomplex<f32>>
  return
}

// -----

func.func @kron_stride(%f: tensor<8x8xcomplex<f32>>, %x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{attribute 'stride' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = butterfly.kron %f, %x stride = 0 : tensor<8x8xcomplex<f32>>, tensor<2x64xcomplex<f32>>
  return
}

// -----

func.func @kron_result_type(%f: tensor<8x8xcomplex<f32>>, %x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{failed to verify that all of {input, result} have same type}}
  %0 = "butterfly.kron"(%f, %x) {stride = 1 : i64} : (tensor<8x8xcomplex<f32>>, tensor<2x64xcomplex<f32>>) -> tensor<2x32xcomplex<f32>>
  return
}

// -----

func.func @twiddle_blocking(%x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{expects the last dimension (64) to be a multiple of rows * cols = 48}}
  %0 = butterfly.twiddle %x rows = 16, cols = 3 : tensor<2x64xcomplex<f32>>
  return
}

// -----

func.func @permute_blocking(%x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{expects the last dimension (64) to be a multiple of rows * cols = 128}}
  %0 = butterfly.permute %x rows = 16, cols = 8 : tensor<2x64xcomplex<f32>>
  return
}

// -----

func.func @permute_scalar(%x: tensor<complex<f32>>) {
  // expected-error @+1 {{expects input of rank at least 1}}
  %0 = butterfly.permute %x rows = 1, cols = 1 : tensor<complex<f32>>
  return
}

// -----

// The factors of an order-p decomposition multiply to N.
func.func @monarch_product(%x: tensor<2x256xcomplex<f32>>) {
  // expected-error @+1 {{expects the factors to multiply to the last dimension (256), got 512}}
  %0 = butterfly.monarch %x factors = [16, 32] : tensor<2x256xcomplex<f32>>
  return
}

// -----

func.func @monarch_empty(%x: tensor<2x256xcomplex<f32>>) {
  // expected-error @+1 {{expects at least one factor}}
  %0 = butterfly.monarch %x factors = [] : tensor<2x256xcomplex<f32>>
  return
}

// -----

// A factor of 1 is no stage at all.
func.func @monarch_unit_factor(%x: tensor<2x256xcomplex<f32>>) {
  // expected-error @+1 {{expects every factor to be at least 2, got 1}}
  %0 = butterfly.monarch %x factors = [256, 1] : tensor<2x256xcomplex<f32>>
  return
}

// -----

// A stage's dense factor (factor^2 entries) must stay addressable: the
// fuzzer's mutant once expanded into an invalid butterfly.dft.
func.func @monarch_huge_factor(%x: tensor<1x1099511627776xcomplex<f32>>) {
  // expected-error @+1 {{expects every factor to be at most 2^28 (a stage's dense factor has factor^2 entries), got 1099511627776}}
  %0 = butterfly.monarch %x factors = [1099511627776] permuted : tensor<1x1099511627776xcomplex<f32>>
  return
}

// -----

func.func @monarch_dynamic(%x: tensor<2x?xcomplex<f32>>) {
  // expected-error @+1 {{expects input with a static non-empty shape}}
  %0 = butterfly.monarch %x factors = [16, 16] : tensor<2x?xcomplex<f32>>
  return
}

// -----

func.func @syntax_error(%x: tensor<2x256xcomplex<f32>>) {
  // expected-error @+1 {{expected 'factors'}}
  %0 = butterfly.monarch %x [16, 16] : tensor<2x256xcomplex<f32>>
  return
}

// -----

// 2M real values pack into M complex ones.
func.func @pack_real_too_long(%x: tensor<2x100xf32>) {
  // expected-error @+1 {{expects at most 2M = 64 real values, got 100}}
  %0 = butterfly.pack_real %x : tensor<2x100xf32> -> tensor<2x32xcomplex<f32>>
  return
}

// -----

func.func @pack_real_leading(%x: tensor<2x64xf32>) {
  // expected-error @+1 {{expects the result to keep the input's leading dimensions}}
  %0 = butterfly.pack_real %x : tensor<2x64xf32> -> tensor<3x32xcomplex<f32>>
  return
}

// -----

func.func @unpack_real_too_long(%z: tensor<2x32xcomplex<f32>>) {
  // expected-error @+1 {{expects at most 2M = 64 real outputs, got 65}}
  %0 = butterfly.unpack_real %z : tensor<2x32xcomplex<f32>> -> tensor<2x65xf32>
  return
}

// -----

// The half spectrum of a real signal of length 2M has M + 1 bins.
func.func @real_spectrum_bins(%z: tensor<2x32xcomplex<f32>>) {
  // expected-error @+1 {{expects M + 1 = 33 spectrum bins for M = 32, got 32}}
  %0 = butterfly.real_spectrum %z : tensor<2x32xcomplex<f32>> -> tensor<2x32xcomplex<f32>>
  return
}

// -----

func.func @real_spectrum_inverse_bins(%x: tensor<2x30xcomplex<f32>>) {
  // expected-error @+1 {{expects M + 1 = 33 spectrum bins for M = 32, got 30}}
  %0 = butterfly.real_spectrum %x inverse : tensor<2x30xcomplex<f32>> -> tensor<2x32xcomplex<f32>>
  return
}

// -----

func.func @conv_spectrum_shape(%kf: tensor<4x33xcomplex<f32>>) {
  // expected-error @+1 {{expects H x (M+1) bins and H x 2 x M coefficients}}
  %0 = butterfly.conv_spectrum %kf : tensor<4x33xcomplex<f32>> -> tensor<4x2x33xcomplex<f32>>
  return
}

// -----

func.func @packed_conv_spectrum_shape(%z: tensor<4x32xcomplex<f32>>) {
  // expected-error @+1 {{expects H x M values and H x 2 x M coefficients}}
  %0 = butterfly.packed_conv_spectrum %z : tensor<4x32xcomplex<f32>> -> tensor<4x2x33xcomplex<f32>>
  return
}

// -----

func.func @packed_conv_spectrum_factors(%z: tensor<4x32xcomplex<f32>>) {
  // expected-error @+1 {{expects the factors to multiply to M (32), got 16}}
  %0 = butterfly.packed_conv_spectrum %z factors = [4, 4] : tensor<4x32xcomplex<f32>> -> tensor<4x2x32xcomplex<f32>>
  return
}

// -----

// The coefficients are per channel: H x 2 x M for B x H x M values.
func.func @hermitian_mul_channels(%x: tensor<2x4x32xcomplex<f32>>, %c: tensor<3x2x32xcomplex<f32>>) {
  // expected-error @+1 {{expects B x H x M values and H x 2 x M coefficients}}
  %0 = butterfly.hermitian_mul %x, %c : tensor<2x4x32xcomplex<f32>>, tensor<3x2x32xcomplex<f32>>
  return
}

// -----

func.func @hermitian_mul_factors(%x: tensor<2x4x32xcomplex<f32>>, %c: tensor<4x2x32xcomplex<f32>>) {
  // expected-error @+1 {{expects the factors to multiply to M (32), got 64}}
  %0 = butterfly.hermitian_mul %x, %c factors = [8, 8] : tensor<2x4x32xcomplex<f32>>, tensor<4x2x32xcomplex<f32>>
  return
}

// -----

func.func @hermitian_mul_unit_factor(%x: tensor<2x4x32xcomplex<f32>>, %c: tensor<4x2x32xcomplex<f32>>) {
  // expected-error @+1 {{expects every factor to be at least 2, got 1}}
  %0 = butterfly.hermitian_mul %x, %c factors = [32, 1] : tensor<2x4x32xcomplex<f32>>, tensor<4x2x32xcomplex<f32>>
  return
}

// -----

// A region reads exactly its operands: one block argument each.
func.func @fused_arguments(%x: tensor<4xf32>) {
  // expected-error @+1 {{expects one block argument per input, of the input's type}}
  %0 = butterfly.fused conv ins(%x : tensor<4xf32>) onchip_bytes = 0 {
  ^bb0(%a: tensor<8xf32>):
    butterfly.yield %a : tensor<8xf32>
  } -> tensor<8xf32>
  return
}

// -----

func.func @fused_yield_types(%x: tensor<4xf32>) {
  // expected-error @+1 {{expects the yielded types to be the results' types}}
  %0 = butterfly.fused conv ins(%x : tensor<4xf32>) onchip_bytes = 0 {
  ^bb0(%a: tensor<4xf32>):
    butterfly.yield %a : tensor<4xf32>
  } -> tensor<8xf32>
  return
}

// -----

// The kinds are a closed set: each is a part of a convolution the lowerings
// know.
func.func @fused_kind(%x: tensor<4xf32>) {
  // expected-error @+1 {{expected conv, outer_forward or outer_inverse, got 'gemm'}}
  %0 = butterfly.fused gemm ins(%x : tensor<4xf32>) onchip_bytes = 0 {
  ^bb0(%a: tensor<4xf32>):
    butterfly.yield %a : tensor<4xf32>
  } -> tensor<4xf32>
  return
}

// -----

func.func @fused_onchip(%x: tensor<4xf32>) {
  // expected-error @+1 {{expects onchip_bytes >= 0}}
  %0 = butterfly.fused conv ins(%x : tensor<4xf32>) onchip_bytes = -1 {
  ^bb0(%a: tensor<4xf32>):
    butterfly.yield %a : tensor<4xf32>
  } -> tensor<4xf32>
  return
}

// -----

// Regions are isolated: everything read comes in as an operand.
func.func @fused_isolated(%x: tensor<4xf32>) {
  // expected-note @+1 {{required by region isolation constraints}}
  %0 = butterfly.fused conv ins(%x : tensor<4xf32>) onchip_bytes = 0 {
  ^bb0(%a: tensor<4xf32>):
    // expected-error @+1 {{using value defined outside the region}}
    butterfly.yield %x : tensor<4xf32>
  } -> tensor<4xf32>
  return
}

// -----

func.func @yield_outside(%x: tensor<4xf32>) {
  // expected-error @+1 {{expects parent op 'butterfly.fused'}}
  butterfly.yield %x : tensor<4xf32>
}

// -----

func.func @kron_extent(%f: tensor<8x8xcomplex<f32>>, %x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{expects the input extent to be at most the factor size 8, got 9}}
  %0 = butterfly.kron %f, %x stride = 8 input_extent = 9 : tensor<8x8xcomplex<f32>>, tensor<2x64xcomplex<f32>>
  return
}

// -----

// Only a natural-order output has "the first s outputs".
func.func @monarch_needed_forward(%x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{expects needed_outputs only on an inverse transform (whose output is in natural order)}}
  %0 = butterfly.monarch %x factors = [8, 8] permuted needed_outputs = 10 : tensor<2x64xcomplex<f32>>
  return
}

// -----

func.func @monarch_nonzero_permuted(%x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{expects nonzero_inputs only on a transform whose input is in natural order}}
  %0 = butterfly.monarch %x factors = [8, 8] inverse permuted nonzero_inputs = 10 : tensor<2x64xcomplex<f32>>
  return
}

// -----

func.func @monarch_nonzero_range(%x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{expects nonzero_inputs <= 64}}
  %0 = butterfly.monarch %x factors = [8, 8] nonzero_inputs = 65 : tensor<2x64xcomplex<f32>>
  return
}

// -----

// A band of the spectrum is a band of frequencies in Monarch order.
func.func @monarch_band_natural(%x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{expects spectral_band only with permuted (a band of the Monarch-order spectrum)}}
  %0 = butterfly.monarch %x factors = [8, 8] spectral_band = 4 : tensor<2x64xcomplex<f32>>
  return
}

// -----

func.func @kron_band(%f: tensor<8x8xcomplex<f32>>, %x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{expects the output band to be at most the factor size 8, got 10}}
  %0 = butterfly.kron %f, %x stride = 1 output_band = 10 : tensor<8x8xcomplex<f32>>, tensor<2x64xcomplex<f32>>
  return
}

// -----

func.func @conv_spectrum_band(%kf: tensor<4x33xcomplex<f32>>) {
  // expected-error @+1 {{expects a band of at most M + 1 = 33 bins, got 40}}
  %0 = butterfly.conv_spectrum %kf band = 40 : tensor<4x33xcomplex<f32>> -> tensor<4x2x32xcomplex<f32>>
  return
}

// -----

// A learned Monarch product spans the whole axis: N = m_0 * ... * m_{p-1}.
func.func @linear_product(%x: tensor<2x64xf32>, %w: tensor<8x8x8xf32>) {
  // expected-error @+1 {{expects the stage sizes to multiply to N = 64, got 8}}
  %0 = butterfly.monarch_linear %x, [%w] : tensor<2x64xf32>, [tensor<8x8x8xf32>]
  return
}

// -----

// Each stage has one block per position: N/m blocks of m x m.
func.func @linear_shape(%x: tensor<2x64xf32>, %w: tensor<4x8x8xf32>, %v: tensor<8x8x8xf32>) {
  // expected-error @+1 {{expects stage 0 weights of shape (N/m) x m x m with m >= 2 and N = 64, got 'tensor<4x8x8xf32>'}}
  %0 = butterfly.monarch_linear %x, [%w, %v] : tensor<2x64xf32>, [tensor<4x8x8xf32>, tensor<8x8x8xf32>]
  return
}

// -----

func.func @linear_types(%x: tensor<2x64xf32>, %w: tensor<8x8x8xcomplex<f32>>, %v: tensor<8x8x8xf32>) {
  // expected-error @+1 {{expects weights of the input's element type, stage 0 has 'tensor<8x8x8xcomplex<f32>>'}}
  %0 = butterfly.monarch_linear %x, [%w, %v] : tensor<2x64xf32>, [tensor<8x8x8xcomplex<f32>>, tensor<8x8x8xf32>]
  return
}

// -----

func.func @linear_empty(%x: tensor<2x64xf32>) {
  // expected-error @+1 {{expects at least one stage of weights}}
  %0 = "butterfly.monarch_linear"(%x) : (tensor<2x64xf32>) -> tensor<2x64xf32>
  return
}

// -----

func.func @kron_mixed_types(%f: tensor<8x8xf32>, %x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{expects the factor and the input to have one element type}}
  %0 = "butterfly.kron"(%f, %x) {stride = 1 : i64} : (tensor<8x8xf32>, tensor<2x64xcomplex<f32>>) -> tensor<2x64xcomplex<f32>>
  return
}

// -----

func.func @kron_positions(%f: tensor<1x4x8x8xf32>, %x: tensor<2x64xf32>) {
  // expected-error @+1 {{expects one factor block per inner position: 8 positions, got 4}}
  %0 = butterfly.kron %f, %x stride = 8 : tensor<1x4x8x8xf32>, tensor<2x64xf32>
  return
}

// -----

// Attribute values whose product overflows are refused, not wrapped.
func.func @monarch_overflow(%x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{expects the factors to multiply to the last dimension (64), but their product overflows}}
  %0 = butterfly.monarch %x factors = [268435456, 268435456, 268435456] : tensor<2x64xcomplex<f32>>
  return
}

// -----

func.func @permute_overflow(%x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{expects the last dimension (64) to be a multiple of rows * cols, which overflows}}
  %0 = butterfly.permute %x rows = 4294967296, cols = 4294967296 : tensor<2x64xcomplex<f32>>
  return
}

// -----

func.func @twiddle_overflow(%x: tensor<2x64xcomplex<f32>>) {
  // expected-error @+1 {{expects the last dimension (64) to be a multiple of rows * cols, which overflows}}
  %0 = butterfly.twiddle %x rows = 9223372036854775807, cols = 4 : tensor<2x64xcomplex<f32>>
  return
}

// -----

func.func @hermitian_overflow(%x: tensor<2x4x32xcomplex<f32>>, %c: tensor<4x2x32xcomplex<f32>>) {
  // expected-error @+1 {{expects the factors to multiply to M (32), but their product overflows}}
  %0 = butterfly.hermitian_mul %x, %c factors = [268435456, 268435456, 268435456] : tensor<2x4x32xcomplex<f32>>, tensor<4x2x32xcomplex<f32>>
  return
}

// -----

// One plan a convolution: the outer passes follow their conv region's.
func.func @plan_on_outer_pass(%x: tensor<4xf32>) {
  // expected-error @+1 {{expects no GPU plan on the outer passes (they follow their conv region's)}}
  %0 = butterfly.fused outer_forward ins(%x : tensor<4xf32>) onchip_bytes = 0 plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16], factors = [16, 16, 16], threads = 256, batch_tile = 1> {
  ^bb0(%a: tensor<4xf32>):
    butterfly.yield %a : tensor<4xf32>
  } -> tensor<4xf32>
  return
}

// -----

// The stages are DFTs of power-of-two sizes.
// expected-error @+1 {{expects factors that are powers of two, at least 2}}
func.func private @plan_factor() attributes {plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 6], threads = 64, batch_tile = 1>}

// -----

// Only the three-pass form has a transform through memory.
// expected-error @+1 {{expects outer_factors exactly for the three_pass form}}
func.func private @plan_outer() attributes {plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", factors = [16, 16], threads = 256, batch_tile = 1>}

// -----

// The kernels are written for whole warps.
// expected-error @+1 {{expects threads a positive multiple of 32}}
func.func private @plan_threads() attributes {plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 8], threads = 48, batch_tile = 1>}

// -----

// expected-error @+1 {{expects batch_tile >= 1}}
func.func private @plan_tile() attributes {plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 8], threads = 64, batch_tile = 0>}

// -----

// A workspace between passes: the three-pass form's, of f16 or f32.
// expected-error @+1 {{expects a workspace type (f16 or f32) only for the three_pass form}}
func.func private @plan_workspace_form() attributes {plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 8], threads = 64, batch_tile = 1, workspace = f16>}

// -----

// expected-error @+1 {{expects a workspace type (f16 or f32) only for the three_pass form}}
func.func private @plan_workspace_type() attributes {plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16], factors = [16, 16, 16], threads = 256, batch_tile = 1, workspace = bf16>}

// -----

// expected-error @+1 {{expects a chip}}
func.func private @plan_chip() attributes {plan = #butterfly.gpu_plan<single_kernel, half, chip = "", factors = [16, 8], threads = 64, batch_tile = 1>}

// -----

// Sharding splits the three-pass view's rows and columns evenly.
// expected-error @+1 {{expects ranks a power of two, at least 2}}
func.func private @plan_ranks() attributes {plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", ranks = 3, rank = 0, outer_factors = [16], factors = [16, 16], threads = 256, batch_tile = 1>}

// -----

// expected-error @+1 {{expects rank in [0, 4)}}
func.func private @plan_rank() attributes {plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", ranks = 4, rank = 4, outer_factors = [16], factors = [16, 16], threads = 256, batch_tile = 1>}

// -----

// The single kernel has no inner blocks of its own.
// expected-error @+1 {{expects inner_threads only for the three_pass form}}
func.func private @plan_inner_threads_single() attributes {plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 8], inner_threads = 128, threads = 64, batch_tile = 1>}

// -----

// expected-error @+1 {{expects inner_threads a positive multiple of 32, at most 1024}}
func.func private @plan_inner_threads() attributes {plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16], factors = [16, 16], inner_threads = 500, threads = 256, batch_tile = 1>}

// -----

// The single kernel has no passes to exchange between.
// expected-error @+1 {{expects ranks only for the three_pass form}}
func.func private @plan_ranks_single() attributes {plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", ranks = 2, rank = 0, factors = [16, 8], threads = 64, batch_tile = 1>}

// -----

func.func @exchange_one_chunk(%send: memref<1x8xf16>, %recv: memref<1x8xf16>) {
  // expected-error @+1 {{expects buffers of at least two chunks (the leading dimension, one a rank) and a chunk's dimensions}}
  butterfly.exchange %send to %recv : memref<1x8xf16>
  return
}

// -----

// The chunks go to buffers of the same layout on every rank.
func.func @exchange_types(%send: memref<2x8xf16>, %recv: memref<2x8xf32>) {
  // expected-error @+1 {{failed to verify that all of {send, recv} have same type}}
  "butterfly.exchange"(%send, %recv) : (memref<2x8xf16>, memref<2x8xf32>) -> ()
  return
}

// -----

// A cluster is the cross spectrum's two blocks, of v's spectra and of g's.
// expected-error @+1 {{expects cluster = 2 (a block of v's spectra and one of g's)}}
func.func private @plan_cluster_size() attributes {plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 8], cluster = 4, threads = 64, batch_tile = 1>}

// -----

// expected-error @+1 {{expects cluster only for the single_kernel and three_pass forms}}
func.func private @plan_cluster_in_cross_spectrum() attributes {plan = #butterfly.gpu_plan<in_cross_spectrum, half, chip = "sm_90", factors = [16, 8], cluster = 2, threads = 64, batch_tile = 1>}

// -----

// A three-pass form's cluster splits its rows and columns evenly among at
// most 8 blocks (CUDA's portable cluster size).
// expected-error @+1 {{expects a three_pass cluster of a power of two blocks, 2 to 8}}
func.func private @plan_cluster_three_pass_size() attributes {plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16], factors = [16, 16], cluster = 16, threads = 256, batch_tile = 1>}

// -----

// expected-error @+1 {{expects no cluster for a sharded three_pass plan}}
func.func private @plan_cluster_three_pass_sharded() attributes {plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", ranks = 2, rank = 0, outer_factors = [16], factors = [16, 16], cluster = 2, threads = 256, batch_tile = 1>}

// -----

// Distributed shared memory is sm_90's.
// expected-error @+1 {{expects cluster only on sm_90 and later chips (distributed shared memory)}}
func.func private @plan_cluster_sm80() attributes {plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_80", factors = [16, 8], cluster = 2, threads = 64, batch_tile = 1>}
