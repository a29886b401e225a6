// RUN: fftconv-opt %s -fftconv-to-butterfly="order=1" -butterfly-plan-gpu-kernels="restage=1" | FileCheck %s

// With restage (fftconv-to-ptx's choice when the order is auto), factors
// the kernels cannot run (order 1: one factor of 128) give way to the
// kernels' own stages for M = 128; f32 data is held at Split precision.
// CHECK-LABEL: func @large_factor
// CHECK: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [16, 8],
func.func @large_factor(%u: tensor<1x1x128xf32>, %k: tensor<1x128xf32>) -> tensor<1x1x128xf32> {
  %y = fftconv.conv causal %u, %k : (tensor<1x1x128xf32>, tensor<1x128xf32>) -> tensor<1x1x128xf32>
  return %y : tensor<1x1x128xf32>
}
