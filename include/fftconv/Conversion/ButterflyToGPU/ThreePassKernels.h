//===- ThreePassKernels.h - FFT convolutions past shared memory -*- C++ -*-===//
//
// The three-pass form of a convolution whose transform does not fit in one
// thread block's shared memory (FFT sizes past 32K on sm_90, 16K on sm_80).
//
// Two batch elements travel as the real and imaginary parts of one complex
// sequence of the full FFT length N: k is real, so the convolution of
// u1 + i u2 with k is y1 + i y2, and the spectral product is pointwise (no
// pairing of a frequency with its mirror, which would pair rows of
// different blocks). N = N1 * N2 is viewed as N1 rows of N2 columns,
// position n1 * N2 + n2:
//
//  - outer forward: a block owns a tile of C columns of one (pair, channel);
//    it runs the DFT of size N1 down the columns (Monarch stages over the
//    outer factors), multiplies by the twiddle W_N^(n2 k1) and writes row k1
//    to the workspace (complex, natural order: f32, or f16 for f16 data and,
//    each block's values scaled with its scale beside them, bf16 data);
//  - inner: a block owns row k1 of one channel for a tile of pairs; it runs
//    the DFT of size N2 along the row, multiplies by K = DFT_N(k) (stored in
//    the same Monarch order), runs the inverse DFT and writes the row back;
//  - outer inverse: per column tile, the conjugate twiddle and the inverse
//    DFT of size N1; real parts go to y of the first batch element of the
//    pair, imaginary parts to the second, through the region's epilogue.
//
// K itself is computed on the GPU by the same outer-forward kernel (k as the
// only "pair") and the inner kernel in spectrum mode.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_CONVERSION_BUTTERFLYTOGPU_THREEPASSKERNELS_H
#define FFTCONV_CONVERSION_BUTTERFLYTOGPU_THREEPASSKERNELS_H

#include "fftconv/Conversion/ButterflyToGPU/ConvKernel.h"

namespace mlir {
namespace fftconv {

using ::mlir::butterfly::ThreePassPlan;

/// The workspace between the passes of a chunk of pairs:
/// memref<P x H x 2N x T>, T f16 or f32 as the plan says.
MemRefType threePassWorkspaceType(OpBuilder &builder,
                                  const ThreePassPlan &plan);
/// The buffer of K: memref<H x 2N x f32>; sharded, memref<R x 1 x H x 2N/R
/// x f32> (the rows of the rank's inner kernels, as its workspace holds
/// them after the exchange).
MemRefType threePassSpectrumType(OpBuilder &builder, const ThreePassPlan &plan);
/// A kernel gradient's row sums: memref<groups x H x 2N x f32>; sharded,
/// memref<R x groups x H x 2N/R^2 x f32> (the rank's rows, chunked as the
/// workspace).
MemRefType threePassSumsType(OpBuilder &builder, const ThreePassPlan &plan,
                             int64_t groups);

/// The outer forward kernel. `argTypes` are its memref arguments;
/// `workspaceArg` indexes the workspace it writes (memref<P x H x 2N x f32>
/// for P pairs, or memref<H x 2N x f32> when `plan.batch` is 1 and it
/// prepares K); `loadInput` gives the real samples of one batch element.
gpu::GPUFuncOp buildOuterForwardKernel(OpBuilder &builder, Location loc,
                                       gpu::GPUModuleOp module,
                                       llvm::StringRef name, TypeRange argTypes,
                                       unsigned workspaceArg,
                                       const ThreePassPlan &plan,
                                       LoadInputFn loadInput);

/// The inner kernel over (workspace, spectrum): the row transforms, the
/// product with K and the inverse row transforms, in place. Sharded, over
/// (rows, rows out, spectrum): the rows stored to their own argument, the
/// exchange back's send buffer, which it only writes (kWriteOnlyAttrName;
/// the host passes the rows buffer for both).
gpu::GPUFuncOp buildInnerKernel(OpBuilder &builder, Location loc,
                                gpu::GPUModuleOp module, llvm::StringRef name,
                                const ThreePassPlan &plan);

/// The inner kernel of the spectrum, over memref<H x 2N x f32>: the row
/// transforms of what the outer forward kernel left from k, scaled to
/// K = DFT_N(k) and stored in the inner kernel's Monarch order; with
/// `conjugate`, conj(K) (a backward's correlation with k: k is real, so
/// conj(K) is the spectrum of k reversed, and the product stays pointwise
/// for the complex pairs). With a `band` (butterfly.conv_spectrum's; 0:
/// none), K is zero at the frequencies f with min(f, N - f) >= band (k's
/// real spectrum is zero at bins >= band).
gpu::GPUFuncOp buildInnerSpectrumKernel(OpBuilder &builder, Location loc,
                                        gpu::GPUModuleOp module,
                                        llvm::StringRef name,
                                        const ThreePassPlan &plan,
                                        bool conjugate, int64_t band = 0);

/// The outer inverse kernel: reads the workspace at `workspaceArg`, writes
/// the outputs through `storeOutput`.
gpu::GPUFuncOp buildOuterInverseKernel(OpBuilder &builder, Location loc,
                                       gpu::GPUModuleOp module,
                                       llvm::StringRef name, TypeRange argTypes,
                                       unsigned workspaceArg,
                                       const ThreePassPlan &plan,
                                       StoreOutputFn storeOutput);

/// The three passes in one kernel, on clusters of `plan.cluster` blocks
/// (ThreePassPlan::clustered): a cluster transforms one pair of one channel,
/// its workspace the blocks' shared memory. Block r of a cluster runs the
/// outer forward pass on columns r C .. r C + C - 1 of every row (C =
/// plan.clusterColumns(), N2 / cluster) at `outerForward` precision and
/// stores each row, times the twiddle W_N^(n2 k1) in f32, into the shared
/// memory of the block that owns it; then the inner pass over its rows
/// r R .. r R + R - 1 (R = plan.clusterRows(), N1 / cluster) with K; then
/// each row back, times the inverse twiddle, to the blocks of its columns,
/// and the outer inverse pass at `outerInverse` precision to the outputs.
/// `argTypes`: K's buffer at `spectrumArg`, and the operands `loadInput` and
/// `storeOutput` read (the whole argument list is passed to both).
gpu::GPUFuncOp buildClusteredThreePassKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, TypeRange argTypes, unsigned spectrumArg,
    const ThreePassPlan &plan, GPUPrecision outerForward,
    GPUPrecision outerInverse, LoadInputFn loadInput,
    StoreOutputFn storeOutput);

//===----------------------------------------------------------------------===//
// A backward's kernel gradient past the single-kernel form
//===----------------------------------------------------------------------===//
//
// dk = Re(IDFT_N(sum_p conj(Z_p) W_p))[:K] for the pairs Z_p = V_(2p) +
// i V_(2p+1) of v's spectra and W_p of g's: the outer forward kernel above
// fills two workspaces (Z and W) per chunk of pairs; the inner
// cross-spectrum kernel sums the products of their row transforms into
// running sums (memref<groups x H x 2N x f32>, a group of blocks summing a
// share of the pairs, no atomics); the inner sum-inverse kernel adds the
// groups' rows and runs the inverse row transforms into group 0's; the
// outer inverse kernel above takes it as the one "pair" of a batch of one,
// its real parts the lags.

/// What the inner cross-spectrum kernel also computes for the backward's
/// convolutions of the same pairs (butterfly-to-gpu fuses them with the
/// kernel gradient): the correlation of g's pairs with k (W conj(K), for du
/// and dpre) and the convolution of v's pairs with k (Z K, z for dpost),
/// each through its inverse row transforms and back to its workspace, for
/// the convolution's outer inverse kernel.
struct InnerBackwardProducts {
  bool correlation = false;
  bool convolution = false;
  bool any() const { return correlation || convolution; }
};

/// The inner cross-spectrum kernel over (Z workspace, W workspace, sums,
/// and K = DFT_N(k) as the spectrum kernels leave it when `products` asks
/// for any): block (k1, h, group) owns row k1 of channel h of the group's
/// sums and adds the group's share of the chunk's pairs to it; with
/// `accumulate` the row holds the chunks before (else it is written
/// afresh).
gpu::GPUFuncOp buildInnerCrossSpectrumKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, const ThreePassPlan &plan, int64_t groups,
    bool accumulate, InnerBackwardProducts products = {});

/// The inner kernel over the sums: row k1 of channel h summed over the
/// groups, its inverse row transforms, into group 0's row.
gpu::GPUFuncOp buildInnerSumInverseKernel(OpBuilder &builder, Location loc,
                                          gpu::GPUModuleOp module,
                                          llvm::StringRef name,
                                          const ThreePassPlan &plan,
                                          int64_t groups);

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_CONVERSION_BUTTERFLYTOGPU_THREEPASSKERNELS_H
