// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="ranks=4 rank=1" | FileCheck %s
// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="ranks=4 rank=1 max-row-length=8192" | FileCheck %s --check-prefix=ROWS

// Sharded over 4 ranks, a convolution takes the three-pass form whatever
// its size (the exchanges run between its passes): 65536 points as 16 rows
// of 4096, each rank's outer passes owning 1024 columns, its inner pass 4
// rows.
// CHECK-LABEL: func @sharded
// CHECK: butterfly.fused conv
// CHECK-SAME: plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", ranks = 4, rank = 1, outer_factors = [16], factors = [16, 16, 2, 8], threads = 256, batch_tile = 1, workspace = f16>
func.func @sharded(%u: tensor<4x2x32768xf16>, %k: tensor<2x32768xf32>) -> tensor<4x2x32768xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<4x2x32768xf16>, tensor<2x32768xf32>) -> tensor<4x2x32768xf16>
  return %y : tensor<4x2x32768xf16>
}

// -----

// bf16 data keeps an f32 workspace sharded: its f16 one of scaled values
// is one GPU's (its scales would not travel with the exchanges' rows).
// CHECK-LABEL: func @sharded_bf16
// CHECK: butterfly.fused conv
// CHECK-SAME: plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_90", ranks = 4, rank = 1, outer_factors = [16], factors = [16, 16, 16], threads = 256, batch_tile = 1>
func.func @sharded_bf16(%u: tensor<4x2x32768xbf16>, %k: tensor<2x32768xf32>) -> tensor<4x2x32768xbf16> {
  %y = fftconv.conv causal %u, %k : (tensor<4x2x32768xbf16>, tensor<2x32768xf32>) -> tensor<4x2x32768xbf16>
  return %y : tensor<4x2x32768xbf16>
}

// -----

// Past 8M points the rows grow instead (an inner block holds at most 128
// KiB): 2^25 points as 2048 rows of 16384, an outer block 8 columns. An
// inner block, one an SM, runs 512 threads.
// CHECK-LABEL: func @longest
// CHECK: butterfly.fused conv
// CHECK-SAME: ranks = 4, rank = 1, outer_factors = [16, 16, 8], factors = [16, 16, 8, 8], inner_threads = 512, threads = 256
// With rows of at most 8192 (max-row-length: a sharded training program's
// forward takes its backward's rows), 4096 of them, at Split (its outer
// kernels at Half: Split's outer blocks hold 2048).
// ROWS-LABEL: func @longest
// ROWS: butterfly.fused conv
// ROWS-SAME: three_pass, split, chip = "sm_90", ranks = 4, rank = 1, outer_factors = [16, 16, 16], factors = [16, 16, 4, 8]
func.func @longest(%u: tensor<2x1x16777216xf16>, %k: tensor<1x16777216xf32>) -> tensor<2x1x16777216xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x1x16777216xf16>, tensor<1x16777216xf32>) -> tensor<2x1x16777216xf16>
  return %y : tensor<2x1x16777216xf16>
}

// -----

// A backward is sharded alike: the kernel gradient's cross spectrum and
// channel inverse take the three-pass form with the same ranks and rows
// (the cross spectrum of f16 data at Half, as unsharded, up to 2^20
// points; the inverse at Split).
// CHECK-LABEL: func @gradient
// CHECK: butterfly.fused cross_spectrum
// CHECK-SAME: plan = #butterfly.gpu_plan<three_pass, half, chip = "sm_90", ranks = 4, rank = 1, outer_factors = [16], factors = [16, 16, 16]
// CHECK: butterfly.fused channel_inverse
// CHECK-SAME: plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", ranks = 4, rank = 1, outer_factors = [16], factors = [16, 16, 16]
func.func @gradient(%u: tensor<4x2x32768xf16>, %k: tensor<2x32768xf32>, %dy: tensor<4x2x32768xf16>) -> (tensor<4x2x32768xf16>, tensor<2x32768xf32>) {
  %du, %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel] : (tensor<4x2x32768xf16>, tensor<2x32768xf32>, tensor<4x2x32768xf16>) -> (tensor<4x2x32768xf16>, tensor<2x32768xf32>)
  return %du, %dk : tensor<4x2x32768xf16>, tensor<2x32768xf32>
}
