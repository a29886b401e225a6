//===- ButterflyAttrs.td - butterfly dialect attributes ---*- tablegen -*-===//
//
// The closed sets of the fused regions (their kind) and the GPU plan that
// butterfly-plan-gpu-kernels writes on each convolution and butterfly-to-gpu
// reads.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLYATTRS_TD
#define FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLYATTRS_TD

include "fftconv/Dialect/Butterfly/IR/ButterflyDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Butterfly_FusedKind : I32EnumAttr<"FusedKind",
    "which part of a convolution a fused region is", [
  // Forward stages, spectral product, gating, skip, inverse stages, crop.
  I32EnumAttrCase<"Conv", 0, "conv">,
  // The passes through memory of the three-pass form, around a conv region.
  I32EnumAttrCase<"OuterForward", 1, "outer_forward">,
  I32EnumAttrCase<"OuterInverse", 2, "outer_inverse">,
  // A backward's kernel gradient: the forward transforms of two sequences
  // (v and g) and their cross spectrum reduced over the batch.
  I32EnumAttrCase<"CrossSpectrum", 3, "cross_spectrum">,
  // The inverse of a per-channel spectrum (a cross spectrum) and crops of
  // its first lags.
  I32EnumAttrCase<"ChannelInverse", 4, "channel_inverse">
]> {
  let cppNamespace = "::mlir::butterfly";
  let genSpecializedAttr = 0;
}

def Butterfly_FusedKindAttr
    : EnumAttr<Butterfly_Dialect, Butterfly_FusedKind, "fused_kind">;

def Butterfly_GPUKernelForm : I32EnumAttr<"GPUKernelForm",
    "how the GPU kernels of a convolution split its transform", [
  // A spectrum kernel and one convolution kernel that keeps every sequence
  // in shared memory through all stages.
  I32EnumAttrCase<"SingleKernel", 0, "single_kernel">,
  // Two spectrum kernels, then outer forward, inner and outer inverse
  // kernels around an f32 workspace in global memory.
  I32EnumAttrCase<"ThreePass", 1, "three_pass">,
  // No kernel of its own: a backward's correlation or postgate's
  // convolution that its kernel gradient's single-kernel cross-spectrum
  // kernel runs from the spectra it holds (with its spectrum kernel).
  I32EnumAttrCase<"InCrossSpectrum", 2, "in_cross_spectrum">
]> {
  let cppNamespace = "::mlir::butterfly";
  let genSpecializedAttr = 0;
}

def Butterfly_GPUPrecision : I32EnumAttr<"GPUPrecision",
    "how the GPU kernels hold a sequence and multiply it on the tensor cores", [
  // Each value as two f16 (high + low) and three products a term: about f32.
  I32EnumAttrCase<"Split", 0, "split">,
  // Each value as one f16 and one product a term: a third of the tensor-core
  // work and half the shared memory.
  I32EnumAttrCase<"Half", 1, "half">
]> {
  let cppNamespace = "::mlir::butterfly";
  let genSpecializedAttr = 0;
}

//===----------------------------------------------------------------------===//
// GPUPlanAttr
//===----------------------------------------------------------------------===//

def Butterfly_GPUPlanAttr : AttrDef<Butterfly_Dialect, "GPUPlan"> {
  let mnemonic = "gpu_plan";
  let summary = "how one convolution becomes GPU kernels";
  let description = [{
    Written by `butterfly-plan-gpu-kernels` on the `conv` region of every
    convolution and read by `butterfly-to-gpu`, which decides nothing of
    its own:

    - `form`: `single_kernel`, `three_pass`, or `in_cross_spectrum` (a
      conv region of a backward that its kernel gradient's single-kernel
      cross spectrum runs from the spectra of v or g it holds: the spectral
      product, the inverse stages and the region's epilogue after the
      tile's sums; its other parameters are the cross spectrum's);
    - `precision`: `half` or `split` (the kernel spectrum is prepared at
      `split` whatever the convolution's);
    - `chip`: the target, `sm_80` or `sm_90`;
    - `factors`: the stages of the transform that runs on chip, most
      significant first (the single kernel's Monarch factors of M = N/2; the
      three-pass form's row transform of N2 points);
    - `outer_factors`: the three-pass form's column transform of N1 points,
      most significant first (absent for the single kernel);
    - `threads` a block, and `batch_tile`: the sequences one block owns (the
      three-pass form: the pairs of sequences one inner block owns);
    - `inner_threads` (the three-pass form only, optional): the threads of
      an inner block (a cross spectrum's too) where they differ from
      `threads` (the planner gives a block whose shared memory leaves one an
      SM twice the outer blocks');
    - `workspace` (the three-pass form only, optional): the element type of
      the workspace between the passes, `f16` (half the memory traffic of
      the passes, for f16 data) or `f32` (when absent);
    - `ranks` and `rank` (the three-pass form only, optional): the sequence
      is sharded over `ranks` processes and these kernels are `rank`'s. Its
      outer passes own the rank's N2 / ranks columns of the N1 x N2 view (a
      rank's sequences hold, row after row, its columns), its inner pass the
      rank's N1 / ranks rows, and `butterfly-to-gpu` states the transposes
      between them as `butterfly.exchange` (all-to-all) ops;
    - `cluster` (a kernel gradient's single-kernel cross spectrum only,
      optional): the thread blocks of a cluster (2, on sm_90 and later) that
      share one tile's spectra through distributed shared memory: one block
      transforms v's sequences and the other g's, and each sums half of the
      frequencies into half of the row, reading the other's spectrum. The
      planner gives it where the row and both spectra of one batch element
      would not fit one block (M = 16384), but for a gated f16 backward
      (whose three-pass kernels share v's and g's transforms with its two
      convolutions); a gated bf16 backward's blocks run its two
      `in_cross_spectrum` convolutions, one each.

    Example:

    ```mlir
    #butterfly.gpu_plan<single_kernel, half, chip = "sm_90",
                        factors = [16, 8], threads = 64, batch_tile = 8>
    #butterfly.gpu_plan<three_pass, split, chip = "sm_90",
                        outer_factors = [16], factors = [16, 16, 16],
                        threads = 256, batch_tile = 2, workspace = f16>
    #butterfly.gpu_plan<three_pass, split, chip = "sm_90", ranks = 4,
                        rank = 1, outer_factors = [16, 32],
                        factors = [16, 16, 16], threads = 256, batch_tile = 2>
    #butterfly.gpu_plan<single_kernel, half, chip = "sm_90",
                        factors = [32, 32, 16], cluster = 2,
                        threads = 512, batch_tile = 2>
    #butterfly.gpu_plan<in_cross_spectrum, half, chip = "sm_90",
                        factors = [32, 16, 16], threads = 512, batch_tile = 2>
    #butterfly.gpu_plan<three_pass, split, chip = "sm_90", ranks = 2,
                        rank = 0, outer_factors = [16, 16, 4],
                        factors = [16, 16, 8, 8], inner_threads = 512,
                        threads = 256, batch_tile = 1, workspace = f16>
    ```
  }];
  let parameters = (ins
    EnumParameter<Butterfly_GPUKernelForm>:$form,
    EnumParameter<Butterfly_GPUPrecision>:$precision,
    StringRefParameter<"the target chip">:$chip,
    ArrayRefParameter<"int64_t", "the on-chip transform's factors">:$factors,
    OptionalArrayRefParameter<"int64_t",
        "the three-pass form's outer factors">:$outer_factors,
    "int64_t":$threads,
    "int64_t":$batch_tile,
    OptionalParameter<"::mlir::Type",
        "the three-pass workspace's element type (f32 when absent)">:$workspace,
    OptionalParameter<"int64_t",
        "the processes the sequence is sharded over (0: not sharded)">:$ranks,
    OptionalParameter<"int64_t", "this process among them">:$rank,
    OptionalParameter<"int64_t",
        "the threads of an inner block (0: threads)">:$inner_threads,
    OptionalParameter<"int64_t",
        "the blocks of a cluster: a cross spectrum's two, sharing a tile's "
        "spectra; a three-pass form's, running its passes in one kernel "
        "(0: none)">:$cluster
  );
  let assemblyFormat = [{
    `<` $form `,` $precision `,` `chip` `=` $chip `,`
    (`ranks` `=` $ranks^ `,` `rank` `=` $rank `,`)?
    (`outer_factors` `=` `[` $outer_factors^ `]` `,`)?
    `factors` `=` `[` $factors `]` `,`
    (`inner_threads` `=` $inner_threads^ `,`)?
    (`cluster` `=` $cluster^ `,`)?
    `threads` `=` $threads `,` `batch_tile` `=` $batch_tile
    (`,` `workspace` `=` $workspace^)? `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isThreePass() const {
      return getForm() == ::mlir::butterfly::GPUKernelForm::ThreePass;
    }
    /// Whether a kernel gradient's cross spectrum runs the convolution.
    bool isInCrossSpectrum() const {
      return getForm() == ::mlir::butterfly::GPUKernelForm::InCrossSpectrum;
    }
    /// Whether the three-pass workspace holds f16.
    bool hasHalfWorkspace() const {
      return getWorkspace() && getWorkspace().isF16();
    }
    /// Whether the convolution is sharded over several processes.
    bool isSharded() const { return getRanks() > 1; }
    /// The blocks of a cross spectrum's cluster, the one size `cluster`
    /// takes: one block transforms v's sequences, the other g's.
    static constexpr int64_t kClusterBlocks = 2;
    /// The most blocks of a three-pass form's cluster (its three passes in
    /// one kernel): CUDA's portable cluster size.
    static constexpr int64_t kMaxClusterBlocks = 8;
    /// Whether a three-pass form may run on clusters of `blocks` blocks:
    /// the one rule its verifier, butterfly-plan-gpu-kernels' option and
    /// the kernels' refusal share.
    static bool isThreePassClusterSize(int64_t blocks) {
      return blocks >= 2 && blocks <= kMaxClusterBlocks &&
             ::llvm::isPowerOf2_64(blocks);
    }
    /// Whether the kernels run on clusters of blocks.
    bool isClustered() const { return getCluster() > 1; }
    /// Every factor of the transform, outer first.
    ::llvm::SmallVector<int64_t> getAllFactors() const;
  }];
}

#endif // FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLYATTRS_TD
