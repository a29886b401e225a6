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
/// the bound the items are read again instead. Blocks of 256 threads or
/// more have an SM's registers to few blocks and hold 16; smaller ones run
/// many blocks an SM under a lower register budget. Measured on an H200
/// against reading again (bf16): 16K and 32K gated (512 threads, 16
/// vectors) 1.42x -> 1.14x and 1.33x -> 1.12x the time without the scale;
/// but 4K gated (128 threads, 16 vectors of u x pregate, under an
/// 80-register cap) spilled 792 bytes and took 2.07x instead of 1.26x.
static constexpr int64_t kMaxHeldVectors = 4;
static constexpr int64_t kMaxHeldVectorsLargeBlocks = 16;
static constexpr int64_t kLargeBlockThreads = 256;

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

SmallVector<KernelEmitter::RangeScale> KernelEmitter::blockRangeScales(
    int64_t total, int64_t count,
    llvm::function_ref<SmallVector<Value>(Value item)> gather) {
  // Each thread's maxima over its items, as bits: unrolled where each
  // thread has a whole number of items (their loads in flight together,
  // each item's values dead once counted), else in a loop.
  SmallVector<Value> maxima(count, c(0));
  auto countItem = [&](Value item) {
    for (auto [j, value] : llvm::enumerate(gather(item)))
      maxima[j % count] = arith::MaxUIOp::create(
          b, loc, maxima[j % count], largestMagnitudeBits(*this, value));
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

SmallVector<KernelEmitter::RangeScale> KernelEmitter::gatherScatterInRange(
    int64_t total, int64_t count,
    llvm::function_ref<SmallVector<Value>(Value item)> gather,
    llvm::function_ref<void(Value item, ArrayRef<Value>, ArrayRef<RangeScale>)>
        scatter,
    int64_t heldPerItem) {
  int64_t threads = layout.threads;
  int64_t maxHeld = threads >= kLargeBlockThreads ? kMaxHeldVectorsLargeBlocks
                                                  : kMaxHeldVectors;
  if (total % threads || total / threads * heldPerItem > maxHeld) {
    SmallVector<RangeScale> scales = blockRangeScales(total, count, gather);
    loop(tid, total, threads,
         [&](Value item) { scatter(item, gather(item), scales); });
    return scales;
  }
  // Every item's values held (as gatherScatter holds them): their maxima
  // need no second read.
  SmallVector<Value> items, maxima(count, c(0));
  SmallVector<SmallVector<Value>> gathered;
  for (int64_t j = 0; j < total / threads; ++j) {
    items.push_back(addc(tid, j * threads));
    gathered.push_back(gather(items.back()));
    for (auto [i, value] : llvm::enumerate(gathered.back()))
      maxima[i % count] = arith::MaxUIOp::create(
          b, loc, maxima[i % count], largestMagnitudeBits(*this, value));
  }
  SmallVector<RangeScale> scales = rangeScalesOf(maxima);
  for (auto [item, values] : llvm::zip_equal(items, gathered))
    scatter(item, values, scales);
  return scales;
}

SmallVector<KernelEmitter::RangeScale>
KernelEmitter::rangeScalesOf(ValueRange threadMaxima) {
  int64_t count = threadMaxima.size();
  // The warps' maxima (redux.sync), then the block's, through the first
  // words of the planes.
  int64_t warps = layout.threads / kThreadsPerWarp;
  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  auto bytesType = MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                                   MemRefLayoutAttrInterface(), workgroup);
  Value slots = memref::ViewOp::create(
      b, loc,
      MemRefType::get({count * warps}, b.getI32Type(),
                      MemRefLayoutAttrInterface(), workgroup),
      gpu::DynamicSharedMemoryOp::create(b, loc, bytesType),
      arith::ConstantIndexOp::create(b, loc, 0), ValueRange());
  Value allLanes = c(-1);
  SmallVector<Value> warpMaxima;
  for (Value bits : threadMaxima) {
    warpMaxima.push_back(NVVM::ReduxOp::create(
        b, loc, b.getI32Type(), bits, NVVM::ReduxKind::UMAX, allLanes));
  }
  Value firstLane =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, c(0));
  when(firstLane, [&] {
    for (auto [i, warpMax] : llvm::enumerate(warpMaxima))
      memref::StoreOp::create(b, loc, warpMax, slots,
                              index(addc(warp, int64_t(i) * warps)));
  });
  barrier();
  SmallVector<Value> blockMaxima;
  for (int64_t i = 0; i < count; ++i) {
    Value blockMax = c(0);
    for (int64_t w = 0; w < warps; ++w)
      blockMax = arith::MaxUIOp::create(
          b, loc, blockMax,
          memref::LoadOp::create(b, loc, slots, index(c(i * warps + w))));
    blockMaxima.push_back(blockMax);
  }
  // The loads that follow overwrite the slots.
  barrier();

  // The maximum's biased exponent e (clamped so that both powers are normal
  // f32: 0 for zeros takes the largest scale); the scale is
  // 2^(kTargetExponent - (e - bias)), the unscale its inverse.
  SmallVector<RangeScale> scales;
  for (Value blockMax : blockMaxima) {
    Value exponent = arith::ShRUIOp::create(b, loc, blockMax, c(23));
    exponent = arith::MaxUIOp::create(b, loc, exponent, c(kTargetExponent + 1));
    exponent = arith::MinUIOp::create(b, loc, exponent, c(2 * kExponentBias));
    auto power = [&](Value biased) {
      return arith::BitcastOp::create(
          b, loc, f32, arith::ShLIOp::create(b, loc, biased, c(23)));
    };
    Value scale = power(sub(c(2 * kExponentBias + kTargetExponent), exponent));
    Value unscale = power(sub(exponent, c(kTargetExponent)));
    scales.push_back({scale, unscale});
  }
  return scales;
}
