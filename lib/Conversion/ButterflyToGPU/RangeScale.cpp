//===- RangeScale.cpp - sequences scaled into f16's range -------*- C++ -*-===//
//
// The planes hold f16 (KernelEmitter.h). An input wider than f16 (bf16 or
// f32 data, a gradient, k, f32 sums) can fall below f16's normals or rise
// past its largest value; a block scales what it loads by a power of two
// (exact: no rounding) chosen from its largest magnitude, and scales the
// results back. The transforms and the spectral product are linear in the
// sequence, so the scale passes through them unchanged.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

/// f32's exponent bias and the exponent of the scaled maxima (in [4, 8)).
static constexpr int64_t kExponentBias = 127;
static constexpr int64_t kTargetExponent = 2;
/// Items a thread counts towards its maxima unrolled (blockRangeScales).
static constexpr int64_t kMaxUnrolledMaxima = 64;
/// Vectors (of 8 or fewer f32) a thread holds from the gathers to the
/// scatters while the block's maxima are taken (gatherScatterInRange); past
/// the bound the block stores first and scales after (storeThenScale).
/// Measured on an H200 (bf16, the time over the kernels without a range
/// scale): holding 16 vectors in blocks of 256 threads or more spilled at
/// 8K to 32K gated (212, 152 and 172 bytes) and took 1.12x to 1.20x, where
/// storing first takes 1.07x; holding 4 or fewer costs the three-pass
/// kernels nothing, where storing first, with its pass over shared memory,
/// took up to 5% more (65K and 1M causal).
static constexpr int64_t kMaxHeldVectors = 4;
/// Vectors storeThenScale loads before it stores them (its loads in
/// flight together).
static constexpr int64_t kMaxLoadsInFlight = 8;
/// The f16 values of a 16-byte shared-memory access.
static constexpr int64_t kHalvesPerVector = 8;
/// The block maxima (as f32 bits) within which values stored at scale 1
/// take their scale in place: 2^-3, below which what fell under f16's
/// normals would matter, and 2^15, so that a scatter's rotation (a
/// three-pass twiddle takes a part to at most sqrt(2) times the largest)
/// stays below 65504.
static constexpr int64_t kInPlaceLeastBits = 0x3e000000;
static constexpr int64_t kInPlaceMostBits = 0x47000000;

Value KernelEmitter::scaled(Value x, Value s) {
  if (!s)
    return x;
  if (auto vector = dyn_cast<VectorType>(x.getType()))
    s = vector::BroadcastOp::create(b, loc, vector, s);
  return arith::MulFOp::create(b, loc, x, s);
}

/// The bits of the largest magnitude of `x` (a float or a vector of
/// floats), as an i32: magnitudes are non-negative, so their bits order as
/// unsigned integers do (NaN above infinity). The sign bit masked off, not
/// math.absf, which would lower to a libdevice call.
static Value largestMagnitudeBits(KernelEmitter &e, Value x) {
  Type bitsType = e.b.getI32Type();
  Value mask = e.c(0x7fffffff);
  if (auto vector = dyn_cast<VectorType>(x.getType())) {
    bitsType = VectorType::get(vector.getShape(), bitsType);
    mask = vector::BroadcastOp::create(e.b, e.loc, bitsType, mask);
  }
  Value bits = arith::AndIOp::create(
      e.b, e.loc, arith::BitcastOp::create(e.b, e.loc, bitsType, x), mask);
  if (isa<VectorType>(bitsType))
    bits = vector::ReductionOp::create(e.b, e.loc, vector::CombiningKind::MAXUI,
                                       bits);
  return bits;
}

/// Each value j of `values` counted towards maxima[j % maxima.size()].
static void countMaxima(KernelEmitter &e, MutableArrayRef<Value> maxima,
                        ArrayRef<Value> values) {
  for (auto [j, value] : llvm::enumerate(values)) {
    Value &max = maxima[j % maxima.size()];
    max =
        arith::MaxUIOp::create(e.b, e.loc, max, largestMagnitudeBits(e, value));
  }
}

SmallVector<KernelEmitter::RangeScale>
KernelEmitter::blockRangeScales(int64_t total, int64_t count, GatherFn gather) {
  // Each thread's maxima over its items, as bits: unrolled where each
  // thread has a whole number of items (their loads in flight together,
  // each item's values dead once counted), else in a loop.
  SmallVector<Value> maxima(count, c(0));
  auto countItem = [&](Value item) {
    countMaxima(*this, maxima, gather(item));
  };
  int64_t threads = layout.threads;
  if (total % threads == 0 && total / threads <= kMaxUnrolledMaxima) {
    for (int64_t j = 0; j < total / threads; ++j)
      countItem(addc(tid, j * threads));
    return rangeScalesOf(maxima);
  }
  auto forOp = scf::ForOp::create(b, loc, tid, c(total), c(threads), maxima);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    maxima.assign(forOp.getRegionIterArgs().begin(),
                  forOp.getRegionIterArgs().end());
    countItem(forOp.getInductionVar());
    scf::YieldOp::create(b, loc, maxima);
  }
  return rangeScalesOf(forOp.getResults());
}

KernelEmitter::RangeScale
KernelEmitter::storeInRange(Value seq, int64_t count,
                            llvm::function_ref<Complex(Value j)> value,
                            llvm::function_ref<Value(Value j)> offset) {
  auto pairType = VectorType::get({2}, f32);
  auto gather = [&](Value j) -> SmallVector<Value> {
    Complex z = value(j);
    return {vector::FromElementsOp::create(b, loc, pairType,
                                           ValueRange{z.re, z.im})};
  };
  RangeScale range = blockRangeScales(count, 1, gather).front();
  loop(tid, count, layout.threads, [&](Value j) {
    Value z = scaled(gather(j).front(), range.scale);
    auto part = [&](int64_t i) -> Value {
      return vector::ExtractOp::create(b, loc, z, ArrayRef<int64_t>{i});
    };
    store(seq, offset(j), {part(0), part(1)});
  });
  return range;
}

SmallVector<KernelEmitter::RangeScale>
KernelEmitter::gatherScatterInRange(int64_t total, ArrayRef<SequenceSpan> spans,
                                    GatherFn gather, ScatterInRangeFn scatter,
                                    int64_t heldPerItem, ItemFn consume) {
  int64_t threads = layout.threads;
  int64_t count = spans.size();
  if (total % threads || total / threads * heldPerItem > kMaxHeldVectors)
    return storeThenScale(total, spans, gather, scatter, consume);
  // Every item's values held (as gatherScatter holds them): their maxima
  // need no second read.
  SmallVector<Value> items, maxima(count, c(0));
  SmallVector<SmallVector<Value>> gathered;
  for (int64_t j = 0; j < total / threads; ++j) {
    items.push_back(addc(tid, j * threads));
    gathered.push_back(gather(items.back()));
    countMaxima(*this, maxima, gathered.back());
  }
  SmallVector<RangeScale> scales = rangeScalesOf(maxima);
  for (auto [item, values] : llvm::zip_equal(items, gathered)) {
    scatter(item, values, scales);
    if (consume)
      consume(item, values);
  }
  return scales;
}

SmallVector<KernelEmitter::RangeScale>
KernelEmitter::storeThenScale(int64_t total, ArrayRef<SequenceSpan> spans,
                              GatherFn gather, ScatterInRangeFn scatter,
                              ItemFn consume) {
  int64_t threads = layout.threads;
  int64_t count = spans.size();
  int64_t spanVectors = layout.planes() * layout.length / kHalvesPerVector;
  // Thread t's slot is in vector t of the planes, which must lie in the
  // first scale's sequences; else the items are read twice.
  if (spans.front().first != 0 || spans.front().count * spanVectors < threads) {
    SmallVector<RangeScale> scales = blockRangeScales(total, count, gather);
    loop(tid, total, threads, [&](Value item) {
      SmallVector<Value> values = gather(item);
      scatter(item, values, scales);
      if (consume)
        consume(item, values);
    });
    return scales;
  }

  // The values stored as loaded (scale 1), each thread's maxima counted on
  // the way.
  SmallVector<RangeScale> unscaled(count);
  SmallVector<Value> maxima(count, c(0));
  auto storeItem = [&](Value item, ArrayRef<Value> values) {
    countMaxima(*this, maxima, values);
    scatter(item, values, unscaled);
    if (consume)
      consume(item, values);
  };
  if (total % threads == 0 && total / threads <= kMaxUnrolledItems) {
    // Unrolled, up to kMaxLoadsInFlight vectors' loads in flight together.
    SmallVector<Value> items;
    SmallVector<SmallVector<Value>> gathered;
    int64_t inFlight = 0;
    auto storeGathered = [&] {
      for (auto [item, values] : llvm::zip_equal(items, gathered))
        storeItem(item, values);
      items.clear();
      gathered.clear();
      inFlight = 0;
    };
    for (int64_t j = 0; j < total / threads; ++j) {
      items.push_back(addc(tid, j * threads));
      gathered.push_back(gather(items.back()));
      inFlight += gathered.back().size();
      if (inFlight >= kMaxLoadsInFlight)
        storeGathered();
    }
    storeGathered();
  } else {
    auto forOp = scf::ForOp::create(b, loc, tid, c(total), c(threads), maxima);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    maxima.assign(forOp.getRegionIterArgs().begin(),
                  forOp.getRegionIterArgs().end());
    Value item = forOp.getInductionVar();
    storeItem(item, gather(item));
    scf::YieldOp::create(b, loc, maxima);
    b.setInsertionPointAfter(forOp);
    maxima.assign(forOp.getResults().begin(), forOp.getResults().end());
  }
  barrier();
  Value saved;
  SmallVector<Value> blockMax = blockMaxima(maxima, &saved);
  SmallVector<RangeScale> scales;
  for (Value max : blockMax)
    scales.push_back(rangeScaleOf(max));

  // Stored at scale 1, a block whose maxima are all within the bounds
  // (none overflowed; what fell below f16's normals is below 2^-25 of
  // them, where the scale would keep 2^-27) takes its scales in place: a
  // power of two times an f16 is exact where it stays normal. A block of
  // zeros keeps them. Any other reads its items again: data far from 1, as
  // the gradients of a mean loss.
  Value inPlace, one = cf(1.0);
  SmallVector<Value> factors;
  for (auto [max, range] : llvm::zip_equal(blockMax, scales)) {
    Value zero =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, max, c(0));
    Value inWindow = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, max,
                              c(kInPlaceLeastBits)),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, max,
                              c(kInPlaceMostBits)));
    Value holds = arith::OrIOp::create(b, loc, zero, inWindow);
    inPlace = inPlace ? arith::AndIOp::create(b, loc, inPlace, holds) : holds;
    factors.push_back(
        arith::SelectOp::create(b, loc, inWindow, range.scale, one));
  }
  auto ifOp = scf::IfOp::create(b, loc, inPlace, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    for (int64_t i = 0; i < count; ++i) {
      int64_t first = spans[i].first * spanVectors;
      int64_t last = (spans[i].first + spans[i].count) * spanVectors;
      scaleVectors(first, last, factors[i], i == 0 ? saved : Value());
    }
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    loop(tid, total, threads,
         [&](Value item) { scatter(item, gather(item), scales); });
  }
  return scales;
}

void KernelEmitter::scaleVectors(int64_t first, int64_t last, Value factor,
                                 Value saved) {
  int64_t threads = layout.threads;
  auto halfType = VectorType::get({kHalvesPerVector}, f16);
  Value one = cf(1.0);
  Value needsPass =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE, factor, one);
  auto at = [&](Value vector) {
    return index(mulc(addc(vector, first), kHalvesPerVector));
  };
  auto store = [&](Value vector, Value x) {
    vector::StoreOp::create(b, loc, x, smem, at(vector)).setAlignment(16);
  };
  // Thread t's vector t, which its slot overwrote, back as kept.
  if (saved) {
    Value notScaled =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, factor, one);
    when(notScaled, [&] { store(tid, saved); });
  }
  when(needsPass, [&] {
    Value half = vector::BroadcastOp::create(
        b, loc, halfType, arith::TruncFOp::create(b, loc, f16, factor));
    auto scaledAt = [&](Value vector) -> Value {
      auto load = vector::LoadOp::create(b, loc, halfType, smem, at(vector));
      load.setAlignment(16);
      return arith::MulFOp::create(b, loc, load, half);
    };
    int64_t vectors = last - first;
    if (vectors % threads == 0 && vectors / threads <= kMaxUnrolledItems) {
      // Unrolled, a batch's loads first (as gatherScatter).
      int64_t perThread = vectors / threads;
      for (int64_t batch = 0; batch < perThread; batch += kMaxLoadsInFlight) {
        SmallVector<Value> items, values;
        for (int64_t j = batch;
             j < std::min(batch + kMaxLoadsInFlight, perThread); ++j) {
          items.push_back(addc(tid, j * threads));
          values.push_back(j == 0 && saved
                               ? arith::MulFOp::create(b, loc, saved, half)
                               : scaledAt(items.back()));
        }
        for (auto [item, x] : llvm::zip_equal(items, values))
          store(item, x);
      }
      return;
    }
    Value start = tid;
    if (saved) {
      store(tid, arith::MulFOp::create(b, loc, saved, half));
      start = addc(tid, threads);
    }
    loop(start, vectors, threads,
         [&](Value vector) { store(vector, scaledAt(vector)); });
  });
}

SmallVector<KernelEmitter::RangeScale>
KernelEmitter::rangeScalesOf(ValueRange threadMaxima) {
  SmallVector<RangeScale> scales;
  for (Value max : blockMaxima(threadMaxima, /*saved=*/nullptr))
    scales.push_back(rangeScaleOf(max));
  return scales;
}

SmallVector<Value> KernelEmitter::blockMaxima(ValueRange threadMaxima,
                                              Value *saved) {
  int64_t count = threadMaxima.size();
  // The warps' maxima (redux.sync), then the block's, through the first
  // words of the planes: slot i * warps + w holds warp w's maximum i; with
  // `saved`, the first word of the vector of lane i of warp w, which every
  // thread first keeps.
  int64_t warps = layout.threads / kThreadsPerWarp;
  int64_t words = saved ? layout.threads * kHalvesPerVector / 2 : count * warps;
  Value slots = sharedArray(b.getI32Type(), 0, words);
  auto slot = [&](int64_t i, Value w) -> Value {
    if (!saved)
      return addc(w, i * warps);
    return mulc(addc(mulc(w, kThreadsPerWarp), i), kHalvesPerVector / 2);
  };
  if (saved) {
    auto load =
        vector::LoadOp::create(b, loc, VectorType::get({kHalvesPerVector}, f16),
                               smem, index(mulc(tid, kHalvesPerVector)));
    load.setAlignment(16);
    *saved = load;
  }
  Value allLanes = c(-1);
  SmallVector<Value> warpMaxima;
  for (Value bits : threadMaxima) {
    warpMaxima.push_back(NVVM::ReduxOp::create(
        b, loc, b.getI32Type(), bits, NVVM::ReduxKind::UMAX, allLanes));
  }
  if (saved) {
    // Lane i writes maximum i, into the vector it kept.
    for (int64_t i = 0; i < count; ++i) {
      Value own =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, c(i));
      when(own, [&] {
        memref::StoreOp::create(b, loc, warpMaxima[i], slots,
                                index(slot(i, warp)));
      });
    }
  } else {
    Value firstLane =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, c(0));
    when(firstLane, [&] {
      for (auto [i, warpMax] : llvm::enumerate(warpMaxima))
        memref::StoreOp::create(b, loc, warpMax, slots, index(slot(i, warp)));
    });
  }
  barrier();
  SmallVector<Value> blockMaxima;
  for (int64_t i = 0; i < count; ++i) {
    Value blockMax = c(0);
    for (int64_t w = 0; w < warps; ++w)
      blockMax = arith::MaxUIOp::create(
          b, loc, blockMax,
          memref::LoadOp::create(b, loc, slots, index(slot(i, c(w)))));
    blockMaxima.push_back(blockMax);
  }
  // The stores that follow overwrite the slots.
  barrier();
  return blockMaxima;
}

KernelEmitter::RangeScale KernelEmitter::rangeScaleOf(Value blockMax) {
  // The maximum's biased exponent e (clamped so that both powers are normal
  // f32: 0 for zeros takes the largest scale); the scale is
  // 2^(kTargetExponent - (e - bias)), the unscale its inverse.
  Value exponent = arith::ShRUIOp::create(b, loc, blockMax, c(23));
  exponent = arith::MaxUIOp::create(b, loc, exponent, c(kTargetExponent + 1));
  exponent = arith::MinUIOp::create(b, loc, exponent, c(2 * kExponentBias));
  auto power = [&](Value biased) {
    return arith::BitcastOp::create(
        b, loc, f32, arith::ShLIOp::create(b, loc, biased, c(23)));
  };
  Value scale = power(sub(c(2 * kExponentBias + kTargetExponent), exponent));
  Value unscale = power(sub(exponent, c(kTargetExponent)));
  return {scale, unscale};
}
