// RUN: fftconv-opt %s -fftconv-monarch-decompose="order=4" -split-input-file -verify-diagnostics
// RUN: not fftconv-opt %s -fftconv-monarch-decompose="order=5" 2>&1 | FileCheck %s --check-prefix=ORDER
// RUN: not fftconv-opt %s -fftconv-monarch-decompose="chip=sm_75" 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not fftconv-opt %s -fftconv-monarch-decompose="smem-per-block=64" 2>&1 | FileCheck %s --check-prefix=SMEM
// RUN: not fftconv-opt %s -fftconv-monarch-decompose="smem-per-block=-1" 2>&1 | FileCheck %s --check-prefix=NEGSMEM
// RUN: not fftconv-opt %s -fftconv-monarch-decompose="regs-per-thread=0" 2>&1 | FileCheck %s --check-prefix=REGS
// RUN: not fftconv-opt %s -fftconv-monarch-decompose="mma-n=1000000" 2>&1 | FileCheck %s --check-prefix=MMAN
// RUN: not fftconv-opt %s -fftconv-monarch-decompose="mma-k=12" 2>&1 | FileCheck %s --check-prefix=MMAK

// ORDER: error: fftconv-monarch-decompose: order must be auto, 1, 2, 3 or 4, got '5'
// CHIP: error: fftconv-monarch-decompose: unknown chip 'sm_75' (expected sm_80, sm_90 or cpu)
// NEGSMEM: error: fftconv-monarch-decompose: smem-per-block must be 0 (the chip's) or a size in bytes, got -1
// REGS: error: fftconv-monarch-decompose: regs-per-thread must be 1 to 255, got 0
// MMAN: error: fftconv-monarch-decompose: mma-n must be a power of two from 1 to 256, got 1000000
// MMAK: error: fftconv-monarch-decompose: mma-k must be a power of two from 1 to 256, got 12
// SMEM: error: cannot decompose a DFT of length 8 with the fused kernel's data fitting in 64 bytes of shared memory

// Order 4 needs M >= 2^4: a convolution of size 16 has M = 8 = 2 x 2 x 2.
func.func @order_too_high(%v: tensor<1x1x8xf32>, %kf: tensor<1x9xcomplex<f32>>) -> tensor<1x1x16xf32> {
  %vf = fftconv.rfft %v n = 16 : tensor<1x1x8xf32> -> tensor<1x1x9xcomplex<f32>>
  %p = fftconv.channel_mul %vf, %kf : tensor<1x1x9xcomplex<f32>>, tensor<1x9xcomplex<f32>>
  // expected-error @+1 {{cannot decompose a DFT of length 8 into 4 factors between 2 and 256 with the fused kernel's data fitting in 232448 bytes of shared memory}}
  %z = fftconv.irfft %p n = 16 : tensor<1x1x9xcomplex<f32>> -> tensor<1x1x16xf32>
  return %z : tensor<1x1x16xf32>
}

// -----

func.func @fft_order_too_high(%x: tensor<2x8xcomplex<f32>>) -> tensor<2x8xcomplex<f32>> {
  // expected-error @+1 {{cannot decompose a DFT of length 8 into 4 factors between 2 and 256}}
  %0 = fftconv.fft %x n = 8 : tensor<2x8xcomplex<f32>> -> tensor<2x8xcomplex<f32>>
  return %0 : tensor<2x8xcomplex<f32>>
}
