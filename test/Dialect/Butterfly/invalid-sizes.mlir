// RUN: fftconv-opt %s -split-input-file -verify-diagnostics

// Butterfly tensors are bounded like fftconv ones (2^56 elements), so that
// the sizes the verifiers and lowerings compute cannot overflow int64.

// 2M overflowed here: the verifier said "expects at most 2M =
// -9223372036854775808 real values, got 8", refusing a valid count.
func.func @pack_real_2m(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'butterfly.pack_real' op expects result of at most 2^56 elements (the most the lowerings address), got 'tensor<2x4611686018427387904xcomplex<f32>>'}}
  %y = butterfly.pack_real %x : tensor<2x8xf32> -> tensor<2x4611686018427387904xcomplex<f32>>
  return
}

// -----

func.func @unpack_real_2m(%x: tensor<2x4611686018427387904xcomplex<f32>>) {
  // expected-error @+1 {{'butterfly.unpack_real' op expects input of at most 2^56 elements}}
  %y = butterfly.unpack_real %x : tensor<2x4611686018427387904xcomplex<f32>> -> tensor<2x8xf32>
  return
}

// -----

// The element count wraps int64 (2^32 * 2^32 = 2^64).
func.func @dft_elements() {
  // expected-error @+1 {{'butterfly.dft' op expects result of at most 2^56 elements}}
  %0 = butterfly.dft : tensor<4294967296x4294967296xcomplex<f32>>
  return
}
