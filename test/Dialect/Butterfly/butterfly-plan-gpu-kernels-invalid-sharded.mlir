// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="ranks=4 rank=0" -verify-diagnostics
// RUN: not fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="ranks=3" 2>&1 | FileCheck %s --check-prefix=RANKS
// RUN: not fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="ranks=2 rank=2" 2>&1 | FileCheck %s --check-prefix=RANK
// RUN: not fftconv-opt %s -fftconv-to-ptx="ranks=0" 2>&1 | FileCheck %s --check-prefix=PTX

// RANKS: error: ranks must be a power of two (1: not sharded) and rank one of them, got ranks = 3, rank = 0
// RANK: error: ranks must be a power of two (1: not sharded) and rank one of them, got ranks = 2, rank = 2
// PTX: error: ranks must be a power of two (1: not sharded) and rank one of them, got ranks = 0, rank = 0

// A rank's shard holds its columns of every row: sequences of whole rows.
func.func @partial_rows(%u: tensor<2x1x30000xf16>, %k: tensor<1x30000xf32>) -> tensor<2x1x30000xf16> {
  // expected-error @+1 {{a convolution sharded over 4 ranks needs sequences of whole rows of its three-pass view (4096 samples), got 30000 in and 30000 out}}
  %y = fftconv.conv causal %u, %k : (tensor<2x1x30000xf16>, tensor<1x30000xf32>) -> tensor<2x1x30000xf16>
  return %y : tensor<2x1x30000xf16>
}

// -----

// 8192 points are 2 rows of 4096: not 4 ranks' worth.
func.func @too_few_rows(%u: tensor<2x1x4096xf16>, %k: tensor<1x4096xf32>) -> tensor<2x1x4096xf16> {
  // expected-error @+1 {{a convolution sharded over 4 ranks needs a three-pass view of 2 x 4096 points whose rows and columns split evenly (at least 16 columns a rank)}}
  %y = fftconv.conv causal %u, %k : (tensor<2x1x4096xf16>, tensor<1x4096xf32>) -> tensor<2x1x4096xf16>
  return %y : tensor<2x1x4096xf16>
}
