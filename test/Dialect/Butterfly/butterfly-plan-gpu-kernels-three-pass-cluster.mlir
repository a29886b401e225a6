// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=32768 three-pass-cluster=8" | FileCheck %s
// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=32768" | FileCheck %s --check-prefix=DEFAULT

// The three passes in one kernel on clusters of 8 blocks: a cluster a
// pair, so a batch tile of one. By default the three kernels.
// CHECK-LABEL: func.func @causal_64k
// CHECK: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16], factors = [16, 16, 2, 8], cluster = 8, threads = 256, batch_tile = 1, workspace = f16>
// DEFAULT-LABEL: func.func @causal_64k
// DEFAULT-NOT: cluster
// DEFAULT: outer_inverse
func.func @causal_64k(%u: tensor<8x4x32768xf16>, %k: tensor<4x32768xf32>) -> tensor<8x4x32768xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<8x4x32768xf16>, tensor<4x32768xf32>) -> tensor<8x4x32768xf16>
  return %y : tensor<8x4x32768xf16>
}
