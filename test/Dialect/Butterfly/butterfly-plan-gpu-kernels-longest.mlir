// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels | FileCheck %s
// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="threads=256" | FileCheck %s --check-prefix=GIVEN

// Where the request gives the threads, every block runs them.
// GIVEN-NOT: inner_threads

// A causal L = 2^26 (N = 2^27): past what Split's rows hold (2^26), auto
// takes Half, whose rows of 32768 and outer blocks of 4096 rows x 8 columns
// hold 128 KiB each. An inner block, one an SM, runs 512 threads.
// CHECK-LABEL: func @longest
// CHECK: plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_90", outer_factors = [16, 16, 16], factors = [32, 32, 32], inner_threads = 512, threads = 256, batch_tile = 1, workspace = f16>
func.func @longest(%u: tensor<1x2x67108864xf16>, %k: tensor<2x67108864xf32>) -> tensor<1x2x67108864xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<1x2x67108864xf16>, tensor<2x67108864xf32>) -> tensor<1x2x67108864xf16>
  return %y : tensor<1x2x67108864xf16>
}

// -----

// A causal L = 2^25 (N = 2^26): Split's rows of 16384 still hold it, 4096
// of them, so auto takes Split; its outer kernels run at Half (a Split tile
// of 4096 rows x 8 columns would take 256 KiB: ThreePassPlan::outerPrecision,
// which the plan does not record).
// CHECK-LABEL: func @split_rows
// CHECK: plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16, 16, 16], factors = [16, 16, 8, 8], inner_threads = 512, threads = 256, batch_tile = 1, workspace = f16>
func.func @split_rows(%u: tensor<1x2x33554432xf16>, %k: tensor<2x33554432xf32>) -> tensor<1x2x33554432xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<1x2x33554432xf16>, tensor<2x33554432xf32>) -> tensor<1x2x33554432xf16>
  return %y : tensor<1x2x33554432xf16>
}

// -----

// The longest kernel gradient, causal L = 2^25 (N = 2^26): its rows of
// 8192 at Split (what the cross spectrum's block holds) leave 8192 outer
// rows, past what 8 columns hold at Half: the outer blocks own 4 and the
// last outer stage is a factor of 8 on the FMA units. The forward of the
// same size takes the gradient's rows (and so Split: Half's rows would be
// no longer). Rows of 8192 at Split take 64 KiB, three blocks an SM: no
// inner_threads; the cross spectrum's block of two rows and their sum
// (192 KiB) fills an SM and runs 512 threads.
// CHECK-LABEL: func @longest_gradient
// CHECK: fused conv {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [32, 32, 8], factors = [32, 16, 16], threads = 256, batch_tile = 1, workspace = f16>
// CHECK: fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [32, 32, 8], factors = [32, 16, 16], inner_threads = 512, threads = 256, batch_tile = 1, workspace = f16>
func.func @longest_gradient(%u: tensor<2x1x33554432xf16>, %k: tensor<1x33554432xf32>, %dy: tensor<2x1x33554432xf16>) -> (tensor<2x1x33554432xf16>, tensor<1x33554432xf32>) {
  %y = fftconv.conv causal %u, %k : (tensor<2x1x33554432xf16>, tensor<1x33554432xf32>) -> tensor<2x1x33554432xf16>
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<2x1x33554432xf16>, tensor<1x33554432xf32>, tensor<2x1x33554432xf16>) -> tensor<1x33554432xf32>
  return %y, %dk : tensor<2x1x33554432xf16>, tensor<1x33554432xf32>
}
