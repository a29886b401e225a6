//===- ConvKernel.cpp - tensor-core FFT convolution kernels -----*- C++ -*-===//
//
// The single-kernel form: block b of a one-dimensional grid owns channel
// h = b / G and the batch elements (b mod G) * T .. + T - 1 (T the batch
// tile, G the batch groups); each sequence stays
// in shared memory (KernelEmitter.h) through the forward stages of the
// half-length complex transform, the spectral product of
// butterfly.hermitian_mul and the inverse stages.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Conversion/ButterflyToGPU/ConvKernel.h"

#include "ConvRegions.h"
#include "KernelEmitter.h"

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

/// The layout of one sequence of the single-kernel form: every factor is a
/// stage.
static SequenceLayout layoutOf(const ConvKernelPlan &plan) {
  return {plan.complexLength, plan.factors, plan.factors.size(), plan.threads,
          plan.precision};
}

/// The convolution kernel's layout: its input is zero past the real
/// samples read and only the real outputs kept are read back (a causal
/// convolution's padding and discarded half), as complex pairs; a band
/// leaves most of the spectrum zero.
static SequenceLayout convLayoutOf(const ConvKernelPlan &plan) {
  SequenceLayout layout = layoutOf(plan);
  layout.inputExtent = llvm::divideCeil(plan.inputLength, 2);
  layout.neededOutputs = llvm::divideCeil(plan.outputLength, 2);
  layout.productUnscales = true;
  layout.halfData = !plan.scalesRange;
  layout.bandDigits = butterfly::bandDigitsOf(
      plan.spectralBand, plan.factors.back(), plan.complexLength);
  layout.directOutput = plan.directOutput;
  return layout;
}

/// Whether the convolution kernel runs its last stages and the spectral
/// product together (KernelEmitter::fusesSpectralProduct): its spectrum
/// kernel then stores the coefficients in the order that pass reads.
static bool fusesSpectralProduct(OpBuilder &builder, Location loc,
                                 const ConvKernelPlan &plan) {
  return KernelEmitter(builder, loc, convLayoutOf(plan), plan.batchTile)
      .fusesSpectralProduct();
}

namespace {

/// The convolution kernel of the single-kernel form: a block owns channel
/// h and the batch elements from `firstBatch` on.
class ConvKernelBuilder : public KernelScope, public KernelEmitter {
public:
  ConvKernelBuilder(OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
                    llvm::StringRef name, TypeRange argTypes,
                    const ConvKernelPlan &plan, LoadInputFn loadInput,
                    StoreOutputFn storeOutput)
      : KernelScope(builder, loc, module, name, argTypes, plan.threads),
        KernelEmitter(builder, loc, convLayoutOf(plan), plan.batchTile),
        plan(plan), loadInput(loadInput), storeOutput(storeOutput) {
    begin();
    // A channel's batch groups are consecutive blocks, which run together
    // and share its spectrum's reads in L2. With the channel fastest, each
    // group read the whole spectrum from DRAM again once it exceeded L2 (at
    // 32K: 192 MiB, read 8 times; Nsight Compute put 30% of the kernel's
    // stalls on those loads).
    Value block = blockId(gpu::Dimension::x);
    h = divc(block, plan.gridY());
    firstBatch = mulc(remc(block, plan.gridY()), plan.batchTile);
  }

  /// v = prologue(u, gates) into shared memory as 4 complex values per
  /// thread step; the zero padding is written to shared memory only.
  /// With `scalesRange`, scaled by the block's range scale.
  void loadInputs() {
    int64_t items = plan.batchTile * inputChunks();
    auto gather = [&](Value item) -> SmallVector<Value> {
      return {gatherInput(item)};
    };
    if (plan.scalesRange)
      range =
          gatherScatterInRange(
              items, {{0, plan.batchTile}}, gather,
              [&](Value item, ArrayRef<Value> v, ArrayRef<RangeScale> scales) {
                scatterInput(item, scaled(v[0], scales[0].scale));
              })
              .front();
    else
      gatherScatter(items, gather, [&](Value item, ArrayRef<Value> v) {
        scatterInput(item, v[0]);
      });
    barrier();
  }
  /// The real outputs of consecutive complex results from `position` on
  /// through the epilogue, for a direct output (a lane's accumulator pair:
  /// butterfly::kDirectOutputValues outputs).
  void storeDirect(Value seq, Value position, ArrayRef<Complex> y) {
    Value batch = add(firstBatch, seq);
    Value t = mulc(position, 2);
    Value inside = rowGuard(batch, t, plan.outputLength);
    SmallVector<Value> reals;
    for (const Complex &value : y)
      reals.append({value.re, value.im});
    Value values = scaled(
        vector::FromElementsOp::create(
            b, loc, VectorType::get({int64_t(reals.size())}, f32), reals),
        range.unscale);
    auto store = [&] {
      storeOutput(b, loc, args(), index(batch), index(h), index(t), values,
                  Value());
    };
    if (inside)
      when(inside, store);
    else
      store();
  }

  /// The L outputs kept, 8 at a time, through the epilogue.
  void storeOutputs() {
    storeRealOutputs(plan.outputLength, range.unscale,
                     [&](Value seq, Value t, Value y, Value mask) {
                       Value batch = add(firstBatch, seq);
                       auto store = [&] {
                         storeOutput(b, loc, args(), index(batch), index(h),
                                     index(t), y, mask);
                       };
                       if (Value inside = batchGuard(batch))
                         when(inside, store);
                       else
                         store();
                     });
  }

  Value h, firstBatch;

private:
  int64_t inputChunks() const { return plan.complexLength / 4; }
  /// Rows whose length is not a multiple of 8 are read and written through
  /// masks (the last chunk partial, every access element-aligned).
  bool unaligned(int64_t length) const { return length % 8 != 0; }

  /// Guards only where the shapes need them: a last block past the batch.
  Value batchGuard(Value batch) {
    bool partialTile = plan.batch % plan.batchTile != 0;
    return partialTile ? ult(batch, c(plan.batch)) : Value();
  }
  /// batchGuard, and element t below `length` where the row is shorter
  /// than the transform (causal zero padding, discarded outputs).
  Value rowGuard(Value batch, Value t, int64_t length) {
    Value inside = batchGuard(batch);
    if (length >= 2 * plan.complexLength)
      return inside;
    Value inRow = ult(t, c(length));
    return inside ? arith::AndIOp::create(b, loc, inside, inRow) : inRow;
  }

  /// The 8 real inputs of item `item`, zero past the batch or the input
  /// (causal zero padding).
  Value gatherInput(Value item) {
    int64_t chunks = inputChunks();
    Value seq = divc(item, chunks);
    Value t = mulc(remc(item, chunks), 8);
    Value batch = add(firstBatch, seq);
    Value inside = rowGuard(batch, t, plan.inputLength);
    auto eight = VectorType::get({8}, f32);
    Value mask = unaligned(plan.inputLength)
                     ? lanesBelow(b, loc, t, plan.inputLength)
                     : Value();
    return loadOrZero(inside, eight, [&] {
      return loadInput(b, loc, args(), index(batch), index(h), index(t), mask);
    });
  }
  /// v as 4 complex values (even elements real, odd imaginary).
  void scatterInput(Value item, Value v) {
    int64_t chunks = inputChunks();
    Value seq = divc(item, chunks);
    Value re =
        vector::ShuffleOp::create(b, loc, v, v, ArrayRef<int64_t>{0, 2, 4, 6});
    Value im =
        vector::ShuffleOp::create(b, loc, v, v, ArrayRef<int64_t>{1, 3, 5, 7});
    Value position = swizzle(mulc(remc(item, chunks), 4));
    storePart(seq, ReHigh, position, re);
    storePart(seq, ImHigh, position, im);
  }
  const ConvKernelPlan &plan;
  RangeScale range; // null where the inputs are f16
  LoadInputFn loadInput;
  StoreOutputFn storeOutput;
};

} // namespace

gpu::GPUFuncOp mlir::fftconv::buildConvKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, TypeRange argTypes, unsigned coefficientArg,
    const ConvKernelPlan &plan, LoadInputFn loadInput,
    StoreOutputFn storeOutput) {
  ConvKernelBuilder e(builder, loc, module, name, argTypes, plan, loadInput,
                      storeOutput);
  e.loadInputs();
  bool fused = fusesSpectralProduct(builder, loc, plan);
  e.emitForward(/*skipLast=*/fused);
  if (fused)
    e.emitFusedSpectralProduct(e.args()[coefficientArg], e.h);
  else
    e.emitSpectralProduct(e.args()[coefficientArg], e.h);
  if (e.lastStageWritesOutputs()) {
    e.emitInverse(/*skipLast=*/fused, [&](Value seq, Value position,
                                          ArrayRef<KernelEmitter::Complex> y) {
      e.storeDirect(seq, position, y);
    });
  } else {
    e.emitInverse(/*skipLast=*/fused);
    e.storeOutputs();
  }
  return e.finish();
}

gpu::GPUFuncOp mlir::fftconv::buildSpectrumKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, const KernelTaps &taps, const ConvKernelPlan &plan,
    bool conjugate, int64_t band, CoefficientReader reader) {
  Type f32 = builder.getF32Type();
  int64_t m = plan.complexLength;
  SmallVector<Type> argTypes = {
      MemRefType::get({plan.channels, taps.length}, f32)};
  if (taps.hasReverse())
    argTypes.push_back(
        MemRefType::get({plan.channels, taps.reverseLength}, f32));
  argTypes.push_back(MemRefType::get({plan.channels, 2, 2 * m}, f32));
  KernelScope kernel(builder, loc, module, name, argTypes, plan.threads);
  ValueRange kernels = kernel.args().take_front(taps.count());
  Value k = kernels[0], coefficients = kernel.args()[taps.count()];
  int64_t kernelLength = taps.length;

  // Split precision whatever the convolution's: K is computed once, and an
  // f16 rounding per stage here would add to every output's error. A
  // warpgroup stage of 64 (Half precision only) runs here as two of 8, and
  // the coefficients go where the convolution's stages leave each frequency.
  SequenceLayout layout = layoutOf(plan);
  layout.precision = GPUPrecision::Split;
  if (butterfly::hasWarpgroupStage(plan.factors)) {
    layout.factors.pop_back();
    layout.factors.append({8, 8});
    layout.transformed = layout.factors.size();
  }
  // k's taps (filtered or not) are zero past K, so the first stage skips
  // the slabs past them; a reverse kernel's and a circulated copy's taps
  // end the row instead.
  if (!taps.hasReverse() && !taps.circulant)
    layout.inputExtent = llvm::divideCeil(taps.length, 2);
  KernelEmitter e(builder, loc, layout, /*tile=*/1);
  bool fused = reader == CoefficientReader::ConvKernel &&
               fusesSpectralProduct(builder, loc, plan);
  e.begin();
  Value h = e.blockId(gpu::Dimension::x);
  Value seq = e.c(0);

  // z[j] = k[2j] + i k[2j+1], zero past the kernel's length.
  auto tap = [&](Value t) -> Value {
    if (!taps.filters.empty() || taps.hasReverse())
      return detail::emitKernelTap(builder, loc, kernels, taps, e.index(h),
                                   e.index(t));
    return e.loadOrZero(e.ult(t, e.c(kernelLength)), f32, [&] {
      return memref::LoadOp::create(builder, loc, k,
                                    ValueRange{e.index(h), e.index(t)});
    });
  };
  // k is f32, and its taps fall as the kernel grows (N(0, 1/K) in the
  // tests: about 5e-4 at 4M taps, where f16's low halves are subnormal).
  KernelEmitter::RangeScale range = e.storeInRange(
      seq, m,
      [&](Value j) -> KernelEmitter::Complex {
        Value t = e.mulc(j, 2);
        return {tap(t), tap(e.addc(t, 1))};
      },
      [&](Value j) { return e.swizzle(j); });
  e.barrier();
  e.emitForward();

  // The coefficients of butterfly.conv_spectrum from Z = DFT_M(z): the
  // stages left Z / sqrt(M) at Monarch positions, of k scaled.
  Value unscale = e.fmul(e.cf(std::sqrt(double(m))), range.unscale);
  e.loop(e.tid, m, plan.threads, [&](Value p) {
    using Complex = KernelEmitter::Complex;
    Value f = e.frequency(p);
    Value q = e.mirror(f);
    Complex zf = e.cscale(e.load(seq, e.swizzle(p)), unscale);
    Complex zm = e.cscale(e.load(seq, e.swizzle(q)), unscale);
    // theta = pi f / M; w^f = exp(-i theta) with w = exp(-2 pi i / 2M).
    Value theta = e.fmul(arith::SIToFPOp::create(builder, loc, f32, f),
                         e.cf(M_PI / double(m)));
    Value cs = e.approx("cos", theta), sn = e.approx("sin", theta);
    Value halfC = e.cf(0.5);
    Value oneMinus = e.fmul(e.fsub(e.cf(1.0), sn), halfC);
    Value onePlus = e.fmul(e.fadd(e.cf(1.0), sn), halfC);
    Value csHalf = e.fmul(cs, halfC);
    Value negCsHalf = arith::NegFOp::create(builder, loc, csHalf);
    // a_f = (1 - i w^f)/2, b_f = (1 + i w^f)/2; w^(M-f) = -conj(w^f).
    Complex af{oneMinus, negCsHalf}, bf{onePlus, csHalf};
    Complex am{oneMinus, csHalf}, bm{onePlus, negCsHalf};
    // c1 = (1 + i w^-f)/2, c2 = (1 - i w^-f)/2.
    Complex c1{oneMinus, csHalf}, c2{onePlus, negCsHalf};
    Complex kf = e.cadd(e.cmul(af, zf), e.cmul(bf, e.conj(zm)));
    Complex km = e.cadd(e.cmul(am, zm), e.cmul(bm, e.conj(zf)));
    // kf and km are kk's spectrum at bins f and M - f.
    if (band) {
      Value zero = e.cf(0.0);
      auto keepBelowBand = [&](Complex x, Value bin) -> Complex {
        Value inside = e.ult(bin, e.c(band));
        return {arith::SelectOp::create(builder, loc, inside, x.re, zero),
                arith::SelectOp::create(builder, loc, inside, x.im, zero)};
      };
      kf = keepBelowBand(kf, f);
      km = keepBelowBand(km, e.sub(e.c(m), f));
    }
    // A correlation multiplies by the conjugate spectrum.
    if (conjugate) {
      kf = e.conj(kf);
      km = e.conj(km);
    }
    // Bins 0 and M count by their real parts only.
    Value dc = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::eq, f,
                                     e.c(0));
    Value zero = e.cf(0.0);
    kf.im = arith::SelectOp::create(builder, loc, dc, zero, kf.im);
    km.im = arith::SelectOp::create(builder, loc, dc, zero, km.im);
    Complex mirrored = e.conj(km);
    Complex a = e.cadd(e.cmul(e.cmul(c1, kf), af),
                       e.cmul(e.cmul(c2, mirrored), e.conj(bm)));
    Complex bcoef = e.cadd(e.cmul(e.cmul(c1, kf), bf),
                           e.cmul(e.cmul(c2, mirrored), e.conj(am)));
    Value at =
        layout.factors == plan.factors ? p : e.positionIn(plan.factors, f);
    // In the order of the units of the fused product, where the
    // convolution kernel runs one (its stages, then, are these).
    if (fused) {
      e.storeCoefficientPair(coefficients, h, e.fusedCoefficientSlot(at), a,
                             bcoef);
    } else {
      e.storeCoefficient(coefficients, h, 0, at, a);
      e.storeCoefficient(coefficients, h, 1, at, bcoef);
    }
  });
  return kernel.finish();
}
