// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=8192 three-pass-cluster=8" -verify-diagnostics
// RUN: not fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="chip=sm_80 single-kernel-max=8192 three-pass-cluster=8" 2>&1 | FileCheck %s --check-prefix=SM80
// RUN: not fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=8192 three-pass-cluster=8 threads=96" 2>&1 | FileCheck %s --check-prefix=THREADS

// A clustered three-pass plan is refused where its kernel cannot run.
// SM80: error: the chip has no clusters of blocks
// Each thread reads its whole share of the exchange before the cluster
// barrier: the threads divide the block's groups of 8 values.
// THREADS: error: a clustered three-pass block of 96 threads does not divide its 4096 groups of values to exchange

// One block's power-of-two range scale would not hold a cluster's blocks:
// f16 data only.
func.func @bf16_data(%u: tensor<2x4x32768xbf16>, %k: tensor<4x32768xf32>) -> tensor<2x4x32768xbf16> {
  // expected-error @+1 {{a clustered three-pass kernel runs f16 data on one GPU}}
  %y = fftconv.conv causal %u, %k : (tensor<2x4x32768xbf16>, tensor<4x32768xf32>) -> tensor<2x4x32768xbf16>
  return %y : tensor<2x4x32768xbf16>
}

// -----

// 16K points are 4 rows of 4096: too few for 8 blocks.
func.func @too_few_rows(%u: tensor<2x4x8192xf16>, %k: tensor<4x8192xf32>) -> tensor<2x4x8192xf16> {
  // expected-error @+1 {{the rows and columns of the three-pass view (4 x 4096) do not split into 8 blocks}}
  %y = fftconv.conv causal %u, %k : (tensor<2x4x8192xf16>, tensor<4x8192xf32>) -> tensor<2x4x8192xf16>
  return %y : tensor<2x4x8192xf16>
}

// -----

// 256K points at Split: a block's 8 rows of 4096 take 256 KiB.
func.func @past_shared_memory(%u: tensor<2x4x131072xf16>, %k: tensor<4x131072xf32>) -> tensor<2x4x131072xf16> {
  // expected-error @+1 {{a clustered three-pass block needs 262144 bytes of shared memory a block, more than the 232448 the chip has}}
  %y = fftconv.conv causal %u, %k : (tensor<2x4x131072xf16>, tensor<4x131072xf32>) -> tensor<2x4x131072xf16>
  return %y : tensor<2x4x131072xf16>
}
