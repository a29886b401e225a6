// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels -verify-diagnostics

// Each diagnostic of butterfly-plan-gpu-kernels at its default options; the
// option-dependent ones have files of their own.

// The stages of the smallest single kernel: M = 128 (one 16-point
// tensor-core stage and one FMA stage).
func.func @too_short(%u: tensor<1x1x64xf32>, %k: tensor<1x64xf32>) -> tensor<1x1x64xf32> {
  // expected-error @+1 {{the GPU kernels need a transform length N >= 256, a power of two}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x64xf32>, tensor<1x64xf32>) -> tensor<1x1x64xf32>
  return %y : tensor<1x1x64xf32>
}

// -----

// The planner reads the shapes off the packing, the spectral product and the
// unpacking; a region without them is no convolution.
func.func @not_a_convolution(%x: tensor<1x1x8xf32>) -> tensor<1x1x8xf32> {
  // expected-error @+1 {{the GPU plan needs one pack_real, hermitian_mul and unpack_real in a convolution with static results}}
  %y = butterfly.fused conv ins(%x : tensor<1x1x8xf32>) onchip_bytes = 64 {
  ^bb0(%a: tensor<1x1x8xf32>):
    butterfly.yield %a : tensor<1x1x8xf32>
  } -> tensor<1x1x8xf32>
  return %y : tensor<1x1x8xf32>
}

// -----

// The single kernel runs the stages of the forward butterfly.monarch.
func.func @no_stages(%x: tensor<2x4x64xf32>, %c: tensor<4x2x32xcomplex<f32>>) -> tensor<2x4x64xf32> {
  // expected-error @+1 {{the GPU plan needs the spectral product to follow a butterfly.monarch}}
  %y = butterfly.fused conv ins(%x, %c : tensor<2x4x64xf32>, tensor<4x2x32xcomplex<f32>>) onchip_bytes = 1024 {
  ^bb0(%a: tensor<2x4x64xf32>, %b: tensor<4x2x32xcomplex<f32>>):
    %z = butterfly.pack_real %a : tensor<2x4x64xf32> -> tensor<2x4x32xcomplex<f32>>
    %p = butterfly.hermitian_mul %z, %b : tensor<2x4x32xcomplex<f32>>, tensor<4x2x32xcomplex<f32>>
    %r = butterfly.unpack_real %p : tensor<2x4x32xcomplex<f32>> -> tensor<2x4x64xf32>
    butterfly.yield %r : tensor<2x4x64xf32>
  } -> tensor<2x4x64xf32>
  return %y : tensor<2x4x64xf32>
}

// -----

// A tensor-core stage takes tiles of 8 columns: M = 128 as 32 x 2 x 2
// (hand-written; the cost model would take 16 x 8) leaves the 32-point
// stage 4.
func.func @columns(%x: tensor<1x1x256xf32>, %c: tensor<1x2x128xcomplex<f32>>) -> tensor<1x1x256xf32> {
  // expected-error @+1 {{a tensor-core factor needs 8 columns per tile: the factors after it must multiply to 1 or a multiple of 8}}
  %y = butterfly.fused conv ins(%x, %c : tensor<1x1x256xf32>, tensor<1x2x128xcomplex<f32>>) onchip_bytes = 1024 {
  ^bb0(%a: tensor<1x1x256xf32>, %b: tensor<1x2x128xcomplex<f32>>):
    %z = butterfly.pack_real %a : tensor<1x1x256xf32> -> tensor<1x1x128xcomplex<f32>>
    %f = butterfly.monarch %z factors = [32, 2, 2] permuted : tensor<1x1x128xcomplex<f32>>
    %p = butterfly.hermitian_mul %f, %b factors = [32, 2, 2] : tensor<1x1x128xcomplex<f32>>, tensor<1x2x128xcomplex<f32>>
    %i = butterfly.monarch %p factors = [32, 2, 2] inverse permuted : tensor<1x1x128xcomplex<f32>>
    %r = butterfly.unpack_real %i : tensor<1x1x128xcomplex<f32>> -> tensor<1x1x256xf32>
    butterfly.yield %r : tensor<1x1x256xf32>
  } -> tensor<1x1x256xf32>
  return %y : tensor<1x1x256xf32>
}
