//===- TensorCoreStage.cpp - stages of 16 and 32 on tensor cores -*- C++ -*-=//
//
// A stage of size m = 16 or 32 is a real product
// [Re y; Im y] = [[Fr, -Fi], [Fi, Fr]] [Re x; Im x] over tiles of 8 columns:
// the factor is the A operand (loaded into registers for the stage from a
// constant table of the module: factorTable), the data
// the B operand (nvgpu.ldmatrix, transposed when the digit has a stride),
// f32 accumulation (nvgpu.mma.sync m16n8k16). At Split precision each term
// takes three products (Fhi xhi + Fhi xlo + Flo xhi), at Half one, of a
// factor rounded from s F (factorScale) whose outputs are scaled back
// by 1/s in f32. The last inverse stage of a direct output gives its
// results to the kernel's epilogue instead of the planes.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

/// The scale s in [1, 2) whose multiple s F of the m-point DFT factor
/// (entries cos and sin of 2 pi k / m over sqrt(m)) rounds to f16 with the
/// smallest largest error relative to s, searched in steps of 2^-12 over
/// the factor's distinct magnitudes. F's f16 entries carry about 4x less
/// error at m = 16 (s = 1.8604: 3.2e-5 -> 7.1e-6 at most) and 4.7x less at
/// m = 32 (s = 1.5771: 4.0e-5 -> 8.5e-6). A model of a Half convolution's
/// roundings (bench/half_rounding_model.py) puts the factors' share of its
/// error at about a third; the rest is the f16 data between the stages.
static double searchHalfFactorScale(int64_t m) {
  SmallVector<double> magnitudes;
  for (int64_t k = 0; k <= m / 4; ++k)
    magnitudes.push_back(std::cos(2 * M_PI * double(k) / double(m)) /
                         std::sqrt(double(m)));
  constexpr int64_t kSteps = 4096;
  double best = 1.0, bestError = INFINITY;
  for (int64_t step = 0; step < kSteps; ++step) {
    double scale = 1.0 + double(step) / kSteps, error = 0;
    for (double x : magnitudes)
      error = std::max(error, std::abs(roundToHalf(scale * x) / scale - x));
    if (error < bestError) {
      bestError = error;
      best = scale;
    }
  }
  return best;
}

double KernelEmitter::factorScale(int64_t m) const {
  if (layout.isSplit())
    return 1.0;
  // Computed once per process (thread-safe statics): m is 8 (the last
  // factor of a pair of stages in registers), 16, 32 or 64 (a warpgroup
  // stage).
  static const double scale8 = searchHalfFactorScale(8);
  static const double scale16 = searchHalfFactorScale(16);
  static const double scale32 = searchHalfFactorScale(32);
  static const double scale64 = searchHalfFactorScale(64);
  return m == 8    ? scale8
         : m == 16 ? scale16
         : m == 32 ? scale32
         : m == 64 ? scale64
                   : 1.0;
}

bool KernelEmitter::stageUnscales(size_t s, bool inverse) const {
  return !layout.productUnscales || (!inverse && hasTwiddle(s, inverse));
}

double KernelEmitter::productScale() const {
  double scale = 1.0;
  for (size_t s = 0; s < layout.transformed; ++s)
    for (bool inverse : {false, true})
      if (!stageUnscales(s, inverse))
        if (onTensorCores(s))
          scale /= factorScale(layout.factors[s]);
  return scale;
}

/// The position of `digit` in column `column` of the warp's tile.
Value KernelEmitter::tilePosition(const WarpTile &warpTile, Value digit,
                                  Value column) {
  int64_t m = warpTile.size, stride = warpTile.stride;
  if (warpTile.strided)
    return add(add(mulc(warpTile.block, m * stride), mulc(digit, stride)),
               add(warpTile.firstColumn, column));
  return add(mulc(add(warpTile.block, column), m), digit);
}

/// Tile `tileIndex` of 8 columns: 8 consecutive columns of one block when
/// the digit has a stride, 8 consecutive blocks when it is the last digit.
KernelEmitter::WarpTile KernelEmitter::warpTile(size_t s, bool inverse,
                                                Value tileIndex) {
  StageShape shape = stage(s);
  WarpTile tile;
  tile.size = shape.size;
  tile.stride = shape.stride;
  tile.liveInputs = liveInputDigits(s, inverse);
  tile.liveOutputs = liveOutputDigits(s, inverse);
  tile.strided = shape.stride >= 8;
  int64_t k16 = shape.size / 16;
  // Slab or row tile digit `digit` holds digit (first + digit) mod m.
  auto live = [&](Value digit, const LiveDigits &digits) {
    return digits.first ? remc(addc(digit, digits.first), shape.size) : digit;
  };
  Value rowInSlab = remc(lane, 16);
  if (tile.strided) {
    Value column = mulc(tileIndex, 8);
    tile.block = divc(column, shape.stride);
    tile.firstColumn = remc(column, shape.stride);
  } else {
    tile.block = mulc(tileIndex, 8);
  }
  for (int64_t slab = 0; slab < k16; ++slab) {
    Value row;
    if (tile.strided) {
      row = tilePosition(
          tile, live(addc(rowInSlab, 16 * slab), tile.liveInputs), c(0));
    } else {
      // Lanes 0-7 name the 8 blocks' digits 16j..16j+7, lanes 8-15 the
      // digits 16j+8..16j+15 (a live window starts at a multiple of 8, so
      // each lane's 8 digits stay consecutive).
      Value digit =
          live(addc(mulc(divc(rowInSlab, 8), 8), 16 * slab), tile.liveInputs);
      row = tilePosition(tile, digit, remc(lane, 8));
    }
    tile.rowOffsets.push_back(swizzle(row));
  }
  // The products of a scaled factor (factorScale) are scaled back with the
  // twiddle where the output has one, by themselves where not (or by the
  // spectral product: productScale).
  double scale = stageUnscales(s, inverse) ? factorScale(shape.size) : 1.0;
  Value unscale = scale != 1.0 ? cf(1.0 / scale) : Value();
  auto unscaled = [&](std::optional<Complex> w) -> std::optional<Complex> {
    if (!w || !unscale)
      return w;
    return cscale(*w, unscale);
  };
  if (!hasTwiddle(s, inverse))
    tile.unscale = unscale;
  // Accumulator (r, q) of row tile i is digit 16i + g + 8r, column 2t + q.
  // With a strided digit, q = 0, 1 are neighbours and are stored as pairs.
  for (int64_t i = 0; i < k16; ++i)
    for (int64_t r = 0; r < 2; ++r) {
      Value digit = live(addc(divc(lane, 4), 16 * i + 8 * r), tile.liveOutputs);
      WarpTile::Output out;
      Value first = tilePosition(tile, digit, mulc(remc(lane, 4), 2));
      Value second = tilePosition(tile, digit, addc(mulc(remc(lane, 4), 2), 1));
      out.position = first;
      out.offset = swizzle(first);
      out.twiddle[0] = unscaled(twiddle(s, inverse, first));
      out.twiddle[1] = unscaled(twiddle(s, inverse, second));
      tile.outputs.push_back(out);
      if (!tile.strided)
        tile.secondOffsets.push_back(swizzle(second));
    }
  return tile;
}

/// Stage 0 holds the leading digit (stride c = M / m): a natural position
/// below `extent` has a digit below ceil(extent / c).
static int64_t leadingDigits(int64_t extent, const StageShape &shape) {
  return extent > 0 ? std::min<int64_t>(shape.size,
                                        llvm::divideCeil(extent, shape.stride))
                    : shape.size;
}

std::optional<LiveDigits> KernelEmitter::bandWindow(size_t s) const {
  if (!layout.bandDigits || s + 1 != layout.factors.size() ||
      layout.transformed != layout.factors.size())
    return std::nullopt;
  int64_t m = stage(s).size;
  return LiveDigits{2 * layout.bandDigits, m - layout.bandDigits};
}

LiveDigits KernelEmitter::liveInputDigits(size_t s, bool inverse) const {
  if (s == 0 && !inverse)
    return {leadingDigits(layout.inputExtent, stage(s))};
  if (inverse)
    if (std::optional<LiveDigits> band = bandWindow(s))
      return *band;
  return {stage(s).size};
}

LiveDigits KernelEmitter::liveOutputDigits(size_t s, bool inverse) const {
  if (s == 0 && inverse)
    return {leadingDigits(layout.neededOutputs, stage(s))};
  if (!inverse)
    if (std::optional<LiveDigits> band = bandWindow(s))
      return *band;
  return {stage(s).size};
}

Value KernelEmitter::mma(Value a, Value bOperand, Value acc) {
  int64_t k = cast<VectorType>(a.getType()).getDimSize(0) == 4 ? 16 : 8;
  return nvgpu::MmaSyncOp::create(b, loc, a, bOperand, acc,
                                  ArrayRef<int64_t>{16, 8, k});
}

Value KernelEmitter::mmaTerm(Value acc, Value aHi, Value aLo, Value xHi,
                             Value xLo) {
  acc = mma(aHi, xHi, acc);
  if (xLo)
    acc = mma(aHi, xLo, acc);
  if (aLo)
    acc = mma(aLo, xHi, acc);
  return acc;
}

/// The stage on the warp's tile of sequence `seq`, written back in place,
/// or with a `sink` (a direct output) given to it.
void KernelEmitter::emitTileProducts(const WarpTile &tile,
                                     ArrayRef<FactorTile> factor, Value seq,
                                     OutputSink sink) {
  int64_t k16 = tile.size / 16;
  auto operandType = VectorType::get({2, 2}, f16);
  auto accType = VectorType::get({2, 2}, f32);
  auto loadOperand = [&](Plane plane, int64_t slab) -> Value {
    return nvgpu::LdMatrixOp::create(
        b, loc, operandType, smem,
        ValueRange{element(seq, plane, tile.rowOffsets[slab])},
        /*transpose=*/tile.strided, /*numTiles=*/2);
  };
  // Slabs of 16 digits that read only known zeros are neither loaded nor
  // multiplied; row tiles that write only unread outputs are not computed.
  int64_t liveSlabs = int64_t(llvm::divideCeil(tile.liveInputs.count, 16));
  int64_t liveRows = int64_t(llvm::divideCeil(tile.liveOutputs.count, 16));
  SmallVector<Value> reHi, reLo(k16), imHi, imLo(k16);
  for (int64_t j = 0; j < liveSlabs; ++j) {
    reHi.push_back(loadOperand(ReHigh, j));
    if (layout.isSplit())
      reLo[j] = loadOperand(ReLow, j);
    imHi.push_back(loadOperand(ImHigh, j));
    if (layout.isSplit())
      imLo[j] = loadOperand(ImLow, j);
  }
  // The tile is written back in place, by other lanes than read it: order
  // every lane's reads before any lane's writes.
  if (!sink)
    NVVM::SyncWarpOp::create(b, loc, c(0xffffffff));
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(accType, b.getF32FloatAttr(0.0)));
  for (int64_t i = 0; i < liveRows; ++i) {
    Value accRe = zero, accIm = zero;
    for (int64_t j = 0; j < liveSlabs; ++j) {
      const FactorTile &f = factor[i * k16 + j];
      accRe = mmaTerm(accRe, f.reHi, f.reLo, reHi[j], reLo[j]);
      accRe = mmaTerm(accRe, f.negImHi, f.negImLo, imHi[j], imLo[j]);
      accIm = mmaTerm(accIm, f.imHi, f.imLo, reHi[j], reLo[j]);
      accIm = mmaTerm(accIm, f.reHi, f.reLo, imHi[j], imLo[j]);
    }
    // Written back by stmatrix where the chip has it: a quarter of the
    // stores. Measured on an H200 (bench/results/matrix-stores-2026-11-29-
    // h200.md): Half rows 2% to 7% faster (8K gated 1.28 -> 1.20 ms, 16K
    // causal 1.054 -> 1.020, bf16 32K causal 1.369 -> 1.299).
    bool matrixRows = storesMatrices && !sink && tile.strided;
    std::array<std::array<Complex, 2>, 2> rows;
    for (int64_t r = 0; r < 2; ++r) {
      const WarpTile::Output &out = tile.outputs[i * 2 + r];
      std::array<Complex, 2> &y = rows[r];
      for (int64_t q = 0; q < 2; ++q) {
        y[q] = {
            vector::ExtractOp::create(b, loc, accRe, ArrayRef<int64_t>{r, q}),
            vector::ExtractOp::create(b, loc, accIm, ArrayRef<int64_t>{r, q})};
        if (out.twiddle[q])
          y[q] = cmul(y[q], *out.twiddle[q]);
        else if (tile.unscale)
          y[q] = cscale(y[q], tile.unscale);
      }
      if (matrixRows)
        continue;
      if (sink) {
        // Neighbouring positions (the digit has a stride):
        // butterfly::kDirectOutputValues real outputs.
        sink(seq, out.position, {y[0], y[1]});
      } else if (tile.strided) {
        auto pair = VectorType::get({2}, f32);
        store(seq, out.offset,
              {vector::FromElementsOp::create(b, loc, pair,
                                              ValueRange{y[0].re, y[1].re}),
               vector::FromElementsOp::create(b, loc, pair,
                                              ValueRange{y[0].im, y[1].im})});
      } else {
        store(seq, out.offset, y[0]);
        store(seq, tile.secondOffsets[i * 2 + r], y[1]);
      }
    }
    if (matrixRows)
      storeTileRows(tile, seq, i, rows);
  }
}

void KernelEmitter::storeTileRows(
    const WarpTile &tile, Value seq, int64_t i,
    const std::array<std::array<Complex, 2>, 2> &y) {
  // Matrix k of a stmatrix: Re (k < 2) or Im, rows 8 (k % 2) .. + 7 of the
  // row tile; a lane's register of it is its accumulators (k % 2, 0..1),
  // two neighbouring columns, as an f16 pair (a high and a low pair at
  // Split).
  auto pairType = VectorType::get({2}, f32);
  SmallVector<Value> high, low;
  for (bool imaginary : {false, true})
    for (int64_t r = 0; r < 2; ++r) {
      Value pair = vector::FromElementsOp::create(
          b, loc, pairType,
          imaginary ? ValueRange{y[r][0].im, y[r][1].im}
                    : ValueRange{y[r][0].re, y[r][1].re});
      auto registerOf = [&](Value halves) -> Value {
        Value word = vector::BitCastOp::create(
            b, loc, VectorType::get({1}, b.getI32Type()), halves);
        return vector::ExtractOp::create(b, loc, word, ArrayRef<int64_t>{0});
      };
      if (layout.isSplit()) {
        auto [hi, lo] = split(pair);
        high.push_back(registerOf(hi));
        low.push_back(registerOf(lo));
      } else {
        high.push_back(registerOf(
            arith::TruncFOp::create(b, loc, VectorType::get({2}, f16), pair)));
      }
    }
  // Lane l names row l % 8 of matrix l / 8: its digit's run of 8 columns.
  Value matrix = divc(lane, 8);
  Value digit = add(addc(mulc(remc(matrix, 2), 8), 16 * i), remc(lane, 8));
  if (tile.liveOutputs.first)
    digit = remc(addc(digit, tile.liveOutputs.first), tile.size);
  Value offset = swizzle(tilePosition(tile, digit, c(0)));
  Value imaginary = ult(c(1), matrix);
  auto store = [&](Plane re, Plane im, ArrayRef<Value> registers) {
    Value plane = arith::SelectOp::create(b, loc, imaginary, c(im), c(re));
    NVVM::StMatrixOp::create(
        b, loc, sharedPointer(seq, plane, offset), registers,
        NVVM::MMALayout::row,
        NVVM::LdStMatrixShapeAttr::get(b.getContext(), 8, 8),
        NVVM::LdStMatrixEltType::B16);
  };
  store(ReHigh, ImHigh, high);
  if (layout.isSplit())
    store(ReLow, ImLow, low);
}

/// Each warp takes tiles of 8 columns, the same tile of every sequence of
/// the block in turn.
void KernelEmitter::emitTensorCoreStage(size_t s, bool inverse,
                                        OutputSink sink) {
  StageShape shape = stage(s);
  int64_t tiles = layout.length / shape.size / 8;
  int64_t warps = layout.threads / kThreadsPerWarp;
  SmallVector<FactorTile> factor =
      factorTiles(shape.size, inverse, liveOutputDigits(s, inverse).first,
                  liveInputDigits(s, inverse).first);
  distribute(warp, warps, tiles, [&](Value tileIndex) {
    WarpTile tile = warpTile(s, inverse, tileIndex);
    auto products = [&](Value seq) {
      emitTileProducts(tile, factor, seq, sink);
    };
    // A direct output's sequences in one block: one sequence's stores and
    // the next one's products overlap.
    if (sink)
      forEachSequenceUnrolled(products);
    else
      forEachSequence(products);
  });
}
