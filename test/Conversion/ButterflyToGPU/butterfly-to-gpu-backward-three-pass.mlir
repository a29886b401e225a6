// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=8192" -butterfly-to-gpu | FileCheck %s

// The backward of a gated causal convolution past the single-kernel form
// (N = 16K, B = 3: two chunks of one pair). The kernel gradient's kernels
// run the correlation (du, dpre) and the postgate's convolution (dpost)
// too: K once, unconjugated; per chunk the outer forward kernels of v's
// and g's pairs, one inner kernel (the cross spectrum, W conj(K) and Z K
// with their inverse rows: K its fourth argument) and the two
// convolutions' outer inverse kernels over the kernel gradient's
// workspaces (g's for the correlation, v's for the convolution; f16, as the
// data, the sums f32). With f16 workspaces the twiddle between the passes
// is the inner kernels', and the convolutions' outer inverse kernels run at
// Half: one f16 plane a value, 4096 bytes a block. f16's cross spectrum
// runs at Half too (up to 2^20 points): its outer forward kernels the
// same 4096 bytes, its inner block 64 KiB (f32 data's at Split below).

// CHECK-LABEL: gpu.func @gated_conv0_spectrum_inner
// CHECK-NOT: arith.constant -1.280000e+02 : f32
// CHECK: gpu.return
// CHECK-LABEL: gpu.func @gated_kernel_gradient0_cross_spectrum
// CHECK-SAME: (%{{.*}}: memref<1x4x32768xf16> {llvm.noalias}, %{{.*}}: memref<1x4x32768xf16> {llvm.noalias}, %{{.*}}: memref<1x4x32768xf32> {llvm.noalias}, %{{.*}}: memref<4x32768xf32> {llvm.noalias}) kernel
// CHECK: nvgpu.mma.sync
// The lags: dk from them, scaled by sqrt(N).
// CHECK-LABEL: gpu.func @gated_kernel_gradient0_lags
// CHECK: arith.constant 1.280000e+02 : f32

// CHECK-LABEL: func.func @gated(
// CHECK-SAME: %[[U:[a-z0-9]+]]: memref<3x4x8192xf16> {fftconv.role = "input"}, %[[K:[a-z0-9]+]]: memref<4x8192xf32> {fftconv.role = "input"}, %[[PRE:[a-z0-9]+]]: memref<3x4x8192xf16> {fftconv.role = "input"}, %[[POST:[a-z0-9]+]]: memref<3x4x8192xf16> {fftconv.role = "input"}, %[[DY:[a-z0-9]+]]: memref<3x4x8192xf16> {fftconv.role = "input"}
// CHECK-SAME: %[[SPECTRUM:[a-z0-9]+]]: memref<4x32768xf32> {fftconv.role = "workspace"}, %[[ZS:[a-z0-9]+]]: memref<1x4x32768xf16> {fftconv.role = "workspace"}, %[[WS:[a-z0-9]+]]: memref<1x4x32768xf16> {fftconv.role = "workspace"}, %[[SUMS:[a-z0-9]+]]: memref<1x4x32768xf32> {fftconv.role = "workspace"}, %[[LAGS:[a-z0-9]+]]: memref<4x8192xf32> {fftconv.role = "workspace"})
// The manifest's record: K, the outer forward and inner kernels under the
// correlation with its outer inverse kernels, the convolution's own.
// CHECK-SAME: fftconv.convolutions = [{fft_size = 16384 : i64, kernels = array<i64: 0, 1, 2, 3, 4, 5, 7, 8, 9, 10>
// CHECK-SAME: {fft_size = 16384 : i64, kernels = array<i64: 6, 11>
// CHECK: @gated_conv0_spectrum_outer {{.*}} args(%[[K]] : memref<4x8192xf32>, %[[SPECTRUM]] : memref<4x32768xf32>)
// CHECK: @gated_conv0_spectrum_inner
// CHECK: @gated_kernel_gradient0_outer_forward_v_0 {{.*}} dynamic_shared_memory_size %c4096_i32{{[_0-9]*}} args({{.*}}, %[[ZS]] : memref<1x4x32768xf16>)
// CHECK: @gated_kernel_gradient0_outer_forward_g_0 {{.*}}, %[[WS]] : memref<1x4x32768xf16>)
// CHECK: @gated_kernel_gradient0_cross_spectrum blocks in (%c4{{.*}}, %c4{{.*}}, %c1{{.*}}) {{.*}} dynamic_shared_memory_size %c65536_i32 args(%[[ZS]] : memref<1x4x32768xf16>, %[[WS]] : memref<1x4x32768xf16>, %[[SUMS]] : memref<1x4x32768xf32>, %[[SPECTRUM]] : memref<4x32768xf32>)
// CHECK: @gated_conv0_outer_inverse_0 {{.*}} dynamic_shared_memory_size %c4096_i32{{[_0-9]*}} args({{.*}}%[[WS]] : memref<1x4x32768xf16>
// CHECK: @gated_conv1_outer_inverse_0 {{.*}} dynamic_shared_memory_size %c4096_i32{{[_0-9]*}} args({{.*}}%[[ZS]] : memref<1x4x32768xf16>
// CHECK: @gated_kernel_gradient0_outer_forward_v_1
// CHECK: @gated_kernel_gradient0_outer_forward_g_1
// CHECK: @gated_kernel_gradient0_cross_spectrum_add
// CHECK: @gated_conv0_outer_inverse_1
// CHECK: @gated_conv1_outer_inverse_1
// CHECK: @gated_kernel_gradient0_inner_inverse {{.*}} args(%[[SUMS]] : memref<1x4x32768xf32>)
// CHECK: @gated_kernel_gradient0_outer_inverse {{.*}} args(%[[SUMS]] : memref<1x4x32768xf32>, %[[LAGS]] : memref<4x8192xf32>)
// CHECK: @gated_kernel_gradient0_lags blocks in (%c4{{.*}}, %c1{{.*}}, %c1{{.*}})
// CHECK-NOT: gpu.launch_func
// CHECK: return
func.func @gated(%u: tensor<3x4x8192xf16>, %k: tensor<4x8192xf32>, %pre: tensor<3x4x8192xf16>, %post: tensor<3x4x8192xf16>, %dy: tensor<3x4x8192xf16>) -> (tensor<3x4x8192xf16>, tensor<4x8192xf32>, tensor<3x4x8192xf16>, tensor<3x4x8192xf16>) {
  %du, %dk, %dpre, %dpost = fftconv.conv_grad causal %u, %k pregate %pre postgate %post grad %dy wrt [input, kernel, pregate, postgate]
      : (tensor<3x4x8192xf16>, tensor<4x8192xf32>, tensor<3x4x8192xf16>, tensor<3x4x8192xf16>, tensor<3x4x8192xf16>) -> (tensor<3x4x8192xf16>, tensor<4x8192xf32>, tensor<3x4x8192xf16>, tensor<3x4x8192xf16>)
  return %du, %dk, %dpre, %dpost : tensor<3x4x8192xf16>, tensor<4x8192xf32>, tensor<3x4x8192xf16>, tensor<3x4x8192xf16>
}

// -----

// du alone: no kernel gradient to fuse with; the three-pass correlation,
// whose spectrum kernel stores conj(K) (K scaled back by sqrt(N) = 128 and
// by k's range scale, its imaginary part negated).
// CHECK-LABEL: gpu.func @input_only_conv0_spectrum_inner
// CHECK: nvvm.redux.sync umax
// CHECK: %[[SQRT_N:.*]] = arith.constant 1.280000e+02 : f32
// CHECK: %[[SCALE:.*]] = arith.mulf %[[SQRT_N]], %{{.*}} : f32
// CHECK: arith.negf %[[SCALE]] : f32
// CHECK: gpu.return
// CHECK-LABEL: func.func @input_only(
// CHECK: @input_only_conv0_spectrum_outer
// CHECK: @input_only_conv0_spectrum_inner
// CHECK: @input_only_conv0_outer_forward_0
// CHECK: @input_only_conv0_inner
// CHECK: @input_only_conv0_outer_inverse_0
func.func @input_only(%u: tensor<3x4x8192xf16>, %k: tensor<4x8192xf32>, %dy: tensor<3x4x8192xf16>) -> tensor<3x4x8192xf16> {
  %du = fftconv.conv_grad causal %u, %k grad %dy wrt [input]
      : (tensor<3x4x8192xf16>, tensor<4x8192xf32>, tensor<3x4x8192xf16>) -> tensor<3x4x8192xf16>
  return %du : tensor<3x4x8192xf16>
}

// -----

// f32 data: the cross spectrum at Split, each value a high and a low f16:
// its outer forward blocks 8192 bytes, its inner 96 KiB.
// CHECK-LABEL: func.func @split_gradient(
// CHECK: @split_gradient_kernel_gradient0_outer_forward_v_0 {{.*}} dynamic_shared_memory_size %c8192_i32
// CHECK: @split_gradient_kernel_gradient0_outer_forward_g_0 {{.*}} dynamic_shared_memory_size %c8192_i32
// CHECK: @split_gradient_kernel_gradient0_cross_spectrum {{.*}} dynamic_shared_memory_size %c98304_i32
func.func @split_gradient(%u: tensor<3x4x8192xf32>, %k: tensor<4x8192xf32>, %dy: tensor<3x4x8192xf32>) -> tensor<4x8192xf32> {
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<3x4x8192xf32>, tensor<4x8192xf32>, tensor<3x4x8192xf32>) -> tensor<4x8192xf32>
  return %dk : tensor<4x8192xf32>
}

// -----

// bf16 data: the kernel gradient's workspaces are f16 of scaled values, as
// a bf16 convolution's (N = 16384 values and 20 f32 scales a pair and
// channel: 4 rows, then 16 tiles of 256 columns). The outer forward
// kernels store their tiles' scales, the cross spectrum multiplies each
// quad it loads by its tile's and stores its rows' (the correlation's
// products), and the correlation's outer inverse multiplies each row by
// its.
// CHECK-LABEL: gpu.func @bf16_kernel_gradient0_outer_forward_v_0(
// CHECK-SAME: memref<1x4x32808xf16>
// CHECK: vector.bitcast %{{.*}} : vector<1xf32> to vector<2xf16>
// CHECK-LABEL: gpu.func @bf16_kernel_gradient0_cross_spectrum(
// CHECK-SAME: memref<1x4x32808xf16> {llvm.noalias}, %{{.*}}: memref<1x4x32808xf16> {llvm.noalias}, %{{.*}}: memref<1x4x32768xf32>
// CHECK: vector.bitcast %{{.*}} : vector<2xf16> to vector<1xf32>
// CHECK: vector.bitcast %{{.*}} : vector<1xf32> to vector<2xf16>
// CHECK-LABEL: gpu.func @bf16_conv0_outer_inverse_0(
// CHECK: vector.bitcast %{{.*}} : vector<2xf16> to vector<1xf32>
// CHECK: nvvm.redux.sync umax
func.func @bf16(%u: tensor<3x4x8192xbf16>, %k: tensor<4x8192xf32>, %dy: tensor<3x4x8192xbf16>) -> (tensor<3x4x8192xbf16>, tensor<4x8192xf32>) {
  %du, %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel]
      : (tensor<3x4x8192xbf16>, tensor<4x8192xf32>, tensor<3x4x8192xbf16>) -> (tensor<3x4x8192xbf16>, tensor<4x8192xf32>)
  return %du, %dk : tensor<3x4x8192xbf16>, tensor<4x8192xf32>
}
