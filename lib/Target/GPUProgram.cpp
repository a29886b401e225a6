//===- GPUProgram.cpp - PTX and the launch manifest -------------*- C++ -*-===//

#include "fftconv/Target/GPUProgram.h"
#include "fftconv/Conversion/ButterflyToGPU/ButterflyToGPU.h"
#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"
#include "fftconv/Pipelines/Pipelines.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/JSON.h"

using namespace mlir;
using namespace mlir::fftconv;

static std::string dtypeName(Type type) {
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isF32())
    return "f32";
  return "";
}

static std::optional<int64_t> constantOf(Value value) {
  if (auto constant = value.getDefiningOp<arith::ConstantIndexOp>())
    return constant.value();
  if (auto constant = value.getDefiningOp<arith::ConstantIntOp>())
    return constant.value();
  return std::nullopt;
}

/// The manifest's "convolutions": per convolution its form, precision, FFT
/// size, factors (outer first), the indices of its kernels and, for a
/// clustered three-pass form, its cluster's blocks, from the
/// host function's fftconv.convolutions (absent when the function has none).
static FailureOr<std::optional<llvm::json::Array>>
convolutionsOf(func::FuncOp host) {
  auto entries = host->getAttrOfType<ArrayAttr>(kConvolutionsAttrName);
  if (!entries)
    return std::optional<llvm::json::Array>();
  llvm::json::Array convolutions;
  for (Attribute entry : entries) {
    auto dict = dyn_cast<DictionaryAttr>(entry);
    auto plan = dict ? dict.getAs<butterfly::GPUPlanAttr>(kPlanKey) : nullptr;
    auto fftSize = dict ? dict.getAs<IntegerAttr>(kFFTSizeKey) : nullptr;
    auto kernels = dict ? dict.getAs<DenseI64ArrayAttr>(kKernelsKey) : nullptr;
    if (!plan || !fftSize || !kernels)
      return host.emitError() << kConvolutionsAttrName
                              << " entries need a plan, fft_size and kernels";
    llvm::json::Array factors, indices;
    for (int64_t factor : plan.getAllFactors())
      factors.push_back(factor);
    for (int64_t index : kernels.asArrayRef())
      indices.push_back(index);
    llvm::json::Object convolution{
        {"form", plan.isThreePass() ? "three-pass" : "single-kernel"},
        {"precision", butterfly::stringifyGPUPrecision(plan.getPrecision())},
        {"fft_size", fftSize.getInt()},
        {"factors", std::move(factors)},
        {"kernels", std::move(indices)}};
    // A three-pass form's passes in one kernel on clusters of blocks.
    if (plan.isThreePass() && plan.isClustered())
      convolution["cluster"] = plan.getCluster();
    convolutions.push_back(std::move(convolution));
  }
  return std::optional<llvm::json::Array>(std::move(convolutions));
}

FailureOr<GPUProgram> mlir::fftconv::extractGPUProgram(ModuleOp module,
                                                       StringRef chip,
                                                       StringRef ptxFileName) {
  SmallVector<func::FuncOp> hosts;
  for (auto func : module.getOps<func::FuncOp>())
    if (!func.isExternal())
      hosts.push_back(func);
  if (hosts.size() != 1)
    return module.emitError()
           << "a GPU program has one host function; found " << hosts.size();
  func::FuncOp host = hosts.front();
  auto binaries = llvm::to_vector(module.getOps<gpu::BinaryOp>());
  if (binaries.size() != 1)
    return module.emitError()
           << "a GPU program has one gpu.binary (run fftconv-to-ptx); found "
           << binaries.size();
  gpu::BinaryOp binary = binaries.front();
  if (binary.getObjects().size() != 1)
    return binary.emitError() << "expected one object (one target chip)";
  auto object = cast<gpu::ObjectAttr>(binary.getObjects()[0]);
  if (object.getFormat() != gpu::CompilationTarget::Assembly)
    return binary.emitError() << "the binary does not hold PTX "
                                 "(gpu-module-to-binary{format=isa})";

  llvm::json::Array arguments;
  unsigned outputs = 0, workspaces = 0;
  for (auto [i, type] : llvm::enumerate(host.getArgumentTypes())) {
    auto memref = dyn_cast<MemRefType>(type);
    std::string dtype = memref ? dtypeName(memref.getElementType()) : "";
    if (dtype.empty() || !memref.hasStaticShape())
      return host.emitError()
             << "argument #" << i << " is not a static f16, bf16 or f32 memref";
    auto role = host.getArgAttrOfType<StringAttr>(i, kRoleAttrName);
    std::string roleName = role ? role.getValue().str() : "input";
    std::string name;
    if (auto given = host.getArgAttrOfType<StringAttr>(i, kNameAttrName))
      name = given.getValue().str();
    else if (roleName == "output")
      name = "result" + std::to_string(outputs);
    else if (roleName == "workspace")
      name = "workspace" + std::to_string(workspaces);
    else
      name = "arg" + std::to_string(i);
    outputs += roleName == "output";
    workspaces += roleName == "workspace";
    llvm::json::Array shape;
    for (int64_t size : memref.getShape())
      shape.push_back(size);
    llvm::json::Object argument{{"name", name},
                                {"role", roleName},
                                {"dtype", dtype},
                                {"shape", std::move(shape)}};
    if (auto producer =
            host.getArgAttrOfType<IntegerAttr>(i, kProducerAttrName))
      argument["producer"] = producer.getInt();
    if (auto count =
            host.getArgAttrOfType<IntegerAttr>(i, kProducerCountAttrName))
      argument["producer_count"] = count.getInt();
    if (auto inputs =
            host.getArgAttrOfType<DenseI64ArrayAttr>(i, kDependsOnAttrName)) {
      llvm::json::Array dependsOn;
      for (int64_t input : inputs.asArrayRef())
        dependsOn.push_back(input);
      argument["depends_on"] = std::move(dependsOn);
    }
    arguments.push_back(std::move(argument));
  }

  llvm::json::Array kernels, exchanges;
  auto hostArgument = [&](Value buffer) -> std::optional<int64_t> {
    auto arg = dyn_cast<BlockArgument>(buffer);
    if (!arg || arg.getOwner()->getParentOp() != host)
      return std::nullopt;
    return arg.getArgNumber();
  };
  WalkResult walk = host.walk([&](Operation *op) -> WalkResult {
    // Views of a buffer (a multi-head sequence as rows) are the buffer.
    if (isa<func::ReturnOp, arith::ConstantOp, memref::CollapseShapeOp>(op) ||
        op == host)
      return WalkResult::advance();
    // A sharded convolution's exchange: after the launches so far.
    if (auto exchange = dyn_cast<butterfly::ExchangeOp>(op)) {
      std::optional<int64_t> send = hostArgument(exchange.getSend());
      std::optional<int64_t> recv = hostArgument(exchange.getRecv());
      if (!send || !recv) {
        exchange.emitError() << "exchanged buffers must be host arguments";
        return WalkResult::interrupt();
      }
      exchanges.push_back(llvm::json::Object{{"after", int64_t(kernels.size())},
                                             {"send", *send},
                                             {"recv", *recv},
                                             {"ranks", exchange.getRanks()}});
      return WalkResult::advance();
    }
    auto launch = dyn_cast<gpu::LaunchFuncOp>(op);
    if (!launch) {
      op->emitError() << "a GPU program's host function holds only launches "
                         "and exchanges";
      return WalkResult::interrupt();
    }
    gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
    gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
    llvm::json::Array gridSize, blockSize, args;
    for (Value v : {grid.x, grid.y, grid.z, block.x, block.y, block.z}) {
      std::optional<int64_t> size = constantOf(v);
      if (!size) {
        launch.emitError() << "launch sizes must be constants";
        return WalkResult::interrupt();
      }
      (gridSize.size() < 3 ? gridSize : blockSize).push_back(*size);
    }
    int64_t shared = 0;
    if (Value bytes = launch.getDynamicSharedMemorySize())
      shared = constantOf(bytes).value_or(-1);
    if (shared < 0) {
      launch.emitError() << "dynamic shared memory must be a constant";
      return WalkResult::interrupt();
    }
    for (Value operand : launch.getKernelOperands()) {
      if (auto view = operand.getDefiningOp<memref::CollapseShapeOp>())
        operand = view.getSrc();
      auto arg = dyn_cast<BlockArgument>(operand);
      if (!arg || arg.getOwner()->getParentOp() != host) {
        launch.emitError() << "kernel operands must be host arguments";
        return WalkResult::interrupt();
      }
      args.push_back(int64_t(arg.getArgNumber()));
    }
    llvm::json::Object kernel{{"name", launch.getKernelName().getValue()},
                              {"grid", std::move(gridSize)},
                              {"block", std::move(blockSize)},
                              {"shared_bytes", shared},
                              {"arguments", std::move(args)}};
    // The operands the kernel only stores to (butterfly-to-gpu's list).
    if (auto writeOnly = launch->getAttrOfType<DenseI64ArrayAttr>(
            kWriteOnlyOperandsAttrName)) {
      llvm::json::Array writes;
      for (int64_t position : writeOnly.asArrayRef())
        writes.push_back(position);
      kernel["writes"] = std::move(writes);
    }
    kernels.push_back(std::move(kernel));
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  FailureOr<std::optional<llvm::json::Array>> convolutions =
      convolutionsOf(host);
  if (failed(convolutions))
    return failure();

  llvm::json::Object manifest{{"format", "fftconv-manifest"},
                              {"version", 1},
                              {"chip", chip},
                              {"ptx", ptxFileName},
                              {"entry", host.getName()},
                              {"arguments", std::move(arguments)},
                              {"kernels", std::move(kernels)}};
  if (*convolutions)
    manifest["convolutions"] = std::move(**convolutions);
  if (!exchanges.empty()) {
    manifest["exchanges"] = std::move(exchanges);
    if (auto shard = host->getAttrOfType<DenseI64ArrayAttr>(kShardAttrName))
      manifest["shard"] = llvm::json::Object{
          {"rank", shard[0]}, {"ranks", shard[1]}, {"row_length", shard[2]}};
  }
  GPUProgram program;
  program.ptx = object.getObject().getValue().str();
  llvm::raw_string_ostream os(program.manifest);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest)));
  os << "\n";
  return program;
}

FailureOr<GPUProgram>
mlir::fftconv::compileToGPUProgram(ModuleOp module, StringRef ptxFileName,
                                   const PTXPipelineOptions &options) {
  PassManager pm(module.getContext());
  buildPTXPipeline(pm, options);
  if (failed(pm.run(module)))
    return failure();
  return extractGPUProgram(module, options.chip, ptxFileName);
}

void mlir::fftconv::registerGPUCompilation(DialectRegistry &registry) {
  registerAllToLLVMIRTranslations(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
}
