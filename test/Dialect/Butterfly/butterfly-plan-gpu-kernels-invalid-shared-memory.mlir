// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="batch-tile=64" -verify-diagnostics

// A batch tile whose rows do not fit in shared memory: 16 pairs (as many
// as the f16 workspace holds) of 4096 complex values in the three-pass
// form's inner kernel.
func.func @tile_too_large(%u: tensor<64x1x32768xf16>, %k: tensor<1x32768xf32>) -> tensor<64x1x32768xf16> {
  // expected-error @+1 {{the three-pass kernels need 524288 bytes of shared memory a block, more than the 232448 the chip has}}
  %y = fftconv.conv causal %u, %k : (tensor<64x1x32768xf16>, tensor<1x32768xf32>) -> tensor<64x1x32768xf16>
  return %y : tensor<64x1x32768xf16>
}

// -----

// The single-kernel form: 64 sequences of 1024 complex values, two f16
// planes each.
func.func @single_tile_too_large(%u: tensor<64x1x1024xf16>, %k: tensor<1x1024xf32>) -> tensor<64x1x1024xf16> {
  // expected-error @+1 {{a block of 64 sequences needs 262144 bytes of shared memory, more than the 232448 a block has}}
  %y = fftconv.conv causal %u, %k : (tensor<64x1x1024xf16>, tensor<1x1024xf32>) -> tensor<64x1x1024xf16>
  return %y : tensor<64x1x1024xf16>
}
