//===- LoweringUtils.cpp - helpers shared by the CPU lowerings --*- C++ -*-===//

#include "fftconv/Conversion/Utils/LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Complex/IR/Complex.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::fftconv;

std::pair<Value, Value> mlir::fftconv::buildCosSin(OpBuilder &b, Location loc,
                                                   Value exponent, int64_t n) {
  Value modulus = arith::ConstantIndexOp::create(b, loc, n);
  Value reduced = arith::RemUIOp::create(b, loc, exponent, modulus);
  Value asInt = arith::IndexCastUIOp::create(b, loc, b.getI64Type(), reduced);
  Value asFloat = arith::UIToFPOp::create(b, loc, b.getF64Type(), asInt);
  Value step = arith::ConstantOp::create(
      b, loc, b.getF64FloatAttr(2.0 * llvm::numbers::pi / double(n)));
  Value angle = arith::MulFOp::create(b, loc, asFloat, step);
  return {math::CosOp::create(b, loc, angle),
          math::SinOp::create(b, loc, angle)};
}

Value mlir::fftconv::buildRootOfUnity(OpBuilder &b, Location loc,
                                      Value exponent, int64_t n, bool inverse,
                                      double scale, ComplexType complexType) {
  auto [cos, sin] = buildCosSin(b, loc, exponent, n);
  Value realScale = arith::ConstantOp::create(b, loc, b.getF64FloatAttr(scale));
  Value imagScale = arith::ConstantOp::create(
      b, loc, b.getF64FloatAttr(inverse ? scale : -scale));
  Value re = arith::MulFOp::create(b, loc, cos, realScale);
  Value im = arith::MulFOp::create(b, loc, sin, imagScale);
  Type partType = complexType.getElementType();
  re = castScalar(b, loc, re, partType);
  im = castScalar(b, loc, im, partType);
  return complex::CreateOp::create(b, loc, complexType, re, im);
}

Value mlir::fftconv::buildRootTable(OpBuilder &b, Location loc, int64_t count,
                                    int64_t n, bool inverse,
                                    ComplexType complexType) {
  auto c64 = ComplexType::get(b.getF64Type());
  int64_t fine = int64_t(llvm::PowerOf2Ceil(
      uint64_t(std::ceil(std::sqrt(double(std::max<int64_t>(count, 1)))))));
  int64_t coarse = llvm::divideCeil(count, fine);
  auto roots = [&](int64_t size, int64_t step) {
    return buildElementwise(
        b, loc, ValueRange(), {size}, c64,
        [&](OpBuilder &nb, Location nloc, ValueRange) {
          Value index = linalg::IndexOp::create(nb, nloc, 0);
          Value exponent = arith::MulIOp::create(
              nb, nloc, index, arith::ConstantIndexOp::create(nb, nloc, step));
          return buildRootOfUnity(nb, nloc, exponent, n, inverse, 1.0, c64);
        });
  };
  Value coarseRoots = roots(coarse, fine), fineRoots = roots(fine, 1);
  return buildElementwise(
      b, loc, ValueRange(), {count}, complexType,
      [&](OpBuilder &nb, Location nloc, ValueRange) {
        Value k = linalg::IndexOp::create(nb, nloc, 0);
        Value step = arith::ConstantIndexOp::create(nb, nloc, fine);
        Value high = tensor::ExtractOp::create(
            nb, nloc, coarseRoots,
            ValueRange{arith::DivUIOp::create(nb, nloc, k, step)});
        Value low = tensor::ExtractOp::create(
            nb, nloc, fineRoots,
            ValueRange{arith::RemUIOp::create(nb, nloc, k, step)});
        Value root = complex::MulOp::create(nb, nloc, high, low);
        return castScalar(nb, nloc, root, complexType);
      });
}

Value mlir::fftconv::indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value mlir::fftconv::buildZero(OpBuilder &b, Location loc, Type type) {
  if (auto complexType = dyn_cast<ComplexType>(type)) {
    Value zero = buildZero(b, loc, complexType.getElementType());
    return complex::CreateOp::create(b, loc, complexType, zero, zero);
  }
  return arith::ConstantOp::create(b, loc, b.getZeroAttr(type));
}

Value mlir::fftconv::castScalar(OpBuilder &b, Location loc, Value value,
                                Type type) {
  Type from = value.getType();
  if (from == type)
    return value;
  if (auto toComplex = dyn_cast<ComplexType>(type)) {
    auto fromComplex = cast<ComplexType>(from);
    Value re =
        complex::ReOp::create(b, loc, fromComplex.getElementType(), value);
    Value im =
        complex::ImOp::create(b, loc, fromComplex.getElementType(), value);
    re = castScalar(b, loc, re, toComplex.getElementType());
    im = castScalar(b, loc, im, toComplex.getElementType());
    return complex::CreateOp::create(b, loc, toComplex, re, im);
  }
  auto fromFloat = cast<FloatType>(from);
  auto toFloat = cast<FloatType>(type);
  if (fromFloat.getWidth() < toFloat.getWidth())
    return arith::ExtFOp::create(b, loc, toFloat, value);
  return arith::TruncFOp::create(b, loc, toFloat, value);
}

Value mlir::fftconv::buildZeroTensor(OpBuilder &b, Location loc,
                                     ArrayRef<int64_t> shape,
                                     Type elementType) {
  Value empty = tensor::EmptyOp::create(b, loc, shape, elementType);
  Value zero = buildZero(b, loc, elementType);
  return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
}

Value mlir::fftconv::expandLastDim(OpBuilder &b, Location loc, Value value,
                                   ArrayRef<int64_t> sizes) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape().drop_back());
  llvm::append_range(shape, sizes);
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t dim = 0; dim < rank - 1; ++dim)
    reassociation.push_back({dim});
  ReassociationIndices last;
  for (int64_t i = 0; i < int64_t(sizes.size()); ++i)
    last.push_back(rank - 1 + i);
  reassociation.push_back(last);
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  return tensor::ExpandShapeOp::create(b, loc, resultType, value,
                                       reassociation);
}

Value mlir::fftconv::resizeLastDim(OpBuilder &b, Location loc, Value value,
                                   int64_t length) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t current = type.getShape().back();
  if (current == length)
    return value;
  int64_t rank = type.getRank();
  if (current > length) {
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
    SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
    SmallVector<OpFoldResult> sizes;
    for (int64_t size : type.getShape().drop_back())
      sizes.push_back(b.getIndexAttr(size));
    sizes.push_back(b.getIndexAttr(length));
    return tensor::ExtractSliceOp::create(b, loc, value, offsets, sizes,
                                          strides);
  }
  SmallVector<OpFoldResult> low(rank, b.getIndexAttr(0));
  SmallVector<OpFoldResult> high(rank, b.getIndexAttr(0));
  high.back() = b.getIndexAttr(length - current);
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = length;
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  Value zero = buildZero(b, loc, type.getElementType());
  return tensor::PadOp::create(b, loc, resultType, value, low, high, zero);
}

Value mlir::fftconv::collapseTrailingDims(OpBuilder &b, Location loc,
                                          Value value, int64_t count) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t rank = type.getRank();
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t dim = 0; dim < rank - count; ++dim)
    reassociation.push_back({dim});
  ReassociationIndices last;
  for (int64_t dim = rank - count; dim < rank; ++dim)
    last.push_back(dim);
  reassociation.push_back(last);
  return tensor::CollapseShapeOp::create(b, loc, value, reassociation);
}

SmallVector<Value> mlir::fftconv::loopIndices(OpBuilder &b, Location loc,
                                              int64_t count) {
  SmallVector<Value> indices;
  for (int64_t dim = 0; dim < count; ++dim)
    indices.push_back(linalg::IndexOp::create(b, loc, dim));
  return indices;
}

SmallVector<utils::IteratorType>
mlir::fftconv::parallelThenReduction(int64_t numParallel,
                                     int64_t numReduction) {
  SmallVector<utils::IteratorType> types(numParallel,
                                         utils::IteratorType::parallel);
  types.append(numReduction, utils::IteratorType::reduction);
  return types;
}

Value mlir::fftconv::buildElementwise(
    OpBuilder &b, Location loc, ValueRange inputs, ArrayRef<int64_t> shape,
    Type resultType,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body,
    ArrayRef<AffineMap> inputMaps) {
  int64_t rank = shape.size();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  SmallVector<AffineMap> maps(inputMaps);
  if (maps.empty())
    maps.assign(inputs.size(), identity);
  maps.push_back(identity);
  Value init = tensor::EmptyOp::create(b, loc, shape, resultType);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), inputs, init, maps,
      parallelThenReduction(rank, 0),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value result = body(nb, nloc, args.drop_back());
        linalg::YieldOp::create(nb, nloc, result);
      });
  return generic.getResult(0);
}
