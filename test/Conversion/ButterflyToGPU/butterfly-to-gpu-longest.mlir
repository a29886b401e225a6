// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels -butterfly-to-gpu | FileCheck %s

// The longest transform, N = 2^27 at Half precision: rows of 32768 and
// outer blocks of 4096 rows x 8 columns, 128 KiB each. K's kernels run at
// Half too: at Split their rows would take 256 KiB, past a block's shared
// memory (ThreePassPlan::spectrumPrecision).
// CHECK-LABEL: func.func @longest
// CHECK: %[[S0:.*]] = arith.constant 131072 : i32
// CHECK: gpu.launch_func @longest_kernels::@longest_conv0_spectrum_outer {{.*}} dynamic_shared_memory_size %[[S0]]
// CHECK: %[[S1:.*]] = arith.constant 131072 : i32
// CHECK: gpu.launch_func @longest_kernels::@longest_conv0_spectrum_inner {{.*}} dynamic_shared_memory_size %[[S1]]
// CHECK: %[[S2:.*]] = arith.constant 131072 : i32
// CHECK: gpu.launch_func @longest_kernels::@longest_conv0_outer_forward {{.*}} dynamic_shared_memory_size %[[S2]]
// CHECK: %[[S3:.*]] = arith.constant 131072 : i32
// CHECK: gpu.launch_func @longest_kernels::@longest_conv0_inner {{.*}} dynamic_shared_memory_size %[[S3]]
// CHECK: %[[S4:.*]] = arith.constant 131072 : i32
// CHECK: gpu.launch_func @longest_kernels::@longest_conv0_outer_inverse {{.*}} dynamic_shared_memory_size %[[S4]]
func.func @longest(%u: tensor<1x2x67108864xf16>, %k: tensor<2x67108864xf32>) -> tensor<1x2x67108864xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<1x2x67108864xf16>, tensor<2x67108864xf32>) -> tensor<1x2x67108864xf16>
  return %y : tensor<1x2x67108864xf16>
}
