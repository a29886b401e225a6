// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels | FileCheck %s

// A causal L = 2^26 (N = 2^27): past what Split's rows hold (2^26), auto
// takes Half, whose rows of 32768 and outer blocks of 4096 rows x 8 columns
// hold 128 KiB each.
// CHECK-LABEL: func @longest
// CHECK: plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_90", outer_factors = [16, 16, 16], factors = [32, 32, 32], threads = 256, batch_tile = 1, workspace = f16>
func.func @longest(%u: tensor<1x2x67108864xf16>, %k: tensor<2x67108864xf32>) -> tensor<1x2x67108864xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<1x2x67108864xf16>, tensor<2x67108864xf32>) -> tensor<1x2x67108864xf16>
  return %y : tensor<1x2x67108864xf16>
}

// A causal L = 2^25 (N = 2^26): Split's rows of 16384 still hold it, 4096
// of them, so auto takes Split; its outer kernels run at Half (a Split tile
// of 4096 rows x 8 columns would take 256 KiB: ThreePassPlan::outerPrecision,
// which the plan does not record).
// CHECK-LABEL: func @split_rows
// CHECK: plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16, 16, 16], factors = [32, 32, 16], threads = 256, batch_tile = 1, workspace = f16>
func.func @split_rows(%u: tensor<1x2x33554432xf16>, %k: tensor<2x33554432xf32>) -> tensor<1x2x33554432xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<1x2x33554432xf16>, tensor<2x33554432xf32>) -> tensor<1x2x33554432xf16>
  return %y : tensor<1x2x33554432xf16>
}
