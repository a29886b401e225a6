// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels | FileCheck %s

// A causal L = 2^26 (N = 2^27): past what Split's blocks hold (2^25), auto
// takes Half, whose rows of 32768 and outer blocks of 4096 rows x 8 columns
// hold 128 KiB each.
// CHECK-LABEL: func @longest
// CHECK: plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_90", outer_factors = [16, 16, 16], factors = [32, 32, 32], threads = 256, batch_tile = 1, workspace = f16>
func.func @longest(%u: tensor<1x2x67108864xf16>, %k: tensor<2x67108864xf32>) -> tensor<1x2x67108864xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<1x2x67108864xf16>, tensor<2x67108864xf32>) -> tensor<1x2x67108864xf16>
  return %y : tensor<1x2x67108864xf16>
}
