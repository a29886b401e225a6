// RUN: fftconv-opt %s -split-input-file -butterfly-plan-gpu-kernels -verify-diagnostics

// A cross_spectrum region transforms two sequences.
func.func @one_transform(%v: tensor<1x1x16xf32>) -> tensor<1x1x8xcomplex<f32>> {
  // expected-error @+1 {{the GPU plan needs two forward butterfly.monarch transforms with the same factors in a cross_spectrum region}}
  %s = butterfly.fused cross_spectrum ins(%v : tensor<1x1x16xf32>) onchip_bytes = 0 {
  ^bb0(%a: tensor<1x1x16xf32>):
    %za = butterfly.pack_real %a : tensor<1x1x16xf32> -> tensor<1x1x8xcomplex<f32>>
    %fa = butterfly.monarch %za factors = [8] : tensor<1x1x8xcomplex<f32>>
    butterfly.yield %fa : tensor<1x1x8xcomplex<f32>>
  } -> tensor<1x1x8xcomplex<f32>>
  return %s : tensor<1x1x8xcomplex<f32>>
}

// -----

// A channel_inverse region inverts one spectrum into real lags.
func.func @no_unpacking(%s: tensor<1x9xcomplex<f32>>) -> tensor<1x8xcomplex<f32>> {
  // expected-error @+1 {{the GPU plan needs one inverse butterfly.monarch transform and an unpack_real in a channel_inverse region}}
  %r = butterfly.fused channel_inverse ins(%s : tensor<1x9xcomplex<f32>>) onchip_bytes = 0 {
  ^bb0(%a: tensor<1x9xcomplex<f32>>):
    %z = butterfly.real_spectrum %a inverse : tensor<1x9xcomplex<f32>> -> tensor<1x8xcomplex<f32>>
    %t = butterfly.monarch %z factors = [8] inverse : tensor<1x8xcomplex<f32>>
    butterfly.yield %t : tensor<1x8xcomplex<f32>>
  } -> tensor<1x8xcomplex<f32>>
  return %r : tensor<1x8xcomplex<f32>>
}
