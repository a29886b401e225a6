//===- ButterflyDialect.cpp - butterfly dialect -----------------*- C++ -*-===//

#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::butterfly;

#include "fftconv/Dialect/Butterfly/IR/ButterflyOpsDialect.cpp.inc"

#include "fftconv/Dialect/Butterfly/IR/ButterflyEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "fftconv/Dialect/Butterfly/IR/ButterflyAttrs.cpp.inc"

void ButterflyDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "fftconv/Dialect/Butterfly/IR/ButterflyAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "fftconv/Dialect/Butterfly/IR/ButterflyOps.cpp.inc"
      >();
}

Operation *ButterflyDialect::materializeConstant(OpBuilder &builder,
                                                 Attribute value, Type type,
                                                 Location loc) {
  return arith::ConstantOp::materialize(builder, value, type, loc);
}

//===----------------------------------------------------------------------===//
// GPUPlanAttr
//===----------------------------------------------------------------------===//

LogicalResult
GPUPlanAttr::verify(llvm::function_ref<InFlightDiagnostic()> emitError,
                    GPUKernelForm form, GPUPrecision precision,
                    llvm::StringRef chip, llvm::ArrayRef<int64_t> factors,
                    llvm::ArrayRef<int64_t> outerFactors, int64_t threads,
                    int64_t batchTile, Type workspace, int64_t ranks,
                    int64_t rank, int64_t innerThreads, int64_t cluster) {
  if (chip.empty())
    return emitError() << "expects a chip";
  // The stages are DFTs of power-of-two sizes; a plan names at least one.
  auto badFactor = [](int64_t f) { return f < 2 || !llvm::isPowerOf2_64(f); };
  if (factors.empty() || llvm::any_of(factors, badFactor) ||
      llvm::any_of(outerFactors, badFactor))
    return emitError() << "expects factors that are powers of two, at least 2";
  // The three-pass form is the one with a transform through memory.
  if ((form == GPUKernelForm::ThreePass) == outerFactors.empty())
    return emitError() << "expects outer_factors exactly for the three_pass "
                          "form";
  // The kernels are written for whole warps.
  if (threads <= 0 || threads % 32)
    return emitError() << "expects threads a positive multiple of 32";
  if (batchTile < 1)
    return emitError() << "expects batch_tile >= 1";
  // Only the three-pass form has inner blocks of their own.
  if (innerThreads != 0) {
    if (form != GPUKernelForm::ThreePass)
      return emitError() << "expects inner_threads only for the three_pass "
                            "form";
    if (innerThreads < 0 || innerThreads % 32 || innerThreads > 1024)
      return emitError() << "expects inner_threads a positive multiple of 32, "
                            "at most 1024";
  }
  // Only the three-pass form has a workspace between passes.
  if (workspace && (form != GPUKernelForm::ThreePass ||
                    !(workspace.isF16() || workspace.isF32())))
    return emitError() << "expects a workspace type (f16 or f32) only for "
                          "the three_pass form";
  // Sharding splits the three-pass view's rows and columns evenly.
  if (ranks != 0) {
    if (form != GPUKernelForm::ThreePass)
      return emitError() << "expects ranks only for the three_pass form";
    if (ranks < 2 || !llvm::isPowerOf2_64(ranks))
      return emitError() << "expects ranks a power of two, at least 2";
    if (rank < 0 || rank >= ranks)
      return emitError() << "expects rank in [0, " << ranks << ")";
  }
  // A cluster pairs the block of v's spectra with the block of g's, or
  // splits a three-pass form's rows and columns among its blocks, on chips
  // with distributed shared memory.
  if (cluster != 0) {
    if (form == GPUKernelForm::ThreePass) {
      if (!isThreePassClusterSize(cluster))
        return emitError() << "expects a three_pass cluster of a power of two "
                              "blocks, 2 to "
                           << kMaxClusterBlocks;
      if (ranks != 0)
        return emitError() << "expects no cluster for a sharded three_pass "
                              "plan";
    } else if (form != GPUKernelForm::SingleKernel) {
      return emitError() << "expects cluster only for the single_kernel and "
                            "three_pass forms";
    } else if (cluster != kClusterBlocks) {
      return emitError() << "expects cluster = 2 (a block of v's spectra and "
                            "one of g's)";
    }
    if (chip == "sm_80")
      return emitError() << "expects cluster only on sm_90 and later chips "
                            "(distributed shared memory)";
  }
  return success();
}

llvm::SmallVector<int64_t> GPUPlanAttr::getAllFactors() const {
  llvm::SmallVector<int64_t> all(getOuterFactors());
  all.append(getFactors().begin(), getFactors().end());
  return all;
}
