// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=8192 batch-tile=14" -verify-diagnostics

// The three-pass cross spectrum's inner block holds the rows of both
// spectra of each pair of its tile: 7 pairs of rows of 4096 at Half
// precision (f16 data; and the row's sum) pass the chip's shared memory.
func.func @cross_spectrum_tile_past_shared_memory(%u: tensor<64x1x8192xf16>, %k: tensor<1x8192xf32>, %dy: tensor<64x1x8192xf16>) -> tensor<1x8192xf32> {
  // expected-error @+1 {{the three-pass cross spectrum needs 262144 bytes of shared memory a block, more than the 232448 the chip has}}
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<64x1x8192xf16>, tensor<1x8192xf32>, tensor<64x1x8192xf16>) -> tensor<1x8192xf32>
  return %dk : tensor<1x8192xf32>
}

// -----

// A cross spectrum is of two sequences, each packed.
func.func @one_packed_sequence(%v: tensor<1x1x16xf32>) -> tensor<1x9xcomplex<f32>> {
  // expected-error @+1 {{the GPU plan needs two pack_real ops (of v and g) in a cross_spectrum region}}
  %s = butterfly.fused cross_spectrum ins(%v : tensor<1x1x16xf32>) onchip_bytes = 0 {
  ^bb0(%a: tensor<1x1x16xf32>):
    %za = butterfly.pack_real %a : tensor<1x1x16xf32> -> tensor<1x1x8xcomplex<f32>>
    %fa = butterfly.monarch %za factors = [8] : tensor<1x1x8xcomplex<f32>>
    %fb = butterfly.monarch %fa factors = [8] : tensor<1x1x8xcomplex<f32>>
    %ra = butterfly.real_spectrum %fa : tensor<1x1x8xcomplex<f32>> -> tensor<1x1x9xcomplex<f32>>
    %rb = butterfly.real_spectrum %fb : tensor<1x1x8xcomplex<f32>> -> tensor<1x1x9xcomplex<f32>>
    %c = fftconv.cross_spectrum %ra, %rb : tensor<1x1x9xcomplex<f32>> -> tensor<1x9xcomplex<f32>>
    butterfly.yield %c : tensor<1x9xcomplex<f32>>
  } -> tensor<1x9xcomplex<f32>>
  return %s : tensor<1x9xcomplex<f32>>
}

// -----

// A three-pass kernel gradient's rows hold at most 8192 points (its cross
// spectrum's inner block holds two rows of a pair and their f32 sum), and
// its outer blocks 8192 of them (at Half past Split's 2048, on 4 columns
// past 4096): a causal L = 2^26 (N = 2^27) is past it.
func.func @gradient_past_its_rows(%u: tensor<2x1x67108864xf16>, %k: tensor<1x67108864xf32>, %dy: tensor<2x1x67108864xf16>) -> tensor<1x67108864xf32> {
  // expected-error @+1 {{a kernel gradient of 134217728 points is past the three-pass GPU kernels: its cross spectrum holds rows of 8192 at split precision, up to 67108864 points}}
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<2x1x67108864xf16>, tensor<1x67108864xf32>, tensor<2x1x67108864xf16>) -> tensor<1x67108864xf32>
  return %dk : tensor<1x67108864xf32>
}

// -----

// bf16 data: the cross spectrum at Half holds the same rows (their bound is
// the sum beside them), so the same length is past it; the refusal names
// the precision it planned.
func.func @gradient_past_its_rows_bf16(%u: tensor<2x1x67108864xbf16>, %k: tensor<1x67108864xf32>, %dy: tensor<2x1x67108864xbf16>) -> tensor<1x67108864xf32> {
  // expected-error @+1 {{a kernel gradient of 134217728 points is past the three-pass GPU kernels: its cross spectrum holds rows of 8192 at half precision, up to 67108864 points}}
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<2x1x67108864xbf16>, tensor<1x67108864xf32>, tensor<2x1x67108864xbf16>) -> tensor<1x67108864xf32>
  return %dk : tensor<1x67108864xf32>
}
