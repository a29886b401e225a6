// RUN: fftconv-opt %s -split-input-file -verify-diagnostics

// The input is a batch of channels of sequences: B x H x L.
func.func @conv_input_rank(%u: tensor<4x100xf32>, %k: tensor<4x10xf32>) {
  // expected-error @+1 {{expects input of rank 3 (B x H x L, or B x G x H x Z x L with heads), got 'tensor<4x100xf32>'}}
  %0 = fftconv.conv causal %u, %k : (tensor<4x100xf32>, tensor<4x10xf32>) -> tensor<4x100xf32>
  return
}

// -----

// One kernel row per channel.
func.func @conv_kernel_rank(%u: tensor<2x4x100xf32>, %k: tensor<4x10x1xf32>) {
  // expected-error @+1 {{expects kernel of rank 2 (H x K)}}
  %0 = fftconv.conv causal %u, %k : (tensor<2x4x100xf32>, tensor<4x10x1xf32>) -> tensor<2x4x100xf32>
  return
}

// -----

func.func @conv_channel_mismatch(%u: tensor<2x4x100xf32>, %k: tensor<3x10xf32>) {
  // expected-error @+1 {{expects the kernel to have one row per channel: input has H = 4 but kernel has 3}}
  %0 = fftconv.conv causal %u, %k : (tensor<2x4x100xf32>, tensor<3x10xf32>) -> tensor<2x4x100xf32>
  return
}

// -----

// A kernel longer than the sequence is not a (partial) long convolution.
func.func @conv_kernel_too_long(%u: tensor<2x4x100xf32>, %k: tensor<4x101xf32>) {
  // expected-error @+1 {{expects kernel length K = 101 to be at most the sequence length L = 100}}
  %0 = fftconv.conv causal %u, %k : (tensor<2x4x100xf32>, tensor<4x101xf32>) -> tensor<2x4x100xf32>
  return
}

// -----

// Every later stage reads static sizes.
func.func @conv_dynamic(%u: tensor<2x4x?xf32>, %k: tensor<4x10xf32>) {
  // expected-error @+1 {{expects input with a static shape, got 'tensor<2x4x?xf32>'}}
  %0 = fftconv.conv causal %u, %k : (tensor<2x4x?xf32>, tensor<4x10xf32>) -> tensor<2x4x?xf32>
  return
}

// -----

func.func @conv_empty(%u: tensor<2x4x0xf32>, %k: tensor<4x0xf32>) {
  // expected-error @+1 {{expects input without empty dimensions}}
  %0 = fftconv.conv causal %u, %k : (tensor<2x4x0xf32>, tensor<4x0xf32>) -> tensor<2x4x0xf32>
  return
}

// -----

// Sequences are f16, bf16 or f32.
func.func @conv_element_type(%u: tensor<2x4x100xf64>, %k: tensor<4x10xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float values}}
  %0 = fftconv.conv causal %u, %k : (tensor<2x4x100xf64>, tensor<4x10xf32>) -> tensor<2x4x100xf64>
  return
}

// -----

// Kernels are learned in f32.
func.func @conv_kernel_type(%u: tensor<2x4x100xf16>, %k: tensor<4x10xf16>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of 32-bit float values}}
  %0 = fftconv.conv causal %u, %k : (tensor<2x4x100xf16>, tensor<4x10xf16>) -> tensor<2x4x100xf16>
  return
}

// -----

func.func @conv_gate_type(%u: tensor<2x4x100xf16>, %k: tensor<4x10xf32>, %g: tensor<2x4x100xf32>) {
  // expected-error @+1 {{expects the pregate to have the input's type 'tensor<2x4x100xf16>', got 'tensor<2x4x100xf32>'}}
  %0 = fftconv.conv causal %u, %k pregate %g : (tensor<2x4x100xf16>, tensor<4x10xf32>, tensor<2x4x100xf32>) -> tensor<2x4x100xf16>
  return
}

// -----

func.func @conv_postgate_shape(%u: tensor<2x4x100xf32>, %k: tensor<4x10xf32>, %g: tensor<1x4x100xf32>) {
  // expected-error @+1 {{expects the postgate to have the input's type 'tensor<2x4x100xf32>', got 'tensor<1x4x100xf32>'}}
  %0 = fftconv.conv causal %u, %k postgate %g : (tensor<2x4x100xf32>, tensor<4x10xf32>, tensor<1x4x100xf32>) -> tensor<2x4x100xf32>
  return
}

// -----

func.func @conv_skip_size(%u: tensor<2x4x100xf32>, %k: tensor<4x10xf32>, %d: tensor<3xf32>) {
  // expected-error @+1 {{expects one skip weight per channel (H = 4), got 'tensor<3xf32>'}}
  %0 = fftconv.conv causal %u, %k skip %d : (tensor<2x4x100xf32>, tensor<4x10xf32>, tensor<3xf32>) -> tensor<2x4x100xf32>
  return
}

// -----

func.func @conv_skip_rank(%u: tensor<2x4x100xf32>, %k: tensor<4x10xf32>, %d: tensor<4x1xf32>) {
  // expected-error @+1 {{expects skip of rank 1 (H)}}
  %0 = fftconv.conv causal %u, %k skip %d : (tensor<2x4x100xf32>, tensor<4x10xf32>, tensor<4x1xf32>) -> tensor<2x4x100xf32>
  return
}

// -----

// The result has the input's type: y is rounded back to u's precision.
func.func @conv_result_type(%u: tensor<2x4x100xf16>, %k: tensor<4x10xf32>) {
  // expected-error @+1 {{expects the result to have the input's type 'tensor<2x4x100xf16>', got 'tensor<2x4x100xf32>'}}
  %0 = fftconv.conv causal %u, %k : (tensor<2x4x100xf16>, tensor<4x10xf32>) -> tensor<2x4x100xf32>
  return
}

// -----

func.func @conv_bad_mode(%u: tensor<2x4x100xf32>, %k: tensor<4x10xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'mode' [causal, circular]}}
  %0 = fftconv.conv acausal %u, %k : (tensor<2x4x100xf32>, tensor<4x10xf32>) -> tensor<2x4x100xf32>
  return
}

// -----

func.func @fft_result_length(%x: tensor<3x48xcomplex<f32>>) {
  // expected-error @+1 {{expects the result's last dimension to be 64, got 48}}
  %0 = fftconv.fft %x n = 64 : tensor<3x48xcomplex<f32>> -> tensor<3x48xcomplex<f32>>
  return
}

// -----

func.func @fft_leading_dims(%x: tensor<3x64xcomplex<f32>>) {
  // expected-error @+1 {{expects the result to keep the input's leading dimensions}}
  %0 = fftconv.ifft %x n = 64 : tensor<3x64xcomplex<f32>> -> tensor<4x64xcomplex<f32>>
  return
}

// -----

// n is the transform length: a positive count.
func.func @fft_nonpositive_n(%x: tensor<3x64xcomplex<f32>>) {
  // expected-error @+1 {{attribute 'n' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = fftconv.fft %x n = 0 : tensor<3x64xcomplex<f32>> -> tensor<3x64xcomplex<f32>>
  return
}

// -----

// rfft keeps the n/2 + 1 non-negative frequencies.
func.func @rfft_length(%x: tensor<3x64xf32>) {
  // expected-error @+1 {{expects the result's last dimension to be 33, got 64}}
  %0 = fftconv.rfft %x n = 64 : tensor<3x64xf32> -> tensor<3x64xcomplex<f32>>
  return
}

// -----

func.func @rfft_complex_input(%x: tensor<3x64xcomplex<f32>>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float values}}
  %0 = fftconv.rfft %x n = 64 : tensor<3x64xcomplex<f32>> -> tensor<3x33xcomplex<f32>>
  return
}

// -----

func.func @irfft_length(%x: tensor<3x33xcomplex<f32>>) {
  // expected-error @+1 {{expects the result's last dimension to be 64, got 33}}
  %0 = fftconv.irfft %x n = 64 : tensor<3x33xcomplex<f32>> -> tensor<3x33xf32>
  return
}

// -----

func.func @fft_scalar(%x: tensor<complex<f32>>) {
  // expected-error @+1 {{expects input of rank at least 1}}
  %0 = fftconv.fft %x n = 1 : tensor<complex<f32>> -> tensor<complex<f32>>
  return
}

// -----

// A negative threshold would grow taps instead of shrinking them.
func.func @squash_negative(%k: tensor<4x8xf32>) {
  // expected-error @+1 {{expects a finite threshold lambda >= 0, got -1}}
  %0 = fftconv.squash %k lambda = -1.0 : tensor<4x8xf32>
  return
}

// -----

// The window 2p+1 is centred on the tap it replaces.
func.func @smooth_even(%k: tensor<4x8xf32>) {
  // expected-error @+1 {{expects an odd width 2p+1 >= 1, got 4}}
  %0 = fftconv.smooth %k width = 4 : tensor<4x8xf32>
  return
}

// -----

func.func @smooth_type_mismatch(%k: tensor<4x8xf32>) {
  // expected-error @+1 {{'fftconv.smooth' op requires the same type for all operands and results}}
  %0 = "fftconv.smooth"(%k) {width = 3 : i64} : (tensor<4x8xf32>) -> tensor<4x9xf32>
  return
}

// -----

func.func @syntax_error(%u: tensor<2x4x100xf32>, %k: tensor<4x10xf32>) {
  // expected-error @+1 {{expected ':'}}
  %0 = fftconv.conv causal %u, %k (tensor<2x4x100xf32>, tensor<4x10xf32>) -> tensor<2x4x100xf32>
  return
}

// -----

// The kernel spectrum is shared by the batch: H x F against B x H x F.
func.func @channel_mul_shape(%x: tensor<2x4x33xcomplex<f32>>, %k: tensor<4x32xcomplex<f32>>) {
  // expected-error @+1 {{expects an H x F kernel spectrum matching the input 'tensor<2x4x33xcomplex<f32>>', got 'tensor<4x32xcomplex<f32>>'}}
  %0 = fftconv.channel_mul %x, %k : tensor<2x4x33xcomplex<f32>>, tensor<4x32xcomplex<f32>>
  return
}

// -----

func.func @channel_mul_rank(%x: tensor<4x33xcomplex<f32>>, %k: tensor<4x33xcomplex<f32>>) {
  // expected-error @+1 {{expects input of rank 3 (B x H x F)}}
  %0 = fftconv.channel_mul %x, %k : tensor<4x33xcomplex<f32>>, tensor<4x33xcomplex<f32>>
  return
}

// -----

func.func @channel_mul_band(%x: tensor<2x4x33xcomplex<f32>>, %k: tensor<4x33xcomplex<f32>>) {
  // expected-error @+1 {{expects a band of at most F = 33 frequencies, got 34}}
  %0 = fftconv.channel_mul %x, %k band = 34 : tensor<2x4x33xcomplex<f32>>, tensor<4x33xcomplex<f32>>
  return
}

// -----

func.func @smooth_too_wide(%k: tensor<4x8xf32>) {
  // expected-error @+1 {{expects a width of at most 2L - 1 = 15, got 17}}
  %0 = fftconv.smooth %k width = 17 : tensor<4x8xf32>
  return
}

// -----

func.func @squash_nan(%k: tensor<4x8xf32>) {
  // expected-error @+1 {{expects a finite threshold lambda >= 0, got nan}}
  %0 = fftconv.squash %k lambda = 0x7FC00000 : tensor<4x8xf32>
  return
}

// -----

// The element type that sizes the fused kernel's buffers is a scalar type
// with a bit width (an index or complex one would have no kernel layout).
func.func @element_type_attr(%v: tensor<2x4x33xcomplex<f32>>, %k: tensor<4x33xcomplex<f32>>) {
  // expected-error @+1 {{'fftconv.element_type' must name the integer or float element type of the convolution's data, got index}}
  %p = fftconv.channel_mul %v, %k {fftconv.element_type = index} : tensor<2x4x33xcomplex<f32>>, tensor<4x33xcomplex<f32>>
  return
}

// -----

func.func @element_type_attr_not_a_type(%v: tensor<2x4x33xcomplex<f32>>, %k: tensor<4x33xcomplex<f32>>) {
  // expected-error @+1 {{'fftconv.element_type' must name the integer or float element type of the convolution's data, got 16 : i64}}
  %p = fftconv.channel_mul %v, %k {fftconv.element_type = 16} : tensor<2x4x33xcomplex<f32>>, tensor<4x33xcomplex<f32>>
  return
}

// -----

// conv_grad shares conv's operand rules.
func.func @conv_grad_channels(%u: tensor<2x4x100xf32>, %k: tensor<3x10xf32>, %dy: tensor<2x4x100xf32>) {
  // expected-error @+1 {{expects the kernel to have one row per channel: input has H = 4 but kernel has 3}}
  %0 = fftconv.conv_grad causal %u, %k grad %dy wrt [input] : (tensor<2x4x100xf32>, tensor<3x10xf32>, tensor<2x4x100xf32>) -> tensor<2x4x100xf32>
  return
}

// -----

func.func @conv_grad_dy_type(%u: tensor<2x4x100xf32>, %k: tensor<4x10xf32>, %dy: tensor<2x4x100xf16>) {
  // expected-error @+1 {{expects the result gradient to have the input's type 'tensor<2x4x100xf32>', got 'tensor<2x4x100xf16>'}}
  %0 = fftconv.conv_grad causal %u, %k grad %dy wrt [input] : (tensor<2x4x100xf32>, tensor<4x10xf32>, tensor<2x4x100xf16>) -> tensor<2x4x100xf32>
  return
}

// -----

func.func @conv_grad_nothing(%u: tensor<2x4x100xf32>, %k: tensor<4x10xf32>, %dy: tensor<2x4x100xf32>) {
  // expected-error @+1 {{expects at least one gradient to compute}}
  fftconv.conv_grad causal %u, %k grad %dy wrt [] : (tensor<2x4x100xf32>, tensor<4x10xf32>, tensor<2x4x100xf32>) -> ()
  return
}

// -----

func.func @conv_grad_missing_operand(%u: tensor<2x4x100xf32>, %k: tensor<4x10xf32>, %dy: tensor<2x4x100xf32>) {
  // expected-error @+1 {{asks for the gradient of the pregate, which the convolution does not have}}
  %0 = fftconv.conv_grad causal %u, %k grad %dy wrt [pregate] : (tensor<2x4x100xf32>, tensor<4x10xf32>, tensor<2x4x100xf32>) -> tensor<2x4x100xf32>
  return
}

// -----

func.func @conv_grad_too_few_results(%u: tensor<2x4x100xf32>, %k: tensor<4x10xf32>, %dy: tensor<2x4x100xf32>) {
  // expected-error @+1 {{expects one result per gradient asked for (input,kernel), got 1}}
  %0 = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel] : (tensor<2x4x100xf32>, tensor<4x10xf32>, tensor<2x4x100xf32>) -> tensor<2x4x100xf32>
  return
}

// -----

func.func @conv_grad_too_many_results(%u: tensor<2x4x100xf32>, %k: tensor<4x10xf32>, %dy: tensor<2x4x100xf32>) {
  // expected-error @+1 {{expects one result per gradient asked for (kernel), got 2}}
  %0:2 = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel] : (tensor<2x4x100xf32>, tensor<4x10xf32>, tensor<2x4x100xf32>) -> (tensor<4x10xf32>, tensor<4x10xf32>)
  return
}

// -----

func.func @conv_grad_result_type(%u: tensor<2x4x100xf32>, %k: tensor<4x10xf32>, %dy: tensor<2x4x100xf32>) {
  // expected-error @+1 {{expects the gradient of the kernel to have its type 'tensor<4x10xf32>', got 'tensor<4x100xf32>'}}
  %0 = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel] : (tensor<2x4x100xf32>, tensor<4x10xf32>, tensor<2x4x100xf32>) -> tensor<4x100xf32>
  return
}

// -----

func.func @conv_grad_unknown_gradient(%u: tensor<2x4x100xf32>, %k: tensor<4x10xf32>, %dy: tensor<2x4x100xf32>) {
  // expected-error @+1 {{expected one of input, kernel, pregate, postgate, skip; got 'bias'}}
  %0 = fftconv.conv_grad causal %u, %k grad %dy wrt [bias] : (tensor<2x4x100xf32>, tensor<4x10xf32>, tensor<2x4x100xf32>) -> tensor<2x4x100xf32>
  return
}

// -----

func.func @cross_spectrum_rank(%a: tensor<4x33xcomplex<f32>>) {
  // expected-error @+1 {{expects lhs of rank 3 (B x H x F), got 'tensor<4x33xcomplex<f32>>'}}
  %0 = fftconv.cross_spectrum %a, %a : tensor<4x33xcomplex<f32>> -> tensor<4x33xcomplex<f32>>
  return
}

// -----

func.func @cross_spectrum_result(%a: tensor<2x4x33xcomplex<f32>>) {
  // expected-error @+1 {{expects an H x F result reducing the batch of 'tensor<2x4x33xcomplex<f32>>', got 'tensor<4x32xcomplex<f32>>'}}
  %0 = fftconv.cross_spectrum %a, %a : tensor<2x4x33xcomplex<f32>> -> tensor<4x32xcomplex<f32>>
  return
}

// -----

func.func @cross_spectrum_types(%a: tensor<2x4x33xcomplex<f32>>, %b: tensor<1x4x33xcomplex<f32>>) {
  // expected-error @+1 {{all of {lhs, rhs} have same type}}
  %0 = "fftconv.cross_spectrum"(%a, %b) : (tensor<2x4x33xcomplex<f32>>, tensor<1x4x33xcomplex<f32>>) -> tensor<4x33xcomplex<f32>>
  return
}

// -----

func.func @multi_head_kernel_rows(%u: tensor<2x3x4x1x64xf32>, %k: tensor<3x64xf32>) -> tensor<2x3x4x1x64xf32> {
  // expected-error @+1 {{expects the kernel to have one row per channel: input has H = 4 but kernel has 3}}
  %y = fftconv.conv causal %u, %k : (tensor<2x3x4x1x64xf32>, tensor<3x64xf32>) -> tensor<2x3x4x1x64xf32>
  return %y : tensor<2x3x4x1x64xf32>
}

// -----

func.func @rank_four(%u: tensor<2x3x4x64xf32>, %k: tensor<4x64xf32>) -> tensor<2x3x4x64xf32> {
  // expected-error @+1 {{expects input of rank 3 (B x H x L, or B x G x H x Z x L with heads), got 'tensor<2x3x4x64xf32>'}}
  %y = fftconv.conv causal %u, %k : (tensor<2x3x4x64xf32>, tensor<4x64xf32>) -> tensor<2x3x4x64xf32>
  return %y : tensor<2x3x4x64xf32>
}

// -----

func.func @reverse_circular(%u: tensor<2x4x64xf32>, %k: tensor<4x64xf32>) -> tensor<2x4x64xf32> {
  // expected-error @+1 {{expects a reverse kernel only in the causal form: a circular convolution's kernel already covers every lag}}
  %y = fftconv.conv circular %u, %k reverse %k : (tensor<2x4x64xf32>, tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<2x4x64xf32>
  return %y : tensor<2x4x64xf32>
}

// -----

func.func @reverse_rows(%u: tensor<2x4x64xf32>, %k: tensor<4x64xf32>, %kr: tensor<2x64xf32>) -> tensor<2x4x64xf32> {
  // expected-error @+1 {{expects the reverse kernel to have one row per channel: input has H = 4 but reverse kernel has 2}}
  %y = fftconv.conv causal %u, %k reverse %kr : (tensor<2x4x64xf32>, tensor<4x64xf32>, tensor<2x64xf32>) -> tensor<2x4x64xf32>
  return %y : tensor<2x4x64xf32>
}

// -----

func.func @reverse_length(%u: tensor<2x4x64xf32>, %k: tensor<4x64xf32>, %kr: tensor<4x65xf32>) -> tensor<2x4x64xf32> {
  // expected-error @+1 {{expects reverse kernel length K' = 65 to be at most the sequence length L = 64}}
  %y = fftconv.conv causal %u, %k reverse %kr : (tensor<2x4x64xf32>, tensor<4x64xf32>, tensor<4x65xf32>) -> tensor<2x4x64xf32>
  return %y : tensor<2x4x64xf32>
}

// -----

func.func @reverse_rank(%u: tensor<2x4x64xf32>, %k: tensor<4x64xf32>, %kr: tensor<64xf32>) -> tensor<2x4x64xf32> {
  // expected-error @+1 {{expects reverse kernel of rank 2 (H x K')}}
  %y = fftconv.conv causal %u, %k reverse %kr : (tensor<2x4x64xf32>, tensor<4x64xf32>, tensor<64xf32>) -> tensor<2x4x64xf32>
  return %y : tensor<2x4x64xf32>
}

// -----

func.func @reverse_gradient_without_reverse(%u: tensor<2x4x64xf32>, %k: tensor<4x64xf32>, %dy: tensor<2x4x64xf32>) -> tensor<4x64xf32> {
  // expected-error @+1 {{asks for the gradient of the reverse_kernel, which the convolution does not have}}
  %dkr = fftconv.conv_grad causal %u, %k grad %dy wrt [reverse_kernel]
      : (tensor<2x4x64xf32>, tensor<4x64xf32>, tensor<2x4x64xf32>) -> tensor<4x64xf32>
  return %dkr : tensor<4x64xf32>
}

// -----

func.func @circulate_short_transform(%k: tensor<4x100xf32>) -> tensor<4x128xf32> {
  // expected-error @+1 {{expects a transform length N >= 2L = 200 (the wrapped taps must not reach the outputs kept), got 128}}
  %kk = fftconv.circulate %k period = 100 : tensor<4x100xf32> -> tensor<4x128xf32>
  return %kk : tensor<4x128xf32>
}

// -----

func.func @circulate_long_kernel(%k: tensor<4x100xf32>) -> tensor<4x256xf32> {
  // expected-error @+1 {{expects kernel length K = 100 to be at most the period L = 64}}
  %kk = fftconv.circulate %k period = 64 : tensor<4x100xf32> -> tensor<4x256xf32>
  return %kk : tensor<4x256xf32>
}

// -----

func.func @circulate_rows(%k: tensor<4x100xf32>) -> tensor<3x256xf32> {
  // expected-error @+1 {{expects the result to keep the input's 4 rows, got 'tensor<3x256xf32>'}}
  %kk = fftconv.circulate %k period = 100 : tensor<4x100xf32> -> tensor<3x256xf32>
  return %kk : tensor<3x256xf32>
}
