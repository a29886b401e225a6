//===- KernelEmitter.cpp - scalars, control flow, kernel functions -*- C++ -*-//
//
// The parts of the kernel emitter that every kernel uses: the thread ids and
// the shared-memory view, the index arithmetic, the loops and guards, and
// the kernel function itself.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include "fftconv/Dialect/Butterfly/Transforms/CostModel.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

void KernelEmitter::begin(int64_t firstSequence) {
  beginAt(firstSequence * layout.planes() * layout.length * 2);
}

void KernelEmitter::beginAt(int64_t offsetBytes) {
  tid = fromIndex(gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x));
  lane = remc(tid, kThreadsPerWarp);
  warp = divc(tid, kThreadsPerWarp);
  // The warpgroup stage addresses its factor's image and its operands from
  // the start of shared memory.
  assert((offsetBytes == 0 || !layout.warpgroupStage()) &&
         "a warpgroup stage's sequences start shared memory");
  int64_t sequenceValues = layout.planes() * layout.length;
  smem = sharedArray(f16, offsetBytes, tile * sequenceValues);
  // The kernel's register floor, for its launches (kRegisterFloorAttrName).
  Operation *parent = b.getBlock()->getParentOp();
  auto func = isa<gpu::GPUFuncOp>(parent)
                  ? cast<gpu::GPUFuncOp>(parent)
                  : parent->getParentOfType<gpu::GPUFuncOp>();
  assert(func && "kernels are emitted inside a gpu.func");
  int64_t floor = registerFloor();
  if (auto current = func->getAttrOfType<IntegerAttr>(kRegisterFloorAttrName))
    floor = std::max(floor, current.getInt());
  func->setAttr(kRegisterFloorAttrName, b.getI64IntegerAttr(floor));
  // What the chip the module's PTX is for can do.
  if (auto module = func->getParentOfType<gpu::GPUModuleOp>())
    if (ArrayAttr targets = module.getTargetsAttr())
      for (auto nvvm : targets.getAsRange<NVVM::NVVMTargetAttr>())
        if (auto target = butterfly::TargetDescription::forChip(nvvm.getChip()))
          storesMatrices = target->matrixStores;
  if (layout.warpgroupStage())
    loadWarpgroupFactor();
}

int64_t KernelEmitter::registerFloor() const {
  // Measured with ptxas: a working set of about 48 registers besides the
  // fragments (1K gated, [32, 16] at Half: 96 without spills, 72 spilled).
  constexpr int64_t kWorkingRegisters = 48;
  int64_t fragments = layout.isSplit() ? 6 : 3, held = 0;
  std::optional<size_t> pair = fusedPair();
  for (size_t s = 0; s < layout.transformed; ++s) {
    if (onWarpgroup(s)) {
      // No fragments: the accumulators of two 64-row tiles, M / 64 columns.
      held = std::max(held, layout.length / butterfly::kWarpgroupFactor);
      continue;
    }
    if (!onTensorCores(s))
      continue;
    int64_t m = layout.factors[s], tiles = (m / 16) * (m / 16);
    int64_t registers = tiles * fragments * 4;
    if (pair && s == *pair) {
      // With the second factor's fragments, both held through the pair.
      int64_t mb = layout.factors[s + 1];
      registers += llvm::divideCeil(mb, 16) * (mb / 8) * fragments * 4;
    }
    held = std::max(held, registers);
  }
  return llvm::alignTo(held + kWorkingRegisters, 8);
}

void KernelEmitter::clusterBarrier() {
  NVVM::ClusterArriveOp::create(b, loc, b.getUnitAttr());
  NVVM::ClusterWaitOp::create(b, loc, b.getUnitAttr());
}

Value KernelEmitter::sharedBytes() {
  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  auto bytesType = MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                                   MemRefLayoutAttrInterface(), workgroup);
  return gpu::DynamicSharedMemoryOp::create(b, loc, bytesType);
}

Value KernelEmitter::sharedArray(Type element, int64_t offsetBytes,
                                 int64_t count) {
  Value bytes = sharedBytes();
  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  return memref::ViewOp::create(
      b, loc,
      MemRefType::get({count}, element, MemRefLayoutAttrInterface(), workgroup),
      bytes, arith::ConstantIndexOp::create(b, loc, offsetBytes), ValueRange());
}

Value KernelEmitter::addressOf(Value buffer, Value element,
                               int64_t elementBytes, unsigned addressSpace) {
  Value base = arith::IndexCastUIOp::create(
      b, loc, b.getI64Type(),
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer));
  Value address = arith::AddIOp::create(
      b, loc, base,
      arith::ExtUIOp::create(b, loc, b.getI64Type(),
                             mulc(element, elementBytes)));
  return LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext(), addressSpace),
      address);
}

//===----------------------------------------------------------------------===//
// Scalars
//===----------------------------------------------------------------------===//

Value KernelEmitter::mulc(Value x, int64_t k) {
  if (k == 1)
    return x;
  if (llvm::isPowerOf2_64(k))
    return arith::ShLIOp::create(b, loc, x, c(llvm::Log2_64(k)));
  return mul(x, c(k));
}

Value KernelEmitter::divc(Value x, int64_t k) {
  if (k == 1)
    return x;
  if (llvm::isPowerOf2_64(k))
    return arith::ShRUIOp::create(b, loc, x, c(llvm::Log2_64(k)));
  return arith::DivUIOp::create(b, loc, x, c(k));
}

Value KernelEmitter::remc(Value x, int64_t k) {
  if (k == 1)
    return c(0);
  if (llvm::isPowerOf2_64(k))
    return arith::AndIOp::create(b, loc, x, c(k - 1));
  return arith::RemUIOp::create(b, loc, x, c(k));
}

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

void KernelEmitter::loop(Value lb, int64_t ub, int64_t step,
                         llvm::function_ref<void(Value)> body) {
  auto forOp = scf::ForOp::create(b, loc, lb, c(ub), c(step));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forOp.getBody());
  body(forOp.getInductionVar());
}

void KernelEmitter::when(Value cond, llvm::function_ref<void()> body) {
  auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  body();
}

void KernelEmitter::whenElse(Value cond, llvm::function_ref<void()> then,
                             llvm::function_ref<void()> otherwise) {
  auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  then();
  b.setInsertionPointToStart(&ifOp.getElseRegion().front());
  otherwise();
}

void KernelEmitter::gatherScatter(int64_t total, GatherFn gather,
                                  ItemFn scatter) {
  int64_t threads = layout.threads;
  if (total % threads || total / threads > kMaxUnrolledItems) {
    loop(tid, total, threads, [&](Value item) { scatter(item, gather(item)); });
    return;
  }
  SmallVector<Value> items;
  SmallVector<SmallVector<Value>> gathered;
  for (int64_t j = 0; j < total / threads; ++j) {
    items.push_back(addc(tid, j * threads));
    gathered.push_back(gather(items.back()));
  }
  for (auto [item, values] : llvm::zip_equal(items, gathered))
    scatter(item, values);
}

void KernelEmitter::storeRealOutputs(int64_t length, Value unscale,
                                     RealOutputFn store) {
  int64_t chunks = llvm::divideCeil(length, 8);
  gatherScatter(
      tile * chunks,
      [&](Value item) -> SmallVector<Value> {
        // 4 complex results as 8 real outputs.
        Value seq = divc(item, chunks);
        Value position = swizzle(mulc(remc(item, chunks), 4));
        Value re = loadPart(seq, ReHigh, position, 4);
        Value im = loadPart(seq, ImHigh, position, 4);
        return {scaled(
            vector::ShuffleOp::create(
                b, loc, re, im, ArrayRef<int64_t>{0, 4, 1, 5, 2, 6, 3, 7}),
            unscale)};
      },
      [&](Value item, ArrayRef<Value> y) {
        Value seq = divc(item, chunks);
        Value t = mulc(remc(item, chunks), 8);
        // Rows whose length is not a multiple of 8 are written through
        // masks (the last chunk partial, every access element-aligned).
        Value mask = length % 8 ? lanesBelow(b, loc, t, length) : Value();
        store(seq, t, y.front(), mask);
      });
}

Value KernelEmitter::loadOrZero(Value cond, Type type,
                                llvm::function_ref<Value()> load) {
  if (!cond)
    return load();
  auto ifOp = scf::IfOp::create(b, loc, TypeRange{type}, cond,
                                /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  scf::YieldOp::create(b, loc, ValueRange{load()});
  b.setInsertionPointToStart(&ifOp.getElseRegion().front());
  TypedAttr zero = b.getF32FloatAttr(0.0);
  if (auto vector = dyn_cast<VectorType>(type))
    zero = DenseElementsAttr::get(vector, zero);
  scf::YieldOp::create(b, loc,
                       ValueRange{arith::ConstantOp::create(b, loc, zero)});
  return ifOp.getResult(0);
}

void KernelEmitter::distribute(Value worker, int64_t workers, int64_t units,
                               llvm::function_ref<void(Value)> body) {
  int64_t groups = std::clamp<int64_t>(workers / units, 1, tile);
  int64_t perGroup = (tile + groups - 1) / groups;
  wholeGroup = groups * perGroup == tile ? perGroup : 0;
  loop(worker, units * groups, workers, [&](Value item) {
    Value unit = remc(item, units);
    seqBegin = mulc(divc(item, units), perGroup);
    seqEnd = arith::MinUIOp::create(b, loc, addc(seqBegin, perGroup), c(tile));
    body(unit);
  });
}

void KernelEmitter::forEachSequenceUnrolled(
    llvm::function_ref<void(Value)> body) {
  if (tile == 1 || !wholeGroup)
    return forEachSequence(body);
  for (int64_t s = 0; s < wholeGroup; ++s)
    body(addc(seqBegin, s));
}

void KernelEmitter::forEachSequence(llvm::function_ref<void(Value)> body) {
  if (tile == 1)
    return body(c(0));
  auto forOp = scf::ForOp::create(b, loc, seqBegin, seqEnd, c(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forOp.getBody());
  body(forOp.getInductionVar());
}

//===----------------------------------------------------------------------===//
// Kernel functions
//===----------------------------------------------------------------------===//

/// An empty kernel of `threads` threads a block, with at most
/// kMaxRegisterBudget registers a thread (lowered by its launches to the
/// occupancy its shared memory allows: TargetDescription::registerBudget).
static gpu::GPUFuncOp createKernelFunc(OpBuilder &builder, Location loc,
                                       gpu::GPUModuleOp module,
                                       llvm::StringRef name, TypeRange argTypes,
                                       int64_t threads) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto func = gpu::GPUFuncOp::create(builder, loc, name,
                                     builder.getFunctionType(argTypes, {}));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  func.setKnownBlockSizeAttr(
      builder.getDenseI32ArrayAttr({int32_t(threads), 1, 1}));
  // The runtime passes distinct buffers (docs/runtime.md): noalias lets
  // LLVM move a later item's loads above an earlier item's stores and read
  // the inputs through the non-coherent cache.
  for (unsigned i = 0; i < argTypes.size(); ++i)
    func.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(),
                    builder.getUnitAttr());
  func->setAttr(NVVM::NVVMDialect::getMaxnregAttrName(),
                builder.getI32IntegerAttr(butterfly::kMaxRegisterBudget));
  return func;
}

KernelScope::KernelScope(OpBuilder &builder, Location loc,
                         gpu::GPUModuleOp module, llvm::StringRef name,
                         TypeRange argTypes, int64_t threads)
    : kernelBuilder(builder), kernelLoc(loc),
      func(createKernelFunc(builder, loc, module, name, argTypes, threads)),
      guard(builder) {
  builder.setInsertionPointToStart(&func.getBody().front());
}

void KernelScope::setClusterBlocks(int64_t blocks) {
  func->setAttr(
      NVVM::NVVMDialect::getClusterDimAttrName(),
      DenseI32ArrayAttr::get(func.getContext(), {int32_t(blocks), 1, 1}));
}

gpu::GPUFuncOp KernelScope::finish() {
  gpu::ReturnOp::create(kernelBuilder, kernelLoc);
  return func;
}

Value mlir::fftconv::detail::lanesBelow(OpBuilder &b, Location loc, Value t,
                                        int64_t length) {
  auto lanesType = VectorType::get({8}, b.getI32Type());
  Value lanes = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(lanesType,
                             ArrayRef<int32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  Value positions = arith::AddIOp::create(
      b, loc, vector::BroadcastOp::create(b, loc, lanesType, t), lanes);
  Value bound = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(lanesType, b.getI32IntegerAttr(int32_t(length))));
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, positions,
                               bound);
}
