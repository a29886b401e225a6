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

def ButterflyToVector : Pass<"butterfly-to-vector"> {
  let summary = "Lower Monarch DFTs to vectorized CPU codelet loops";
  let description = [{
    The fast CPU lowering of `butterfly.monarch`: the rows are split into
    planes of real and imaginary parts, each stage runs a straight-line
    DFT codelet (the radix-2 recursion of its factor, unrolled, with
    constant roots of unity) per column of its `[a, f, c]` view on
    `vector<W x f32>` lanes along `c` (along `a`, transposed in registers,
    for the last stage where `c = 1`), the twiddle of a column is built
    from `w^j` by products, and every row goes through all stages before
    the next (rows in an `scf.forall` of tasks). Known zero inputs
    (`nonzero_inputs`) are never read and unread outputs (`needed_outputs`)
    never written. A `pack_real` producer and an `unpack_real` only user
    are fused: the rows are read from and written to the real sequences.
    Monarch ops with a factor that is not a power of two or above
    `max-factor`, or with a `spectral_band`, are left to
    `butterfly-to-linalg`.

    Example: `--butterfly-to-vector="vector-width=8"` turns

    ```mlir
    %y = butterfly.monarch %x factors = [16, 16] permuted
        : tensor<4x256xcomplex<f32>>
    ```

    into a `linalg.generic` of the twiddle's roots `w^j` (16 of them) and
    an `scf.forall` of one task whose `scf.for` over the 4 rows splits a row
    into two `tensor<1x256xf32>` planes, runs the two stages' loops of
    `vector.transfer_read`/`transfer_write` and arithmetic on
    `vector<8xf32>` (the second through `vector.transpose`), and joins the
    planes into the row of the result.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes of the codelets' vectors (a power of two, 1 to 64; "
           "16, a cache line, measured fastest here: 7.0 ms against 8.4 at "
           "8 lanes for 16 rows of 64K points)">,
    Option<"maxFactor", "max-factor", "int64_t", /*default=*/"32",
           "largest factor lowered as a codelet (a power of two, 2 to 64); "
           "larger ones stay dense">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::complex::ComplexDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def ButterflyToGPU : Pass<"butterfly-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower fused convolution regions to gpu + nvgpu kernels";
  let description = [{
    Each function holding `butterfly.fused conv` regions (what
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

    How (the form, the factors, the precision, the block shape) is the
    `#butterfly.gpu_plan` that `butterfly-plan-gpu-kernels` wrote on each
    conv region; a region without one is refused. The kernel spectrum is
    always prepared at `split` precision.

    The host function's arguments become memrefs of the same shapes, each
    result a trailing output memref, each spectrum a trailing workspace
    memref (`fftconv.role` argument attributes say which;
    `fftconv.convolutions` on the function carries each convolution's plan
    and launches to the manifest). Plans of the `three_pass` form become
    three kernels around an f32 workspace: an outer forward pass, the inner
    row transforms with the spectral product, and an outer inverse pass.
    Regions the kernels do not cover (constant kernels, work outside the
    regions, broken three-pass chains) are refused with a diagnostic.

    Example: `fftconv-opt -fftconv-to-butterfly -butterfly-plan-gpu-kernels
    -butterfly-to-gpu`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
}

#endif // FFTCONV_CONVERSION_PASSES_TD
