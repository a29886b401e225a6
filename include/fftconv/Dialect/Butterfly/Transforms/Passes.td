//===- Passes.td - butterfly transformation passes --------*- tablegen -*-===//

#ifndef FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_PASSES_TD
#define FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ButterflyExpandMonarch : Pass<"butterfly-expand-monarch"> {
  let summary = "Expand butterfly.monarch into its dft/kron/twiddle/permute stages";
  let description = [{
    Rewrites every `butterfly.monarch` into the explicit order-p product of
    `butterfly.dft` factors applied with `butterfly.kron`, the
    `butterfly.twiddle` diagonals between stages and, where the op asks for
    natural order, the `butterfly.permute` digit reversal. The result
    computes the same transform, stage by stage.
  }];
  let dependentDialects = ["::mlir::butterfly::ButterflyDialect"];
}

def ButterflyFuseConv : Pass<"butterfly-fuse-conv"> {
  let summary = "Group each decomposed convolution into fused kernel regions";
  let description = [{
    Around each `butterfly.hermitian_mul` (the spectral product of a
    decomposed convolution), collects the forward stages and everything
    before them that feeds only the convolution (pregate, casts, packing),
    and the inverse stages, the unpacking and the crop, skip, postgate and
    rounding after it, and outlines them into one `butterfly.fused` region
    of kind `conv`: the unit that becomes one GPU kernel. The kernel's
    coefficients (computed once per channel) stay outside and become an
    input. In the three-pass form (ops tagged `butterfly.outer_pass` by the
    decomposition) the outer passes through memory become regions of their
    own, `outer_forward` and `outer_inverse`, around the inner `conv`
    region.
  }];
  let dependentDialects = ["::mlir::butterfly::ButterflyDialect"];
}

def ButterflyPlanGPUKernels
    : Pass<"butterfly-plan-gpu-kernels", "::mlir::ModuleOp"> {
  let summary = "Decide how each fused convolution becomes GPU kernels";
  let description = [{
    Writes a `#butterfly.gpu_plan` on every `butterfly.fused conv` region:
    the form (`single_kernel` up to `single-kernel-max`; `three_pass` past
    it and for `outer_forward`/`conv`/`outer_inverse` chains), the factors
    (the region's Monarch factors for the single kernel; the row and column
    transforms of the three-pass form), the precision and the block shape,
    checked against the chip's shared memory (the cost model's
    `TargetDescription`). `butterfly-to-gpu` reads the plan and decides
    nothing itself.

    `precision` sets how a sequence is held and multiplied: `split` keeps
    each value as two f16 (high and low) and takes three products a term
    (about f32 accuracy), `half` one f16 and one product (a third of the
    tensor-core work and half the shared memory). `auto` takes `half` for
    the single-kernel form and `split` for the three-pass form, whose longer
    chains of stages would bring `half` near 1e-3.

    Plans the kernels cannot run (factors above 32, lengths that are not
    multiples of 8, tiles past shared memory, an unknown chip or precision)
    are refused with a located diagnostic.

    Example: `fftconv-opt -fftconv-to-butterfly
    -butterfly-plan-gpu-kernels="chip=sm_80 precision=split"`.
  }];
  let options = [
    Option<"chip", "chip", "std::string",
           /*default=*/"::mlir::butterfly::kDefaultChip.str()",
           "the target chip: sm_80, sm_90 or sm_90a (a last stage of 64 on the warpgroup MMA)">,
    Option<"threads", "threads", "int64_t", /*default=*/"0",
           "threads per block (0: chosen from the transform length)">,
    Option<"batchTile", "batch-tile", "int64_t", /*default=*/"0",
           "sequences per block (0: chosen from the shared memory)">,
    Option<"singleKernelMax", "single-kernel-max", "int64_t",
           /*default=*/"::mlir::butterfly::kDefaultSingleKernelMax",
           "the largest FFT size the single-kernel form runs; larger fused "
           "regions take the three-pass form (0: whatever fits on chip)">,
    Option<"ranks", "ranks", "int64_t", /*default=*/"1",
           "shard each convolution's sequence over this many processes "
           "(the three-pass form, an exchange between its passes; 1: not)">,
    Option<"rank", "rank", "int64_t", /*default=*/"0",
           "the process whose kernels to build, 0 .. ranks - 1">,
    Option<"maxRowLength", "max-row-length", "int64_t", /*default=*/"0",
           "the three-pass form's rows (N2), at most (0: what a block holds); "
           "a sharded training program's forward takes its backward's rows "
           "so that both read one layout">,
    Option<"threePassCluster", "three-pass-cluster", "int64_t",
           /*default=*/"1",
           "run a three-pass convolution's passes in one kernel on clusters "
           "of this many blocks (2 to 8), its workspace their shared memory: "
           "a third less peak memory, measured slower (docs/benchmarks.md); "
           "f16 data on sm_90, where a block holds its rows and columns "
           "(1: the three kernels over a workspace)">,
    Option<"restage", "restage", "bool", /*default=*/"false",
           "where a single kernel's Monarch factors are not ones the kernels "
           "run (f32 data decomposed with a factor of 64), run its transform "
           "with the kernels' own stages instead of refusing (fftconv-to-ptx "
           "sets it when the order is auto)">,
    Option<"precision", "precision", "std::string", /*default=*/"\"auto\"",
           "split (values as two f16, three products a term: about f32 "
           "accuracy), half (one f16, one product: a third of the tensor-core "
           "work) or auto (half for the single-kernel form, split for the "
           "three-pass form)">
  ];
  let dependentDialects = ["::mlir::butterfly::ButterflyDialect"];
}

#endif // FFTCONV_DIALECT_BUTTERFLY_TRANSFORMS_PASSES_TD
