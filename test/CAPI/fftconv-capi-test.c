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

static const char *kAdd = "llvm.func @add(%a: i32, %b: i32) -> i32 {\n"
                          "  %s = llvm.add %a, %b : i32\n"
                          "  llvm.return %s : i32\n"
                          "}\n";

static void printManifest(MlirStringRef text, void *userData) {
  (void)userData;
  printf("manifest:\n%.*s", (int)text.length, text.data);
}

/* The PTX is long: print the line holding the first tensor-core product. */
static void printPTXSummary(MlirStringRef text, void *userData) {
  (void)userData;
  const char *mma = strstr(text.data, "mma.sync");
  const char *end = mma ? strchr(mma, '\n') : NULL;
  printf("ptx: %.*s\n", mma ? (int)(end ? end - mma : 40) : 4,
         mma ? mma : "none");
}

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
  // CHECK: butterfly.fused conv
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

  /* Building ops through the C API, on the arguments of a function. */
  MlirModule built = mlirModuleCreateParse(
      ctx, mlirStringRefCreateFromCString(
               "func.func @build(%u: tensor<2x4x64xf32>, %k: tensor<4x64xf32>, "
               "%c: tensor<2x64xcomplex<f32>>, %d: tensor<3xf32>) {\n"
               "  return\n}\n"));
  MlirOperation func = mlirBlockGetFirstOperation(mlirModuleGetBody(built));
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  MlirOperation ret = mlirBlockGetFirstOperation(body);
  MlirLocation loc = mlirLocationFileLineColGet(
      ctx, mlirStringRefCreateFromCString("capi-builder"), 7, 3);
  MlirValue u = mlirBlockGetArgument(body, 0),
            k = mlirBlockGetArgument(body, 1);
  MlirValue c = mlirBlockGetArgument(body, 2),
            d = mlirBlockGetArgument(body, 3);
  MlirValue none = {NULL};
  MlirOperation conv = fftconvConvCreate(loc, true, u, k, none, u, none, none);
  mlirBlockInsertOwnedOperationBefore(body, ret, conv);
  MlirOperation rfft = fftconvTransformCreate(loc, FFTConvRFFT, k, 128);
  mlirBlockInsertOwnedOperationBefore(body, ret, rfft);
  int64_t factors[] = {8, 8};
  MlirOperation monarch =
      butterflyMonarchCreate(loc, c, factors, 2, false, true);
  mlirBlockInsertOwnedOperationBefore(body, ret, monarch);
  MlirOperation grad =
      fftconvConvGradCreate(loc, true, u, k, none, none, none, none, u,
                            FFTConvGradInput | FFTConvGradKernel);
  mlirBlockInsertOwnedOperationBefore(body, ret, grad);
  // CHECK-LABEL: func.func @build
  // CHECK: fftconv.conv causal %arg0, %arg1 pregate %arg0 :
  // (tensor<2x4x64xf32>, tensor<4x64xf32>, tensor<2x4x64xf32>) ->
  // tensor<2x4x64xf32> CHECK: fftconv.rfft %arg1 n = 128 : tensor<4x64xf32> ->
  // tensor<4x65xcomplex<f32>> CHECK: butterfly.monarch %arg2 factors = [8, 8]
  // permuted : tensor<2x64xcomplex<f32>>
  // CHECK: fftconv.conv_grad causal %arg0, %arg1 grad %arg0 wrt [input, kernel]
  mlirOperationPrint(func, printToStdout, NULL);
  printf("\n");

  /* A rule violation: a skip weight per channel is needed (H = 4). */
  // CHECK: diagnostic: loc("capi-builder":7:3): 'fftconv.conv' op expects one
  // skip weight per channel (H = 4), got 'tensor<3xf32>' CHECK: bad conv not
  // built
  if (mlirOperationIsNull(
          fftconvConvCreate(loc, false, u, k, none, none, none, d)))
    printf("bad conv not built\n");
  // CHECK: diagnostic: loc("capi-builder":7:3): 'butterfly.monarch' op expects
  // the factors to multiply to the last dimension (64), got 32
  int64_t wrong[] = {4, 8};
  if (mlirOperationIsNull(
          butterflyMonarchCreate(loc, c, wrong, 2, false, false)))
    printf("bad monarch not built\n");
  // CHECK: bad monarch not built
  // CHECK: diagnostic: loc("capi-builder":7:3): 'fftconv.conv_grad' op asks
  // for the gradient of the pregate, which the convolution does not have
  if (mlirOperationIsNull(fftconvConvGradCreate(
          loc, true, u, k, none, none, none, none, u, FFTConvGradPregate)))
    printf("bad conv_grad not built\n");
  // CHECK: bad conv_grad not built
  mlirModuleDestroy(built);

  /* PTX and the launch manifest. */
  MlirModule gpuModule =
      mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(kConv));
  FFTConvCompileOptions options = fftconvCompileOptionsGetDefault();
  // CHECK: defaults: chip sm_90, order auto, precision auto,
  // CHECK-SAME: single-kernel-max 32768
  printf("defaults: chip %.*s, order %.*s, precision %.*s, threads %lld, "
         "batch tile %lld, single-kernel-max %lld\n",
         (int)options.chip.length, options.chip.data, (int)options.order.length,
         options.order.data, (int)options.precision.length,
         options.precision.data, (long long)options.threads,
         (long long)options.batchTile, (long long)options.singleKernelMax);
  // CHECK: ptx: {{.*}}mma.sync.aligned.m16n8k16
  // CHECK-LABEL: manifest:
  // CHECK: "entry": "conv"
  // CHECK: "name": "conv_conv0_spectrum"
  // CHECK: "name": "conv_conv0"
  if (mlirLogicalResultIsFailure(fftconvCompileToPTX(
          gpuModule, options, printPTXSummary, printManifest, NULL)))
    return 4;
  printf("\n");
  // CHECK: diagnostic: {{.*}}unknown chip 'sm_70'
  // CHECK: sm_70 refused
  MlirModule badChip =
      mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(kConv));
  options.chip = mlirStringRefCreateFromCString("sm_70");
  if (mlirLogicalResultIsFailure(fftconvCompileToPTX(
          badChip, options, printPTXSummary, printManifest, NULL)))
    printf("sm_70 refused\n");
  mlirModuleDestroy(badChip);
  mlirModuleDestroy(gpuModule);

  /* The CPU programs' allocator: a large block freed is handed out again
     for the next allocation of its size (the pool), aligned to a page;
     small blocks come from malloc. */
  void *large = fftconvCPUAllocate(1 << 20);
  fftconvCPUFree(large);
  void *again = fftconvCPUAllocateAligned(64, 1 << 20);
  printf("pooled block reused: %d, page aligned: %d\n", again == large,
         ((uintptr_t)again % 4096) == 0);
  // CHECK: pooled block reused: 1, page aligned: 1
  void *small = fftconvCPUAllocateAligned(64, 100);
  printf("small block aligned: %d\n", ((uintptr_t)small % 64) == 0);
  // CHECK: small block aligned: 1
  fftconvCPUFree(small);
  fftconvCPUFree(again);
  fftconvCPUFree(NULL);

  /* The JIT at each optimization level (its code generator's too), and a
     level out of range refused. */
  for (int level = 0; level <= 4; level += 2) {
    MlirModule program =
        mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(kAdd));
    MlirExecutionEngine jit =
        fftconvExecutionEngineCreate(program, level, 0, NULL);
    if (mlirExecutionEngineIsNull(jit)) {
      printf("O%d: refused\n", level);
    } else {
      int (*add)(int, int) = (int (*)(int, int))mlirExecutionEngineLookup(
          jit, mlirStringRefCreateFromCString("add"));
      printf("O%d: 2 + 3 = %d\n", level, add ? add(2, 3) : -1);
      mlirExecutionEngineDestroy(jit);
    }
    mlirModuleDestroy(program);
  }
  // CHECK: O0: 2 + 3 = 5
  // CHECK: O2: 2 + 3 = 5
  // CHECK: O4: refused

  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
  return 0;
}
