// RUN: not fftconv-opt %s -butterfly-to-vector="vector-width=3" 2>&1 | FileCheck %s --check-prefix=WIDTH
// RUN: not fftconv-opt %s -butterfly-to-vector="vector-width=0" 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not fftconv-opt %s -butterfly-to-vector="max-factor=128" 2>&1 | FileCheck %s --check-prefix=FACTOR

// WIDTH: error: butterfly-to-vector: vector-width must be a power of two from 1 to 64, got 3
// ZERO: error: butterfly-to-vector: vector-width must be a power of two from 1 to 64, got 0
// FACTOR: error: butterfly-to-vector: max-factor must be a power of two from 2 to 64, got 128

func.func @f(%x: tensor<2x64xcomplex<f32>>) -> tensor<2x64xcomplex<f32>> {
  %y = butterfly.monarch %x factors = [8, 8] : tensor<2x64xcomplex<f32>>
  return %y : tensor<2x64xcomplex<f32>>
}
