//===- ButterflyToGPU.h - fused regions to gpu + nvgpu ----------*- C++ -*-===//

#ifndef FFTCONV_CONVERSION_BUTTERFLYTOGPU_BUTTERFLYTOGPU_H
#define FFTCONV_CONVERSION_BUTTERFLYTOGPU_BUTTERFLYTOGPU_H

#include "fftconv/Dialect/Butterfly/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
class RewriterBase;
namespace fftconv {

#define GEN_PASS_DECL_BUTTERFLYTOGPU
#include "fftconv/Conversion/Passes.h.inc"

/// The argument attribute saying what a converted host function's argument
/// is: "input", "output" or "workspace".
inline constexpr llvm::StringLiteral kRoleAttrName = "fftconv.role";
/// The argument attribute naming an argument in the launch manifest.
inline constexpr llvm::StringLiteral kNameAttrName = "fftconv.name";
/// On a workspace that kernels compute from inputs alone (the kernel
/// spectrum K): the index of the first launch that writes it, how many
/// launches from it on do (`producer_count`, where more than one: the
/// three-pass form's outer and inner kernels), and the argument indices of
/// those inputs. A runtime may skip those launches while the inputs do not
/// change (docs/gpu-manifest.md).
inline constexpr llvm::StringLiteral kProducerAttrName = "fftconv.producer";
inline constexpr llvm::StringLiteral kProducerCountAttrName =
    "fftconv.producer_count";
inline constexpr llvm::StringLiteral kDependsOnAttrName = "fftconv.depends_on";
/// On the host function: one dictionary a convolution, with its
/// #butterfly.gpu_plan (`plan`), its FFT size (`fft_size`) and the indices
/// of its launches among the host function's (`kernels`); the manifest's
/// "convolutions" (docs/gpu-manifest.md).
inline constexpr llvm::StringLiteral kConvolutionsAttrName =
    "fftconv.convolutions";
/// On the host function of a sharded convolution: [rank, ranks, row
/// length]; a rank's buffers hold its row length / ranks columns of every
/// row of that length (the manifest's "shard").
inline constexpr llvm::StringLiteral kShardAttrName = "fftconv.shard";
/// On a gpu.launch_func: the positions of the operands its kernel stores to
/// and never loads from (the manifest's kernel "writes"), which a runtime
/// may bind elsewhere than the argument's buffer: an exchange's send buffer
/// stored straight into the peers' receive buffers.
inline constexpr llvm::StringLiteral kWriteOnlyOperandsAttrName =
    "fftconv.write_only_operands";
inline constexpr llvm::StringLiteral kPlanKey = "plan";
inline constexpr llvm::StringLiteral kFFTSizeKey = "fft_size";
inline constexpr llvm::StringLiteral kKernelsKey = "kernels";

/// Rewrites `func` (tensors, holding butterfly.fused conv regions with
/// their #butterfly.gpu_plan) into a host function of gpu.launch_func ops
/// over memrefs, with the kernels in a new gpu.module. Emits a located
/// diagnostic and fails when a region has no plan or is not one the kernels
/// cover.
LogicalResult lowerFusedConvolutionsToGPU(RewriterBase &rewriter,
                                          func::FuncOp func);

/// The same rewrite as a pattern on func.func.
void populateButterflyToGPUPatterns(RewritePatternSet &patterns);

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_CONVERSION_BUTTERFLYTOGPU_BUTTERFLYTOGPU_H
