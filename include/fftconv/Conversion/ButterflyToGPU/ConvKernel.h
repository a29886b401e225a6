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

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace mlir {
namespace fftconv {

/// How the kernels hold a sequence in shared memory and multiply it on the
/// tensor cores.
enum class KernelPrecision {
  /// Each value as two f16 (high + low, together about 2^-22 relative), and
  /// three products a term (Fhi xhi + Fhi xlo + Flo xhi): about f32
  /// accuracy, so the output's own rounding dominates the error.
  Split,
  /// Each value as one f16 and one product a term with the factor rounded
  /// to f16: a third of the tensor-core work and half the shared memory;
  /// every stage adds an f16 rounding (FlashFFTConv's precision).
  Half,
};

/// Parses "split" or "half".
std::optional<KernelPrecision> parseKernelPrecision(llvm::StringRef name);

/// f16 planes of a sequence in shared memory: Re and Im, each as a high and
/// a low half at Split precision.
inline int64_t planesOf(KernelPrecision precision) {
  return precision == KernelPrecision::Split ? 4 : 2;
}
/// Shared-memory bytes of one complex value.
inline int64_t valueBytesOf(KernelPrecision precision) {
  return planesOf(precision) * 2;
}

/// What one convolution kernel computes and how its work is laid out.
struct ConvKernelPlan {
  int64_t batch = 0;        // B
  int64_t channels = 0;     // H
  int64_t inputLength = 0;  // real length of the signal read (zero past it)
  int64_t outputLength = 0; // real outputs kept
  int64_t half = 0;         // M: complex length of the transform (N = 2M)
  llvm::SmallVector<int64_t> factors; // the Monarch factors of M
  int64_t batchTile = 1;              // sequences one thread block owns
  int64_t threads = 128;              // threads of one block
  KernelPrecision precision = KernelPrecision::Split;

  /// Shared memory of one sequence.
  int64_t sequenceBytes() const { return half * valueBytesOf(precision); }
  int64_t convSharedBytes() const { return batchTile * sequenceBytes(); }
  /// The spectrum kernel's one sequence, always at Split precision.
  int64_t spectrumSharedBytes() const {
    return half * valueBytesOf(KernelPrecision::Split);
  }
  int64_t gridY() const { return (batch + batchTile - 1) / batchTile; }
};

/// Why a plan cannot become a kernel, or the empty string when it can.
std::string checkConvKernelPlan(const ConvKernelPlan &plan,
                                int64_t sharedMemoryPerBlock);

/// Emits the 8 real inputs v[b, h, t .. t+7] as a vector<8xf32>.
using LoadInputFn = llvm::function_ref<Value(
    OpBuilder &, Location, ValueRange kernelArgs, Value b, Value h, Value t)>;
/// Stores the outputs at [b, h, t .. t+7], given the 8 convolution results.
using StoreOutputFn =
    llvm::function_ref<void(OpBuilder &, Location, ValueRange kernelArgs,
                            Value b, Value h, Value t, Value y)>;

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

/// Builds the kernel that computes the spectrum buffer from the real
/// kernels k (memref<H x K x f32>): one block per channel.
gpu::GPUFuncOp buildSpectrumKernel(OpBuilder &builder, Location loc,
                                   gpu::GPUModuleOp module,
                                   llvm::StringRef name, int64_t kernelLength,
                                   const ConvKernelPlan &plan);

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_CONVERSION_BUTTERFLYTOGPU_CONVKERNEL_H
