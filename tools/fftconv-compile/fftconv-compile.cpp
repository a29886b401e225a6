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
#include "fftconv/Tools/CommandLine.h"

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

static llvm::cl::OptionCategory category("fftconv-compile options");

// The defaults are fftconv-to-ptx's, which are its passes' (Passes.td).
static const fftconv::PTXPipelineOptions defaults;

static llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                            llvm::cl::desc("<input.mlir>"),
                                            llvm::cl::init("-"),
                                            llvm::cl::cat(category));
static llvm::cl::opt<std::string>
    outputStem("o", llvm::cl::desc("output path without extension"),
               llvm::cl::value_desc("stem"), llvm::cl::Required,
               llvm::cl::cat(category));
static llvm::cl::opt<std::string> chip("chip",
                                       llvm::cl::desc(defaults.chip.HelpStr),
                                       llvm::cl::init(defaults.chip),
                                       llvm::cl::cat(category));
static llvm::cl::opt<std::string> order("order",
                                        llvm::cl::desc(defaults.order.HelpStr),
                                        llvm::cl::init(defaults.order),
                                        llvm::cl::cat(category));
static llvm::cl::opt<int64_t> threads("block-threads",
                                      llvm::cl::desc(defaults.threads.HelpStr),
                                      llvm::cl::init(defaults.threads),
                                      llvm::cl::cat(category));
static llvm::cl::opt<int64_t>
    batchTile("batch-tile", llvm::cl::desc(defaults.batchTile.HelpStr),
              llvm::cl::init(defaults.batchTile), llvm::cl::cat(category));
static llvm::cl::opt<int64_t> singleKernelMax(
    "single-kernel-max", llvm::cl::desc(defaults.singleKernelMax.HelpStr),
    llvm::cl::init(defaults.singleKernelMax), llvm::cl::cat(category));
static llvm::cl::opt<std::string>
    precision("precision", llvm::cl::desc(defaults.precision.HelpStr),
              llvm::cl::init(defaults.precision), llvm::cl::cat(category));
static llvm::cl::opt<int64_t> ranks("ranks",
                                    llvm::cl::desc(defaults.ranks.HelpStr),
                                    llvm::cl::init(defaults.ranks),
                                    llvm::cl::cat(category));
static llvm::cl::opt<int64_t> rank("rank",
                                   llvm::cl::desc(defaults.rank.HelpStr),
                                   llvm::cl::init(defaults.rank),
                                   llvm::cl::cat(category));
static llvm::cl::opt<int64_t> threePassCluster(
    "three-pass-cluster", llvm::cl::desc(defaults.threePassCluster.HelpStr),
    llvm::cl::init(defaults.threePassCluster), llvm::cl::cat(category));
static llvm::cl::opt<int64_t> maxRowLength(
    "max-row-length", llvm::cl::desc(defaults.maxRowLength.HelpStr),
    llvm::cl::init(defaults.maxRowLength), llvm::cl::cat(category));

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
  fftconv::setUpToolCommandLine(&category);
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
  fftconv::PTXPipelineOptions options;
  options.order = order;
  options.chip = chip;
  options.threads = threads;
  options.batchTile = batchTile;
  options.singleKernelMax = singleKernelMax;
  options.precision = precision;
  options.ranks = ranks;
  options.rank = rank;
  options.maxRowLength = maxRowLength;
  options.threePassCluster = threePassCluster;
  FailureOr<fftconv::GPUProgram> program =
      fftconv::compileToGPUProgram(*module, ptxName, options);
  if (failed(program))
    return 1;
  if (!writeFile(outputStem + ".ptx", program->ptx) ||
      !writeFile(outputStem + ".json", program->manifest))
    return 1;
  return 0;
}
