/*===- FFTConv.h - C API of fftconv-mlir --------------------------*- C -*-===*\
|*                                                                            *|
|* Registration of the fftconv and butterfly dialects, the project's passes  *|
|* and pipelines, and the upstream dialects the pipelines use, for clients   *|
|* of the MLIR C API (the Python bindings among them).                        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef FFTCONV_C_FFTCONV_H
#define FFTCONV_C_FFTCONV_H

#include "mlir-c/IR.h"
#include "mlir-c/RegisterEverything.h"

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

#ifdef __cplusplus
}
#endif

#endif /* FFTCONV_C_FFTCONV_H */
