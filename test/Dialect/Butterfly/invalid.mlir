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
  // expected-error @+1 {{expects an m x m factor or a x m x m blocks, got 'tensor<16x8xcomplex<f32>>'}}
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
