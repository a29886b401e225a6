//===- fftconv-compile.cpp - PTX and a launch manifest ----------*- C++ -*-===//
//
// fftconv-compile program.mlir -o out/stem [--chip=sm_90] [--order=auto]
//
// Compiles a function of fftconv ops through fftconv-to-ptx and writes
// out/stem.ptx and out/stem.json (docs/gpu-manifest.md): all a runtime
// needs to run it on a GPU without MLIR.
//
//===----------------------------------------------------------------------===//

#include "fftconv/InitAll.h"
#include "fftconv/Target/GPUProgram.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

static llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                            llvm::cl::desc("<input.mlir>"),
                                            llvm::cl::init("-"));
static llvm::cl::opt<std::string>
    outputStem("o", llvm::cl::desc("output path without extension"),
               llvm::cl::value_desc("stem"), llvm::cl::Required);
static llvm::cl::opt<std::string> chip("chip", llvm::cl::desc("sm_80 or sm_90"),
                                       llvm::cl::init("sm_90"));
static llvm::cl::opt<std::string>
    order("order", llvm::cl::desc("Monarch order: auto, 1, 2, 3 or 4"),
          llvm::cl::init("auto"));
static llvm::cl::opt<int64_t>
    threads("block-threads", llvm::cl::desc("threads per block (0: automatic)"),
            llvm::cl::init(0));
static llvm::cl::opt<int64_t>
    batchTile("batch-tile",
              llvm::cl::desc("sequences per block (0: automatic)"),
              llvm::cl::init(0));
static llvm::cl::opt<int64_t> singleKernelMax(
    "single-kernel-max",
    llvm::cl::desc("the largest FFT size run as one kernel; larger ones take "
                   "the three-pass form (0: whatever fits on chip)"),
    llvm::cl::init(butterfly::kDefaultSingleKernelMax));
static llvm::cl::opt<std::string> precision(
    "precision",
    llvm::cl::desc("tensor-core precision: auto, split (about f32) or half "
                   "(f16 between stages, a third of the work)"),
    llvm::cl::init("auto"));

static bool writeFile(llvm::StringRef path, llvm::StringRef contents) {
  std::string error;
  auto file = openOutputFile(path, &error);
  if (!file) {
    llvm::errs() << "fftconv-compile: " << error << "\n";
    return false;
  }
  file->os() << contents;
  file->keep();
  return true;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(
      argc, argv, "fftconv-compile: PTX and a launch manifest\n");
  registerAllPasses();
  fftconv::registerAllPasses();
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  fftconv::registerAllDialects(registry);
  fftconv::registerGPUCompilation(registry);
  MLIRContext context(registry);

  std::string error;
  auto input = openInputFile(inputFile, &error);
  if (!input) {
    llvm::errs() << "fftconv-compile: " << error << "\n";
    return 1;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;
  std::string ptxName = llvm::sys::path::filename(outputStem).str() + ".ptx";
  fftconv::ButterflyToGPUOptions options;
  options.chip = chip;
  options.threads = threads;
  options.batchTile = batchTile;
  options.singleKernelMax = singleKernelMax;
  options.precision = precision;
  FailureOr<fftconv::GPUProgram> program =
      fftconv::compileToGPUProgram(*module, order, ptxName, options);
  if (failed(program))
    return 1;
  if (!writeFile(outputStem + ".ptx", program->ptx) ||
      !writeFile(outputStem + ".json", program->manifest))
    return 1;
  return 0;
}
