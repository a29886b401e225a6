//===- WarpgroupStage.cpp - a stage of 64 on the warpgroup MMA --*- C++ -*-===//
//
// On sm_90a the last stage may be a factor of m = 64 over the last digit
// (stride 1), run by wgmma.mma_async: a warpgroup (4 warps) transforms one
// sequence at a time as the real product
//   [Re y; Im y] = [[Fr, -Fi], [Fi, Fr]] [Re x; Im x],
// D (128 x C) = A (128 x 128) B (128 x C), C = M / 64 the stage's columns,
// two instructions of m64nCk16 for each of 8 k-steps: the Re rows of A and
// its Im rows, each a 64-row tile. Both operands are read from shared
// memory in wgmma's K-major layout with the 128-byte swizzle:
//
// - B, the data: column c of the stage (positions 64c .. 64c + 63) is one
//   128-byte line of a plane, which is the planes' own layout where the
//   kernel's swizzle is the hardware's (KernelEmitter::swizzle). K-steps 0-3
//   read the Re plane, 4-7 the Im plane, 16 digits (32 bytes of a line) each.
// - A, the factor: [Fr; Fi], 128 rows of 64 digits (a line each), copied
//   from a constant table of the module into shared memory past the
//   sequences when the kernel starts. Each 64-row tile of the real form is
//   Fr or Fi, negated or not (wgmma's scale-a): the Re outputs take Fr on
//   the Re inputs and -Fi on the Im inputs, the Im outputs Fi and Fr; the
//   inverse, conj(F), negates the other Fi. Half the 32 KiB of the whole
//   real form, which left the blocks fewer an SM.
//
// A thread's accumulators hold the Re and the Im part of the same outputs
// at the same index in the two tiles, so the twiddle is applied in
// registers before the f16 store, as on the mma.sync stages.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

namespace {
/// wgmma's m: the rows of an accumulator tile.
constexpr int64_t kTileRows = 64;
using butterfly::kWarpgroupThreads;
/// The 128-byte swizzle's lines (one row of 64 halves) and atoms (8 lines).
constexpr int64_t kLineBytes = 128;
constexpr int64_t kAtomBytes = 8 * kLineBytes;
/// The digits a k-step reads: 16, 32 bytes of a line.
constexpr int64_t kStepDigits = 16;
} // namespace

Value KernelEmitter::sharedAddress(int64_t offsetBytes, Value offset) {
  Value base = arith::IndexCastUIOp::create(
      b, loc, b.getI64Type(),
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, sharedBytes()));
  Value address = arith::AddIOp::create(
      b, loc, base, arith::ConstantIntOp::create(b, loc, offsetBytes, 64));
  if (offset)
    address = arith::AddIOp::create(
        b, loc, address,
        arith::ExtUIOp::create(b, loc, b.getI64Type(), offset));
  return address;
}

Value KernelEmitter::warpgroupDescriptor(Value address) {
  // Bits 0-13: the start address / 16; 16-29: the leading byte offset / 16
  // (unused by swizzled K-major layouts: 1 by convention); 32-45: the stride
  // byte offset / 16, from one 8-row atom to the next; 62-63: the swizzle
  // (1: 128 bytes). The base offset (bits 49-51) is 0: the atoms are
  // 1024-byte aligned.
  constexpr uint64_t kLeading = 1, kStride = kAtomBytes / 16, kSwizzle = 1;
  uint64_t fixed = (kLeading << 16) | (kStride << 32) | (kSwizzle << 62);
  auto i64 = [&](uint64_t v) {
    return arith::ConstantIntOp::create(b, loc, int64_t(v), 64);
  };
  Value start = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, address, i64(4)), i64(0x3fff));
  return arith::OrIOp::create(b, loc, start, i64(fixed));
}

void KernelEmitter::loadWarpgroupFactor() {
  constexpr int64_t m = butterfly::kWarpgroupFactor;
  constexpr int64_t halves = butterfly::kWarpgroupFactorBytes / 2;
  constexpr int64_t perVector = 8, vectors = halves / perVector;
  // The image, element by element: the row (Fr's 64, then Fi's), then its
  // 64 digits with their 16-byte chunks swizzled by the row.
  auto imageValue = [&](int64_t i) {
    int64_t row = i / m, e = i % m;
    int64_t digit = ((e / 8) ^ (row % 8)) * 8 + e % 8;
    return factorPart(m, /*inverse=*/false, /*part=*/row / m, row % m, digit);
  };
  std::string name = llvm::formatv("warpgroup_factor_{0}_half", m);
  Value table = fragmentTable(
      name, f16, vectors / kThreadsPerWarp, perVector,
      [&](int64_t fragment, int64_t lane, int64_t v) {
        return imageValue((fragment * kThreadsPerWarp + lane) * perVector + v);
      });
  Value image = sharedArray(f16, warpgroupFactorOffset(), halves);
  auto vectorType = VectorType::get({perVector}, f16);
  loop(tid, vectors, layout.threads, [&](Value v) {
    Value at = index(mulc(v, perVector));
    auto load = vector::LoadOp::create(b, loc, vectorType, table, at);
    load.setAlignment(16);
    vector::StoreOp::create(b, loc, load, image, at).setAlignment(16);
  });
}

void KernelEmitter::emitWarpgroupStage(size_t s, bool inverse) {
  constexpr int64_t m = butterfly::kWarpgroupFactor;
  StageShape shape = stage(s);
  assert(shape.size == m && shape.stride == 1 && !layout.isSplit() &&
         layout.threads % kWarpgroupThreads == 0 &&
         "a warpgroup stage is the last digit, at Half precision");
  (void)shape;
  int64_t columns = layout.length / m;
  int64_t values = kTileRows * columns / kWarpgroupThreads;
  MLIRContext *ctx = b.getContext();
  auto accType =
      LLVM::LLVMStructType::getLiteral(ctx, SmallVector<Type>(values, f32));

  // What the stage reads was written by plain stores (the loads, the stage
  // before, the spectral product): each writer fences them for the
  // asynchronous proxy the tensor cores read through, then the barrier.
  NVVM::FenceProxyOp::create(
      b, loc, NVVM::ProxyKindAttr::get(ctx, NVVM::ProxyKind::async_shared),
      NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
  barrier();

  // Tile t (0: the Re outputs, 1: the Im outputs) at k-step j (the Re
  // inputs, then the Im inputs) takes Fr where both are Re or both Im, else
  // Fi; -Fi on the Im inputs of the Re outputs (forward) or on the Re
  // inputs of the Im outputs (inverse). The descriptors, [tile][k-step], are
  // the same for every sequence.
  int64_t steps = 2 * m / kStepDigits, stepsPerBlock = m / kStepDigits;
  auto imInputs = [&](int64_t j) { return j >= stepsPerBlock; };
  auto negated = [&](int64_t t, int64_t j) {
    return inverse ? t == 1 && !imInputs(j) : t == 0 && imInputs(j);
  };
  SmallVector<Value> factorDescriptors;
  for (int64_t t = 0; t < 2; ++t)
    for (int64_t j = 0; j < steps; ++j) {
      int64_t part = (t == 1) != imInputs(j); // 0: Fr, 1: Fi
      factorDescriptors.push_back(warpgroupDescriptor(
          sharedAddress(warpgroupFactorOffset() + part * m * kLineBytes +
                        (j % stepsPerBlock) * kStepDigits * 2)));
    }

  // Accumulator v of a thread: row 16 w + g + 8 ((v / 2) % 2) of its tile,
  // column 8 (v / 4) + 2 t + v % 2 (w the warp in the warpgroup, g = lane /
  // 4, t = lane % 4), as mma.m16n8's accumulators repeated over the columns.
  Value rowBase = add(mulc(remc(warp, 4), 16), divc(lane, 4));
  Value columnBase = mulc(remc(lane, 4), 2);
  SmallVector<Value> positions;
  for (int64_t v = 0; v < values; ++v) {
    Value row = addc(rowBase, 8 * ((v / 2) % 2));
    Value column = addc(columnBase, 8 * (v / 4) + v % 2);
    positions.push_back(add(mulc(column, m), row));
  }
  double scale = stageUnscales(s, inverse) ? factorScale(m) : 1.0;
  Value unscale = scale != 1.0 ? cf(1.0 / scale) : Value();

  auto shapeAttr = NVVM::MMAShapeAttr::get(ctx, kTileRows, columns, 16);
  auto f16Type = NVVM::WGMMATypesAttr::get(ctx, NVVM::WGMMATypes::f16);
  auto f32Type = NVVM::WGMMATypesAttr::get(ctx, NVVM::WGMMATypes::f32);
  auto accumulate = NVVM::WGMMAScaleOutAttr::get(ctx, NVVM::WGMMAScaleOut::one);
  auto scaleIn = [&](bool negate) {
    return NVVM::WGMMAScaleInAttr::get(ctx, negate ? NVVM::WGMMAScaleIn::neg
                                                   : NVVM::WGMMAScaleIn::one);
  };
  // Both K-major: A "row", B "col" (no transpose).
  auto kMajorA = NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::row);
  auto kMajorB = NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::col);

  int64_t warpgroups = layout.threads / kWarpgroupThreads;
  int64_t planeBytes = layout.length * 2;
  loop(divc(warp, 4), tile, warpgroups, [&](Value seq) {
    Value seqOffset = mulc(seq, layout.planes() * planeBytes);
    SmallVector<Value> dataDescriptors;
    for (int64_t j = 0; j < steps; ++j) {
      int64_t plane = j < stepsPerBlock ? 0 : 1; // the Re plane, the Im plane
      dataDescriptors.push_back(warpgroupDescriptor(sharedAddress(
          plane * planeBytes + (j % stepsPerBlock) * kStepDigits * 2,
          seqOffset)));
    }
    NVVM::WgmmaFenceAlignedOp::create(b, loc);
    Value acc[2];
    for (int64_t t = 0; t < 2; ++t)
      acc[t] = LLVM::ZeroOp::create(b, loc, accType);
    for (int64_t j = 0; j < steps; ++j)
      for (int64_t t = 0; t < 2; ++t)
        acc[t] = NVVM::WgmmaMmaAsyncOp::create(
            b, loc, accType, acc[t], factorDescriptors[t * steps + j],
            dataDescriptors[j], shapeAttr, f16Type, f16Type, f32Type,
            accumulate, scaleIn(negated(t, j)), scaleIn(false), kMajorA,
            kMajorB, /*satfinite=*/nullptr);
    NVVM::WgmmaGroupSyncAlignedOp::create(b, loc);
    NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
    // Every warp's share of the products has read the sequence before any
    // warp writes it back in place.
    if (warpgroups == 1)
      barrier();
    else
      NVVM::BarrierOp::create(b, loc, Type(), addc(divc(warp, 4), 1),
                              c(kWarpgroupThreads),
                              /*reductionOp=*/nullptr,
                              /*reductionPredicate=*/Value());
    for (int64_t v = 0; v < values; ++v) {
      Complex y{LLVM::ExtractValueOp::create(b, loc, acc[0], v),
                LLVM::ExtractValueOp::create(b, loc, acc[1], v)};
      std::optional<Complex> w = twiddle(s, inverse, positions[v]);
      if (w && unscale)
        w = cscale(*w, unscale);
      if (w)
        y = cmul(y, *w);
      else if (unscale)
        y = cscale(y, unscale);
      store(seq, swizzle(positions[v]), y);
    }
  });
}
