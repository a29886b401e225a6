// RUN: fftconv-opt %s -split-input-file -verify-diagnostics
// RUN: fftconv-opt %s -split-input-file -verify-diagnostics -fftconv-to-cpu
// RUN: fftconv-opt %s -split-input-file -verify-diagnostics -fftconv-to-butterfly

// Sizes past what the lowerings support are refused where they are written,
// by the verifier, so that no pipeline meets them: L above 2^31 (its FFT
// size would exceed 2^32), transforms above 2^32, tensors above 2^56
// elements (an element count past 2^63 would not even fit in int64).

func.func @conv_length_2_40(%u: tensor<1x1x1099511627776xf32>, %k: tensor<1x4xf32>) {
  // expected-error @+1 {{'fftconv.conv' op expects a sequence length L of at most 2^31, got 1099511627776: its FFT size (up to 2L) must not exceed 2^32, the longest transform the lowerings support}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x1099511627776xf32>, tensor<1x4xf32>) -> tensor<1x1x1099511627776xf32>
  return
}

// -----

// Near 2^63, L + K - 1 used to overflow in the FFT size computation and
// the error spoke of a tensor.extract_slice. Such an L has too many
// elements already.
func.func @conv_length_2_62(%u: tensor<1x1x4611686018427387904xf32>, %k: tensor<1x4611686018427387904xf32>) {
  // expected-error @+1 {{'fftconv.conv' op expects input of at most 2^56 elements (the most the lowerings address), got 'tensor<1x1x4611686018427387904xf32>'}}
  %y = fftconv.conv circular %u, %k : (tensor<1x1x4611686018427387904xf32>, tensor<1x4611686018427387904xf32>) -> tensor<1x1x4611686018427387904xf32>
  return
}

// -----

func.func @conv_length_just_above(%u: tensor<1x1x2147483649xf16>, %k: tensor<1x1xf32>) {
  // expected-error @+1 {{expects a sequence length L of at most 2^31, got 2147483649}}
  %y = fftconv.conv causal %u, %k : (tensor<1x1x2147483649xf16>, tensor<1x1xf32>) -> tensor<1x1x2147483649xf16>
  return
}

// -----

// B x H x L = 2^66 elements: more than int64 counts.
func.func @conv_elements_2_66(%u: tensor<4294967296x4294967296x4xf32>, %k: tensor<4294967296x4xf32>) {
  // expected-error @+1 {{'fftconv.conv' op expects input of at most 2^56 elements (the most the lowerings address), got 'tensor<4294967296x4294967296x4xf32>'}}
  %y = fftconv.conv causal %u, %k : (tensor<4294967296x4294967296x4xf32>, tensor<4294967296x4xf32>) -> tensor<4294967296x4294967296x4xf32>
  return
}

// -----

// 2^32 * 2^32 = 2^64 elements: the product wraps to exactly 0 in int64.
func.func @squash_elements_wrap(%k: tensor<4294967296x4294967296xf32>) {
  // expected-error @+1 {{'fftconv.squash' op expects input of at most 2^56 elements (the most the lowerings address), got 'tensor<4294967296x4294967296xf32>'}}
  %y = fftconv.squash %k lambda = 1.0 : tensor<4294967296x4294967296xf32>
  return
}

// -----

// 2^57 elements.
func.func @smooth_elements(%k: tensor<33554432x4294967296xf32>) {
  // expected-error @+1 {{'fftconv.smooth' op expects input of at most 2^56 elements}}
  %y = fftconv.smooth %k width = 3 : tensor<33554432x4294967296xf32>
  return
}

// -----

func.func @channel_mul_elements(%x: tensor<16777216x65536x65537xcomplex<f32>>, %k: tensor<65536x65537xcomplex<f32>>) {
  // expected-error @+1 {{'fftconv.channel_mul' op expects input of at most 2^56 elements}}
  %y = fftconv.channel_mul %x, %k : tensor<16777216x65536x65537xcomplex<f32>>, tensor<65536x65537xcomplex<f32>>
  return
}

// -----

func.func @fft_length(%x: tensor<4x8xcomplex<f32>>) {
  // expected-error @+1 {{'fftconv.fft' op expects a transform length n of at most 2^32 (the longest the lowerings support), got 8589934592}}
  %y = fftconv.fft %x n = 8589934592 : tensor<4x8xcomplex<f32>> -> tensor<4x8589934592xcomplex<f32>>
  return
}

// -----

// n/2 + 1 of the largest n fits, but n itself is past what is supported.
func.func @rfft_length(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'fftconv.rfft' op expects a transform length n of at most 2^32 (the longest the lowerings support), got 9223372036854775807}}
  %y = fftconv.rfft %x n = 9223372036854775807 : tensor<4x8xf32> -> tensor<4x4611686018427387904xcomplex<f32>>
  return
}

// -----

func.func @irfft_length(%x: tensor<4x5xcomplex<f32>>) {
  // expected-error @+1 {{'fftconv.irfft' op expects a transform length n of at most 2^32 (the longest the lowerings support), got 4294967297}}
  %y = fftconv.irfft %x n = 4294967297 : tensor<4x5xcomplex<f32>> -> tensor<4x4294967297xf32>
  return
}

// -----

func.func @ifft_length(%x: tensor<4x8xcomplex<f32>>) {
  // expected-error @+1 {{'fftconv.ifft' op expects a transform length n of at most 2^32}}
  %y = fftconv.ifft %x n = 4611686018427387904 : tensor<4x8xcomplex<f32>> -> tensor<4x4611686018427387904xcomplex<f32>>
  return
}

// -----

// 2^56 elements is allowed for a tensor, but this convolution's FFT form
// would hold B x H x (N/2 + 1) > 2^56 spectra: ConvToFFT built an rfft that
// failed verification.
func.func @conv_fft_form_too_large(%u: tensor<549755813888x4x32768xf16>, %k: tensor<4x32768xf32>) {
  // expected-error @+1 {{'fftconv.conv' op expects B x H x L of at most 2^54, got 'tensor<549755813888x4x32768xf16>': its FFT form holds B x H x N values with N up to 4L, at most 2^56}}
  %y = fftconv.conv causal %u, %k : (tensor<549755813888x4x32768xf16>, tensor<4x32768xf32>) -> tensor<549755813888x4x32768xf16>
  return
}

// -----

// conv_grad shares conv's operand rules, the size limits included: its
// FFT size comes from the same getConvFFTSize.
func.func @conv_grad_length(%u: tensor<1x1x1099511627776xf32>, %k: tensor<1x4xf32>, %dy: tensor<1x1x1099511627776xf32>) {
  // expected-error @+1 {{'fftconv.conv_grad' op expects a sequence length L of at most 2^31, got 1099511627776}}
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<1x1x1099511627776xf32>, tensor<1x4xf32>, tensor<1x1x1099511627776xf32>) -> tensor<1x4xf32>
  return
}

// -----

func.func @conv_grad_elements(%u: tensor<549755813888x4x32768xf32>, %k: tensor<4x32768xf32>, %dy: tensor<549755813888x4x32768xf32>) {
  // expected-error @+1 {{'fftconv.conv_grad' op expects B x H x L of at most 2^54}}
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<549755813888x4x32768xf32>, tensor<4x32768xf32>, tensor<549755813888x4x32768xf32>) -> tensor<4x32768xf32>
  return
}
