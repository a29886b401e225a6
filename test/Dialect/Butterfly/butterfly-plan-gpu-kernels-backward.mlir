// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels | FileCheck %s
// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=8192" | FileCheck %s --check-prefix=TP
// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="chip=sm_80" | FileCheck %s --check-prefix=SM80

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

// Past single-kernel-max the kernel gradient takes the three-pass form, as
// the backward's convolutions: the transform of N = 16K as 4 rows of 4096
// for both regions; the cross spectrum's inner block holds the rows of one
// pair of v and one of g, from f16 workspaces (f16 data), at Half; the
// inverse's sums stay f32, at Split.
// TP-LABEL: func @kernel_gradient_three_pass
// TP: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_90", outer_factors = [4], factors = [16, 16, 16], threads = 256, batch_tile = 1, workspace = f16>
// TP: butterfly.fused channel_inverse {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [4], factors = [16, 16, 16], threads = 256, batch_tile = 1>
func.func @kernel_gradient_three_pass(%u: tensor<3x4x8192xf16>, %k: tensor<4x8192xf32>, %dy: tensor<3x4x8192xf16>) -> tensor<4x8192xf32> {
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<3x4x8192xf16>, tensor<4x8192xf32>, tensor<3x4x8192xf16>) -> tensor<4x8192xf32>
  return %dk : tensor<4x8192xf32>
}

// At N = 32K the single-kernel cross spectrum cannot sum its row (16K + 1
// complex f32) beside one batch element's v and g in a block's shared
// memory. On sm_90 two blocks of a cluster share the tile (one holds v,
// the other g, each beside half of the row), and the correlation of that
// size stays a single kernel. On sm_80 (no clusters) the kernel gradient
// takes the three-pass form below single-kernel-max, and the correlation
// of its size with it (the kernel gradient's kernels run it). Of f16
// data, the three-pass cross spectrum at Half (up to 2^20 points), the
// rest at Split.
// CHECK-LABEL: func @row_past_shared_memory
// CHECK: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [32, 32, 16]
// CHECK: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [32, 32, 16], cluster = 2, threads = 512, batch_tile = 2>
// CHECK: butterfly.fused channel_inverse {{.*}} plan = #butterfly.gpu_plan<single_kernel, split, chip = "sm_90", factors = [32, 32, 16], threads = 512, batch_tile = 1>
// SM80-LABEL: func @row_past_shared_memory
// SM80: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_80", outer_factors = [8], factors = [16, 16, 16]
// SM80: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_80", outer_factors = [8], factors = [16, 16, 16]
// SM80: butterfly.fused channel_inverse {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_80", outer_factors = [8], factors = [16, 16, 16]
func.func @row_past_shared_memory(%u: tensor<2x4x16384xf16>, %k: tensor<4x16384xf32>, %dy: tensor<2x4x16384xf16>) -> (tensor<2x4x16384xf16>, tensor<4x16384xf32>) {
  %du, %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel]
      : (tensor<2x4x16384xf16>, tensor<4x16384xf32>, tensor<2x4x16384xf16>) -> (tensor<2x4x16384xf16>, tensor<4x16384xf32>)
  return %du, %dk : tensor<2x4x16384xf16>, tensor<4x16384xf32>
}

// A gated backward at N = 32K keeps the three-pass form on sm_90 too: its
// kernels run the correlation and the postgate's convolution from the
// transforms of v and g they share (four a batch element, against six for
// single kernels and a clustered cross spectrum).
// CHECK-LABEL: func @gated_row_past_shared_memory
// CHECK: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_90", outer_factors = [8], factors = [16, 16, 16]
// CHECK-NOT: cluster
func.func @gated_row_past_shared_memory(%u: tensor<2x4x16384xf16>, %k: tensor<4x16384xf32>, %pre: tensor<2x4x16384xf16>, %post: tensor<2x4x16384xf16>, %dy: tensor<2x4x16384xf16>)
    -> (tensor<2x4x16384xf16>, tensor<4x16384xf32>, tensor<2x4x16384xf16>, tensor<2x4x16384xf16>) {
  %g:4 = fftconv.conv_grad causal %u, %k pregate %pre postgate %post grad %dy wrt [input, kernel, pregate, postgate]
      : (tensor<2x4x16384xf16>, tensor<4x16384xf32>, tensor<2x4x16384xf16>, tensor<2x4x16384xf16>, tensor<2x4x16384xf16>)
      -> (tensor<2x4x16384xf16>, tensor<4x16384xf32>, tensor<2x4x16384xf16>, tensor<2x4x16384xf16>)
  return %g#0, %g#1, %g#2, %g#3 : tensor<2x4x16384xf16>, tensor<4x16384xf32>, tensor<2x4x16384xf16>, tensor<2x4x16384xf16>
}

// bf16 data: on sm_90 the clustered cross spectrum as for f16, the
// correlation with a kernel of its own (in the cluster, g's block alone
// would run it while v's idles); on sm_80
// the three-pass cross spectrum and the correlation at Half (bf16's own
// roundings are most of its budget), on the same rows, over f16
// workspaces of scaled values as a forward's; the sums' inverse (dk, f32)
// stays at Split.
// CHECK-LABEL: func @row_past_shared_memory_bf16
// CHECK: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [32, 32, 16]
// CHECK: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [32, 32, 16], cluster = 2, threads = 512, batch_tile = 2>
// SM80-LABEL: func @row_past_shared_memory_bf16
// SM80: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_80", outer_factors = [8], factors = [16, 16, 16], threads = 256, batch_tile = 1, workspace = f16>
// SM80: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_80", outer_factors = [8], factors = [16, 16, 16], threads = 256, batch_tile = 1, workspace = f16>
// SM80: butterfly.fused channel_inverse {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_80", outer_factors = [8], factors = [16, 16, 16]
func.func @row_past_shared_memory_bf16(%u: tensor<2x4x16384xbf16>, %k: tensor<4x16384xf32>, %dy: tensor<2x4x16384xbf16>) -> (tensor<2x4x16384xbf16>, tensor<4x16384xf32>) {
  %du, %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel]
      : (tensor<2x4x16384xbf16>, tensor<4x16384xf32>, tensor<2x4x16384xbf16>) -> (tensor<2x4x16384xbf16>, tensor<4x16384xf32>)
  return %du, %dk : tensor<2x4x16384xbf16>, tensor<4x16384xf32>
}

// f16's cross spectrum at Half up to 2^20 points; past them at Split (Half
// measured past f16's 1e-3 budget at 2^25).
// CHECK-LABEL: func @longest_half_gradient
// CHECK: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<three_pass, half,
// CHECK-LABEL: func @past_half_gradient
// CHECK: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<three_pass, split,
func.func @longest_half_gradient(%u: tensor<2x1x524288xf16>, %k: tensor<1x524288xf32>, %dy: tensor<2x1x524288xf16>) -> tensor<1x524288xf32> {
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<2x1x524288xf16>, tensor<1x524288xf32>, tensor<2x1x524288xf16>) -> tensor<1x524288xf32>
  return %dk : tensor<1x524288xf32>
}
func.func @past_half_gradient(%u: tensor<2x1x1048576xf16>, %k: tensor<1x1048576xf32>, %dy: tensor<2x1x1048576xf16>) -> tensor<1x1048576xf32> {
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<2x1x1048576xf16>, tensor<1x1048576xf32>, tensor<2x1x1048576xf16>) -> tensor<1x1048576xf32>
  return %dk : tensor<1x1048576xf32>
}

// Past 2^22 points every three-pass plan of a backward with a three-pass
// kernel gradient takes the rows the cross spectrum's inner block holds
// (two rows of a pair and their f32 sum: 8192 at Split): 2048 of them for
// N = 2^24 (L = 2^23); the correlation (du), the cross spectrum and the
// sums' inverse alike.
// TP-LABEL: func @long_gradient_split
// TP: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16, 16, 8], factors = [32, 16, 16],
// TP: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16, 16, 8], factors = [32, 16, 16],
// TP: butterfly.fused channel_inverse {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16, 16, 8], factors = [32, 16, 16],
func.func @long_gradient_split(%u: tensor<2x1x8388608xf16>, %k: tensor<1x8388608xf32>, %dy: tensor<2x1x8388608xf16>) -> (tensor<2x1x8388608xf16>, tensor<1x8388608xf32>) {
  %du, %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel]
      : (tensor<2x1x8388608xf16>, tensor<1x8388608xf32>, tensor<2x1x8388608xf16>) -> (tensor<2x1x8388608xf16>, tensor<1x8388608xf32>)
  return %du, %dk : tensor<2x1x8388608xf16>, tensor<1x8388608xf32>
}

// Past 2^24 points the gradient's rows stay at 8192 and Split, and its
// outer kernels run 4096 rows at Half (ThreePassPlan::outerPrecision; not
// in the attribute): N = 2^25 (L = 2^24), the longest kernel gradient.
// TP-LABEL: func @longest_gradient
// TP: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16, 16, 16], factors = [32, 16, 16],
// TP: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16, 16, 16], factors = [32, 16, 16],
// TP: butterfly.fused channel_inverse {{.*}} plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16, 16, 16], factors = [32, 16, 16],
func.func @longest_gradient(%u: tensor<2x1x16777216xf16>, %k: tensor<1x16777216xf32>, %dy: tensor<2x1x16777216xf16>) -> (tensor<2x1x16777216xf16>, tensor<1x16777216xf32>) {
  %du, %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel]
      : (tensor<2x1x16777216xf16>, tensor<1x16777216xf32>, tensor<2x1x16777216xf16>) -> (tensor<2x1x16777216xf16>, tensor<1x16777216xf32>)
  return %du, %dk : tensor<2x1x16777216xf16>, tensor<1x16777216xf32>
}

// A bf16 backward's correlation and postgate's convolution run in its
// single-kernel cross spectrum (in_cross_spectrum: the cross spectrum's
// precision, factors, threads and batch tile), from the spectra of g and v
// it holds. An f16 backward's have kernels of their own, whose fused
// product (in f32) keeps du's error lower.
// CHECK-LABEL: func @in_cross_spectrum_bf16
// CHECK: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 16, 8], threads = 256, batch_tile = 4>
// CHECK-COUNT-2: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<in_cross_spectrum, half, chip = "sm_90", factors = [16, 16, 8], threads = 256, batch_tile = 4>
// CHECK-LABEL: func @own_kernels_f16
// CHECK-NOT: in_cross_spectrum
// CHECK-COUNT-2: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 16, 8]
// CHECK-NOT: in_cross_spectrum
// CHECK: return
func.func @in_cross_spectrum_bf16(%u: tensor<4x4x2048xbf16>, %k: tensor<4x2048xf32>, %pre: tensor<4x4x2048xbf16>, %post: tensor<4x4x2048xbf16>, %dy: tensor<4x4x2048xbf16>)
    -> (tensor<4x4x2048xbf16>, tensor<4x2048xf32>, tensor<4x4x2048xbf16>, tensor<4x4x2048xbf16>) {
  %g:4 = fftconv.conv_grad causal %u, %k pregate %pre postgate %post grad %dy wrt [input, kernel, pregate, postgate]
      : (tensor<4x4x2048xbf16>, tensor<4x2048xf32>, tensor<4x4x2048xbf16>, tensor<4x4x2048xbf16>, tensor<4x4x2048xbf16>)
      -> (tensor<4x4x2048xbf16>, tensor<4x2048xf32>, tensor<4x4x2048xbf16>, tensor<4x4x2048xbf16>)
  return %g#0, %g#1, %g#2, %g#3 : tensor<4x4x2048xbf16>, tensor<4x2048xf32>, tensor<4x4x2048xbf16>, tensor<4x4x2048xbf16>
}
func.func @own_kernels_f16(%u: tensor<4x4x2048xf16>, %k: tensor<4x2048xf32>, %pre: tensor<4x4x2048xf16>, %post: tensor<4x4x2048xf16>, %dy: tensor<4x4x2048xf16>)
    -> (tensor<4x4x2048xf16>, tensor<4x2048xf32>, tensor<4x4x2048xf16>, tensor<4x4x2048xf16>) {
  %g:4 = fftconv.conv_grad causal %u, %k pregate %pre postgate %post grad %dy wrt [input, kernel, pregate, postgate]
      : (tensor<4x4x2048xf16>, tensor<4x2048xf32>, tensor<4x4x2048xf16>, tensor<4x4x2048xf16>, tensor<4x4x2048xf16>)
      -> (tensor<4x4x2048xf16>, tensor<4x2048xf32>, tensor<4x4x2048xf16>, tensor<4x4x2048xf16>)
  return %g#0, %g#1, %g#2, %g#3 : tensor<4x4x2048xf16>, tensor<4x2048xf32>, tensor<4x4x2048xf16>, tensor<4x4x2048xf16>
}

// A bf16 gated backward at N = 32K on sm_90: the clustered cross spectrum
// runs both convolutions, each block its side's (v's block the postgate's,
// g's block the correlation), so the gated backward takes the cluster too.
// On sm_80 the three-pass form, as for f16.
// CHECK-LABEL: func @gated_row_past_shared_memory_bf16
// CHECK: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [32, 32, 16], cluster = 2, threads = 512, batch_tile = 2>
// CHECK-COUNT-2: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<in_cross_spectrum, half, chip = "sm_90", factors = [32, 32, 16], threads = 512, batch_tile = 2>
// SM80-LABEL: func @gated_row_past_shared_memory_bf16
// SM80: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_80"
// SM80-COUNT-2: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_80"
func.func @gated_row_past_shared_memory_bf16(%u: tensor<2x4x16384xbf16>, %k: tensor<4x16384xf32>, %pre: tensor<2x4x16384xbf16>, %post: tensor<2x4x16384xbf16>, %dy: tensor<2x4x16384xbf16>)
    -> (tensor<2x4x16384xbf16>, tensor<4x16384xf32>, tensor<2x4x16384xbf16>, tensor<2x4x16384xbf16>) {
  %g:4 = fftconv.conv_grad causal %u, %k pregate %pre postgate %post grad %dy wrt [input, kernel, pregate, postgate]
      : (tensor<2x4x16384xbf16>, tensor<4x16384xf32>, tensor<2x4x16384xbf16>, tensor<2x4x16384xbf16>, tensor<2x4x16384xbf16>)
      -> (tensor<2x4x16384xbf16>, tensor<4x16384xf32>, tensor<2x4x16384xbf16>, tensor<2x4x16384xbf16>)
  return %g#0, %g#1, %g#2, %g#3 : tensor<2x4x16384xbf16>, tensor<4x16384xf32>, tensor<2x4x16384xbf16>, tensor<2x4x16384xbf16>
}

// The cross spectrum runs the conv regions that pack the sequences it
// transforms: a convolution of another sequence of the same size in the
// function keeps a kernel of its own.
// CHECK-LABEL: func @unrelated_convolution_bf16
// CHECK: butterfly.fused cross_spectrum {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 16, 8], threads = 256, batch_tile = 4>
// CHECK-NOT: in_cross_spectrum
// CHECK: butterfly.fused conv {{.*}} plan = #butterfly.gpu_plan<single_kernel, half, chip = "sm_90", factors = [16, 16, 8]
// CHECK-NOT: in_cross_spectrum
// CHECK: return
func.func @unrelated_convolution_bf16(%u: tensor<4x4x2048xbf16>, %k: tensor<4x2048xf32>, %dy: tensor<4x4x2048xbf16>, %x: tensor<4x4x2048xbf16>)
    -> (tensor<4x2048xf32>, tensor<4x4x2048xbf16>) {
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<4x4x2048xbf16>, tensor<4x2048xf32>, tensor<4x4x2048xbf16>) -> tensor<4x2048xf32>
  %y = fftconv.conv causal %x, %k : (tensor<4x4x2048xbf16>, tensor<4x2048xf32>) -> tensor<4x4x2048xbf16>
  return %dk, %y : tensor<4x2048xf32>, tensor<4x4x2048xbf16>
}
