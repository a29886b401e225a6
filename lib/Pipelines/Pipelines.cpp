//===- Pipelines.cpp - fftconv pass pipelines -------------------*- C++ -*-===//

#include "fftconv/Pipelines/Pipelines.h"

#include "fftconv/Conversion/ButterflyToGPU/ButterflyToGPU.h"
#include "fftconv/Conversion/ButterflyToLinalg/ButterflyToLinalg.h"
#include "fftconv/Conversion/ButterflyToVector/ButterflyToVector.h"
#include "fftconv/Conversion/FFTConvToLinalg/FFTConvToLinalg.h"
#include "fftconv/Dialect/Butterfly/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Async/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::fftconv::buildCPUPipeline(OpPassManager &pm,
                                     const CPUPipelineOptions &options) {
  // Multi-head convolutions as rows of B x H x L, gradients into the ops
  // of the forward (the direct lowering below has no separate conv_grad
  // algorithm), then both dialects to linalg on tensors.
  pm.addPass(createFFTConvFlattenHeads());
  pm.addPass(createFFTConvConvGradToFFT());
  pm.addPass(createFFTConvToLinalg());
  // 0 keeps the reference's dense stages; any other width goes to the pass,
  // which refuses what it cannot lower (a negative width included).
  if (options.vectorWidth != 0) {
    ButterflyToVectorOptions codelets;
    codelets.vectorWidth = options.vectorWidth;
    pm.addPass(createButterflyToVector(codelets));
  }
  pm.addPass(createButterflyToLinalg());
  pm.addPass(createCanonicalizerPass());
  if (options.threads)
    pm.addPass(createFFTConvParallelizeRows());

  // Bufferize with identity layouts at function boundaries, so that callers
  // (mlir-runner's and the ExecutionEngine's C interface) see plain memrefs,
  // and free what bufferization allocated.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Built directly rather than by name: a host tool may or may not have
  // registered upstream pipelines, and registering one twice is fatal.
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());

  // Loops, then LLVM. Complex arithmetic goes through arith first
  // (convert-complex-to-standard) so that only complex.create/re/im reach
  // the LLVM conversion.
  // The codelets' tasks (scf.forall, each rows of a butterfly-to-vector
  // transform) as scf.parallel: tasks of the async runtime's workers with
  // `threads`, a sequential loop otherwise. linalg's loops stay sequential:
  // the elementwise steps are too short for a task each.
  pm.addPass(createForallToParallelLoopPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  if (options.threads) {
    AsyncParallelForPassOptions tasks;
    // Every iteration is a task worth dispatching; the runtime says how
    // many workers there are.
    tasks.numWorkerThreads = -1;
    tasks.minTaskSize = 1;
    pm.addPass(createAsyncParallelForPass(tasks));
    pm.addPass(createAsyncToAsyncRuntimePass());
    pm.addPass(createAsyncRuntimeRefCountingPass());
    pm.addPass(createAsyncRuntimeRefCountingOptPass());
  }
  // The codelets' transfers and transposes, down to loads, stores and
  // shuffles; a codelet's 2-D access of a plane unrolled into its rows'
  // 1-D ones (no loop through a stack buffer).
  VectorTransferToSCFOptions transfers;
  transfers.enableFullUnroll();
  pm.addPass(createConvertVectorToSCFPass(transfers));
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertComplexToStandardPass());
  pm.addPass(arith::createArithExpandOpsPass());
  // A codelet's transposes as one shuffle each, not an extract and an
  // insert an element (the default): the latter were most of a small
  // convolution's LLVM IR and of its JIT time, for the same shuffles after
  // LLVM's O2.
  ConvertVectorToLLVMPassOptions toLLVMVectors;
  toLLVMVectors.vectorTransposeLowering =
      vector::VectorTransposeLowering::Shuffle1D;
  pm.addPass(createConvertVectorToLLVMPass(toLLVMVectors));
  // Vector lowerings start from ub.poison.
  pm.addPass(createUBToLLVMConversionPass());
  // Before arith's conversion: it creates arith constants.
  if (options.threads)
    pm.addPass(createConvertAsyncToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertComplexToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  FinalizeMemRefToLLVMConversionPassOptions toLLVM;
  toLLVM.useGenericFunctions = options.pooledAllocator;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(toLLVM));
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::fftconv::buildButterflyPipeline(
    OpPassManager &pm, const ButterflyPipelineOptions &options) {
  // Multi-head convolutions as rows of B x H x L first; then conv_grad: it
  // recomputes forward convolutions that conv-to-fft then expands.
  pm.addPass(createFFTConvFlattenHeads());
  FFTConvConvGradToFFTOptions gradToFFT;
  gradToFFT.minSize = options.minFFTSize;
  pm.addPass(createFFTConvConvGradToFFT(gradToFFT));
  FFTConvConvToFFTOptions toFFT;
  toFFT.minSize = options.minFFTSize;
  pm.addPass(createFFTConvConvToFFT(toFFT));
  pm.addPass(createCanonicalizerPass());
  FFTConvMonarchDecomposeOptions decompose;
  decompose.order = options.order;
  decompose.chip = options.chip;
  decompose.sharedMemoryPerBlock = options.sharedMemoryPerBlock;
  pm.addPass(createFFTConvMonarchDecompose(decompose));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(butterfly::createButterflyFuseConv());
}

butterfly::ButterflyPlanGPUKernelsOptions
fftconv::PTXPipelineOptions::planOptions() const {
  butterfly::ButterflyPlanGPUKernelsOptions gpu;
  gpu.chip = chip;
  gpu.threads = threads;
  gpu.batchTile = batchTile;
  gpu.singleKernelMax = singleKernelMax;
  gpu.precision = precision;
  gpu.ranks = ranks;
  gpu.rank = rank;
  gpu.maxRowLength = maxRowLength;
  gpu.threePassCluster = threePassCluster;
  // An explicit order is the caller's choice of factors: refused, not
  // replaced, where the kernels cannot run it.
  gpu.restage = order == "auto";
  return gpu;
}

void mlir::fftconv::buildPTXPipeline(OpPassManager &pm,
                                     const PTXPipelineOptions &options) {
  // The decomposition targets the chip's shared memory (smem-per-block 0).
  ButterflyPipelineOptions decomposition;
  decomposition.order = options.order;
  decomposition.chip = options.chip;
  // Short linear convolutions are padded to the kernels' smallest transform
  // (exact: more zero padding).
  decomposition.minFFTSize = butterfly::kMinSingleKernelFFTSize;
  buildButterflyPipeline(pm, decomposition);
  // The plan first (form, factors, precision, block shape as attributes),
  // then the kernels it describes.
  pm.addPass(butterfly::createButterflyPlanGPUKernels(options.planOptions()));
  pm.addPass(createButterflyToGPU());

  // Only the kernels go down to NVVM and PTX: the host function keeps its
  // gpu.launch_func ops, which the launch manifest is read off.
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createConvertNVGPUToNVVMPass());
  kernels.addPass(createConvertVectorToSCFPass());
  kernels.addPass(createSCFToControlFlowPass());
  ConvertGpuOpsToNVVMOpsOptions toNVVM;
  // The runtime passes one device pointer per buffer.
  toNVVM.useBarePtrCallConv = true;
  kernels.addPass(createConvertGpuOpsToNVVMOps(toNVVM));
  // NVVM ops without an LLVM intrinsic (wgmma.mma_async) become the PTX
  // they stand for.
  kernels.addPass(createConvertNVVMToLLVMPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());

  GpuModuleToBinaryPassOptions toBinary;
  toBinary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(toBinary));
}

void mlir::fftconv::registerPipelines() {
  PassPipelineRegistration<ButterflyPipelineOptions>(
      "fftconv-to-butterfly",
      "Expand convolutions into FFT form, decompose the FFTs into order-p "
      "Monarch form and fuse each convolution into kernel regions",
      buildButterflyPipeline);
  PassPipelineRegistration<PTXPipelineOptions>(
      "fftconv-to-ptx",
      "Compile convolutions to tensor-core GPU kernels: fftconv-to-butterfly, "
      "butterfly-to-gpu, NVVM, and PTX in a gpu.binary beside a host "
      "function of gpu.launch_func ops (the launch manifest's source)",
      buildPTXPipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "fftconv-to-cpu",
      "Lower fftconv and butterfly programs to LLVM for mlir-runner "
      "(the CPU reference path)",
      [](OpPassManager &pm, const CPUPipelineOptions &options) {
        buildCPUPipeline(pm, options);
      });
}
