//===- BoundaryViews.cpp - sequences viewed at a function's edge --*- C++
//-*-===//
//
// fftconv-flatten-heads views a multi-head sequence as rows (a reshape, and
// for Hyena's blocks a transpose): such views stay at the function's
// boundary (butterfly-fuse-conv) and the GPU kernels read the arguments' and
// results' memory through them (butterfly-to-gpu). Both ask here which ops
// those are, and the GPU planner and lowering whether two regions read one
// sequence.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/Butterfly/Transforms/BoundaryViews.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/OperationSupport.h"

#include <functional>

using namespace mlir;
using namespace mlir::butterfly;

/// The transpose of H and Z that fftconv-flatten-heads puts between
/// [B * G, H, Z, L] and [B * G, Z, H, L].
static bool swapsChannelsAndBlocks(linalg::TransposeOp transpose) {
  return transpose &&
         transpose.getPermutation() == ArrayRef<int64_t>{0, 2, 1, 3};
}

std::optional<BoundaryView> mlir::butterfly::viewOfArgument(Value value) {
  BoundaryView view;
  auto isFunctionArgument = [](Value v) {
    auto argument = dyn_cast<BlockArgument>(v);
    return argument && isa<func::FuncOp>(argument.getOwner()->getParentOp());
  };
  if (isFunctionArgument(value)) {
    view.buffer = value;
    return view;
  }
  auto rows = value.getDefiningOp<tensor::CollapseShapeOp>();
  if (!rows)
    return std::nullopt;
  if (isFunctionArgument(rows.getSrc())) {
    view.buffer = rows.getSrc();
    view.reassociation = rows.getReassociationIndices();
    view.ops.push_back(rows);
    return view;
  }
  auto transpose = rows.getSrc().getDefiningOp<linalg::TransposeOp>();
  auto blocks =
      swapsChannelsAndBlocks(transpose)
          ? transpose.getInput().getDefiningOp<tensor::CollapseShapeOp>()
          : nullptr;
  if (!blocks || !isFunctionArgument(blocks.getSrc()))
    return std::nullopt;
  view.buffer = blocks.getSrc();
  view.reassociation = blocks.getReassociationIndices();
  view.ops = {rows, transpose, blocks};
  if (Operation *init = transpose.getInit().getDefiningOp())
    view.ops.push_back(init);
  return view;
}

std::optional<BoundaryView> mlir::butterfly::viewOfResult(Value result) {
  auto onlyUser = [](Value v) -> Operation * {
    return v.hasOneUse() ? *v.getUsers().begin() : nullptr;
  };
  auto returnsOnly = [](Value v) {
    return !v.use_empty() &&
           llvm::all_of(v.getUsers(), llvm::IsaPred<func::ReturnOp>);
  };
  BoundaryView view;
  if (returnsOnly(result)) {
    view.buffer = result;
    return view;
  }
  auto rows = dyn_cast_or_null<tensor::ExpandShapeOp>(onlyUser(result));
  if (!rows)
    return std::nullopt;
  if (returnsOnly(rows.getResult())) {
    view.buffer = rows.getResult();
    view.reassociation = rows.getReassociationIndices();
    view.ops.push_back(rows);
    return view;
  }
  auto transpose =
      dyn_cast_or_null<linalg::TransposeOp>(onlyUser(rows.getResult()));
  auto blocks =
      swapsChannelsAndBlocks(transpose) && transpose->getNumResults() == 1
          ? dyn_cast_or_null<tensor::ExpandShapeOp>(
                onlyUser(transpose->getResult(0)))
          : nullptr;
  if (!blocks || !returnsOnly(blocks.getResult()))
    return std::nullopt;
  view.buffer = blocks.getResult();
  view.reassociation = blocks.getReassociationIndices();
  view.ops = {rows, transpose, blocks};
  if (Operation *init = transpose.getInit().getDefiningOp())
    view.ops.push_back(init);
  return view;
}

bool mlir::butterfly::sameSequence(PackRealOp a, PackRealOp b) {
  auto regionA = a->getParentOfType<FusedOp>();
  auto regionB = b->getParentOfType<FusedOp>();
  if (!regionA || !regionB || a.getInput().getType() != b.getInput().getType())
    return false;
  Block *bodyA = &regionA.getBody().front(),
        *bodyB = &regionB.getBody().front();
  llvm::DenseMap<Value, Value> equivalent;
  std::function<bool(Value, Value)> same = [&](Value x, Value y) {
    if (Value known = equivalent.lookup(x))
      return known == y;
    auto argX = dyn_cast<BlockArgument>(x), argY = dyn_cast<BlockArgument>(y);
    if (argX && argY) {
      if (argX.getOwner() != bodyA || argY.getOwner() != bodyB)
        return false;
      Value operandX = regionA->getOperand(argX.getArgNumber());
      Value operandY = regionB->getOperand(argY.getArgNumber());
      // Two views of one argument as rows are the same sequence.
      if (operandX == operandY)
        return true;
      std::optional<BoundaryView> viewX = viewOfArgument(operandX);
      std::optional<BoundaryView> viewY = viewOfArgument(operandY);
      return operandX.getType() == operandY.getType() && viewX && viewY &&
             viewX->buffer == viewY->buffer;
    }
    auto resultX = dyn_cast<OpResult>(x), resultY = dyn_cast<OpResult>(y);
    if (!resultX || !resultY ||
        resultX.getResultNumber() != resultY.getResultNumber())
      return false;
    return OperationEquivalence::isEquivalentTo(
        resultX.getOwner(), resultY.getOwner(),
        [&](Value l, Value r) { return success(same(l, r)); },
        [&](Value l, Value r) { equivalent[l] = r; },
        OperationEquivalence::IgnoreLocations);
  };
  return same(a.getInput(), b.getInput());
}
