/*===- fftconv-capi-test.c - the C API from C ---------------------*- C -*-===*\
|* Parses a convolution, runs the project's pipeline through the upstream C *|
|* pass-manager API and prints the result; checks that a malformed program *|
|* is reported with its location.                                            *|
\*===----------------------------------------------------------------------===*/

// RUN: fftconv-capi-test 2>&1 | FileCheck %s

#include "fftconv-c/FFTConv.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/Pass.h"

#include <stdio.h>
#include <string.h>

static void printToStdout(MlirStringRef text, void *userData) {
  (void)userData;
  fwrite(text.data, 1, text.length, stdout);
}

static MlirLogicalResult printDiagnostic(MlirDiagnostic diagnostic,
                                         void *userData) {
  (void)userData;
  fprintf(stdout, "diagnostic: ");
  mlirLocationPrint(mlirDiagnosticGetLocation(diagnostic), printToStdout, 0);
  fprintf(stdout, ": ");
  mlirDiagnosticPrint(diagnostic, printToStdout, 0);
  fprintf(stdout, "\n");
  return mlirLogicalResultSuccess();
}

static const char *kConv =
    "func.func @conv(%u: tensor<2x4x256xf32>, %k: tensor<4x256xf32>) -> "
    "tensor<2x4x256xf32> {\n"
    "  %y = fftconv.conv causal %u, %k : (tensor<2x4x256xf32>, "
    "tensor<4x256xf32>) -> tensor<2x4x256xf32>\n"
    "  return %y : tensor<2x4x256xf32>\n"
    "}\n";

static const char *kBad =
    "func.func @bad(%u: tensor<2x4x256xf32>, %k: tensor<3x256xf32>) {\n"
    "  %y = fftconv.conv causal %u, %k : (tensor<2x4x256xf32>, "
    "tensor<3x256xf32>) -> tensor<2x4x256xf32>\n"
    "  return\n"
    "}\n";

int main(void) {
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  fftconvRegisterAllDialects(registry);
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);
  fftconvRegisterAllPasses();
  mlirContextAttachDiagnosticHandler(ctx, printDiagnostic, NULL, NULL);

  /* The dialect handles are usable directly too. */
  MlirDialectHandle handle = mlirGetDialectHandle__fftconv__();
  MlirStringRef ns = mlirDialectHandleGetNamespace(handle);
  // CHECK: dialect: fftconv
  printf("dialect: %.*s\n", (int)ns.length, ns.data);

  MlirModule module =
      mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(kConv));
  if (mlirModuleIsNull(module))
    return 1;
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(pm);
  MlirLogicalResult parsed = mlirParsePassPipeline(
      opm,
      mlirStringRefCreateFromCString("builtin.module(fftconv-to-butterfly)"),
      printToStdout, NULL);
  if (mlirLogicalResultIsFailure(parsed))
    return 2;
  if (mlirLogicalResultIsFailure(
          mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module))))
    return 3;
  // CHECK-LABEL: func.func @conv
  // CHECK: butterfly.fused "conv"
  // CHECK: butterfly.hermitian_mul
  mlirOperationPrint(mlirModuleGetOperation(module), printToStdout, NULL);
  printf("\n");

  // CHECK: diagnostic: loc("fftconv-capi-input":2:8): 'fftconv.conv' op expects
  // the kernel to have one row per channel: input has H = 4 but kernel has 3
  MlirOperation parsedBad = mlirOperationCreateParse(
      ctx, mlirStringRefCreateFromCString(kBad),
      mlirStringRefCreateFromCString("fftconv-capi-input"));
  // CHECK: bad module rejected
  if (mlirOperationIsNull(parsedBad))
    printf("bad module rejected\n");

  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
  return 0;
}
