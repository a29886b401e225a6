//===- SpectralProduct.cpp - butterfly.hermitian_mul on the GPU -*- C++ -*-===//
//
// The product of a real convolution at half size in Monarch order:
// y[p] = A[p] x[p] + B[p] conj(x[s(p)]), s(p) the position of the mirrored
// frequency, with the coefficients A, B of butterfly.conv_spectrum.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

KernelEmitter::Complex KernelEmitter::loadCoefficient(Value coefficients,
                                                      Value h, int64_t which,
                                                      Value position) {
  auto pairType = VectorType::get({2}, f32);
  auto load = vector::LoadOp::create(
      b, loc, pairType, coefficients,
      ValueRange{index(h), index(c(which)), index(mulc(position, 2))});
  load.setAlignment(8);
  return {vector::ExtractOp::create(b, loc, load, ArrayRef<int64_t>{0}),
          vector::ExtractOp::create(b, loc, load, ArrayRef<int64_t>{1})};
}

/// Slot s of the fused product's order holds A and B together: floats
/// 4 s .. 4 s + 3 of the channel's 4M, one 16-byte access.
static constexpr int64_t kSlotFloats = 4;

static SmallVector<Value, 3> pairIndices(KernelEmitter &e, Value coefficients,
                                         Value h, Value slot) {
  int64_t row = cast<MemRefType>(coefficients.getType()).getDimSize(2);
  Value flat = e.mulc(slot, kSlotFloats);
  return {e.index(h), e.index(e.divc(flat, row)), e.index(e.remc(flat, row))};
}

std::pair<KernelEmitter::Complex, KernelEmitter::Complex>
KernelEmitter::loadCoefficientPair(Value coefficients, Value h, Value slot) {
  auto load =
      vector::LoadOp::create(b, loc, VectorType::get({4}, f32), coefficients,
                             pairIndices(*this, coefficients, h, slot));
  load.setAlignment(16);
  auto lane = [&](int64_t i) -> Value {
    return vector::ExtractOp::create(b, loc, load, ArrayRef<int64_t>{i});
  };
  return {{lane(0), lane(1)}, {lane(2), lane(3)}};
}

void KernelEmitter::prefetchIntoL1(Value buffer, Value flat) {
  NVVM::PrefetchOp::create(b, loc,
                           NVVM::PrefetchCacheLevelAttr::get(
                               b.getContext(), NVVM::PrefetchCacheLevel::L1),
                           /*evictPriority=*/nullptr,
                           addressOf(buffer, flat, 4, /*global=*/1),
                           /*predicate=*/Value(), /*tensormap=*/false);
}

void KernelEmitter::prefetchCoefficientPair(Value coefficients, Value h,
                                            Value slot) {
  auto type = cast<MemRefType>(coefficients.getType());
  int64_t row = type.getDimSize(2);
  // The slot's first float, pairIndices' flattened: the channel's 2 rows
  // come first.
  prefetchIntoL1(coefficients, add(mulc(h, 2 * row), mulc(slot, kSlotFloats)));
}

void KernelEmitter::storeCoefficientPair(Value coefficients, Value h,
                                         Value slot, Complex a, Complex bc) {
  Value pair = vector::FromElementsOp::create(
      b, loc, VectorType::get({4}, f32), ValueRange{a.re, a.im, bc.re, bc.im});
  auto store = vector::StoreOp::create(
      b, loc, pair, coefficients, pairIndices(*this, coefficients, h, slot));
  store.setAlignment(16);
}

void KernelEmitter::prefetchCoefficient(Value coefficients, Value h,
                                        int64_t which, Value position) {
  auto type = cast<MemRefType>(coefficients.getType());
  int64_t row = type.getDimSize(2);
  // loadCoefficient's indices [h, which, 2 position], flattened.
  prefetchIntoL1(coefficients,
                 add(mulc(h, 2 * row), addc(mulc(position, 2), which * row)));
}

void KernelEmitter::storeCoefficient(Value coefficients, Value h, int64_t which,
                                     Value position, Complex x) {
  auto pairType = VectorType::get({2}, f32);
  Value pair =
      vector::FromElementsOp::create(b, loc, pairType, ValueRange{x.re, x.im});
  auto store = vector::StoreOp::create(
      b, loc, pair, coefficients,
      ValueRange{index(h), index(c(which)), index(mulc(position, 2))});
  store.setAlignment(8);
}

/// Each pair {p, s(p)} is handled by the thread that meets its smaller
/// position, for every sequence of the tile with the same coefficients.
/// Frequency-sparse, only the band's positions are met (the first inverse
/// stage reads no other); a pair with one of them outside, which the band's
/// zero coefficients make zero, is handled by the thread that meets the
/// other.
void KernelEmitter::emitSpectralProduct(Value coefficients, Value h,
                                        Value laterCoefficients,
                                        int64_t laterFrom, bool mayPrefetch) {
  std::optional<LiveDigits> band = bandWindow(layout.factors.size() - 1);
  int64_t m = layout.factors.back();
  int64_t positions = band ? layout.length / m * band->count : layout.length;
  // The last digit has stride 1: live position i is digit
  // (first + i mod count) mod m of block i / count.
  auto positionOfLive = [&](Value live) {
    if (!band)
      return live;
    return add(mulc(divc(live, band->count), m),
               remc(addc(remc(live, band->count), band->first), m));
  };
  bool prefetches = mayPrefetch && prefetchesProductCoefficients();
  distribute(tid, layout.threads, positions, [&](Value live) {
    Value p = positionOfLive(live);
    Value q = mirror(frequency(p));
    // The next position's coefficients start into L1 while this one's
    // products run: a position's four loads were waited for at once.
    if (prefetches) {
      Value next = addc(live, layout.threads);
      when(ult(next, c(positions)), [&] {
        Value np = positionOfLive(next);
        Value nq = mirror(frequency(np));
        for (Value buffer : {coefficients, laterCoefficients}) {
          if (!buffer)
            continue;
          for (int64_t which : {0, 1})
            for (Value position : {np, nq})
              prefetchCoefficient(buffer, h, which, position);
        }
      });
    }
    Value notAfter =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, p, q);
    if (band) {
      Value mirrorOutside = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::uge,
          remc(addc(remc(q, m), m - band->first), m), c(band->count));
      notAfter = arith::OrIOp::create(b, loc, notAfter, mirrorOutside);
    }
    when(notAfter, [&] {
      auto pairOf = [&](Value buffer) {
        MirrorPair pair;
        pair.offsetP = swizzle(p);
        pair.offsetQ = swizzle(q);
        pair.ap = loadCoefficient(buffer, h, 0, p);
        pair.bp = loadCoefficient(buffer, h, 1, p);
        pair.aq = loadCoefficient(buffer, h, 0, q);
        pair.bq = loadCoefficient(buffer, h, 1, q);
        if (double scale = productScale(); scale != 1.0) {
          Value s = cf(scale);
          for (Complex *coefficient : {&pair.ap, &pair.bp, &pair.aq, &pair.bq})
            *coefficient = cscale(*coefficient, s);
        }
        pair.distinct = ult(p, q);
        return pair;
      };
      MirrorPair pair = pairOf(coefficients);
      if (!laterCoefficients)
        return forEachSequence([&](Value seq) { emitMirrorPair(seq, pair); });
      MirrorPair later = pairOf(laterCoefficients);
      forEachSequence([&](Value seq) {
        Value isLater = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                              seq, c(laterFrom));
        auto pick = [&](Complex x, Complex y) -> Complex {
          return {arith::SelectOp::create(b, loc, isLater, y.re, x.re),
                  arith::SelectOp::create(b, loc, isLater, y.im, x.im)};
        };
        MirrorPair chosen = pair;
        chosen.ap = pick(pair.ap, later.ap);
        chosen.bp = pick(pair.bp, later.bp);
        chosen.aq = pick(pair.aq, later.aq);
        chosen.bq = pick(pair.bq, later.bq);
        emitMirrorPair(seq, chosen);
      });
    });
  });
  barrier();
}

void KernelEmitter::emitMirrorPair(Value seq, const MirrorPair &pair) {
  Complex xp = load(seq, pair.offsetP), xq = load(seq, pair.offsetQ);
  Complex yp = cadd(cmul(pair.ap, xp), cmul(pair.bp, conj(xq)));
  // The mirror of the middle frequency (and of 0) is itself: one store.
  when(pair.distinct, [&] {
    store(seq, pair.offsetQ, cadd(cmul(pair.aq, xq), cmul(pair.bq, conj(xp))));
  });
  store(seq, pair.offsetP, yp);
}

bool KernelEmitter::prefetchesProductCoefficients() const {
  // Nsight Compute on bf16 16K gated at Half (one block of 16 warps an SM):
  // the pass's loads of a position's four coefficients, used at once, held
  // 7% of the kernel's stall samples (long scoreboard). Measured with the
  // next position's prefetched, on one H200: bf16 16K gated 0.978x, causal
  // 0.994x, 32K gated 0.979x (medians of four rounds); but in 8-warp
  // blocks 4K and 8K 1.03x to 1.07x, 1K causal 1.02x, and at Split (f32
  // 16K) 1.01x to 1.03x (two rounds): in 16-warp blocks at Half only, where
  // one block an SM leaves the loads' latency exposed.
  return !layout.isSplit() && layout.threads >= 512;
}

bool KernelEmitter::fusesSpectralProduct() const {
  // Two or three stages: with one digit between the first and the last,
  // the groups of d0 = 0 pair by that digit alone (r with R - r), as
  // emitFusedSpectralProduct enumerates them; with more, by their
  // digit-reversed value. The last factor on the FMA units, unless the
  // pair takes it to the tensor cores: it does at Split and with two
  // stages; at Half, three stages run the fused pass (fusedPair).
  size_t stages = layout.factors.size();
  if (layout.transformed != stages || layout.bandDigits ||
      ((layout.isSplit() || stages == 2) && pairedStages()))
    return false;
  return fusesSpectralProductAt(layout.precision, layout.factors,
                                layout.inputExtent > 0 &&
                                    layout.inputExtent < layout.length,
                                layout.halfData, layout.threads);
}

/// The last digit d (stride 1) of position g m + d weighs w = M / m in the
/// frequency: f = F + w d, F < w from the other digits. Its mirror M - f is
/// (w - F) + w (m - 1 - d) for F > 0, so the group of F pairs with the
/// group of w - F, digit d with digit m - 1 - d; the groups of F = 0 and
/// F = w / 2 mirror into themselves (d with (m - d) mod m, and with
/// m - 1 - d).
///
/// Unit 0 takes those two; unit v > 0 the v-th other pair's first group in
/// position order, so that neighbouring threads read neighbouring groups
/// (their partners descend): the first stage's digit d0 (the most
/// significant in the position, the least in the frequency) pairs with
/// m0 - d0, so of the R = w / m0 groups of each d0 the first group of a
/// pair has d0 = 0 (its other digits r in [1, R / 2): they pair with R - r),
/// or d0 in [1, m0 / 2) (all of them), or d0 = m0 / 2 (r < R / 2); that is,
/// groups 1 .. R / 2 - 1 and R .. (m0 + 1) R / 2 - 1. The coefficients lie
/// in the units' order (fusedCoefficientSlot): neighbouring threads load
/// neighbouring coefficients.
namespace {
/// Consecutive units a quarter warp takes in the fused product.
constexpr int64_t kFusedUnitRun = 8;

/// The units of the fused product (emitFusedSpectralProduct) and where
/// their coefficients lie (fusedCoefficientSlot).
struct FusedUnits {
  explicit FusedUnits(const SequenceLayout &layout)
      : m(layout.factors.back()), w(layout.length / m),
        groupsPerDigit(w / layout.factors.front()),
        zeroRowPairs(std::max<int64_t>(groupsPerDigit / 2 - 1, 0)),
        units(w / 2) {}
  /// The groups between the runs of first groups: unit v > zeroRowPairs
  /// takes group v + skipped().
  int64_t skipped() const { return groupsPerDigit - 1 - zeroRowPairs; }

  int64_t m;              // the last factor
  int64_t w;              // the last digit's frequency weight, M / m
  int64_t groupsPerDigit; // R: the groups of each first-stage digit
  int64_t zeroRowPairs;   // the pairs among the groups of d0 = 0
  int64_t units;          // w / 2
};
} // namespace

void KernelEmitter::emitFusedSpectralProduct(Value coefficients, Value h) {
  FusedUnits shape(layout);
  int64_t m = shape.m, w = shape.w, units = shape.units;
  double scale = productScale();
  // A unit's coefficients are prefetched one item ahead (the first item's
  // before the loop): a whole item's work hides their latency.
  bool prefetches = prefetchesCoefficients();
  auto prefetchUnit = [&](Value unit) {
    for (int64_t slot = 0; slot < 2 * m; ++slot)
      prefetchCoefficientPair(coefficients, h, addc(unit, slot * units));
  };
  if (prefetches)
    prefetchUnit(fusedItem(tid, units).second);
  // Unit 0's branch (two self-mirrored groups) diverges in one warp a
  // tile (fusedItem).
  loop(tid, units * tile, layout.threads, [&](Value item) {
    Value seq, unit;
    std::tie(seq, unit) = fusedItem(item, units);
    if (prefetches) {
      Value next = addc(item, layout.threads);
      when(ult(next, c(units * tile)),
           [&] { prefetchUnit(fusedItem(next, units).second); });
    }
    auto forwardAt = [&](Value start) {
      return fmaTransform(loadDigits(seq, digitChunks(start, m), m),
                          /*inverse=*/false,
                          lastStageTwiddles(/*inverse=*/false, start));
    };
    // y[p] = A[p] x[p] + B[p] conj(x[s(p)]), A and B at slot (d, side)
    // of the unit (fusedCoefficientSlot).
    auto product = [&](int64_t d, int64_t side, Complex x, Complex mirrored) {
      Value slot = addc(unit, (d * 2 + side) * units);
      auto [a, bc] = loadCoefficientPair(coefficients, h, slot);
      return cadd(cmul(a, x), cmul(bc, conj(mirrored)));
    };
    // The stages' scales the product takes back (productScale) ride on
    // the inverse stage's, the transform being linear.
    auto inverseAt = [&](Value start, ArrayRef<Complex> y) {
      storeDigits(
          seq, digitChunks(start, m),
          fmaTransform(y, /*inverse=*/true,
                       lastStageTwiddles(/*inverse=*/true, start, scale),
                       scale));
    };
    Value selfMirrored =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, unit, c(0));
    auto ifOp = scf::IfOp::create(b, loc, TypeRange{}, selfMirrored,
                                  /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    for (int64_t side : {0, 1}) {
      Value start = positionOf(c(side * w / 2));
      SmallVector<Complex> x = forwardAt(start), y;
      for (int64_t d = 0; d < m; ++d)
        y.push_back(
            product(d, side, x[d], x[side == 0 ? (m - d) % m : m - 1 - d]));
      inverseAt(start, y);
    }
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    Value inZeroRow = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                            unit, c(shape.zeroRowPairs));
    Value group = arith::SelectOp::create(b, loc, inZeroRow, unit,
                                          addc(unit, shape.skipped()));
    Value start[2];
    start[0] = mulc(group, m);
    start[1] = positionOf(sub(c(w), frequency(start[0])));
    SmallVector<Complex> x[2] = {forwardAt(start[0]), forwardAt(start[1])};
    // Digit d of one group and m - 1 - d of the other read each other:
    // both products at once, so that the two values die together.
    SmallVector<Complex> y[2] = {SmallVector<Complex>(m),
                                 SmallVector<Complex>(m)};
    for (int64_t d = 0; d < m; ++d) {
      int64_t e = m - 1 - d;
      y[0][d] = product(d, 0, x[0][d], x[1][e]);
      y[1][e] = product(e, 1, x[1][e], x[0][d]);
    }
    inverseAt(start[0], y[0]);
    inverseAt(start[1], y[1]);
  });
  barrier();
}

bool KernelEmitter::prefetchesCoefficients() const {
  // Nsight Compute on 4K causal f16 at Half: the fused pass stalled on its
  // coefficients' loads (long scoreboard 3.65 cycles an issued instruction
  // against 0.55 for the separate passes). Measured with the prefetch one
  // item ahead, two rounds on one H200
  // (bench/results/fused-prefetch-2026-11-29-h200.md): at Half 4K causal
  // 0.462 -> 0.436 ms, 8K 1.130 -> 1.034, 32K 1.47 -> 1.36, 32K gated 1.995
  // -> 1.85, 16K gated 1.49 -> 1.45, bf16 32K 1.53 -> 1.39, 16K causal at
  // par; but Split 4K +1% and 256 (two stages) 0.035 -> 0.036: not there.
  return !layout.isSplit() && layout.factors.size() == 3;
}

std::pair<Value, Value> KernelEmitter::fusedItem(Value item, int64_t units) {
  // Runs of `run` consecutive units of one sequence (a quarter warp's
  // 16-byte loads of 8 neighbouring groups cover the banks once), the
  // tile's sequences in consecutive runs: lanes that share a unit load its
  // coefficients from one address, one L2 request for the whole tile.
  int64_t run = std::min<int64_t>(kFusedUnitRun, units);
  Value runs = divc(item, run * tile);
  Value inRuns = remc(item, run * tile);
  Value seq = tile == 1 ? c(0) : divc(inRuns, run);
  return {seq, add(mulc(runs, run), remc(inRuns, run))};
}

bool KernelEmitter::fusesPointwiseProduct() const {
  // Whenever the stages allow: the planner gives the rows a last stage on
  // the FMA units only where the fused pass was measured faster, at Split
  // (butterfly-plan-gpu-kernels' innerStageFactors).
  size_t stages = layout.factors.size();
  return layout.transformed == stages && !onTensorCores(stages - 1) &&
         !onWarpgroup(stages - 1);
}

void KernelEmitter::emitFusedPointwiseProduct(
    function_ref<SmallVector<Complex>(Value seq, Value start)> coefficientsAt) {
  int64_t m = layout.factors.back();
  int64_t groups = layout.length / m;
  loop(tid, groups * tile, layout.threads, [&](Value item) {
    Value seq, group;
    std::tie(seq, group) = fusedItem(item, groups);
    Value start = mulc(group, m);
    SmallVector<Value> chunks = digitChunks(start, m);
    SmallVector<Complex> x =
        fmaTransform(loadDigits(seq, chunks, m), /*inverse=*/false,
                     lastStageTwiddles(/*inverse=*/false, start));
    SmallVector<Complex> k = coefficientsAt(seq, start);
    for (int64_t d = 0; d < m; ++d)
      x[d] = cmul(x[d], k[d]);
    storeDigits(seq, chunks,
                fmaTransform(x, /*inverse=*/true,
                             lastStageTwiddles(/*inverse=*/true, start)));
  });
  barrier();
}

/// Where the coefficients of position p go for the fused product: slot
/// (2 d + side) units + v, d its last digit, v the unit that takes its
/// group and side 0 for the unit's first group (the one of the lower
/// position in its pair; for unit 0, the group of frequency 0), 1 for the
/// other.
Value KernelEmitter::fusedCoefficientSlot(Value position) {
  FusedUnits shape(layout);
  int64_t m = shape.m, w = shape.w;
  Value digit = remc(position, m);
  Value group = divc(position, m);
  Value f = frequency(mulc(group, m));
  Value partner = divc(positionOf(remc(sub(c(w), f), w)), m);
  auto eq = [&](Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, y);
  };
  Value selfMirrored = eq(group, partner);
  Value first = arith::MinUIOp::create(b, loc, group, partner);
  Value unit = arith::SelectOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, first,
                            c(shape.zeroRowPairs)),
      first, sub(first, c(shape.skipped())));
  Value side = arith::SelectOp::create(b, loc, eq(group, first), c(0), c(1));
  // Unit 0: frequency 0's group on side 0, w / 2's on side 1.
  unit = arith::SelectOp::create(b, loc, selfMirrored, c(0), unit);
  side = arith::SelectOp::create(
      b, loc, selfMirrored,
      arith::SelectOp::create(b, loc, eq(f, c(0)), c(0), c(1)), side);
  return add(mulc(add(mulc(digit, 2), side), shape.units), unit);
}
