// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels -butterfly-to-gpu | FileCheck %s
// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="threads=512" -butterfly-to-gpu | FileCheck %s --check-prefix=PAIR
// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="chip=sm_80" -butterfly-to-gpu | FileCheck %s --check-prefix=A100

// A causal convolution, f16, N = 256: M = 128 = 16 x 8.

// Each launch caps its kernel's registers at what leaves the blocks an SM
// to shared memory, threads and the grid, but not below what the stages
// hold: 48 working registers and the 16-point factor's fragments (Half: 3
// of 4 registers). The spectrum kernel's grid (a block a channel: 768)
// fills 6 blocks of an SM, which leaves every thread the most, 128; the
// convolution's (64 threads, 8 blocks a channel) fills 32, so 32
// registers, floored at 64.
// CHECK-NOT: fftconv.register_floor
// CHECK-LABEL: gpu.func @causal_conv0_spectrum
// CHECK-SAME: nvvm.maxnreg = 128 : i32
// CHECK-LABEL: gpu.func @causal_conv0(
// CHECK-SAME: nvvm.maxnreg = 64 : i32
// Stage by stage: the 8-point stage runs on the FMA units.
// CHECK-NOT: mmaShape = [16, 8, 8]
// CHECK: gpu.return

// Blocks of 16 warps run the last two stages together in registers: the
// 16-point stage's products (the factor as A operand), the twiddles between
// the stages from a constant table, and the 8-point stage's (its
// accumulators as A operand, m16n8k8). The causal padding leaves one
// 16-digit slab of input and one row tile of output.
// PAIR-DAG: memref.global "private" constant @pair_twiddle_16x8_forward_half_unscaled : memref<256xf32
// PAIR-DAG: memref.global "private" constant @factor_8_forward_half_operand_b : memref<128xf16
// PAIR-DAG: memref.global "private" constant @factor_8_inverse_half_operand_a : memref<256xf16
// PAIR-LABEL: gpu.func @causal_conv0(
// PAIR-SAME: known_block_size = array<i32: 512, 1, 1>, nvvm.maxnreg = 72 : i32
// PAIR: nvgpu.ldmatrix %{{.*}} {numTiles = 2 : i32, transpose = true}
// PAIR: memref.get_global @pair_twiddle_16x8_forward_half_unscaled
// PAIR-COUNT-4: mmaShape = [16, 8, 16]
// PAIR-COUNT-4: mmaShape = [16, 8, 8]
// PAIR: gpu.barrier
// The inverse: the 8-point factor (rows 8-15 zero) over the data read
// untransposed, then the 16-point factor over the first products'
// accumulators as B operand.
// PAIR: nvgpu.ldmatrix %{{.*}} {numTiles = 1 : i32, transpose = false}
// PAIR: memref.get_global @pair_twiddle_16x8_inverse_half
// PAIR-COUNT-8: mmaShape = [16, 8, 8]
// PAIR-COUNT-4: mmaShape = [16, 8, 16]
// PAIR-NOT: nvgpu.mma.sync
// PAIR: gpu.return
func.func @causal(%u: tensor<64x768x128xf16>, %k: tensor<768x128xf32>) -> tensor<64x768x128xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<64x768x128xf16>, tensor<768x128xf32>) -> tensor<64x768x128xf16>
  return %y : tensor<64x768x128xf16>
}

// -----

// N = 4096: blocks of 128 threads with 32 KiB of sequences. An H100's
// 228 KiB an SM holds 6 of them, so 80 registers a thread; an A100's 164
// KiB holds 4, which leaves every thread the most, 128.
// CHECK-LABEL: gpu.func @long_conv0(
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>, nvvm.maxnreg = 80 : i32
// A100-LABEL: gpu.func @long_conv0(
// A100-SAME: known_block_size = array<i32: 128, 1, 1>, nvvm.maxnreg = 128 : i32
func.func @long(%u: tensor<64x768x2048xf16>, %k: tensor<768x2048xf32>) -> tensor<64x768x2048xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<64x768x2048xf16>, tensor<768x2048xf32>) -> tensor<64x768x2048xf16>
  return %y : tensor<64x768x2048xf16>
}
