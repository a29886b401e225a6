//===- Elementwise.cpp - a region's prologue and epilogue in a kernel -*- C++
//-*-//
//
// The gates, the skip and the casts around a convolution are the region's
// own elementwise ops: the kernels evaluate them 8 elements at a time where
// they read their inputs and write their outputs.
//
//===----------------------------------------------------------------------===//

#include "ConvRegions.h"

#include "fftconv/Dialect/FFTConv/IR/FFTConv.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

/// Whether `value` can be evaluated 8 elements at a time at [batch, h, t]:
/// reads of [B, H, L] arguments, broadcasts of arguments along t, the
/// region's all-parallel linalg.generics of arith and math ops, and `stop`.
LogicalResult
mlir::fftconv::detail::checkElementwise(Value value, Value stop, int64_t batch,
                                        int64_t channels, Operation *anchor,
                                        const ArgumentMap &arguments) {
  if (value == stop)
    return success();
  if (Value computed = arguments.redirect(value))
    return checkElementwise(computed, Value(), batch, channels, anchor,
                            arguments);
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type || type.getRank() != 3 || type.getDimSize(0) != batch ||
        type.getDimSize(1) != channels)
      return anchor->emitError()
             << "the GPU lowering reads region input #" << arg.getArgNumber()
             << " elementwise, but it is not a [" << batch << ", " << channels
             << ", L] tensor";
    return success();
  }
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  if (!generic || generic.getNumReductionLoops() != 0 ||
      generic->getNumResults() != 1 ||
      !generic.getIndexingMapsArray().back().isIdentity()) {
    Operation *def = value.getDefiningOp();
    return anchor->emitError()
           << "the GPU lowering cannot evaluate '"
           << (def ? def->getName().getStringRef() : "a block argument")
           << "' elementwise inside the convolution kernel";
  }
  for (OpOperand *input : generic.getDpsInputOperands()) {
    AffineMap map = generic.getMatchingIndexingMap(input);
    if (map.isIdentity()) {
      if (failed(checkElementwise(input->get(), stop, batch, channels, anchor,
                                  arguments)))
        return failure();
      continue;
    }
    bool broadcast = isa<BlockArgument>(input->get()) &&
                     !arguments.redirect(input->get()) &&
                     map.isProjectedPermutation() &&
                     !map.isFunctionOfDim(map.getNumDims() - 1);
    if (!broadcast)
      return generic.emitError()
             << "the GPU lowering needs every input of an elementwise op to "
                "be indexed like the output or broadcast along the sequence";
  }
  if (generic.getRegionOutputArgs().front().use_empty() == false)
    return generic.emitError()
           << "the GPU lowering cannot evaluate an elementwise op that reads "
              "its output";
  for (Operation &op : generic.getBody()->without_terminator())
    if (!isa<arith::ArithDialect, math::MathDialect>(op.getDialect()) ||
        op.getNumRegions() != 0 || op.getNumResults() != 1)
      return op.emitError() << "the GPU lowering cannot vectorize '"
                            << op.getName() << "' in an elementwise op";
  return success();
}

int64_t mlir::fftconv::detail::vectorAlignment(VectorType type) {
  int64_t bytes =
      type.getNumElements() * type.getElementTypeBitWidth() / CHAR_BIT;
  return std::min<int64_t>(bytes, 16);
}

Value ElementwiseEmitter::emit(Value value) {
  if (value == stop)
    return stopValue;
  if (Value computed = arguments.redirect(value))
    return emit(computed);
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    Value memref = kernelArgs[arguments.index(arg)];
    Type element = cast<MemRefType>(memref.getType()).getElementType();
    auto type = VectorType::get({width}, element);
    SmallVector<Value> at = sequenceIndices(builder, loc, memref, indices[0],
                                            indices[1], indices[2]);
    if (mask) {
      Value zeros = arith::ConstantOp::create(
          builder, loc,
          DenseElementsAttr::get(type, builder.getFloatAttr(element, 0.0)));
      return vector::MaskedLoadOp::create(builder, loc, type, memref, at, mask,
                                          zeros);
    }
    auto load = vector::LoadOp::create(builder, loc, type, memref, at);
    load.setAlignment(vectorAlignment(type));
    return load;
  }
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  IRMapping mapping;
  Block *body = generic.getBody();
  for (OpOperand *input : generic.getDpsInputOperands()) {
    AffineMap map = generic.getMatchingIndexingMap(input);
    Value vector;
    if (map.isIdentity()) {
      vector = emit(input->get());
    } else {
      auto arg = cast<BlockArgument>(input->get());
      Value memref = kernelArgs[arguments.index(arg)];
      SmallVector<Value> at;
      for (AffineExpr expr : map.getResults())
        at.push_back(indices[cast<AffineDimExpr>(expr).getPosition()]);
      Value scalar = memref::LoadOp::create(builder, loc, memref, at);
      vector = vector::BroadcastOp::create(
          builder, loc, VectorType::get({width}, scalar.getType()), scalar);
    }
    mapping.map(body->getArgument(input->getOperandNumber()), vector);
  }
  for (Operation &op : body->without_terminator()) {
    Type resultType = VectorType::get({width}, op.getResult(0).getType());
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      auto splat = DenseElementsAttr::get(cast<ShapedType>(resultType),
                                          constant.getValue());
      mapping.map(op.getResult(0),
                  arith::ConstantOp::create(builder, loc, splat));
      continue;
    }
    OperationState state(loc, op.getName());
    for (Value operand : op.getOperands())
      state.addOperands(mapping.lookup(operand));
    state.addAttributes(op.getAttrs());
    state.addTypes(resultType);
    mapping.map(op.getResult(0), builder.create(state)->getResult(0));
  }
  return mapping.lookup(body->getTerminator()->getOperand(0));
}

Value mlir::fftconv::detail::emitKernelTap(OpBuilder &b, Location loc,
                                           ValueRange kernels,
                                           const KernelTaps &taps, Value h,
                                           Value t) {
  Value tap =
      emitFilteredTap(b, loc, kernels[0], taps.length, taps.filters, h, t);
  if (!taps.hasReverse())
    return tap;
  // kr at lag -t: (N - t) mod N, tap 0 for t = 0.
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value atZero =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, t, zero);
  Value back = arith::SelectOp::create(
      b, loc, atZero, zero,
      arith::SubIOp::create(
          b, loc, arith::ConstantIndexOp::create(b, loc, taps.fftSize), t));
  return arith::AddFOp::create(b, loc, tap,
                               emitFilteredTap(b, loc, kernels[1],
                                               taps.reverseLength,
                                               taps.reverseFilters, h, back));
}

/// kk[h, t .. t+7] as a vector<8xf32>, zero past the kernel's length and
/// outside `mask`.
Value mlir::fftconv::detail::loadKernelTaps(OpBuilder &b, Location loc,
                                            ValueRange kernels,
                                            const KernelTaps &kernelTaps,
                                            Value h, Value t, Value mask) {
  Type f32 = b.getF32Type();
  Value k = kernels[0];
  int64_t length = kernelTaps.length;
  Value taps = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({kVectorWidth}, f32),
                             b.getF32FloatAttr(0.0)));
  bool filtered = !kernelTaps.filters.empty() || kernelTaps.hasReverse();
  for (int64_t i = 0; i < kVectorWidth; ++i) {
    Value at = arith::AddIOp::create(b, loc, t,
                                     arith::ConstantIndexOp::create(b, loc, i));
    // A filtered tap bounds its own reads; a plain one is read below the
    // kernel's length. Either only in the mask's lanes: past them may lie
    // the end of a rank's shard.
    Value read = filtered ? Value()
                          : arith::CmpIOp::create(
                                b, loc, arith::CmpIPredicate::ult, at,
                                arith::ConstantIndexOp::create(b, loc, length));
    if (mask) {
      Value lane =
          vector::ExtractOp::create(b, loc, mask, ArrayRef<int64_t>{i});
      read = read ? arith::AndIOp::create(b, loc, read, lane) : lane;
    }
    auto tapAt = [&]() -> Value {
      return filtered ? emitKernelTap(b, loc, kernels, kernelTaps, h, at)
                      : memref::LoadOp::create(b, loc, k, {h, at});
    };
    Value tap;
    if (!read) {
      tap = tapAt();
    } else {
      auto ifOp = scf::IfOp::create(b, loc, TypeRange{f32}, read,
                                    /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      scf::YieldOp::create(b, loc, ValueRange{tapAt()});
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      scf::YieldOp::create(b, loc,
                           ValueRange{arith::ConstantOp::create(
                               b, loc, b.getF32FloatAttr(0.0))});
      tap = ifOp.getResult(0);
    }
    taps = vector::InsertOp::create(b, loc, tap, taps, ArrayRef<int64_t>{i});
  }
  return taps;
}

Value mlir::fftconv::detail::emitSquash(OpBuilder &b, Location loc, Value x,
                                        double lambda) {
  Value bound = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(lambda));
  Value negBound =
      arith::ConstantOp::create(b, loc, b.getF32FloatAttr(-lambda));
  Value clamped = arith::MaximumFOp::create(
      b, loc, arith::MinimumFOp::create(b, loc, x, bound), negBound);
  return arith::SubFOp::create(b, loc, x, clamped);
}

Value mlir::fftconv::detail::emitFilteredTap(OpBuilder &b, Location loc,
                                             Value k, int64_t length,
                                             ArrayRef<Operation *> filters,
                                             Value h, Value t) {
  Type f32 = b.getF32Type();
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
  Value inside = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, t,
                            arith::ConstantIndexOp::create(b, loc, 0)),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, t,
                            arith::ConstantIndexOp::create(b, loc, length)));
  if (filters.empty()) {
    auto ifOp = scf::IfOp::create(b, loc, TypeRange{f32}, inside,
                                  /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    scf::YieldOp::create(b, loc,
                         ValueRange{memref::LoadOp::create(b, loc, k, {h, t})});
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    scf::YieldOp::create(b, loc, ValueRange{zero});
    b.setInsertionPointAfter(ifOp);
    return ifOp.getResult(0);
  }
  ArrayRef<Operation *> inner = filters.drop_front();
  if (auto circulate = dyn_cast<CirculateOp>(filters.front())) {
    // k's taps and their copy at N - L (each zero outside [0, K) by the
    // inner taps' own padding): defined on the whole row.
    Value shifted = arith::SubIOp::create(
        b, loc, t,
        arith::ConstantIndexOp::create(b, loc, circulate.getWrapOffset()));
    return arith::AddFOp::create(
        b, loc, emitFilteredTap(b, loc, k, length, inner, h, t),
        emitFilteredTap(b, loc, k, length, inner, h, shifted));
  }
  Value value;
  if (auto squash = dyn_cast<SquashOp>(filters.front())) {
    value = emitSquash(b, loc, emitFilteredTap(b, loc, k, length, inner, h, t),
                       squash.getLambda().convertToDouble());
  } else {
    auto smooth = cast<SmoothOp>(filters.front());
    int64_t width = smooth.getWidth();
    value = zero;
    for (int64_t j = -(width / 2); j <= width / 2; ++j) {
      Value at = arith::AddIOp::create(
          b, loc, t, arith::ConstantIndexOp::create(b, loc, j));
      value = arith::AddFOp::create(
          b, loc, value, emitFilteredTap(b, loc, k, length, inner, h, at));
    }
    value = arith::MulFOp::create(
        b, loc, value,
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1.0 / width)));
  }
  // Each regularizer's input is zero outside the kernel.
  return arith::SelectOp::create(b, loc, inside, value, zero);
}
