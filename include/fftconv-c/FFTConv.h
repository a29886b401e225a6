/*===- FFTConv.h - C API of fftconv-mlir --------------------------*- C -*-===*\
|*                                                                            *|
|* Registration of the fftconv and butterfly dialects, the project's passes  *|
|* and pipelines, and the upstream dialects the pipelines use, for clients   *|
|* of the MLIR C API (the Python bindings among them).                        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef FFTCONV_C_FFTCONV_H
#define FFTCONV_C_FFTCONV_H

#include "mlir-c/ExecutionEngine.h"
#include "mlir-c/IR.h"

#include "mlir-c/RegisterEverything.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(FFTConv, fftconv);
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(Butterfly, butterfly);

/// Inserts both dialects of the project and every upstream dialect (with
/// its interface extensions) into `registry`: what a module going through
/// the project's pipelines may contain.
MLIR_CAPI_EXPORTED void
fftconvRegisterAllDialects(MlirDialectRegistry registry);

/// Registers the project's passes and pipelines and the upstream passes the
/// pipelines use, so that pass pipelines can name them. Idempotent.
MLIR_CAPI_EXPORTED void fftconvRegisterAllPasses(void);

/// The options of a GPU compilation: those of the fftconv-to-ptx pipeline
/// (docs/passes.md). Take fftconvCompileOptionsGetDefault() and change what
/// you need; the strings are borrowed for the duration of the call.
typedef struct {
  MlirStringRef chip;       /* "sm_80", "sm_90" or "sm_90a" */
  MlirStringRef order;      /* Monarch order: "auto", "1" ... "4" */
  MlirStringRef precision;  /* "auto", "split" or "half" */
  int64_t threads;          /* threads per block; 0: chosen from the length */
  int64_t batchTile;        /* sequences per block; 0: from shared memory */
  int64_t singleKernelMax;  /* largest FFT size run as one kernel */
  int64_t ranks;            /* processes a sequence is sharded over; 1: not */
  int64_t rank;             /* the process whose program to build */
  int64_t maxRowLength;     /* three-pass rows, at most; 0: what fits */
  int64_t threePassCluster; /* three passes in one kernel on clusters of
                               this many blocks; 1: three kernels */
} FFTConvCompileOptions;

/// The pipeline's defaults (its passes' own); the strings are static.
MLIR_CAPI_EXPORTED FFTConvCompileOptions fftconvCompileOptionsGetDefault(void);

/// Compiles `module` (functions of fftconv ops; one function) through
/// fftconv-to-ptx with `options`, then passes the PTX and the launch
/// manifest (JSON, docs/gpu-manifest.md, naming the PTX "kernel.ptx") to the
/// callbacks. The module is rewritten in place. On failure the located
/// diagnostics go to the context's handlers and neither callback is called.
MLIR_CAPI_EXPORTED MlirLogicalResult
fftconvCompileToPTX(MlirModule module, FFTConvCompileOptions options,
                    MlirStringCallback ptxCallback,
                    MlirStringCallback manifestCallback, void *userData);

/// Prints the cost model's choices for FFT sizes 2^minLog2 ... 2^maxLog2
/// on `chip` ("sm_80" or "sm_90") with `complexBytes` bytes per complex
/// value on chip (4: f16/bf16, 8: f32), `order` forced when 1 to 4 (0:
/// the model's choice), as the markdown table fftconv-cost-table prints,
/// through `callback`. Fails (calling nothing) on an unknown chip or a bad
/// range.
/// The sharding model (docs/passes.md, "The cost model") for a causal
/// convolution of FFT size `fftSize` over `batch` x `channels` f16
/// sequences on `chip`: the ranks (a power of two up to `available`) it
/// finds fastest among those that fit in device memory (0: none fits), and
/// in `seconds` its estimate of the call on that many GPUs and in
/// `oneGPUSeconds` on one. Fails on an unknown chip or a bad shape.
MLIR_CAPI_EXPORTED MlirLogicalResult fftconvChooseRanks(
    MlirStringRef chip, int64_t fftSize, int64_t batch, int64_t channels,
    int64_t available, int64_t *ranks, double *seconds, double *oneGPUSeconds);

MLIR_CAPI_EXPORTED MlirLogicalResult fftconvPrintCostTable(
    MlirStringRef chip, int complexBytes, int minLog2, int maxLog2, int order,
    MlirStringCallback callback, void *userData);

/*===----------------------------------------------------------------------===
 * Op construction. Each returns a new detached operation (insert it with
 * mlirBlockInsertOwnedOperation*), verified: on a rule violation it reports
 * located diagnostics to the context's handlers and returns a null
 * operation. Optional operands are passed as null values (mlirValueIsNull).
 *===----------------------------------------------------------------------===*/

/// fftconv.conv: causal (or circular) convolution with an optional reverse
/// kernel (the bidirectional form, causal only), gates and skip term; input
/// B x H x L, or B x G x H x Z x L (multi-head).
MLIR_CAPI_EXPORTED MlirOperation fftconvConvCreate(
    MlirLocation location, bool causal, MlirValue input, MlirValue kernel,
    MlirValue reverse, MlirValue pregate, MlirValue postgate, MlirValue skip);

/// The gradients fftconv.conv_grad can compute (bits of its `wrt`).
enum {
  FFTConvGradInput = 1,
  FFTConvGradKernel = 2,
  FFTConvGradPregate = 4,
  FFTConvGradPostgate = 8,
  FFTConvGradSkip = 16,
  FFTConvGradReverseKernel = 32
};

/// fftconv.conv_grad: the gradients named by the bits of `wrt` (a mask of
/// FFTConvGrad*) of the convolution with these operands, given the result's
/// gradient `resultGrad`; results in the order input, kernel, pregate,
/// postgate, skip, reverse kernel, each with its operand's type.
MLIR_CAPI_EXPORTED MlirOperation fftconvConvGradCreate(
    MlirLocation location, bool causal, MlirValue input, MlirValue kernel,
    MlirValue reverse, MlirValue pregate, MlirValue postgate, MlirValue skip,
    MlirValue resultGrad, uint32_t wrt);

/*===----------------------------------------------------------------------===
 * The CPU programs' allocator. A program compiled with
 * `fftconv-to-cpu{pooled-allocator}` allocates through
 * _mlir_memref_to_llvm_alloc, _mlir_memref_to_llvm_aligned_alloc and
 * _mlir_memref_to_llvm_free; bind those to these (the Python bindings'
 * ExecutionEngine does). Large blocks are kept, by size, for later
 * allocations instead of being returned to the system (thread-safe).
 *===----------------------------------------------------------------------===*/
MLIR_CAPI_EXPORTED void *fftconvCPUAllocate(size_t bytes);
MLIR_CAPI_EXPORTED void *fftconvCPUAllocateAligned(size_t alignment,
                                                   size_t bytes);
MLIR_CAPI_EXPORTED void fftconvCPUFree(void *block);

/// A JIT for `module` (in the LLVM dialect) whose LLVM pipeline and code
/// generator both run at `optLevel` (0 to 3), loading `sharedLibPaths`:
/// mlirExecutionEngineCreate generates code at the default level whatever
/// optLevel. Null on failure; the mlirExecutionEngine* functions take it.
MLIR_CAPI_EXPORTED MlirExecutionEngine
fftconvExecutionEngineCreate(MlirModule module, int optLevel, int numPaths,
                             const MlirStringRef *sharedLibPaths);

/// The FFT ops along the last axis; the result type follows from n.
typedef enum {
  FFTConvFFT,
  FFTConvIFFT,
  FFTConvRFFT,
  FFTConvIRFFT
} FFTConvTransformKind;
MLIR_CAPI_EXPORTED MlirOperation
fftconvTransformCreate(MlirLocation location, FFTConvTransformKind kind,
                       MlirValue input, int64_t n);

MLIR_CAPI_EXPORTED MlirOperation fftconvSquashCreate(MlirLocation location,
                                                     MlirValue input,
                                                     float lambda);
MLIR_CAPI_EXPORTED MlirOperation fftconvSmoothCreate(MlirLocation location,
                                                     MlirValue input,
                                                     int64_t width);
/// fftconv.channel_mul; band <= 0 means no band.
MLIR_CAPI_EXPORTED MlirOperation fftconvChannelMulCreate(MlirLocation location,
                                                         MlirValue input,
                                                         MlirValue kernel,
                                                         int64_t band);
/// fftconv.channel_mul with the kernel spectrum conjugated (a correlation).
MLIR_CAPI_EXPORTED MlirOperation fftconvConjugateChannelMulCreate(
    MlirLocation location, MlirValue input, MlirValue kernel, int64_t band);
/// fftconv.cross_spectrum: sum over the batch of conj(lhs) * rhs.
MLIR_CAPI_EXPORTED MlirOperation
fftconvCrossSpectrumCreate(MlirLocation location, MlirValue lhs, MlirValue rhs);

/// butterfly.monarch over `numFactors` factors.
MLIR_CAPI_EXPORTED MlirOperation butterflyMonarchCreate(
    MlirLocation location, MlirValue input, const int64_t *factors,
    intptr_t numFactors, bool inverse, bool permuted);
/// butterfly.monarch_linear with one weight tensor per stage.
MLIR_CAPI_EXPORTED MlirOperation
butterflyMonarchLinearCreate(MlirLocation location, MlirValue input,
                             const MlirValue *weights, intptr_t numWeights);
/// butterfly.dft of the given m x m complex tensor type.
MLIR_CAPI_EXPORTED MlirOperation butterflyDFTCreate(MlirLocation location,
                                                    MlirType type,
                                                    bool inverse);
MLIR_CAPI_EXPORTED MlirOperation butterflyKronCreate(MlirLocation location,
                                                     MlirValue factor,
                                                     MlirValue input,
                                                     int64_t stride);
MLIR_CAPI_EXPORTED MlirOperation butterflyTwiddleCreate(MlirLocation location,
                                                        MlirValue input,
                                                        int64_t rows,
                                                        int64_t cols,
                                                        bool inverse);
MLIR_CAPI_EXPORTED MlirOperation butterflyPermuteCreate(MlirLocation location,
                                                        MlirValue input,
                                                        int64_t rows,
                                                        int64_t cols);

#ifdef __cplusplus
}
#endif

#endif /* FFTCONV_C_FFTCONV_H */
