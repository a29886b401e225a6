//===- Fragments.cpp - MMA operand fragments as constant tables -*- C++ -*-===//
//
// The constant operands of the tensor-core stages (DFT factors, and the
// twiddles of a pair of stages held in registers) are computed here in
// double precision, rounded once, and laid out as each lane's fragment of
// the MMA operand: a table in the kernel's module (global memory, read
// through L1) from which a lane loads its values with 16-byte loads.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

/// x rounded to f16 (round to nearest, ties to even, as cvt.rn.f16.f32).
static llvm::APFloat toHalf(double x) {
  llvm::APFloat value(x);
  bool losesInfo;
  value.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven,
                &losesInfo);
  return value;
}

double mlir::fftconv::detail::roundToHalf(double x) {
  llvm::APFloat value = toHalf(x);
  bool losesInfo;
  value.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
                &losesInfo);
  return value.convertToDouble();
}

int64_t mlir::fftconv::detail::fragmentValues(Fragment kind) {
  switch (kind) {
  case Fragment::A16x16:
    return 8;
  case Fragment::A16x8:
  case Fragment::B16x8:
  case Fragment::C16x8:
    return 4;
  case Fragment::B8x8:
    return 2;
  }
  llvm_unreachable("unknown fragment");
}

/// PTX's fragment layouts of mma.m16n8k16 and m16n8k8 (f16 operands, f32
/// accumulators), for g = lane / 4 and t = lane % 4: value v of a register
/// pair is v = 2 * reg + next.
std::pair<int64_t, int64_t>
mlir::fftconv::detail::fragmentElement(Fragment kind, int64_t lane,
                                       int64_t value) {
  int64_t g = lane / 4, t = lane % 4, reg = value / 2, next = value % 2;
  switch (kind) {
  case Fragment::A16x16: // (g, 2t), (g + 8, 2t), (g, 2t + 8), (g + 8, 2t + 8)
    return {g + 8 * (reg % 2), 2 * t + 8 * (reg / 2) + next};
  case Fragment::A16x8: // (g, 2t), (g + 8, 2t)
  case Fragment::C16x8:
    return {g + 8 * reg, 2 * t + next};
  case Fragment::B16x8: // (k, n): (2t, g), (2t + 8, g)
    return {2 * t + 8 * reg + next, g};
  case Fragment::B8x8: // (2t, g)
    return {2 * t + next, g};
  }
  llvm_unreachable("unknown fragment");
}

Value KernelEmitter::fragmentTable(
    llvm::StringRef name, Type type, int64_t fragments, int64_t perLane,
    llvm::function_ref<double(int64_t, int64_t, int64_t)> value) {
  int64_t size = fragments * kThreadsPerWarp * perLane;
  auto memrefType = MemRefType::get(
      {size}, type, MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Global));
  auto module =
      b.getBlock()->getParentOp()->getParentOfType<gpu::GPUModuleOp>();
  if (!SymbolTable::lookupSymbolIn(module, name)) {
    SmallVector<llvm::APFloat> values;
    for (int64_t fragment = 0; fragment < fragments; ++fragment)
      for (int64_t lane = 0; lane < kThreadsPerWarp; ++lane)
        for (int64_t v = 0; v < perLane; ++v) {
          double x = value(fragment, lane, v);
          if (type.isF16()) {
            values.push_back(toHalf(x));
          } else {
            llvm::APFloat single(x);
            bool losesInfo;
            single.convert(llvm::APFloat::IEEEsingle(),
                           llvm::APFloat::rmNearestTiesToEven, &losesInfo);
            values.push_back(single);
          }
        }
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    memref::GlobalOp::create(
        b, loc, name, b.getStringAttr("private"), memrefType,
        DenseElementsAttr::get(RankedTensorType::get({size}, type), values),
        /*constant=*/true, b.getI64IntegerAttr(16));
  }
  return memref::GetGlobalOp::create(b, loc, memrefType, name);
}

Value KernelEmitter::loadFragment(Value table, int64_t perLane,
                                  int64_t fragment) {
  Type type = cast<MemRefType>(table.getType()).getElementType();
  int64_t offset = fragment * kThreadsPerWarp * perLane;
  auto load = vector::LoadOp::create(
      b, loc, VectorType::get({perLane}, type), table,
      ValueRange{index(addc(mulc(lane, perLane), offset))});
  load.setAlignment(
      std::min<int64_t>(16, perLane * type.getIntOrFloatBitWidth() / 8));
  return load;
}

Value KernelEmitter::registerPairs(ArrayRef<Value> pairs) {
  auto type = VectorType::get({int64_t(pairs.size()), 2}, f16);
  // By elements: the NVVM lowering takes no shape_cast; LLVM keeps the
  // values in their registers.
  Value operand = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getF16FloatAttr(0.0)));
  for (auto [reg, pair] : llvm::enumerate(pairs)) {
    assert(pair.getType() == VectorType::get({2}, f16) &&
           "registers hold two f16 values");
    operand = vector::InsertOp::create(b, loc, pair, operand,
                                       ArrayRef<int64_t>{int64_t(reg)});
  }
  return operand;
}

Value KernelEmitter::operandOf(Value loaded) {
  int64_t count = cast<VectorType>(loaded.getType()).getNumElements();
  auto pairType = VectorType::get({2}, f16);
  SmallVector<Value> pairs;
  for (int64_t reg = 0; reg < count / 2; ++reg) {
    SmallVector<Value> pair;
    for (int64_t next = 0; next < 2; ++next)
      pair.push_back(vector::ExtractOp::create(
          b, loc, loaded, ArrayRef<int64_t>{2 * reg + next}));
    pairs.push_back(vector::FromElementsOp::create(b, loc, pairType, pair));
  }
  return registerPairs(pairs);
}

double KernelEmitter::factorPart(int64_t m, bool inverse, int64_t part,
                                 int64_t row, int64_t column) const {
  double sign = inverse ? 1.0 : -1.0;
  // The stage's 1/sqrt(m) rides on the factor (and at Half precision the
  // scale s of factorScale).
  double scale = factorScale(m) / std::sqrt(double(m));
  double angle = sign * 2.0 * M_PI * double((row * column) % m) / double(m);
  double entry = (part % 2 ? std::sin(angle) : std::cos(angle)) * scale;
  double high = roundToHalf(entry);
  return part < 2 ? high : entry - high;
}

/// The factor's A operand fragments, computed here in double precision and
/// rounded to f16 once: [tile (i, j)][part][lane][register][2], the parts
/// Re high, Im high and, at Split precision, Re low, Im low. Computed in the
/// kernel, each value took a root (sin.approx or cos.approx and its range
/// reduction): about 240 instructions a lane for every stage of 16 and 960
/// for every stage of 32.
Value KernelEmitter::factorTable(int64_t m, bool inverse, int64_t firstRow,
                                 int64_t firstColumn) {
  int64_t k16 = m / 16, parts = layout.isSplit() ? 4 : 2;
  std::string name = llvm::formatv(
      "factor_{0}_{1}_{2}_row{3}_column{4}", m, inverse ? "inverse" : "forward",
      layout.isSplit() ? "split" : "half", firstRow, firstColumn);
  return fragmentTable(
      name, f16, k16 * k16 * parts, 8,
      [&](int64_t fragment, int64_t lane, int64_t value) {
        int64_t tile = fragment / parts, part = fragment % parts;
        auto [row, column] = fragmentElement(Fragment::A16x16, lane, value);
        return factorPart(m, inverse, part, firstRow + 16 * (tile / k16) + row,
                          firstColumn + 16 * (tile % k16) + column);
      });
}

/// The factor's fragments, loop-invariant for the stage: tile (i, j) of
/// the m/16 x m/16 tiles at [i * m/16 + j].
SmallVector<KernelEmitter::FactorTile>
KernelEmitter::factorTiles(int64_t m, bool inverse, int64_t firstRow,
                           int64_t firstColumn) {
  int64_t k16 = m / 16, parts = layout.isSplit() ? 4 : 2;
  Value table = factorTable(m, inverse, firstRow, firstColumn);
  auto fragment = [&](int64_t tile, int64_t part) {
    return operandOf(loadFragment(table, 8, tile * parts + part));
  };
  SmallVector<FactorTile> tiles(k16 * k16);
  for (int64_t tile = 0; tile < k16 * k16; ++tile)
    tiles[tile] =
        factorTile([&](int64_t part) { return fragment(tile, part); });
  return tiles;
}

KernelEmitter::FactorTile
KernelEmitter::factorTile(llvm::function_ref<Value(int64_t part)> fragment) {
  FactorTile f;
  f.reHi = fragment(0);
  f.imHi = fragment(1);
  f.negImHi = arith::NegFOp::create(b, loc, f.imHi);
  if (layout.isSplit()) {
    f.reLo = fragment(2);
    f.imLo = fragment(3);
    f.negImLo = arith::NegFOp::create(b, loc, f.imLo);
  }
  return f;
}
