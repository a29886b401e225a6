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

// The longest kernel gradient, N = 2^25 (L = 2^24): rows of 8192 at Split
// (the cross spectrum's block holds two rows and their f32 sum, 192 KiB)
// and outer blocks of 4096 rows x 8 columns at Half (128 KiB; Split's would
// take 256: ThreePassPlan::outerPrecision). du's correlation runs on the
// gradient's workspaces.
// CHECK-LABEL: func.func @longest_gradient
// CHECK: %[[G0:.*]] = arith.constant 131072 : i32
// CHECK: gpu.launch_func @longest_gradient_kernels::@longest_gradient_conv0_spectrum_outer {{.*}} dynamic_shared_memory_size %[[G0]]
// CHECK: %[[G1:.*]] = arith.constant 65536 : i32
// CHECK: gpu.launch_func @longest_gradient_kernels::@longest_gradient_conv0_spectrum_inner {{.*}} dynamic_shared_memory_size %[[G1]]
// CHECK: %[[G2:.*]] = arith.constant 131072 : i32
// CHECK: gpu.launch_func @longest_gradient_kernels::@longest_gradient_kernel_gradient0_outer_forward_v {{.*}} dynamic_shared_memory_size %[[G2]]
// CHECK: %[[G3:.*]] = arith.constant 196608 : i32
// CHECK: gpu.launch_func @longest_gradient_kernels::@longest_gradient_kernel_gradient0_cross_spectrum {{.*}} dynamic_shared_memory_size %[[G3]]
// CHECK: %[[G4:.*]] = arith.constant 131072 : i32
// CHECK: gpu.launch_func @longest_gradient_kernels::@longest_gradient_conv0_outer_inverse {{.*}} dynamic_shared_memory_size %[[G4]]
func.func @longest_gradient(%u: tensor<2x1x16777216xf16>, %k: tensor<1x16777216xf32>, %dy: tensor<2x1x16777216xf16>) -> (tensor<2x1x16777216xf16>, tensor<1x16777216xf32>) {
  %du, %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel]
      : (tensor<2x1x16777216xf16>, tensor<1x16777216xf32>, tensor<2x1x16777216xf16>) -> (tensor<2x1x16777216xf16>, tensor<1x16777216xf32>)
  return %du, %dk : tensor<2x1x16777216xf16>, tensor<1x16777216xf32>
}

// The longest kernel gradient, N = 2^26 (circular L = 2^26): rows of 8192
// at Split leave 8192 outer rows, which 8 columns do not hold even at
// Half; the outer blocks own 4 columns (8192 x 4 x 4 bytes: 128 KiB; 2048
// blocks for 8192 columns) and read and write them through the first 4
// lanes of each 8-sample access: K's taps (lanes 4 to 7 unread: past them
// may lie the end of a rank's shard), v's samples as 4-lane vectors into
// shared memory, and dk's lags.
// CHECK-LABEL: gpu.func @narrow_gradient_conv0_spectrum_outer
// CHECK: %[[TAPS4:.*]] = arith.constant dense<[true, true, true, true, false, false, false, false]> : vector<8xi1>
// CHECK: vector.extract %[[TAPS4]][7] : i1 from vector<8xi1>
// CHECK-LABEL: gpu.func @narrow_gradient_kernel_gradient0_outer_forward_v
// CHECK: %[[FIRST4:.*]] = arith.constant dense<[true, true, true, true, false, false, false, false]> : vector<8xi1>
// CHECK: vector.maskedload {{.*}}, %[[FIRST4]]
// CHECK: vector.shuffle {{.*}} [0, 1, 2, 3] : vector<8xf32>, vector<8xf32>
// CHECK-LABEL: gpu.func @narrow_gradient_kernel_gradient0_outer_inverse
// CHECK: %[[LAGS4:.*]] = arith.constant dense<[true, true, true, true, false, false, false, false]> : vector<8xi1>
// CHECK: vector.maskedstore %arg1[{{.*}}], %[[LAGS4]]
// CHECK-LABEL: func.func @narrow_gradient
// CHECK: %[[N0:.*]] = arith.constant 131072 : i32
// CHECK: gpu.launch_func @narrow_gradient_kernels::@narrow_gradient_conv0_spectrum_outer blocks in (%c2048, {{.*}} dynamic_shared_memory_size %[[N0]]
func.func @narrow_gradient(%u: tensor<1x1x67108864xf16>, %k: tensor<1x67108864xf32>, %dy: tensor<1x1x67108864xf16>) -> (tensor<1x1x67108864xf16>, tensor<1x67108864xf32>) {
  %du, %dk = fftconv.conv_grad circular %u, %k grad %dy wrt [input, kernel]
      : (tensor<1x1x67108864xf16>, tensor<1x67108864xf32>, tensor<1x1x67108864xf16>) -> (tensor<1x1x67108864xf16>, tensor<1x67108864xf32>)
  return %du, %dk : tensor<1x1x67108864xf16>, tensor<1x67108864xf32>
}
