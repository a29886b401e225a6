//===- ExecutionEngine.cpp - the CPU programs' JIT --------------*- C++ -*-===//
//
// mlirExecutionEngineCreate builds its target machine at LLVM's default
// code generation level and hands it to the JIT, so optLevel 0 still ran
// the greedy register allocator and the machine scheduler: 3.9 s of a small
// convolution's 4.9 s compile at "O0", where llc -O0 takes 1.2 s for the
// same module. Here the target machine generates code at optLevel too, and
// the engine is the same mlir::ExecutionEngine (the mlirExecutionEngine*
// calls take it).
//
//===----------------------------------------------------------------------===//

#include "fftconv-c/FFTConv.h"

#include "mlir/CAPI/ExecutionEngine.h"
#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/TargetSelect.h"

#include <functional>

using namespace mlir;

MlirExecutionEngine fftconvExecutionEngineCreate(MlirModule module,
                                                 int optLevel, int numPaths,
                                                 const MlirStringRef *paths) {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
  if (optLevel < 0 || optLevel > 3)
    return MlirExecutionEngine{nullptr};
  Operation *op = unwrap(module).getOperation();
  registerBuiltinDialectTranslation(*op->getContext());
  registerLLVMDialectTranslation(*op->getContext());

  auto machineBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machineBuilder) {
    llvm::consumeError(machineBuilder.takeError());
    return MlirExecutionEngine{nullptr};
  }
  auto level = static_cast<llvm::CodeGenOptLevel>(optLevel);
  machineBuilder->setCodeGenOptLevel(level);
  auto machine = machineBuilder->createTargetMachine();
  if (!machine) {
    llvm::consumeError(machine.takeError());
    return MlirExecutionEngine{nullptr};
  }

  SmallVector<StringRef> libraries;
  for (int i = 0; i < numPaths; ++i)
    libraries.push_back(unwrap(paths[i]));
  // The options hold a function_ref: the transformer lives here, through
  // create().
  std::function<llvm::Error(llvm::Module *)> transformer =
      makeOptimizingTransformer(optLevel, /*sizeLevel=*/0, machine->get());
  ExecutionEngineOptions options;
  options.transformer = transformer;
  options.jitCodeGenOptLevel = level;
  options.sharedLibPaths = libraries;
  auto engine = ExecutionEngine::create(op, options, std::move(*machine));
  if (!engine) {
    llvm::consumeError(engine.takeError());
    return MlirExecutionEngine{nullptr};
  }
  return wrap(engine->release());
}
