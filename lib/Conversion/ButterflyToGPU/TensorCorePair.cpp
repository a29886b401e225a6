//===- TensorCorePair.cpp - the last two stages in registers ----*- C++ -*-===//
//
// The last two stages of a transform, of sizes ma (16 or 32) and mb (8, 16
// or 32, the last digit, stride 1), run together on a warp's tile of ma x mb
// consecutive positions X[a][b], with the values between them held in the
// MMA accumulators instead of a round trip through shared memory:
//
//   forward:  Z = F_a X     (factor the A operand, X the B operand)
//             Z *= T        (T[a'][b] = w^(a' b), w = exp(-2 pi i / ma mb))
//             W = Z F_b     (Z's accumulators are the A operand as they
//                            stand: m16n8's accumulator layout over two
//                            column tiles is m16n8k16's A layout)
//   inverse:  Z' = G_b X'   (X' = X transposed, read with ldmatrix)
//             Z' *= conj T
//             W = G_a Z'^T  (Z''s accumulators are the B operand as they
//                            stand: a lane's accumulator pair (row g, columns
//                            2t, 2t + 1) is its B pair (k = 2t, 2t + 1,
//                            column g) of the transposed product)
//
// Both leave W[a][b] with each lane holding pairs of consecutive b, stored
// as vectors of two. The twiddle between the stages depends on the lane
// alone: a constant table (Fragments.cpp), computed in double precision,
// instead of a root per value. A pair saves a stage's stores, loads and
// roots, and takes a last factor of 8 off the FMA units.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

/// More values a tile hold more accumulators a lane: 16 x 32 tiles would
/// take 64 registers for Z alone and spill.
static constexpr int64_t kMaxPairTile = 256;

/// The pair holds both stages' fragments and a tile's accumulators: about
/// 1.6x a stage's registers (8K: 72 -> 116). It pays in the plan's blocks of
/// 16 warps (kPairThreads), which have an SM to themselves (their shared
/// memory allows one), and loses where registers bound the blocks an SM.
/// Measured on an H200, each kernel at its register budget, stage by stage
/// -> pair: 16K causal 1.19 -> 1.07 ms, gated 1.58 -> 1.52, f32 3.74 ->
/// 3.53; but 8K gated 1.24 -> 1.32, 4K Split 0.92 -> 0.99 and the 64K
/// three-pass inner kernels 10% to 20% slower. Where the fused pass takes
/// the last of three stages at Half, there is no pair.
std::optional<size_t> KernelEmitter::fusedPair() const {
  std::optional<size_t> pair = pairedStages();
  if (pair && !layout.isSplit() && layout.factors.size() == 3 &&
      fusesSpectralProduct())
    return std::nullopt;
  return pair;
}

std::optional<size_t> KernelEmitter::pairedStages() const {
  size_t stages = layout.transformed;
  // Untransformed trailing digits would make the twiddle between the two
  // stages depend on the column; a band changes the last stage's digits.
  if (stages < 2 || stages != layout.factors.size() || layout.bandDigits ||
      layout.threads < butterfly::kPairThreads)
    return std::nullopt;
  int64_t ma = layout.factors[stages - 2], mb = layout.factors[stages - 1];
  bool tensorA = ma == 16 || ma == 32;
  bool tensorB = mb == 8 || mb == 16 || mb == 32;
  if (!tensorA || !tensorB || ma * mb > kMaxPairTile)
    return std::nullopt;
  return stages - 2;
}

bool KernelEmitter::onTensorCores(size_t s) const {
  // The fused pass runs the last stage on the FMA units, a 16 included.
  if (s + 1 == layout.factors.size() && fusesSpectralProduct())
    return false;
  if (layout.factors[s] >= 16)
    return true;
  std::optional<size_t> pair = fusedPair();
  return pair && (s == *pair || s == *pair + 1);
}

namespace {
/// A complex accumulator tile (vector<2x2xf32> each part).
struct ComplexTile {
  Value re, im;
};
} // namespace

/// The f16 operand registers of accumulator rows `rows` (vector<2xf32>
/// each): high halves, and at Split precision the low halves. (Held split
/// at Half precision too, the rounding between the stages goes: measured
/// 16K causal 5.5e-4 -> 4.7e-4, but 1.08 -> 1.25 ms; bench/NOTES.md.)
static std::pair<SmallVector<Value>, SmallVector<Value>>
operandHalves(KernelEmitter &e, ArrayRef<Value> rows) {
  SmallVector<Value> high, low;
  auto pairType = VectorType::get({2}, e.f16);
  for (Value row : rows) {
    if (e.layout.isSplit()) {
      auto [hi, lo] = e.split(row);
      high.push_back(hi);
      low.push_back(lo);
    } else {
      high.push_back(arith::TruncFOp::create(e.b, e.loc, pairType, row));
    }
  }
  return {high, low};
}

Value KernelEmitter::pairTwiddleTable(size_t s, bool inverse) {
  int64_t ma = layout.factors[s], mb = layout.factors[s + 1];
  // Rows and columns of the accumulators between the stages: (a', b) in
  // the forward, (b, a') in the inverse.
  int64_t rows = inverse ? mb : ma, columns = inverse ? ma : mb;
  int64_t rowTiles = llvm::divideCeil(rows, 16), columnTiles = columns / 8;
  // The twiddle carries the unscaling of the stage before it, if it has one.
  size_t before = inverse ? s + 1 : s;
  double unscale = stageUnscales(before, inverse)
                       ? 1.0 / factorScale(layout.factors[before])
                       : 1.0;
  double sign = inverse ? 1.0 : -1.0;
  std::string name = llvm::formatv("pair_twiddle_{0}x{1}_{2}_{3}{4}", ma, mb,
                                   inverse ? "inverse" : "forward",
                                   layout.isSplit() ? "split" : "half",
                                   unscale != 1.0 ? "_unscaled" : "");
  return fragmentTable(
      name, f32, rowTiles * columnTiles * 2, 4,
      [&](int64_t fragment, int64_t lane, int64_t value) {
        int64_t tile = fragment / 2, part = fragment % 2;
        auto [row, column] = fragmentElement(Fragment::C16x8, lane, value);
        row += 16 * (tile / columnTiles);
        column += 8 * (tile % columnTiles);
        if (row >= rows)
          return 0.0; // the padded rows of an 8-point first inverse stage
        double angle = sign * 2.0 * M_PI * double((row * column) % (ma * mb)) /
                       double(ma * mb);
        return (part ? std::sin(angle) : std::cos(angle)) * unscale;
      });
}

/// The forward's second factor F_b as the B operand (k = b, n = b'; F is
/// symmetric): [k-slab][column tile][part][lane][values].
SmallVector<KernelEmitter::FactorTile>
KernelEmitter::pairSecondFactor(int64_t m) {
  Fragment kind = m == 8 ? Fragment::B8x8 : Fragment::B16x8;
  int64_t slabs = llvm::divideCeil(m, 16), columnTiles = m / 8;
  int64_t parts = layout.isSplit() ? 4 : 2, perLane = fragmentValues(kind);
  std::string name = llvm::formatv("factor_{0}_forward_{1}_operand_b", m,
                                   layout.isSplit() ? "split" : "half");
  Value table =
      fragmentTable(name, f16, slabs * columnTiles * parts, perLane,
                    [&](int64_t fragment, int64_t lane, int64_t value) {
                      int64_t tile = fragment / parts, part = fragment % parts;
                      auto [k, n] = fragmentElement(kind, lane, value);
                      return factorPart(m, /*inverse=*/false, part,
                                        8 * (tile % columnTiles) + n,
                                        16 * (tile / columnTiles) + k);
                    });
  SmallVector<FactorTile> tiles;
  for (int64_t tile = 0; tile < slabs * columnTiles; ++tile)
    tiles.push_back(factorTile([&](int64_t part) {
      return operandOf(loadFragment(table, perLane, tile * parts + part));
    }));
  return tiles;
}

/// The inverse's first factor G_b as the A operand: its 16 x 16 tiles, or
/// for b = 8 one 16 x 8 tile whose rows 8-15 are zero.
SmallVector<KernelEmitter::FactorTile>
KernelEmitter::pairFirstInverseFactor(int64_t m) {
  if (m >= 16)
    return factorTiles(m, /*inverse=*/true, 0, 0);
  int64_t parts = layout.isSplit() ? 4 : 2;
  std::string name = llvm::formatv("factor_{0}_inverse_{1}_operand_a", m,
                                   layout.isSplit() ? "split" : "half");
  Value table = fragmentTable(
      name, f16, parts, fragmentValues(Fragment::A16x8),
      [&](int64_t part, int64_t lane, int64_t value) {
        auto [row, column] = fragmentElement(Fragment::A16x8, lane, value);
        return row < m ? factorPart(m, /*inverse=*/true, part, row, column)
                       : 0.0;
      });
  return {factorTile(
      [&](int64_t part) { return operandOf(loadFragment(table, 4, part)); })};
}

/// Row r (0 or 1) of a vector<2x2xf32> accumulator.
static Value accumulatorRow(KernelEmitter &e, Value acc, int64_t r) {
  return vector::ExtractOp::create(e.b, e.loc, acc, ArrayRef<int64_t>{r});
}

/// A complex MMA operand: Re high, Re low, Im high, Im low (the low
/// halves null where not held).
using SplitOperand = std::array<Value, 4>;

/// acc + x y over complex operands, (x.re + i x.im)(y.re + i y.im), with
/// `negIm` (high, low) the negated imaginary part of the constant operand:
/// x's with `negateX`, else y's.
static ComplexTile complexProduct(KernelEmitter &e, ComplexTile acc,
                                  const SplitOperand &x, const SplitOperand &y,
                                  std::pair<Value, Value> negIm, bool negateX) {
  auto term = [&](Value aHi, Value aLo, Value bHi, Value bLo, Value c) {
    return e.mmaTerm(c, aHi, aLo, bHi, bLo);
  };
  // re += x.re y.re - x.im y.im; im += x.im y.re + x.re y.im.
  acc.re = term(x[0], x[1], y[0], y[1], acc.re);
  if (negateX)
    acc.re = term(negIm.first, negIm.second, y[2], y[3], acc.re);
  else
    acc.re = term(x[2], x[3], negIm.first, negIm.second, acc.re);
  acc.im = term(x[2], x[3], y[0], y[1], acc.im);
  acc.im = term(x[0], x[1], y[2], y[3], acc.im);
  return acc;
}

/// acc + F x for a factor tile F (the A operand) and data x.
static ComplexTile factorTimes(KernelEmitter &e, ComplexTile acc,
                               const KernelEmitter::FactorTile &f,
                               const SplitOperand &x) {
  return complexProduct(e, acc, {f.reHi, f.reLo, f.imHi, f.imLo}, x,
                        {f.negImHi, f.negImLo}, /*negateX=*/true);
}

/// acc + x F for data x (the A operand) and a factor tile F.
static ComplexTile timesFactor(KernelEmitter &e, ComplexTile acc,
                               const SplitOperand &x,
                               const KernelEmitter::FactorTile &f) {
  return complexProduct(e, acc, x, {f.reHi, f.reLo, f.imHi, f.imLo},
                        {f.negImHi, f.negImLo}, /*negateX=*/false);
}

static ComplexTile zeroTile(KernelEmitter &e) {
  auto zero = [&]() -> Value {
    return arith::ConstantOp::create(
        e.b, e.loc,
        DenseElementsAttr::get(VectorType::get({2, 2}, e.f32),
                               e.b.getF32FloatAttr(0.0)));
  };
  Value re = zero();
  return {re, zero()};
}

/// The data operand of sequence `seq` whose ldmatrix rows start at the
/// swizzled position `row` (each lane names one row), one per plane.
static SplitOperand loadData(KernelEmitter &e, Value seq, Value row,
                             bool transpose, int64_t numTiles) {
  auto type = VectorType::get({numTiles, 2}, e.f16);
  auto plane = [&](Plane p) -> Value {
    return nvgpu::LdMatrixOp::create(e.b, e.loc, type, e.smem,
                                     ValueRange{e.element(seq, p, row)},
                                     transpose, numTiles);
  };
  if (!e.layout.isSplit())
    return {plane(ReHigh), Value(), plane(ImHigh), Value()};
  Value reHi = plane(ReHigh), reLo = plane(ReLow), imHi = plane(ImHigh);
  return {reHi, reLo, imHi, plane(ImLow)};
}

/// Accumulator rows as an MMA operand: row `r` of each tile in order, as
/// the operand's register pairs.
static SplitOperand
accumulatorOperand(KernelEmitter &e,
                   ArrayRef<std::pair<const ComplexTile *, int64_t>> rows) {
  SplitOperand operand;
  for (bool re : {true, false}) {
    SmallVector<Value> values;
    for (auto [tile, r] : rows)
      values.push_back(accumulatorRow(e, re ? tile->re : tile->im, r));
    auto [high, low] = operandHalves(e, values);
    operand[re ? 0 : 2] = e.registerPairs(high);
    operand[re ? 1 : 3] = low.empty() ? Value() : e.registerPairs(low);
  }
  return operand;
}

void KernelEmitter::emitTensorCorePair(size_t s, bool inverse) {
  int64_t ma = layout.factors[s], mb = layout.factors[s + 1];
  int64_t tiles = layout.length / (ma * mb);
  int64_t warps = layout.threads / kThreadsPerWarp;
  // Loop-invariant for the pass: the factors' fragments.
  SmallVector<FactorTile> first, second;
  if (inverse) {
    first = pairFirstInverseFactor(mb);
    second = factorTiles(ma, /*inverse=*/true, 0, 0);
  } else {
    first = factorTiles(ma, /*inverse=*/false, 0, 0);
    second = pairSecondFactor(mb);
  }
  distribute(warp, warps, tiles, [&](Value tileIndex) {
    Value base = mulc(tileIndex, ma * mb);
    forEachSequence([&](Value seq) {
      if (inverse)
        emitInversePairTile(s, first, second, base, seq);
      else
        emitForwardPairTile(s, first, second, base, seq);
    });
  });
}

/// The twiddle table's values for accumulator tile `tile` as two
/// vector<4xf32> (real, imaginary), in (r, q) order.
static std::pair<Value, Value> twiddleFragment(KernelEmitter &e, Value table,
                                               int64_t tile) {
  return {e.loadFragment(table, 4, 2 * tile),
          e.loadFragment(table, 4, 2 * tile + 1)};
}

/// acc .* w for a complex accumulator tile and its twiddles (r, q order).
static ComplexTile twiddled(KernelEmitter &e, ComplexTile acc,
                            std::pair<Value, Value> w) {
  Value zero = arith::ConstantOp::create(
      e.b, e.loc,
      DenseElementsAttr::get(VectorType::get({2, 2}, e.f32),
                             e.b.getF32FloatAttr(0.0)));
  ComplexTile out{zero, zero};
  for (int64_t r = 0; r < 2; ++r) {
    auto half = [&](Value v) -> Value {
      return vector::ShuffleOp::create(e.b, e.loc, v, v,
                                       ArrayRef<int64_t>{2 * r, 2 * r + 1});
    };
    KernelEmitter::Complex x{accumulatorRow(e, acc.re, r),
                             accumulatorRow(e, acc.im, r)};
    KernelEmitter::Complex y = e.cmul(x, {half(w.first), half(w.second)});
    out.re = vector::InsertOp::create(e.b, e.loc, y.re, out.re,
                                      ArrayRef<int64_t>{r});
    out.im = vector::InsertOp::create(e.b, e.loc, y.im, out.im,
                                      ArrayRef<int64_t>{r});
  }
  return out;
}

/// The pair's first products, twiddled: accumulator tile (i, j) of
/// `rowTiles` x `columnTiles` is the sum over the first `slabs` k-slabs of
/// factor tile (i, k) (of a factor of `factorSlabs` k-slabs) times data
/// operand (k, j), times the twiddle table's tile (i, j).
static SmallVector<ComplexTile>
twiddledProducts(KernelEmitter &e, ArrayRef<KernelEmitter::FactorTile> factor,
                 int64_t factorSlabs, ArrayRef<SplitOperand> data,
                 int64_t slabs, int64_t rowTiles, int64_t columnTiles,
                 Value twiddles) {
  SmallVector<ComplexTile> z;
  for (int64_t i = 0; i < rowTiles; ++i)
    for (int64_t j = 0; j < columnTiles; ++j) {
      ComplexTile acc = zeroTile(e);
      for (int64_t k = 0; k < slabs; ++k)
        acc = factorTimes(e, acc, factor[i * factorSlabs + k],
                          data[k * columnTiles + j]);
      z.push_back(
          twiddled(e, acc, twiddleFragment(e, twiddles, i * columnTiles + j)));
    }
  return z;
}

/// Row r of output tile (i, column tile `columnTile`) of a pair's tile at
/// `base` (rows of `mb`): its two values (columns 2t, 2t + 1) and the
/// position of the first.
static std::pair<KernelEmitter::Complex, Value>
pairOutput(KernelEmitter &e, ComplexTile acc, Value base, int64_t mb, int64_t i,
           int64_t r, int64_t columnTile) {
  Value digit = e.addc(e.divc(e.lane, 4), 16 * i + 8 * r);
  Value row = e.mulc(digit, mb);
  Value column = e.addc(e.mulc(e.remc(e.lane, 4), 2), 8 * columnTile);
  Value position = e.add(base, e.add(row, column));
  return {{accumulatorRow(e, acc.re, r), accumulatorRow(e, acc.im, r)},
          position};
}

void KernelEmitter::emitForwardPairTile(size_t s, ArrayRef<FactorTile> first,
                                        ArrayRef<FactorTile> second, Value base,
                                        Value seq) {
  int64_t ma = layout.factors[s], mb = layout.factors[s + 1];
  int64_t rowTiles = ma / 16, columnTiles = mb / 8;
  // Slabs of 16 input digits that read only known zeros (a causal
  // convolution's padding, when the pair is the whole transform) are
  // neither loaded nor multiplied.
  int64_t slabs = llvm::divideCeil(liveInputDigits(s, false).count, 16);
  // X[a][b], k = a (stride mb), n = b: transposed ldmatrix, lanes 0-15
  // naming the rows of a 16-digit slab.
  SmallVector<SplitOperand> x;
  for (int64_t slab = 0; slab < slabs; ++slab)
    for (int64_t j = 0; j < columnTiles; ++j) {
      Value digit = addc(remc(lane, 16), 16 * slab);
      Value row = swizzle(add(base, addc(mulc(digit, mb), 8 * j)));
      x.push_back(loadData(*this, seq, row, /*transpose=*/true, 2));
    }
  // The tile is written back in place, by other lanes than read it.
  NVVM::SyncWarpOp::create(b, loc, c(0xffffffff));
  // Z = F_a X, twiddled.
  SmallVector<ComplexTile> z =
      twiddledProducts(*this, first, rowTiles, x, slabs, rowTiles, columnTiles,
                       pairTwiddleTable(s, false));
  // W = Z F_b: Z's rows (a') are the A operand over k = b, two column tiles
  // a k-slab (one for a factor of 8).
  int64_t kSlabs = llvm::divideCeil(mb, 16);
  for (int64_t i = 0; i < rowTiles; ++i) {
    SmallVector<SplitOperand> a;
    for (int64_t kb = 0; kb < kSlabs; ++kb) {
      SmallVector<std::pair<const ComplexTile *, int64_t>> rows;
      for (int64_t half = 0; half < std::min<int64_t>(2, columnTiles); ++half)
        for (int64_t r = 0; r < 2; ++r)
          rows.push_back({&z[i * columnTiles + 2 * kb + half], r});
      a.push_back(accumulatorOperand(*this, rows));
    }
    for (int64_t jn = 0; jn < columnTiles; ++jn) {
      ComplexTile acc = zeroTile(*this);
      for (int64_t kb = 0; kb < kSlabs; ++kb)
        acc = timesFactor(*this, acc, a[kb], second[kb * columnTiles + jn]);
      // W[a'][b'] for a' = 16 i + g + 8 r, b' = 8 jn + 2t + q.
      for (int64_t r = 0; r < 2; ++r) {
        auto [y, first] = pairOutput(*this, acc, base, mb, i, r, jn);
        Complex out = pairOutputScaled(s + 1, false, y, first);
        store(seq, swizzle(first), out);
      }
    }
  }
}

void KernelEmitter::emitInversePairTile(size_t s, ArrayRef<FactorTile> first,
                                        ArrayRef<FactorTile> second, Value base,
                                        Value seq) {
  int64_t ma = layout.factors[s], mb = layout.factors[s + 1];
  bool k8 = mb == 8;
  // Z'[b][a'] = G_b X'[b'][a']: k = b' (contiguous), n = a'.
  int64_t kSlabs = llvm::divideCeil(mb, 16), bTiles = llvm::divideCeil(mb, 16);
  int64_t aTiles = ma / 8;
  SmallVector<SplitOperand> x;
  for (int64_t kb = 0; kb < kSlabs; ++kb)
    for (int64_t jn = 0; jn < aTiles; ++jn) {
      // Lanes 0-7 name rows a' = 8 jn + lane of digits b' 16 kb .. + 7,
      // lanes 8-15 the same rows' digits 16 kb + 8 .. + 15.
      Value digitA = addc(remc(lane, 8), 8 * jn);
      Value digitB =
          k8 ? c(0) : addc(mulc(divc(remc(lane, 16), 8), 8), 16 * kb);
      Value row = swizzle(add(base, add(mulc(digitA, mb), digitB)));
      x.push_back(loadData(*this, seq, row, /*transpose=*/false, k8 ? 1 : 2));
    }
  NVVM::SyncWarpOp::create(b, loc, c(0xffffffff));
  SmallVector<ComplexTile> z =
      twiddledProducts(*this, first, kSlabs, x, kSlabs, bTiles, aTiles,
                       pairTwiddleTable(s, true));
  // W[a][b] = G_a Z'^T: the B operand of k-slab ka, column tile nb (b =
  // 8 nb + g) is row r = nb % 2 of Z' tiles (nb / 2, 2 ka) and (nb / 2,
  // 2 ka + 1).
  int64_t liveRows = llvm::divideCeil(liveOutputDigits(s, true).count, 16);
  int64_t aSlabs = ma / 16, bColumns = mb / 8;
  for (int64_t nb = 0; nb < bColumns; ++nb) {
    SmallVector<SplitOperand> operand;
    for (int64_t ka = 0; ka < aSlabs; ++ka) {
      const ComplexTile *tiles = &z[(nb / 2) * aTiles + 2 * ka];
      operand.push_back(accumulatorOperand(
          *this, {{&tiles[0], nb % 2}, {&tiles[1], nb % 2}}));
    }
    for (int64_t i = 0; i < liveRows; ++i) {
      ComplexTile acc = zeroTile(*this);
      for (int64_t ka = 0; ka < aSlabs; ++ka)
        acc = factorTimes(*this, acc, second[i * aSlabs + ka], operand[ka]);
      // W[a][b] for a = 16 i + g + 8 r, b = 8 nb + 2t + q.
      for (int64_t r = 0; r < 2; ++r) {
        auto [y, first] = pairOutput(*this, acc, base, mb, i, r, nb);
        Complex out = pairOutputScaled(s, true, y, first);
        store(seq, swizzle(first), out);
      }
    }
  }
}

/// A pair's outputs at `first` and first + 1 as the pair's last stage
/// `s` leaves them: twiddled (conj(T_{s-1}) in the inverse) where the stage
/// has a twiddle, with its unscaling, else unscaled alone where it scales
/// back itself.
KernelEmitter::Complex KernelEmitter::pairOutputScaled(size_t s, bool inverse,
                                                       Complex y, Value first) {
  double scale =
      stageUnscales(s, inverse) ? 1.0 / factorScale(layout.factors[s]) : 1.0;
  auto pairType = VectorType::get({2}, f32);
  if (hasTwiddle(s, inverse)) {
    Complex w0 = *twiddle(s, inverse, first),
            w1 = *twiddle(s, inverse, addc(first, 1));
    if (scale != 1.0) {
      w0 = cscale(w0, cf(scale));
      w1 = cscale(w1, cf(scale));
    }
    Complex w{vector::FromElementsOp::create(b, loc, pairType,
                                             ValueRange{w0.re, w1.re}),
              vector::FromElementsOp::create(b, loc, pairType,
                                             ValueRange{w0.im, w1.im})};
    return cmul(y, w);
  }
  if (scale == 1.0)
    return y;
  return cscale(y, vector::BroadcastOp::create(b, loc, pairType, cf(scale)));
}
