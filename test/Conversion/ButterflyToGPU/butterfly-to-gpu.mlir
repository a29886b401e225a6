// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels -butterfly-to-gpu | FileCheck %s
// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="chip=sm_80 threads=64 batch-tile=2" -butterfly-to-gpu | FileCheck %s --check-prefix=OPTS
// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="batch-tile=2 precision=split" -butterfly-to-gpu | FileCheck %s --check-prefix=SPLIT
// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels -butterfly-to-gpu | FileCheck %s --check-prefix=SCALE

// A gated causal convolution with skip, f16, N = 256: M = 128 = 16 x 8, one
// tensor-core stage and one FMA stage each way.

// The kernels live in a gpu.module for the chip.
// CHECK: module attributes {gpu.container_module}
// CHECK: gpu.module @hyena_kernels [#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">]

// The spectrum kernel reads k and writes the coefficients.
// K is prepared at split precision: the 16-point stage takes 3 products for
// each of its 4 real terms.
// k is f32: the block's largest tap (a warp's by redux.sync) picks the
// power of two that scales it into f16's range.
// CHECK-LABEL: gpu.func @hyena_conv0_spectrum
// CHECK-SAME: (%{{.*}}: memref<4x128xf32> {llvm.noalias}, %{{.*}}: memref<4x2x256xf32> {llvm.noalias}) kernel
// CHECK: gpu.dynamic_shared_memory
// CHECK: nvvm.redux.sync umax
// CHECK-COUNT-12: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK: gpu.return

// The convolution kernel: u, pregate, coefficients, D, postgate, y.
// CHECK-LABEL: gpu.func @hyena_conv0
// CHECK-SAME: (%{{.*}}: memref<2x4x128xf16> {llvm.noalias}, %{{.*}}: memref<2x4x128xf16> {llvm.noalias}, %{{.*}}: memref<4x2x256xf32> {llvm.noalias}, %{{.*}}: memref<4xf32> {llvm.noalias}, %{{.*}}: memref<2x4x128xf16> {llvm.noalias}, %{{.*}}: memref<2x4x128xf16> {llvm.noalias}) kernel
// CHECK-SAME: known_block_size = array<i32: 64, 1, 1>
// The prologue reads 8 elements of u and of the gate at a time.
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<2x4x128xf16>, vector<8xf16>
// Tensor-core stage: transposed ldmatrix of the strided digit, three
// products per term.
// CHECK: nvgpu.ldmatrix %{{.*}} {numTiles = 2 : i32, transpose = true}
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// The convolution at half precision (the default in the single-kernel
// form): one product per term, 4 in the forward stage and 4 in the inverse.
// CHECK-COUNT-7: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK: gpu.barrier
// The epilogue stores 8 outputs at a time.
// CHECK: vector.store %{{.*}} {alignment = 16 : i64} : memref<2x4x128xf16>, vector<8xf16>
// CHECK: gpu.return

// The host function: inputs, the output, the spectrum workspace (written by
// launch 0 from k, argument 1, alone: a runtime may keep it while k holds).
// CHECK-LABEL: func.func @hyena
// CHECK-SAME: fftconv.name = "u", fftconv.role = "input"
// CHECK-SAME: memref<2x4x128xf16> {fftconv.role = "output"}
// CHECK-SAME: memref<4x2x256xf32> {fftconv.depends_on = array<i64: 1>, fftconv.producer = 0 : i64, fftconv.role = "workspace"}
// CHECK: gpu.launch_func @hyena_kernels::@hyena_conv0_spectrum blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) dynamic_shared_memory_size
// CHECK: gpu.launch_func @hyena_kernels::@hyena_conv0 blocks in
// CHECK: return

// OPTS: #nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">
// OPTS: known_block_size = array<i32: 64, 1, 1>
// Two sequences a block: 2 x 512 bytes of shared memory (two f16 planes of
// 128 values).
// OPTS-LABEL: func.func @hyena
// OPTS: %[[SMEM:.*]] = arith.constant 1024 : i32
// OPTS: gpu.launch_func @hyena_kernels::@hyena_conv0 blocks in ({{.*}}) threads in ({{.*}}) dynamic_shared_memory_size %[[SMEM]]

// At half precision the 16-point factor is rounded to f16 from s F with
// s = 1.8604 (entries s / 4 at most: f16 0x3771), whose f16 values are
// nearer F's; its products are scaled back by 1/s = 0.5375 in f32. The
// fragments are a constant table of the module, in the lanes' order. Split
// precision needs no scale (entries 1/4: f16 0x3400).
// SCALE: memref.global "private" constant @factor_16_forward_half_row0_column0 : memref<512xf16, #gpu.address_space<global>> = dense<"0x71377137
// SCALE-LABEL: gpu.func @hyena_conv0(
// SCALE: memref.get_global @factor_16_forward_half_row0_column0
// SCALE: arith.constant 0.537532806 : f32
// SCALE: nvgpu.mma.sync
// SCALE: gpu.return

// At split precision: three products a term, four planes, 2 x 1 KiB.
// SPLIT: memref.global "private" constant @factor_16_forward_split_row0_column0 : memref<1024xf16, #gpu.address_space<global>> = dense<"0x00340034
// SPLIT-LABEL: gpu.func @hyena_conv0(
// SPLIT-NOT: arith.constant 0.537532806 : f32
// SPLIT-COUNT-24: nvgpu.mma.sync
// SPLIT-NOT: nvgpu.mma.sync
// SPLIT: gpu.return
// SPLIT-LABEL: func.func @hyena
// SPLIT: %[[SMEM:.*]] = arith.constant 2048 : i32
// SPLIT: gpu.launch_func @hyena_kernels::@hyena_conv0 blocks in ({{.*}}) threads in ({{.*}}) dynamic_shared_memory_size %[[SMEM]]
func.func @hyena(%u: tensor<2x4x128xf16> {fftconv.name = "u"}, %k: tensor<4x128xf32>,
                 %g1: tensor<2x4x128xf16>, %g2: tensor<2x4x128xf16>,
                 %d: tensor<4xf32>) -> tensor<2x4x128xf16> {
  %y = fftconv.conv causal %u, %k pregate %g1 postgate %g2 skip %d
      : (tensor<2x4x128xf16>, tensor<4x128xf32>, tensor<2x4x128xf16>, tensor<2x4x128xf16>, tensor<4xf32>) -> tensor<2x4x128xf16>
  return %y : tensor<2x4x128xf16>
}

// -----

// The three-pass form: N = 65536 past shared memory, as 16 rows of 4096.
// Batch elements 2j and 2j+1 travel as one complex sequence (2 pairs for
// B = 3); the outer kernels own 256 columns of the 16 rows, the inner one
// row of 4096. The workspace holds one pair (a pair's 1 MiB exceeds y's
// 384 KiB), so the pairs run in two chunks, each with its own outer kernels.

// K = DFT_N(k): the outer pass over k, then the rows in place. The outer
// kernels' one stage of 16 computes no root: the twiddle W_N^(n2 k1)
// between the passes is the inner kernels', as they load a row.
// CHECK-LABEL: gpu.func @long_conv0_spectrum_outer
// CHECK-SAME: (%{{.*}}: memref<2x32768xf32> {llvm.noalias}, %{{.*}}: memref<2x131072xf32> {llvm.noalias}) kernel
// CHECK: nvgpu.mma.sync
// CHECK-NOT: sin.approx.f32
// CHECK-LABEL: gpu.func @long_conv0_spectrum_inner
// CHECK-SAME: (%{{.*}}: memref<2x131072xf32> {llvm.noalias}) kernel
// CHECK: sin.approx.f32
// CHECK: nvgpu.mma.sync
// The inner kernel, not sharded, reads and stores its rows in one argument.
// CHECK-LABEL: gpu.func @long_conv0_inner
// CHECK-SAME: (%{{[^:]*}}: memref<1x2x131072xf16> {llvm.noalias}, %{{[^:]*}}: memref<2x131072xf32> {llvm.noalias}) kernel
// CHECK: nvgpu.mma.sync
// CHECK: gpu.barrier
// The outer forward pass of the first chunk reads u and the pregate 8 at a
// time and writes the workspace 4 complex values (32 bytes) at a time.
// CHECK-LABEL: gpu.func @long_conv0_outer_forward_0
// CHECK-SAME: (%{{.*}}: memref<3x2x32768xf16> {llvm.noalias}, %{{.*}}: memref<3x2x32768xf16> {llvm.noalias}, %{{.*}}: memref<1x2x131072xf16> {llvm.noalias}) kernel
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<3x2x32768xf16>, vector<8xf16>
// CHECK: nvgpu.ldmatrix %{{.*}} {numTiles = 2 : i32, transpose = true}
// CHECK-COUNT-12: nvgpu.mma.sync
// CHECK: vector.store %{{.*}} {alignment = 16 : i64} : memref<1x2x131072xf16>, vector<8xf16>
// The outer inverse pass: the workspace (twice: the gated input of the skip
// term is evaluated again from u and the pregate), D, the postgate, u, the
// pregate, y.
// CHECK-LABEL: gpu.func @long_conv0_outer_inverse_0
// CHECK-SAME: (%{{.*}}: memref<1x2x131072xf16> {llvm.noalias}, %{{.*}}: memref<1x2x131072xf16> {llvm.noalias}, %{{.*}}: memref<2xf32> {llvm.noalias}, %{{.*}}: memref<3x2x32768xf16> {llvm.noalias}, %{{.*}}: memref<3x2x32768xf16> {llvm.noalias}, %{{.*}}: memref<3x2x32768xf16> {llvm.noalias}, %{{.*}}: memref<3x2x32768xf16> {llvm.noalias}) kernel
// CHECK-COUNT-4: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK: vector.store %{{.*}} {alignment = 16 : i64} : memref<3x2x32768xf16>, vector<8xf16>
// The second chunk's kernels read batch elements 2 and 3 (3 is past the
// batch: zeros in, nothing out).
// CHECK-LABEL: gpu.func @long_conv0_outer_forward_1
// CHECK: arith.constant 1 : i32
// CHECK-LABEL: gpu.func @long_conv0_outer_inverse_1

// K, from k alone, by the first two launches (a runtime may keep it). The
// outer forward launches list the workspace as only written, the inner one
// (two operands, in place) nothing.
// CHECK-LABEL: func.func @long
// CHECK-SAME: memref<2x131072xf32> {fftconv.depends_on = array<i64: 1>, fftconv.producer = 0 : i64, fftconv.producer_count = 2 : i64, fftconv.role = "workspace"}
// CHECK-SAME: memref<1x2x131072xf16> {fftconv.role = "workspace"}
// CHECK: gpu.launch_func @long_kernels::@long_conv0_spectrum_outer blocks in (%{{.*}}, %{{.*}}, %{{.*}})
// CHECK: gpu.launch_func @long_kernels::@long_conv0_spectrum_inner
// CHECK: gpu.launch_func @long_kernels::@long_conv0_outer_forward_0 {{.*}} {fftconv.write_only_operands = array<i64: 2>}
// CHECK: gpu.launch_func @long_kernels::@long_conv0_inner {{.*}} args(%{{[^,]*}}, %{{[^,]*}}){{$}}
// CHECK: gpu.launch_func @long_kernels::@long_conv0_outer_inverse_0
// CHECK: gpu.launch_func @long_kernels::@long_conv0_outer_forward_1
// CHECK: gpu.launch_func @long_kernels::@long_conv0_inner
// CHECK: gpu.launch_func @long_kernels::@long_conv0_outer_inverse_1
func.func @long(%u: tensor<3x2x32768xf16> {fftconv.name = "u"}, %k: tensor<2x32768xf32>,
                %g1: tensor<3x2x32768xf16>, %g2: tensor<3x2x32768xf16>,
                %d: tensor<2xf32>) -> tensor<3x2x32768xf16> {
  %y = fftconv.conv causal %u, %k pregate %g1 postgate %g2 skip %d
      : (tensor<3x2x32768xf16>, tensor<2x32768xf32>, tensor<3x2x32768xf16>, tensor<3x2x32768xf16>, tensor<2xf32>) -> tensor<3x2x32768xf16>
  return %y : tensor<3x2x32768xf16>
}

// -----

// f16 u alone (no pregate): with an f16 workspace, whose twiddle is the
// inner kernels', the outer forward runs at Half, one product a term (four
// for the 16-point complex factor's tile), where the gated @long's runs the
// plan's Split, three; both outer inverses run at Half.
// CHECK-LABEL: gpu.func @plain_long_conv0_outer_forward_0
// CHECK-COUNT-4: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK-NOT: sin.approx.f32
// CHECK-LABEL: gpu.func @plain_long_conv0_outer_inverse_0
// CHECK-NOT: sin.approx.f32
// CHECK-COUNT-4: nvgpu.mma.sync
// CHECK-NOT: nvgpu.mma.sync
// CHECK-LABEL: gpu.func @plain_long_conv0_outer_forward_1
func.func @plain_long(%u: tensor<3x2x32768xf16>, %k: tensor<2x32768xf32>) -> tensor<3x2x32768xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<3x2x32768xf16>, tensor<2x32768xf32>) -> tensor<3x2x32768xf16>
  return %y : tensor<3x2x32768xf16>
}

// -----

// bf16 data (a gradient, say) can fall below f16's normals or rise past its
// largest value: each block scales its sequences by a power of two from
// their largest magnitude (the warps' by redux.sync, the block's through
// shared memory between two barriers) and scales the outputs back (as
// the last stage writes them, a direct output: 4 a lane). A
// thread holds its items' values, so u is read once.
// CHECK-LABEL: gpu.func @wide_conv0(
// CHECK: vector.load %{{.*}} : memref<2x4x128xbf16>, vector<8xbf16>
// CHECK: vector.reduction <maxui>, %{{.*}} : vector<8xi32> into i32
// CHECK: nvvm.redux.sync umax
// CHECK: gpu.barrier
// CHECK: gpu.barrier
// CHECK: %[[EXPONENT:.*]] = arith.shrui %{{.*}}, %c23_i32
// CHECK: %[[UP:.*]] = arith.bitcast %{{.*}} : i32 to f32
// CHECK: %[[DOWN:.*]] = arith.bitcast %{{.*}} : i32 to f32
// CHECK-NOT: memref<2x4x128xbf16>, vector<8xbf16>
// CHECK: %[[UPS:.*]] = vector.broadcast %[[UP]] : f32 to vector<8xf32>
// CHECK: arith.mulf %{{.*}}, %[[UPS]] : vector<8xf32>
// CHECK: nvgpu.mma.sync
// CHECK: %[[DOWNS:.*]] = vector.broadcast %[[DOWN]] : f32 to vector<4xf32>
// CHECK: arith.mulf %{{.*}}, %[[DOWNS]] : vector<4xf32>
// CHECK: vector.store %{{.*}} : memref<2x4x128xbf16>, vector<4xbf16>
// CHECK: gpu.return
func.func @wide(%u: tensor<2x4x128xbf16>, %k: tensor<4x128xf32>) -> tensor<2x4x128xbf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x4x128xbf16>, tensor<4x128xf32>) -> tensor<2x4x128xbf16>
  return %y : tensor<2x4x128xbf16>
}

// -----

// A block whose threads cannot hold their items' values (1K gated: 16
// vectors of u x pregate a thread) stores them as loaded, counting their
// maxima on the way; every thread keeps the vector its slot overwrites. A
// block whose maximum lies within [2^-3, 65504] then scales its f16 planes
// in place (the kept vector among them); any other reads u and the gate
// again.
// CHECK-LABEL: gpu.func @store_then_scale_conv0(
// CHECK-COUNT-16: vector.load %arg0{{.*}} : memref<32x64x1024xbf16>, vector<8xbf16>
// CHECK-NOT: nvvm.redux.sync
// CHECK: gpu.barrier
// CHECK: %[[KEPT:.*]] = vector.load {{.*}} : memref<16384xf16, #gpu.address_space<workgroup>>, vector<8xf16>
// CHECK: nvvm.redux.sync umax
// CHECK: gpu.barrier
// CHECK: gpu.barrier
// CHECK: %[[INPLACE:.*]] = arith.ori
// CHECK: scf.if %[[INPLACE]] {
// CHECK: vector.store %[[KEPT]]
// CHECK: arith.mulf %[[KEPT]], %{{.*}} : vector<8xf16>
// CHECK-COUNT-15: arith.mulf %{{.*}} : vector<8xf16>
// CHECK: } else {
// CHECK: scf.for
// CHECK: vector.load %arg0{{.*}} : memref<32x64x1024xbf16>, vector<8xbf16>
// CHECK: nvgpu.mma.sync
func.func @store_then_scale(%u: tensor<32x64x1024xbf16>, %k: tensor<64x1024xf32>, %pre: tensor<32x64x1024xbf16>) -> tensor<32x64x1024xbf16> {
  %y = fftconv.conv causal %u, %k pregate %pre : (tensor<32x64x1024xbf16>, tensor<64x1024xf32>, tensor<32x64x1024xbf16>) -> tensor<32x64x1024xbf16>
  return %y : tensor<32x64x1024xbf16>
}

// -----

// f16 data is in f16's range: the convolution kernel takes no range scale
// (K's spectrum kernel, which reads k in f32, does).
// CHECK-LABEL: gpu.func @narrow_conv0_spectrum(
// CHECK: nvvm.redux.sync umax
// CHECK-LABEL: gpu.func @narrow_conv0(
// CHECK-NOT: nvvm.redux.sync
// CHECK: gpu.return
func.func @narrow(%u: tensor<2x4x128xf16>, %k: tensor<4x128xf32>) -> tensor<2x4x128xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x4x128xf16>, tensor<4x128xf32>) -> tensor<2x4x128xf16>
  return %y : tensor<2x4x128xf16>
}

// -----

// The three-pass form scales each kernel's blocks alike: bf16 u in the
// outer passes, the workspace's rows in the inner kernel, k in K's. bf16
// data's workspace holds f16 values as the blocks' planes held them
// (N = 65536 values and 32 f32 scales a pair and channel: 16 tiles of 256
// columns, 16 rows): the outer forward block stores its tile's scale, the
// inner block multiplies each quad by its tile's and stores its row's, the
// outer inverse multiplies each row by its. The twiddle between the passes
// is the inner kernels', as with any f16 workspace.
// CHECK-LABEL: gpu.func @wide_long_conv0_spectrum_outer(
// CHECK: nvvm.redux.sync umax
// CHECK-LABEL: gpu.func @wide_long_conv0_spectrum_inner(
// CHECK: nvvm.redux.sync umax
// CHECK-LABEL: gpu.func @wide_long_conv0_inner(
// CHECK-SAME: memref<1x2x131136xf16>
// CHECK: vector.bitcast %{{.*}} : vector<2xf16> to vector<1xf32>
// CHECK: nvvm.redux.sync umax
// CHECK: sin.approx.f32
// CHECK: vector.bitcast %{{.*}} : vector<1xf32> to vector<2xf16>
// CHECK-LABEL: gpu.func @wide_long_conv0_outer_forward_0(
// CHECK: nvvm.redux.sync umax
// CHECK: nvgpu.mma.sync
// CHECK-NOT: sin.approx.f32
// CHECK: vector.bitcast %{{.*}} : vector<1xf32> to vector<2xf16>
// CHECK-NEXT: arith.constant 1
// CHECK-NEXT: arith.shli
// CHECK-NEXT: arith.index_castui
// CHECK-NEXT: vector.store {{.*}} {alignment = 4 : i64} : memref<1x2x131136xf16>, vector<2xf16>
// CHECK-LABEL: gpu.func @wide_long_conv0_outer_inverse_0(
// CHECK: vector.bitcast %{{.*}} : vector<2xf16> to vector<1xf32>
// CHECK: nvvm.redux.sync umax
// CHECK-NOT: sin.approx.f32
// CHECK: nvgpu.mma.sync
func.func @wide_long(%u: tensor<3x2x32768xbf16>, %k: tensor<2x32768xf32>) -> tensor<3x2x32768xbf16> {
  %y = fftconv.conv causal %u, %k : (tensor<3x2x32768xbf16>, tensor<2x32768xf32>) -> tensor<3x2x32768xbf16>
  return %y : tensor<3x2x32768xbf16>
}
