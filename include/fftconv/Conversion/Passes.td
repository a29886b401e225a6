//===- Passes.td - fftconv conversion passes --------------*- tablegen -*-===//

#ifndef FFTCONV_CONVERSION_PASSES_TD
#define FFTCONV_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def FFTConvToLinalg : Pass<"fftconv-to-linalg"> {
  let summary = "Lower fftconv ops to direct algorithms in linalg on tensors";
  let description = [{
    The CPU reference lowering of the fftconv dialect: `fftconv.conv` as a
    direct convolution (a `linalg.generic` reduction over the kernel taps,
    with the gates and the skip as elementwise steps), the FFT ops as direct
    DFTs with twiddles computed in f64, and the regularizers as elementwise
    and windowed `linalg.generic`s. Slow on purpose: it is the oracle that
    every faster rewrite is checked against.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::complex::ComplexDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def ButterflyToLinalg : Pass<"butterfly-to-linalg"> {
  let summary = "Lower butterfly ops to linalg on tensors";
  let description = [{
    `butterfly.dft` becomes a `linalg.generic` that computes the factor
    from its indices, `butterfly.kron` a batched matrix product over a
    reshaped view, `butterfly.twiddle` an elementwise product,
    `butterfly.permute` a `linalg.transpose`, and `butterfly.monarch` is
    first expanded into those stages.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::complex::ComplexDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def ButterflyToGPU : Pass<"butterfly-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower fused convolution regions to gpu + nvgpu kernels";
  let description = [{
    Each function holding `butterfly.fused "conv"` regions (what
    `fftconv-to-butterfly` produces) becomes a host function of
    `gpu.launch_func` ops over memrefs, and the kernels go into a
    `gpu.module` targeting the chip:

    - `<func>_conv<i>_spectrum`: one block per channel computes the kernel
      spectrum (the `conv_spectrum` coefficients, in Monarch order) from the
      real kernel k into a workspace buffer;
    - `<func>_conv<i>`: a block owns one channel and a tile of batch
      elements; the sequences stay in shared memory through the forward
      Monarch stages, the spectral product and the inverse stages; factors
      of 16 and 32 run on the tensor cores (`nvgpu.ldmatrix`,
      `nvgpu.mma.sync` m16n8k16, f16 operands, f32 accumulation); the
      gates, the skip and the crop are the region's own elementwise ops,
      evaluated 8 elements at a time at the load and the store.

    `precision` sets how a sequence is held and multiplied: `split` keeps
    each value as two f16 (high and low) and takes three products a term
    (about f32 accuracy; fp16 outputs within 2.1e-4 of float64), `half` one
    f16 and one product (a third of the tensor-core work and half the
    shared memory; fp16 within 4e-4 to 8e-4 on an H100). `auto` takes
    `half` for the single-kernel form and `split` for the three-pass form,
    whose longer chains of stages would bring `half` near 1e-3. The kernel
    spectrum is always prepared at `split`.

    The host function's arguments become memrefs of the same shapes, each
    result a trailing output memref, each spectrum a trailing workspace
    memref (`fftconv.role` argument attributes say which). Transforms past
    `single-kernel-max` (and the three-pass regions of transforms past
    shared memory) become three kernels around an f32 workspace: an outer
    forward pass, the inner row transforms with the spectral product, and an
    outer inverse pass. Regions the kernels do not cover (factors above 32,
    lengths that are not multiples of 8, tiles past shared memory) are
    refused with a diagnostic.

    Example: `fftconv-opt -fftconv-to-butterfly -butterfly-to-gpu="chip=sm_90"`.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90\"",
           "the target chip: sm_80 or sm_90">,
    Option<"threads", "threads", "int64_t", /*default=*/"0",
           "threads per block (0: chosen from the transform length)">,
    Option<"batchTile", "batch-tile", "int64_t", /*default=*/"0",
           "sequences per block (0: chosen from the shared memory)">,
    Option<"singleKernelMax", "single-kernel-max", "int64_t",
           /*default=*/"32768",
           "the largest FFT size the single-kernel form runs; larger fused "
           "regions take the three-pass form (0: whatever fits on chip)">,
    Option<"precision", "precision", "std::string", /*default=*/"\"auto\"",
           "split (values as two f16, three products a term: about f32 "
           "accuracy), half (one f16, one product: a third of the tensor-core "
           "work) or auto (half for the single-kernel form, split for the "
           "three-pass form)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
}

#endif // FFTCONV_CONVERSION_PASSES_TD
