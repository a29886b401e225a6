/*===- embed-fftconv.c - fftconv-mlir from C, as an installed package -----===*\
|*                                                                            *|
|* Creates a context with the project's dialects (and the upstream ones its   *|
|* pipelines use), parses a gated causal convolution, prints it, compiles it  *|
|* with the fftconv-to-butterfly pipeline, and prints the fused result.       *|
|* Only the C API of libFFTConvCAPI.so (which also exports MLIR's).           *|
\*===----------------------------------------------------------------------===*/

#include "fftconv-c/FFTConv.h"
#include "mlir-c/Pass.h"

#include <stdio.h>

static const char *kProgram =
    "func.func @block(%u: tensor<2x8x1024xf16>, %k: tensor<8x1024xf32>,\n"
    "                 %g: tensor<2x8x1024xf16>) -> tensor<2x8x1024xf16> {\n"
    "  %y = fftconv.conv causal %u, %k postgate %g\n"
    "      : (tensor<2x8x1024xf16>, tensor<8x1024xf32>, tensor<2x8x1024xf16>)\n"
    "      -> tensor<2x8x1024xf16>\n"
    "  return %y : tensor<2x8x1024xf16>\n"
    "}\n";

static void printToStdout(MlirStringRef text, void *userData) {
  (void)userData;
  fwrite(text.data, 1, text.length, stdout);
}

int main(void) {
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  fftconvRegisterAllDialects(registry);
  MlirContext context = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);
  fftconvRegisterAllPasses();

  MlirModule module =
      mlirModuleCreateParse(context, mlirStringRefCreateFromCString(kProgram));
  if (mlirModuleIsNull(module)) {
    fprintf(stderr, "the program did not parse\n");
    return 1;
  }
  printf("parsed:\n");
  mlirOperationPrint(mlirModuleGetOperation(module), printToStdout, NULL);

  MlirPassManager pm = mlirPassManagerCreate(context);
  if (mlirLogicalResultIsFailure(mlirParsePassPipeline(
          mlirPassManagerGetAsOpPassManager(pm),
          mlirStringRefCreateFromCString(
              "builtin.module(fftconv-to-butterfly)"),
          printToStdout, NULL)) ||
      mlirLogicalResultIsFailure(
          mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module)))) {
    fprintf(stderr, "fftconv-to-butterfly failed\n");
    return 2;
  }
  printf("\ncompiled:\n");
  mlirOperationPrint(mlirModuleGetOperation(module), printToStdout, NULL);
  printf("\n");

  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
  mlirContextDestroy(context);
  return 0;
}
