//===- GradientKernels.h - a backward's kernel gradient on the GPU -*- C++ -*-//
//
// The kernel gradient of a convolution, dk = irfft(sum_b conj(V_b) G_b)[:K]
// (and dD, its lag 0), in two kernels of the single-kernel form:
//
//  - cross spectrum: a block owns channel h and a group of batch tiles; per
//    tile it reads v and g of T batch elements (2T sequences in shared
//    memory, through the cross_spectrum region's prologues), runs the
//    forward stages of the half-length complex transform, recovers the real
//    spectra V[f] and G[f] (f = 0 .. M) from each mirrored pair of
//    positions and adds conj(V) G over the tile to the group's partial sum
//    in a workspace memref<groups x H x 2(M+1) x f32> (natural frequency
//    order; the block alone owns its row, so the sums need no atomics and
//    are the same from run to run; where it fits, the row is summed in
//    shared memory and written once); it may run the backward's
//    convolutions of v and g too, from the spectra it holds
//    (HeldConvolution);
//  - channel inverse: a block owns channel h; it sums the groups' partial
//    spectra, packs the Hermitian spectrum into the half-length complex
//    spectrum at Monarch positions, runs the inverse stages and writes the
//    first lags of each result (dk: K of them; dD: lag 0, from sums of
//    v * g the cross-spectrum kernel takes directly as it loads them).
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_CONVERSION_BUTTERFLYTOGPU_GRADIENTKERNELS_H
#define FFTCONV_CONVERSION_BUTTERFLYTOGPU_GRADIENTKERNELS_H

#include "fftconv/Conversion/ButterflyToGPU/ConvKernel.h"

#include <optional>

namespace mlir {
namespace fftconv {

/// The layout of the kernel gradient's cross-spectrum kernel.
struct CrossSpectrumPlan {
  /// The transform: M, factors, threads, precision; `batchTile` counts
  /// batch elements (two sequences each), `inputLength` is unused (v and g
  /// have their own, `lengthV` and `lengthG`).
  ConvKernelPlan transform;
  int64_t lengthV = 0, lengthG = 0; // real samples read of v and g
  int64_t groups = 1;               // blocks a channel along the batch
  /// The group's partial spectrum summed in shared memory (f32, natural
  /// order) and written once, where it fits beside the sequences; else
  /// each tile adds to it in the workspace.
  bool sharedAccumulator = false;
  /// Lag 0 of the correlation (dD) summed directly as v and g are loaded,
  /// in f32 (a channel's one number would otherwise carry the transforms'
  /// error), into the row's last pair.
  bool lagZero = false;
  /// The blocks of a cluster sharing the tile (GPUPlanAttr's `cluster`; 1:
  /// none): block 0 holds v's sequences of the tile, block 1 g's, each sums
  /// the terms of half the frequencies into its half of the row.
  int64_t cluster = 1;

  bool clustered() const { return cluster > 1; }
  int64_t tiles() const {
    return (transform.batch + transform.batchTile - 1) / transform.batchTile;
  }
  /// Sequences of a block: v and g of every batch element of a tile, or in
  /// a cluster the block's one of them.
  int64_t sequences() const {
    return (clustered() ? 1 : 2) * transform.batchTile;
  }
  int64_t sequenceBytes() const {
    return sequences() * transform.sequenceBytes();
  }
  /// Shared memory of the partial spectrum (butterfly::crossSpectrumRowBytes).
  int64_t accumulatorBytes() const {
    return butterfly::crossSpectrumRowBytes(transform.complexLength,
                                            clustered());
  }
  /// Shared memory of each thread's running sum of v * g.
  int64_t lagZeroBytes() const { return lagZero ? 4 * transform.threads : 0; }
  int64_t sharedBytes() const {
    return sequenceBytes() + (sharedAccumulator ? accumulatorBytes() : 0) +
           lagZeroBytes();
  }
  /// f32 values of a workspace row: the M + 1 bins, then lag 0 and a pad.
  int64_t rowLength() const { return 2 * (transform.complexLength + 2); }
};

/// A convolution that the cross-spectrum kernel runs from the spectra of
/// one side of its tile (a backward's correlation of g with k, or its
/// postgate's convolution of v with k) once the tile's terms are summed:
/// the spectral product with the coefficients at kernel argument
/// `coefficientArg` (buildSpectrumKernel's for
/// CoefficientReader::CrossSpectrum), the inverse stages, and the first
/// `outputLength` real outputs of each sequence through `store`. The
/// side's second transform, and its second read, are saved.
struct HeldConvolution {
  unsigned coefficientArg = 0;
  int64_t outputLength = 0;
  StoreOutputFn store;
};

/// The cross-spectrum kernel. `argTypes` are its memref arguments;
/// `workspaceArg` indexes the partial spectra it writes. `ofV` and `ofG`
/// are the convolutions it runs from v's and g's spectra, if any (both:
/// with outputs as long; in a cluster, each by its side's block).
gpu::GPUFuncOp buildCrossSpectrumKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, TypeRange argTypes, unsigned workspaceArg,
    const CrossSpectrumPlan &plan, LoadInputFn loadV, LoadInputFn loadG,
    std::optional<HeldConvolution> ofV = std::nullopt,
    std::optional<HeldConvolution> ofG = std::nullopt);

/// How one output of the channel-inverse kernel is made from the lags: the
/// first K of them (or lag 0), then the transposes of the regularizers the
/// forward applied to k: smooths (their own transposes) in the order given,
/// then squash's subgradient (zero where |k| <= lambda).
struct LagOutput {
  llvm::SmallVector<int64_t> smoothWidths;
  std::optional<double> squashLambda;
  /// fftconv.circulate's adjoint first (a circular convolution's circulated
  /// taps): lag s plus lag s + `circulateOffset` (0: none).
  int64_t circulateOffset = 0;
};

/// The channel-inverse kernel: arguments the workspace (memref<groups x H x
/// rowLength x f32>), then the outputs, each memref<H x K x f32> (the first
/// K lags) or memref<H x f32> (lag 0: the direct sums when `lagZero`, as
/// the cross-spectrum kernel's plan says), described by `outputs`; then k
/// (memref<H x K x f32>) when an output needs squash's subgradient. `plan`
/// is the inverse's transform (one sequence a block, Split precision).
gpu::GPUFuncOp buildChannelInverseKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, TypeRange argTypes, int64_t groups, bool lagZero,
    llvm::ArrayRef<LagOutput> outputs, const ConvKernelPlan &plan);

/// The three-pass form's last kernel of a kernel gradient: block h reads
/// the lags of channel h (memref<H x K' x f32>, as the outer inverse kernel
/// left them) times `scale`, and writes `outputs` as the channel-inverse
/// kernel does (dD: lag 0); arguments the lags, the outputs, then k where
/// an output needs squash's subgradient.
gpu::GPUFuncOp
buildLagOutputsKernel(OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
                      llvm::StringRef name, TypeRange argTypes, double scale,
                      llvm::ArrayRef<LagOutput> outputs, int64_t threads);

/// A sharded kernel gradient's skip term (dD, lag 0: on rank 0 alone), in
/// two kernels around an exchange. The first writes this rank's first lag
/// of each channel (memref<H x K' x f32>) times `scale` into every chunk of
/// the exchange's send buffer (memref<R x H x f32>): the all-to-all then
/// hands every rank each rank's, an all-gather. The second writes chunk 0
/// of the received buffer, rank 0's lag 0, to each dD output (memref<H x
/// f32>, the arguments after it).
gpu::GPUFuncOp buildSkipGradientSendKernel(OpBuilder &builder, Location loc,
                                           gpu::GPUModuleOp module,
                                           llvm::StringRef name,
                                           TypeRange argTypes, double scale,
                                           int64_t threads);
gpu::GPUFuncOp buildSkipGradientKernel(OpBuilder &builder, Location loc,
                                       gpu::GPUModuleOp module,
                                       llvm::StringRef name, TypeRange argTypes,
                                       int64_t threads);

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_CONVERSION_BUTTERFLYTOGPU_GRADIENTKERNELS_H
