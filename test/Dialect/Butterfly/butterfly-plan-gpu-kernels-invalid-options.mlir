// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="threads=100000" -verify-diagnostics
// RUN: not fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="batch-tile=-1" 2>&1 | FileCheck %s --check-prefix=TILE
// RUN: not fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=-1" 2>&1 | FileCheck %s --check-prefix=SKM
// RUN: not fftconv-opt %s -fftconv-to-ptx="threads=100000" 2>&1 | FileCheck %s --check-prefix=PTX
// RUN: not fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="max-row-length=3000" 2>&1 | FileCheck %s --check-prefix=ROWS
// RUN: not fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="three-pass-cluster=3" 2>&1 | FileCheck %s --check-prefix=CLUSTER

// Options a launch cannot have are refused where the plan would be made,
// before any kernel is emitted: CUDA runs at most 1024 threads a block.
// TILE: error: batch-tile must be 0 (chosen from shared memory) or a number of sequences, got -1
// SKM: error: single-kernel-max must be 0 (whatever fits on chip) or an FFT size, got -1
// PTX: error: threads must be 0 (chosen from the length) or at most 1024, got 100000
// ROWS: error: max-row-length must be 0 (what a block holds) or a power of two of at least 4096, got 3000
// CLUSTER: error: three-pass-cluster must be 1 (the three kernels) or a power of two blocks up to 8, got 3

// expected-error @+1 {{threads must be 0 (chosen from the length) or at most 1024, got 100000}}
func.func @too_many_threads(%u: tensor<2x4x128xf16>, %k: tensor<4x128xf32>) -> tensor<2x4x128xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x4x128xf16>, tensor<4x128xf32>) -> tensor<2x4x128xf16>
  return %y : tensor<2x4x128xf16>
}
