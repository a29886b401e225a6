// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels | FileCheck %s

// A backward's kernel gradient is planned in the single-kernel form: the
// cross spectrum at Half precision with a tile of batch elements (two
// sequences each), the inverse at Split, one channel a block; both with the
// stages the GPU runs (M = 1024 = 32 x 32), whatever the CPU decomposition
// chose for the region's transforms.
// CHECK-LABEL: func @kernel_gradient
// CHECK: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [32, 32], threads = 128, batch_tile = 3>
// CHECK: butterfly.fused channel_inverse {{.*}} plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [32, 32], threads = 128, batch_tile = 1>
func.func @kernel_gradient(%u: tensor<3x4x1024xf16>, %k: tensor<4x1024xf32>, %dy: tensor<3x4x1024xf16>) -> tensor<4x1024xf32> {
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<3x4x1024xf16>, tensor<4x1024xf32>, tensor<3x4x1024xf16>) -> tensor<4x1024xf32>
  return %dk : tensor<4x1024xf32>
}
