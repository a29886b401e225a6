//===- ConvKernel.h - tensor-core FFT convolution kernels -------*- C++ -*-===//
//
// The GPU kernels a fused convolution region becomes: a thread block owns
// one channel and a tile of batch elements; each sequence lives in shared
// memory for all stages (forward Monarch stages, the spectral product, the
// inverse stages); the DFT factors of 16 and 32 run as real tensor-core
// products (nvgpu.ldmatrix + nvgpu.mma.sync m16n8k16, f16 operands, f32
// accumulation) at one of two precisions.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_CONVERSION_BUTTERFLYTOGPU_CONVKERNEL_H
#define FFTCONV_CONVERSION_BUTTERFLYTOGPU_CONVKERNEL_H

#include "fftconv/Dialect/Butterfly/Transforms/GPUPlan.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir {
namespace fftconv {

/// The least registers a kernel's stages hold their factors and a tile in
/// without spilling (an i64 on its gpu.func while its launches are built;
/// the launches lower the register cap towards the occupancy their shared
/// memory allows, never below it, and the attribute is then dropped).
constexpr llvm::StringLiteral kRegisterFloorAttrName = "fftconv.register_floor";
/// A kernel argument the kernel stores to and never loads from (a unit
/// attribute on the gpu.func's argument while its launches are built, then
/// dropped): its launches list those operands (kWriteOnlyOperandsAttrName).
constexpr llvm::StringLiteral kWriteOnlyAttrName = "fftconv.write_only";

using ::mlir::butterfly::ConvKernelPlan;
using ::mlir::butterfly::GPUPrecision;
using ::mlir::butterfly::planesOf;
using ::mlir::butterfly::valueBytesOf;

/// The taps a spectrum kernel reads for channel h: k[h, t] through its
/// regularizers and, for a bidirectional convolution, the reverse kernel kr
/// at the negative lags of the FFT size N: kk[t] = k[t] + kr[(N - t) mod N]
/// (rfft(k) + conj(rfft(kr)) is the spectrum of kk). The kernels are the
/// spectrum kernel's first arguments: k, then kr.
struct KernelTaps {
  int64_t length = 0;                      // K
  SmallVector<Operation *> filters;        // on k, outermost first
  int64_t reverseLength = 0;               // K'; 0 without a reverse kernel
  SmallVector<Operation *> reverseFilters; // on kr
  int64_t fftSize = 0;                     // N
  /// Whether k's taps are circulated (fftconv.circulate among the filters):
  /// a second copy of k ends the row.
  bool circulant = false;

  bool hasReverse() const { return reverseLength > 0; }
  /// The kernels' argument count.
  unsigned count() const { return hasReverse() ? 2 : 1; }
  /// The taps a pass over kk reads: [0, K) alone, or the whole row where
  /// the reverse kernel's or k's second copy end it.
  int64_t extent() const {
    return hasReverse() || circulant ? fftSize : length;
  }
};

/// Elements a kernel reads or writes at a time (16 bytes of f16): the lanes
/// of LoadInputFn and StoreOutputFn.
inline constexpr int64_t kVectorWidth = 8;

/// Emits the 8 real inputs v[batch, h, t .. t+7] as a vector<8xf32>; with
/// a `mask` (vector<8xi1>, for rows whose length is not a multiple of 8)
/// only its lanes are read, the others are zero.
using LoadInputFn =
    llvm::function_ref<Value(OpBuilder &, Location, ValueRange kernelArgs,
                             Value batch, Value h, Value t, Value mask)>;
/// Stores the outputs at [batch, h, t .. t+W-1], given the W convolution
/// results y (a vector<W x f32>: W = 8, or 4 from a direct output's
/// lane); with a `mask` (W = 8 only), only its lanes.
using StoreOutputFn = llvm::function_ref<void(
    OpBuilder &, Location, ValueRange kernelArgs, Value batch, Value h, Value t,
    Value y, Value mask)>;

/// Builds the convolution kernel in `module`. `argTypes` are the kernel's
/// memref arguments; `coefficientArg` indexes the kernel-spectrum buffer
/// (memref<H x 2 x 2M x f32>, Monarch order, as `buildSpectrumKernel`
/// writes it).
gpu::GPUFuncOp buildConvKernel(OpBuilder &builder, Location loc,
                               gpu::GPUModuleOp module, llvm::StringRef name,
                               TypeRange argTypes, unsigned coefficientArg,
                               const ConvKernelPlan &plan,
                               LoadInputFn loadInput,
                               StoreOutputFn storeOutput);

/// The kernel that reads a spectrum kernel's coefficients, which sets their
/// order: the convolution kernel of its plan (in its fused product's order
/// where that kernel runs one), or a kernel gradient's cross-spectrum
/// kernel that runs the convolution from the spectra it holds (at Monarch
/// positions: its forward stages have run before the product).
enum class CoefficientReader { ConvKernel, CrossSpectrum };

/// Builds the kernel that computes the spectrum buffer from the real
/// kernels k (memref<H x K x f32>, and kr, memref<H x K' x f32>, as `taps`
/// says): one block per channel. With `conjugate` the buffer multiplies by
/// the conjugate spectrum (a correlation with kk, the adjoint of the
/// convolution). With a `band` (butterfly.conv_spectrum's; 0: none), kk's
/// spectrum is taken as zero at the bins f >= band. `reader` reads the
/// buffer.
gpu::GPUFuncOp
buildSpectrumKernel(OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
                    llvm::StringRef name, const KernelTaps &taps,
                    const ConvKernelPlan &plan, bool conjugate = false,
                    int64_t band = 0,
                    CoefficientReader reader = CoefficientReader::ConvKernel);

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_CONVERSION_BUTTERFLYTOGPU_CONVKERNEL_H
