// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels -butterfly-to-gpu -verify-diagnostics

// A constant kernel folds into a constant spectrum on the host; the GPU
// lowering computes spectra on the GPU from a kernel argument.
func.func @constant_kernel(%u: tensor<1x1x128xf32>) -> tensor<1x1x128xf32> {
  %k = arith.constant dense<0.5> : tensor<1x128xf32>
  // expected-error @+1 {{computes the kernel spectrum on the GPU from a kernel given as a function argument}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x128xf32>, tensor<1x128xf32>) -> tensor<1x1x128xf32>
  return %y : tensor<1x1x128xf32>
}

// -----

// Work outside the convolution has no kernel.
func.func @outside(%u: tensor<1x1x128xf32>, %k: tensor<1x128xf32>) -> (tensor<1x1x128xf32>, tensor<1x128xf32>) {
  %y = fftconv.conv causal %u, %k : (tensor<1x1x128xf32>, tensor<1x128xf32>) -> tensor<1x1x128xf32>
  // expected-error @+1 {{has no kernel for 'fftconv.squash' outside a fused convolution region}}
  %s = fftconv.squash %k lambda = 0.1 : tensor<1x128xf32>
  return %y, %s : tensor<1x1x128xf32>, tensor<1x128xf32>
}


// -----

// An outer_inverse region is the last of a three-pass chain, never alone.
func.func @lonely_outer_inverse(%x: tensor<1x1x8xf32>) -> tensor<1x1x8xf32> {
  // expected-error @+1 {{does not run 'outer_inverse' regions on their own}}
  %y = butterfly.fused outer_inverse ins(%x : tensor<1x1x8xf32>) onchip_bytes = 64 {
  ^bb0(%a: tensor<1x1x8xf32>):
    butterfly.yield %a : tensor<1x1x8xf32>
  } -> tensor<1x1x8xf32>
  return %y : tensor<1x1x8xf32>
}

// -----

// An outer_forward region must feed a conv region.
func.func @broken_chain(%x: tensor<1x1x8xf32>) -> tensor<1x1x8xf32> {
  // expected-error @+1 {{needs an outer_forward region to feed one conv region}}
  %y = butterfly.fused outer_forward ins(%x : tensor<1x1x8xf32>) onchip_bytes = 64 {
  ^bb0(%a: tensor<1x1x8xf32>):
    butterfly.yield %a : tensor<1x1x8xf32>
  } -> tensor<1x1x8xf32>
  return %y : tensor<1x1x8xf32>
}

// -----

// A frequency-sparse convolution's transforms skip the same band: the
// inverse here reads every input, which the forward leaves unspecified
// outside its band.
func.func @band_mismatch(%u: tensor<2x4x2048xf32>, %k: tensor<4x2048xf32>) -> tensor<2x4x2048xf32> {
  %0 = butterfly.pack_real %k : tensor<4x2048xf32> -> tensor<4x1024xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [32, 32] : tensor<4x1024xcomplex<f32>>
  %2 = butterfly.real_spectrum %1 : tensor<4x1024xcomplex<f32>> -> tensor<4x1025xcomplex<f32>>
  %3 = butterfly.conv_spectrum %2 band = 256 : tensor<4x1025xcomplex<f32>> -> tensor<4x2x1024xcomplex<f32>>
  %4 = butterfly.permute %3 rows = 32, cols = 32 : tensor<4x2x1024xcomplex<f32>>
  // expected-error @+1 {{the GPU lowering needs the forward and the inverse transform of a frequency-sparse convolution to skip the same band}}
  %5 = butterfly.fused conv ins(%u, %4 : tensor<2x4x2048xf32>, tensor<4x2x1024xcomplex<f32>>) onchip_bytes = 32768 {
  ^bb0(%a: tensor<2x4x2048xf32>, %c: tensor<4x2x1024xcomplex<f32>>):
    %6 = butterfly.pack_real %a : tensor<2x4x2048xf32> -> tensor<2x4x1024xcomplex<f32>>
    %7 = butterfly.monarch %6 factors = [32, 32] permuted spectral_band = 256 : tensor<2x4x1024xcomplex<f32>>
    %8 = butterfly.hermitian_mul %7, %c factors = [32, 32] : tensor<2x4x1024xcomplex<f32>>, tensor<4x2x1024xcomplex<f32>>
    %9 = butterfly.monarch %8 factors = [32, 32] inverse permuted : tensor<2x4x1024xcomplex<f32>>
    %10 = butterfly.unpack_real %9 : tensor<2x4x1024xcomplex<f32>> -> tensor<2x4x2048xf32>
    butterfly.yield %10 : tensor<2x4x2048xf32>
  } -> tensor<2x4x2048xf32>
  return %5 : tensor<2x4x2048xf32>
}
