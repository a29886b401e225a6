// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="precision=split single-kernel-max=4096" -butterfly-to-gpu | FileCheck %s
// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="precision=half single-kernel-max=4096" -butterfly-to-gpu | FileCheck %s --check-prefix=HALF
// RUN: fftconv-opt %s -split-input-file -fftconv-to-butterfly -butterfly-plan-gpu-kernels="precision=half restage=1" -butterfly-to-gpu | FileCheck %s --check-prefix=LARGE

// A circular 16K at Half, in blocks of 16 warps, restaged to [32, 32, 8]:
// the fused pass takes the last stage, not the tensor-core pair (whose
// Half twiddle tables are gone; the spectrum kernel, at Split, keeps its
// pair), and the kernel runs 5 barriers (its last stage writes the
// outputs: a direct output). Its pass prefetches a unit's 16
// coefficient slots into L1 one item ahead: the first item's before its
// loop, the next item's in it.
// LARGE-NOT: pair_twiddle_{{.*}}_half
// LARGE-LABEL: gpu.func @circular_16k_conv0(
// LARGE-COUNT-3: gpu.barrier
// LARGE-COUNT-16: nvvm.prefetch level = L1, {{.*}} : !llvm.ptr<1>
// LARGE: scf.for
// LARGE-COUNT-16: nvvm.prefetch level = L1, {{.*}} : !llvm.ptr<1>
// LARGE-NOT: nvvm.prefetch
// LARGE-COUNT-2: gpu.barrier
// LARGE-NOT: gpu.barrier
// LARGE: func.func @circular_16k
func.func @circular_16k(%u: tensor<4x2x16384xf16>, %k: tensor<2x16384xf32>) -> tensor<4x2x16384xf16> {
  %y = fftconv.conv circular %u, %k : (tensor<4x2x16384xf16>, tensor<2x16384xf32>) -> tensor<4x2x16384xf16>
  return %y : tensor<4x2x16384xf16>
}

// -----

// bf16 data at 16K, in blocks of 16 warps: its factors [32, 16, 16] end
// on the tensor cores (the order ending in 8 is f16 data's), so the
// separate product pass runs, and it starts the next position's four coefficients (A and B at the position
// and at its mirror) into L1 while it runs this one's: one block an SM
// leaves their latency exposed (prefetchesProductCoefficients).
// LARGE-LABEL: gpu.func @bf16_16k_conv0(
// LARGE: scf.for {{.*}} step %c512_i32
// LARGE-COUNT-4: nvvm.prefetch level = L1, {{.*}} : !llvm.ptr<1>
// LARGE-NOT: nvvm.prefetch
// LARGE: func.func @bf16_16k
func.func @bf16_16k(%u: tensor<4x2x16384xbf16>, %k: tensor<2x16384xf32>) -> tensor<4x2x16384xbf16> {
  %y = fftconv.conv circular %u, %k : (tensor<4x2x16384xbf16>, tensor<2x16384xf32>) -> tensor<4x2x16384xbf16>
  return %y : tensor<4x2x16384xbf16>
}

// -----

// M = 16384 has no three factors of 32 or less ending in 8: a causal
// convolution's fused pass takes the last stage of 16 on the FMA units,
// each group of 16 positions two 16-byte chunks a plane (the swizzle keeps
// only a chunk's positions consecutive). 5 barriers, not 7. A unit has
// 32 coefficient slots to prefetch.
// LARGE-LABEL: gpu.func @causal_32k_conv0(
// LARGE-COUNT-3: gpu.barrier
// LARGE-COUNT-64: nvvm.prefetch level = L1, {{.*}} : !llvm.ptr<1>
// LARGE-COUNT-4: vector.load {{.*}} : memref<65536xf16, #gpu.address_space<workgroup>>, vector<8xf16>
// LARGE-COUNT-2: gpu.barrier
// LARGE-NOT: gpu.barrier
// LARGE: func.func @causal_32k
func.func @causal_32k(%u: tensor<2x2x16384xf16>, %k: tensor<2x16384xf32>) -> tensor<2x2x16384xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x2x16384xf16>, tensor<2x16384xf32>) -> tensor<2x2x16384xf16>
  return %y : tensor<2x2x16384xf16>
}

// -----

// A bf16 circular one keeps the tensor-core stage of 16 (measured faster);
// its range scales add 3 barriers to the 7.
// LARGE-LABEL: gpu.func @circular_bf16_32k_conv0(
// LARGE-COUNT-10: gpu.barrier
// LARGE-NOT: gpu.barrier
// LARGE: func.func @circular_bf16_32k
func.func @circular_bf16_32k(%u: tensor<2x2x32768xbf16>, %k: tensor<2x32768xf32>) -> tensor<2x2x32768xbf16> {
  %y = fftconv.conv circular %u, %k : (tensor<2x2x32768xbf16>, tensor<2x32768xf32>) -> tensor<2x2x32768xbf16>
  return %y : tensor<2x2x32768xbf16>
}

// -----

// A causal 4K at Split precision, [16, 16, 8]: the last forward stage (8
// on the FMA units), the spectral product and the first inverse stage run
// as one pass in registers, each thread the two groups of 8 positions
// whose frequencies mirror each other's: two barriers fewer than the
// separate passes (below). Its spectrum kernel stores each coefficient at
// the slot of the unit that reads it, found through the lower of the
// group and its partner, A and B of a slot in one 16-byte store. At Split
// the pass does not prefetch them (measured slower).
// CHECK-LABEL: gpu.func @causal_split_conv0_spectrum
// CHECK: arith.minui
// CHECK: vector.store {{.*}}, %arg1[{{.*}}] {alignment = 16 : i64} : memref<2x2x4096xf32>, vector<4xf32>
// CHECK-LABEL: gpu.func @causal_split_conv0(
// CHECK-COUNT-3: gpu.barrier
// CHECK-NOT: nvvm.prefetch
// CHECK-COUNT-2: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: func.func @causal_split
func.func @causal_split(%u: tensor<4x2x2048xf16>, %k: tensor<2x2048xf32>) -> tensor<4x2x2048xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<4x2x2048xf16>, tensor<2x2048xf32>) -> tensor<4x2x2048xf16>
  return %y : tensor<4x2x2048xf16>
}

// -----

// Circular at Split fuses too. At Half, in blocks of 8 warps or fewer,
// three stages keep the separate passes, which compute a position's
// twiddles once for the block's sequences (measured faster:
// fusesSpectralProductAt).
// CHECK-LABEL: gpu.func @circular_4k_conv0(
// CHECK-COUNT-5: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: func.func @circular_4k
// HALF-LABEL: gpu.func @circular_4k_conv0(
// HALF-COUNT-7: gpu.barrier
// HALF-NOT: gpu.barrier
// HALF: func.func @circular_4k
func.func @circular_4k(%u: tensor<4x2x4096xf16>, %k: tensor<2x4096xf32>) -> tensor<4x2x4096xf16> {
  %y = fftconv.conv circular %u, %k : (tensor<4x2x4096xf16>, tensor<2x4096xf32>) -> tensor<4x2x4096xf16>
  return %y : tensor<4x2x4096xf16>
}

// -----

// At Half, f16 data's causal convolution of three stages fuses (fp16's
// 5e-4: two f16 roundings fewer each way); bf16's keeps the separate
// passes.
// HALF-LABEL: gpu.func @causal_half_4k_conv0(
// HALF-COUNT-3: gpu.barrier
// HALF-COUNT-32: nvvm.prefetch level = L1, {{.*}} : !llvm.ptr<1>
// HALF-NOT: nvvm.prefetch
// HALF-COUNT-2: gpu.barrier
// HALF-NOT: gpu.barrier
// HALF: func.func @causal_half_4k
func.func @causal_half_4k(%u: tensor<4x2x2048xf16>, %k: tensor<2x2048xf32>) -> tensor<4x2x2048xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<4x2x2048xf16>, tensor<2x2048xf32>) -> tensor<4x2x2048xf16>
  return %y : tensor<4x2x2048xf16>
}

// -----

// HALF-LABEL: gpu.func @causal_bf16_4k_conv0(
// HALF-COUNT-10: gpu.barrier
// HALF-NOT: gpu.barrier
// HALF: func.func @causal_bf16_4k
func.func @causal_bf16_4k(%u: tensor<4x2x2048xbf16>, %k: tensor<2x2048xf32>) -> tensor<4x2x2048xbf16> {
  %y = fftconv.conv causal %u, %k : (tensor<4x2x2048xbf16>, tensor<2x2048xf32>) -> tensor<4x2x2048xbf16>
  return %y : tensor<4x2x2048xbf16>
}

// -----

// Two stages, [16, 8]: at Half only a causal convolution fuses (or one in
// blocks of 16 warps).
// HALF-LABEL: gpu.func @causal_256_conv0(
// HALF-COUNT-3: gpu.barrier
// HALF-NOT: gpu.barrier
// HALF: func.func @causal_256
func.func @causal_256(%u: tensor<4x2x128xf16>, %k: tensor<2x128xf32>) -> tensor<4x2x128xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<4x2x128xf16>, tensor<2x128xf32>) -> tensor<4x2x128xf16>
  return %y : tensor<4x2x128xf16>
}

// -----

// HALF-LABEL: gpu.func @circular_256_conv0(
// HALF-COUNT-5: gpu.barrier
// HALF-NOT: gpu.barrier
// HALF: func.func @circular_256
func.func @circular_256(%u: tensor<4x2x256xf16>, %k: tensor<2x256xf32>) -> tensor<4x2x256xf16> {
  %y = fftconv.conv circular %u, %k : (tensor<4x2x256xf16>, tensor<2x256xf32>) -> tensor<4x2x256xf16>
  return %y : tensor<4x2x256xf16>
}

// -----

// The three-pass inner kernel at Split: rows on [16, 16, 2, 8], its last
// stage, y = x K and the first inverse stage in one pass, each thread a
// group of 8 positions and their 8 coefficients in one load. At Half the
// rows keep [16, 16, 16] and the separate product, a coefficient a load.
// CHECK-LABEL: gpu.func @three_pass_conv0_inner(
// CHECK: vector.load %arg1{{.*}} : memref<2x32768xf32>, vector<16xf32>
// CHECK: func.func @three_pass
// HALF-LABEL: gpu.func @three_pass_conv0_inner(
// HALF: vector.load %arg1{{.*}} : memref<2x32768xf32>, vector<2xf32>
// HALF: func.func @three_pass
func.func @three_pass(%u: tensor<2x2x8192xf16>, %k: tensor<2x8192xf32>) -> tensor<2x2x8192xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x2x8192xf16>, tensor<2x8192xf32>) -> tensor<2x2x8192xf16>
  return %y : tensor<2x2x8192xf16>
}
