//===- GradientKernels.cpp - a backward's kernel gradient -------*- C++ -*-===//
//
// The cross-spectrum and channel-inverse kernels of GradientKernels.h, built
// from the same emitter (shared-memory planes, Monarch stages, twiddles) as
// the convolution kernels.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Conversion/ButterflyToGPU/GradientKernels.h"

#include "KernelEmitter.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>
#include <functional>

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

namespace {

using Complex = KernelEmitter::Complex;

/// The layout of one sequence: every factor is a stage.
SequenceLayout layoutOf(const ConvKernelPlan &plan, GPUPrecision precision) {
  return {plan.complexLength, plan.factors, plan.factors.size(), plan.threads,
          precision};
}

/// The cross spectrum's layout: v and g are zero past their real samples
/// (a causal backward's padding, half of each sequence), so the first
/// stage skips the tiles of zeros as a convolution's does (H200, the kernel
/// alone: 16K causal 2.18 -> 2.03 ms, 4K causal 0.87 -> 0.83).
SequenceLayout crossSpectrumLayoutOf(const CrossSpectrumPlan &plan) {
  SequenceLayout layout = layoutOf(plan.transform, plan.transform.precision);
  layout.inputExtent =
      llvm::divideCeil(std::max(plan.lengthV, plan.lengthG), 2);
  return layout;
}

/// The layout of the convolutions the cross spectrum runs from its
/// spectra: the cross spectrum's stages, with the inverse's last stage
/// skipping the outputs none keeps (a causal convolution's discarded half).
SequenceLayout heldLayoutOf(const CrossSpectrumPlan &plan,
                            int64_t outputLength) {
  SequenceLayout layout = crossSpectrumLayoutOf(plan);
  layout.neededOutputs = llvm::divideCeil(outputLength, 2);
  layout.halfData = !plan.transform.scalesRange;
  return layout;
}

/// The real spectrum X of a sequence of N = 2M reals at frequencies f and
/// f + M, from its half-length complex spectrum Z at f (zp) and at M - f
/// (zq), and w = W_N^f: X = E +- w O with E = (Z[f] + conj(Z[M-f])) / 2 the
/// even samples' spectrum and O = (Z[f] - conj(Z[M-f])) / 2i the odd ones'.
struct RealBins {
  Complex low, high; // X[f], X[f + M]
};
RealBins realSpectrum(KernelEmitter &e, Complex zp, Complex zq, Complex w) {
  Value half = e.cf(0.5);
  Complex even{e.fmul(e.fadd(zp.re, zq.re), half),
               e.fmul(e.fsub(zp.im, zq.im), half)};
  Complex odd{e.fmul(e.fadd(zp.im, zq.im), half),
              e.fmul(e.fsub(zq.re, zp.re), half)};
  Complex twisted = e.cmul(w, odd);
  return {e.cadd(even, twisted),
          {e.fsub(even.re, twisted.re), e.fsub(even.im, twisted.im)}};
}

/// The kernel that sums conj(V) G over a group of batch tiles.
class CrossSpectrumBuilder : public KernelScope, public KernelEmitter {
public:
  CrossSpectrumBuilder(OpBuilder &builder, Location loc,
                       gpu::GPUModuleOp module, llvm::StringRef name,
                       TypeRange argTypes, const CrossSpectrumPlan &plan,
                       std::optional<HeldConvolution> ofV,
                       std::optional<HeldConvolution> ofG)
      : KernelScope(builder, loc, module, name, argTypes,
                    plan.transform.threads),
        KernelEmitter(builder, loc, crossSpectrumLayoutOf(plan),
                      plan.sequences()),
        plan(plan), ofV(std::move(ofV)), ofG(std::move(ofG)) {
    begin();
    h = blockId(gpu::Dimension::x);
    if (plan.clustered()) {
      setClusterBlocks(plan.cluster);
      rank = remc(h, plan.cluster);
      h = divc(h, plan.cluster);
    }
    group = blockId(gpu::Dimension::y);
  }

  /// Per tile of the block's group: v into sequences 0 .. T-1, g into
  /// T .. 2T-1, the forward stages, and the tile's terms added to the
  /// group's partial spectrum.
  void emitBody(Value workspace, LoadInputFn loadV, LoadInputFn loadG) {
    if (plan.clustered())
      return emitClusteredBody(workspace, loadV, loadG);
    int64_t batchTile = plan.transform.batchTile;
    int64_t bins = plan.transform.complexLength + 1;
    if (plan.sharedAccumulator) {
      // After the sequences' planes; zeroed before the first tile's loads
      // (their barrier orders it before any thread adds).
      accumulator = sharedArray(f32, plan.sequenceBytes(), 2 * bins);
      loop(tid, 2 * bins, layout.threads, [&](Value i) {
        memref::StoreOp::create(b, loc, cf(0.0), accumulator, index(i));
      });
    }
    if (!plan.sharedAccumulator) {
      // Each tile adds to the row in the workspace: zeroed first, so that
      // the adds load unconditionally (a load under a branch on the tile
      // waits; an unconditional one is issued early).
      loop(tid, 2 * bins, layout.threads, [&](Value i) {
        memref::StoreOp::create(b, loc, cf(0.0), workspace,
                                ValueRange{index(group), index(h), index(i)});
      });
    }
    if (plan.lagZero) {
      // One running sum a thread, each its own.
      lagSums = sharedArray(
          f32,
          plan.sequenceBytes() +
              (plan.sharedAccumulator ? plan.accumulatorBytes() : 0),
          layout.threads);
      memref::StoreOp::create(b, loc, cf(0.0), lagSums, index(tid));
    }
    loop(group, plan.tiles(), plan.groups, [&](Value tileIndex) {
      Value firstBatch = mulc(tileIndex, batchTile);
      SmallVector<RangeScale> scales = loadSequences(
          firstBatch, {{loadV, plan.lengthV}, {loadG, plan.lengthG}},
          plan.lagZero ? ItemFn([&](Value, ArrayRef<Value> values) {
            addLagZero(values[0], values[1]);
          })
                       : ItemFn());
      rangeV = scales[0];
      rangeG = scales[1];
      barrier();
      emitForward();
      accumulate(workspace);
      if (ofV || ofG) {
        // The products overwrite the spectra the terms read.
        barrier();
        SmallVector<const HeldConvolution *, 2> sides;
        SmallVector<Value, 2> unscales;
        for (auto [convolution, range] :
             {std::pair(&ofV, rangeV), std::pair(&ofG, rangeG)})
          if (*convolution) {
            sides.push_back(&**convolution);
            unscales.push_back(range.unscale);
          }
        convolveHeld(firstBatch, sides, ofV ? 0 : batchTile,
                     [&](size_t side) { return unscales[side]; });
      }
      // The next tile overwrites the sequences this one's terms read.
      barrier();
    });
    if (plan.sharedAccumulator)
      loop(tid, 2 * bins, layout.threads, [&](Value i) {
        Value slot = add(mulc(accumulatorSlot(divc(i, 2)), 2), remc(i, 2));
        Value x = memref::LoadOp::create(b, loc, accumulator, index(slot));
        memref::StoreOp::create(b, loc, x, workspace,
                                ValueRange{index(group), index(h), index(i)});
      });
    // The loop ended in a barrier: every thread's sum is in.
    if (plan.lagZero)
      storeLagZero(workspace);
  }

  /// The cluster form: block 0 of the cluster transforms v's sequences of
  /// the tile, block 1 g's; each then sums the terms of a quarter of the
  /// frequencies f < M / 2 (block 0 the middle one too) with their mirrors
  /// into its half of the row, reading its own spectra and the other
  /// block's. A cluster barrier after the transforms (both spectra written)
  /// and one after the sums (the other block has read them before the next
  /// tile overwrites them).
  void emitClusteredBody(Value workspace, LoadInputFn loadV,
                         LoadInputFn loadG) {
    int64_t batchTile = plan.transform.batchTile;
    int64_t quarter = plan.transform.complexLength / 4;
    // The low bins of the block's items, their mirrors', the middle one;
    // then the block's range unscale.
    unscaleSlot = 2 * (2 * quarter + 1);
    accumulator =
        sharedArray(f32, plan.sequenceBytes(), plan.accumulatorBytes() / 4);
    loop(tid, unscaleSlot, layout.threads, [&](Value i) {
      memref::StoreOp::create(b, loc, cf(0.0), accumulator, index(i));
    });
    if (plan.lagZero) {
      lagSums = sharedArray(f32, plan.sequenceBytes() + plan.accumulatorBytes(),
                            layout.threads);
      memref::StoreOp::create(b, loc, cf(0.0), lagSums, index(tid));
    }
    Value peer = peerSharedMemory(sub(c(plan.cluster - 1), rank));
    Value first =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rank, c(0));
    loop(group, plan.tiles(), plan.groups, [&](Value tileIndex) {
      Value firstBatch = mulc(tileIndex, batchTile);
      // v's block adds up lag 0, loading g for it.
      auto loadOwn = [&](LoadInputFn load, int64_t length, ItemFn consume) {
        RangeScale range =
            loadSequences(firstBatch, {{load, length}}, consume).front();
        if (range.unscale)
          when(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid,
                                     c(0)),
               [&] {
                 memref::StoreOp::create(b, loc, range.unscale, accumulator,
                                         index(c(unscaleSlot)));
               });
      };
      whenElse(
          first,
          [&] {
            loadOwn(
                loadV, plan.lengthV,
                plan.lagZero ? ItemFn([&](Value item, ArrayRef<Value> values) {
                  addLagZero(values[0],
                             gatherItem(firstBatch, item, plan.lengthG, loadG));
                })
                             : ItemFn());
          },
          [&] { loadOwn(loadG, plan.lengthG, ItemFn()); });
      barrier();
      emitForward();
      clusterBarrier();
      whenElse(
          first, [&] { accumulateClustered(/*vLocal=*/true, peer); },
          [&] { accumulateClustered(/*vLocal=*/false, peer); });
      clusterBarrier();
      if (ofV || ofG) {
        // Each block its side's convolution, from its own spectra (the
        // other block has read them).
        // Its range unscale from the slot the other block read.
        auto unscale = [&](size_t) -> Value {
          if (!plan.transform.scalesRange)
            return Value();
          return memref::LoadOp::create(b, loc, accumulator,
                                        index(c(unscaleSlot)));
        };
        whenElse(
            first,
            [&] {
              if (ofV)
                convolveHeld(firstBatch, {&*ofV}, 0, unscale);
            },
            [&] {
              if (ofG)
                convolveHeld(firstBatch, {&*ofG}, 0, unscale);
            });
        // The next tile's loads overwrite the spectra the outputs read.
        barrier();
      }
    });
    whenElse(
        first, [&] { storeClusteredRow(workspace, /*firstBlock=*/true); },
        [&] { storeClusteredRow(workspace, /*firstBlock=*/false); });
    if (plan.lagZero)
      when(first, [&] { storeLagZero(workspace); });
  }

private:
  /// The held convolutions `sides` (v's, then g's, those given) run from
  /// the spectra of the tile's sequences from `firstSequence` on, T a side,
  /// by an emitter of their own over them (both: one pass a stage over all
  /// of them, instead of a copy of the stages a side, whose loop-invariant
  /// values spilled); the outputs of batch element firstBatch + s from
  /// sequence s of a side, times `unscaleOf(side)` (emitted after the
  /// inverse stages).
  void convolveHeld(Value firstBatch, ArrayRef<const HeldConvolution *> sides,
                    int64_t firstSequence,
                    llvm::function_ref<Value(size_t side)> unscaleOf) {
    int64_t batchTile = plan.transform.batchTile;
    const HeldConvolution &first = *sides.front();
    bool both = sides.size() == 2;
    // Both sides' outputs are as long (findFusedBackwards).
    KernelEmitter held(b, loc, heldLayoutOf(plan, first.outputLength),
                       sides.size() * batchTile);
    held.begin(firstSequence);
    // Prefetched coefficients (prefetchesProductCoefficients), measured on
    // one H200 with bf16 data, the cross-spectrum kernel: faster for both
    // sides' product (16K gated 4.78 -> 4.50 ms) and for a cluster's block
    // running its side's (32K gated 5.82 -> 5.48); slower for one side's
    // in a block that holds both (16K causal's correlation: 2.15 -> 2.21
    // to 2.27). Not there.
    bool mayPrefetch = both || plan.clustered();
    held.emitSpectralProduct(args()[first.coefficientArg], h,
                             both ? args()[sides[1]->coefficientArg] : Value(),
                             batchTile, mayPrefetch);
    held.emitInverse();
    SmallVector<Value, 2> unscales;
    for (size_t side = 0; side < sides.size(); ++side)
      unscales.push_back(unscaleOf(side));
    held.storeRealOutputs(
        first.outputLength, Value(),
        [&](Value seq, Value t, Value y, Value mask) {
          if (!both)
            return storeHeld(first, firstBatch, seq, t, y, mask, unscales[0]);
          whenElse(
              ult(seq, c(batchTile)),
              [&] {
                storeHeld(first, firstBatch, seq, t, y, mask, unscales[0]);
              },
              [&] {
                storeHeld(*sides[1], firstBatch, sub(seq, c(batchTile)), t, y,
                          mask, unscales[1]);
              });
        });
  }

  /// Results y of `convolution` (times `unscale` where given) for batch
  /// element firstBatch + s, at [t, t + 8), through its epilogue.
  void storeHeld(const HeldConvolution &convolution, Value firstBatch, Value s,
                 Value t, Value y, Value mask, Value unscale) {
    Value batch = add(firstBatch, s);
    auto write = [&] {
      convolution.store(b, loc, args(), index(batch), index(h), index(t),
                        scaled(y, unscale), mask);
    };
    if (plan.transform.batch % plan.transform.batchTile)
      when(ult(batch, c(plan.transform.batch)), write);
    else
      write();
  }

  /// A kind of sequence of the tile (v or g): how its values load, and its
  /// real samples.
  struct Side {
    LoadInputFn load;
    int64_t length;
  };

  /// The 8 real samples of item `item` of a side (zero past its length and
  /// past the batch).
  Value gatherItem(Value firstBatch, Value item, int64_t length,
                   LoadInputFn load) {
    int64_t chunks = plan.transform.complexLength / 4;
    auto eight = VectorType::get({8}, f32);
    Value batch = add(firstBatch, divc(item, chunks));
    Value t = mulc(remc(item, chunks), 8);
    Value inside;
    if (plan.transform.batch % plan.transform.batchTile)
      inside = ult(batch, c(plan.transform.batch));
    if (length < 2 * plan.transform.complexLength) {
      Value inInput = ult(t, c(length));
      inside =
          inside ? arith::AndIOp::create(b, loc, inside, inInput) : inInput;
    }
    // Rows whose length is not a multiple of 8: the lanes below it.
    Value mask = length % 8 ? lanesBelow(b, loc, t, length) : Value();
    return loadOrZero(inside, eight, [&] {
      return load(b, loc, args(), index(batch), index(h), index(t), mask);
    });
  }

  /// Each side's sequences of the tile's T batch elements into sequences
  /// kT .. (k+1)T - 1 for side k, as 4 complex values an item; `consume`,
  /// if given, sees each item's values as loaded. Returns each side's
  /// range scale (null where the data are f16).
  SmallVector<RangeScale> loadSequences(Value firstBatch, ArrayRef<Side> sides,
                                        ItemFn consume) {
    int64_t batchTile = plan.transform.batchTile;
    int64_t chunks = plan.transform.complexLength / 4;
    auto scatter = [&](Value item, Value v, int64_t firstSeq) {
      Value seq = addc(divc(item, chunks), firstSeq);
      Value re = vector::ShuffleOp::create(b, loc, v, v,
                                           ArrayRef<int64_t>{0, 2, 4, 6});
      Value im = vector::ShuffleOp::create(b, loc, v, v,
                                           ArrayRef<int64_t>{1, 3, 5, 7});
      Value position = swizzle(mulc(remc(item, chunks), 4));
      storePart(seq, ReHigh, position, re);
      storePart(seq, ImHigh, position, im);
    };
    auto gatherAll = [&](Value item) -> SmallVector<Value> {
      SmallVector<Value> values;
      for (const Side &side : sides)
        values.push_back(gatherItem(firstBatch, item, side.length, side.load));
      return values;
    };
    auto scatterAll = [&](Value item, ArrayRef<Value> values,
                          ArrayRef<RangeScale> scales) {
      for (auto [k, value] : llvm::enumerate(values))
        scatter(item, scaled(value, scales[k].scale), k * batchTile);
    };
    // v and g each scaled by its own power of two: a gradient g is often
    // far smaller than v. An item's vectors count as one towards what a
    // thread holds: holding v and g of 4 items measured 2% to 3% faster
    // than storing them first (H200, f16 and bf16 training at 8K and 16K
    // causal; bench/NOTES.md).
    if (plan.transform.scalesRange) {
      SmallVector<SequenceSpan> spans;
      for (size_t k = 0; k < sides.size(); ++k)
        spans.push_back({int64_t(k) * batchTile, batchTile});
      return gatherScatterInRange(batchTile * chunks, spans, gatherAll,
                                  scatterAll, /*heldPerItem=*/1, consume);
    }
    SmallVector<RangeScale> unscaled(sides.size());
    gatherScatter(batchTile * chunks, gatherAll,
                  [&](Value item, ArrayRef<Value> values) {
                    scatterAll(item, values, unscaled);
                    if (consume)
                      consume(item, values);
                  });
    return unscaled;
  }

  /// Lag 0 from v and g as loaded (8 samples each), into the thread's sum.
  void addLagZero(Value v, Value g) {
    Value products = arith::MulFOp::create(b, loc, v, g);
    Value dot = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                            products);
    Value sum = memref::LoadOp::create(b, loc, lagSums, index(tid));
    memref::StoreOp::create(b, loc, fadd(sum, dot), lagSums, index(tid));
  }

  /// The threads' sums of lag 0 into the row's last pair (after a barrier:
  /// every thread's sum is in).
  void storeLagZero(Value workspace) {
    Value first =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, c(0));
    when(first, [&] {
      Value total = cf(0.0);
      for (int64_t t = 0; t < layout.threads; ++t)
        total =
            fadd(total, memref::LoadOp::create(b, loc, lagSums, index(c(t))));
      memref::StoreOp::create(
          b, loc, total, workspace,
          ValueRange{index(group), index(h),
                     index(c(2 * (plan.transform.complexLength + 1)))});
    });
  }

  /// For every frequency f: sum over the tile of conj(V[f]) G[f], added to
  /// the group's row. The stages left Z / sqrt(M): the sums are the cross
  /// spectrum / M (the inverse kernel rescales).
  ///
  /// A real sequence's spectrum is Hermitian, X[M - f] = conj(X[M + f]), so
  /// the loads and roots of frequency f give bin M - f too: conj(V[M - f])
  /// G[M - f] = conj(conj(V[M + f]) G[M + f]). An item is a frequency f <
  /// M / 2 with both its bins; the middle frequency M / 2, its own mirror,
  /// is one more: half the loads, roots and products of one item a bin.
  /// f < M / 2 are the positions in the first half of each run of the last
  /// stage's digit (stride 1, the frequency's most significant), so a
  /// warp's loads stay in runs. With the row's slots in position order
  /// (accumulatorSlot), the kernel alone 0.64x to 0.83x at 4K to 16K
  /// (H200, bench/results/cross-spectrum-pairs-2026-11-29-h200.md).
  void accumulate(Value workspace) {
    int64_t m = plan.transform.complexLength;
    loop(tid, m / 2, layout.threads, [&](Value item) {
      accumulateAt(workspace, itemPosition(item), /*withMirror=*/true);
    });
    // M / 2: digit run / 2 of the last stage, every other digit zero.
    Value first =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, c(0));
    when(first, [&] {
      accumulateAt(workspace, c(lastRun() / 2), /*withMirror=*/false);
    });
  }

  /// The last stage of more than one point (a factor of 1 leaves its digit
  /// zero): a power of two, its digit of stride 1.
  int64_t lastRun() const {
    return *llvm::find_if(llvm::reverse(plan.transform.factors),
                          [](int64_t factor) { return factor > 1; });
  }
  /// The position of item `item` (frequency f < M / 2).
  Value itemPosition(Value item) {
    int64_t run = lastRun(), halfRun = run / 2;
    return add(mulc(divc(item, halfRun), run), remc(item, halfRun));
  }

  /// A tile's sums at position p (frequency f): over its batch elements,
  /// conj(V) G at bin f (`low`) and, with `withMirror`, at bin M + f
  /// (`high`, whose conjugate is bin M - f's).
  struct Terms {
    Value f, q; // the frequency and its mirror's position
    Complex low, high;
  };
  using SpectrumLoad = llvm::function_ref<Complex(int64_t i, Value offset)>;
  Terms tileTerms(Value p, bool withMirror, SpectrumLoad loadV,
                  SpectrumLoad loadG) {
    int64_t m = plan.transform.complexLength;
    Value f = frequency(p);
    Value q = mirror(f);
    Value offsetP = swizzle(p), offsetQ = swizzle(q);
    Complex w = root(f, 2 * m, -1.0);
    Complex low{cf(0.0), cf(0.0)}, high{cf(0.0), cf(0.0)};
    for (int64_t i = 0; i < plan.transform.batchTile; ++i) {
      RealBins v = realSpectrum(*this, loadV(i, offsetP), loadV(i, offsetQ), w);
      RealBins g = realSpectrum(*this, loadG(i, offsetP), loadG(i, offsetQ), w);
      low = cadd(low, cmul(conj(v.low), g.low));
      if (withMirror)
        high = cadd(high, cmul(conj(v.high), g.high));
    }
    return {f, q, low, high};
  }

  /// The tile's terms at position p (frequency f): bin f, and with
  /// `withMirror` bin M - f.
  void accumulateAt(Value workspace, Value p, bool withMirror) {
    int64_t batchTile = plan.transform.batchTile;
    int64_t m = plan.transform.complexLength;
    Terms terms = tileTerms(
        p, withMirror, [&](int64_t i, Value at) { return load(c(i), at); },
        [&](int64_t i, Value at) { return load(c(batchTile + i), at); });
    Value f = terms.f;
    // The tile's terms of v and g scaled, scaled back.
    Value unscale =
        rangeV.unscale ? fmul(rangeV.unscale, rangeG.unscale) : Value();
    auto unscaled = [&](Complex x) -> Complex {
      return {scaled(x.re, unscale), scaled(x.im, unscale)};
    };
    // Bin f's slot is its position p; bin M - f's its mirror's, q, but for
    // f = 0 (bin M, the Nyquist bin, past the positions) M.
    addPartial(workspace, f, p, unscaled(terms.low));
    if (!withMirror)
      return;
    Value zero =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, f, c(0));
    addPartial(workspace, sub(c(m), f),
               arith::SelectOp::create(b, loc, zero, c(m), terms.q),
               unscaled(conj(terms.high)));
  }

  /// The cluster form's sums of a tile: the block's quarter of the items
  /// (block 0 the first, and the middle frequency), bin f's term into slot
  /// i of its i-th item, bin M - f's into slot M / 4 + i, the middle's into
  /// slot M / 2. `vLocal`: this block holds v's spectra (block 0), the
  /// other g's, which it reads from `peer`'s shared memory.
  void accumulateClustered(bool vLocal, Value peer) {
    int64_t quarter = plan.transform.complexLength / 4;
    auto local = [&](int64_t i, Value at) { return load(c(i), at); };
    auto remote = [&](int64_t i, Value at) { return loadPeer(peer, c(i), at); };
    Value unscale;
    if (plan.transform.scalesRange)
      unscale = fmul(
          memref::LoadOp::create(b, loc, accumulator, index(c(unscaleSlot))),
          loadPeerF32(peer, plan.sequenceBytes() + 4 * unscaleSlot));
    auto add = [&](Value slot, Complex x) {
      Value re = mulc(slot, 2), im = addc(re, 1);
      for (auto [offset, part] : {std::pair(re, scaled(x.re, unscale)),
                                  std::pair(im, scaled(x.im, unscale))}) {
        Value old = memref::LoadOp::create(b, loc, accumulator, index(offset));
        memref::StoreOp::create(b, loc, fadd(old, part), accumulator,
                                index(offset));
      }
    };
    auto terms = [&](Value p, bool withMirror) {
      return vLocal ? tileTerms(p, withMirror, local, remote)
                    : tileTerms(p, withMirror, remote, local);
    };
    loop(tid, quarter, layout.threads, [&](Value i) {
      Terms t = terms(itemPosition(addc(i, vLocal ? 0 : quarter)),
                      /*withMirror=*/true);
      add(i, t.low);
      add(addc(i, quarter), conj(t.high));
    });
    if (!vLocal)
      return;
    Value first =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, c(0));
    when(first, [&] {
      add(c(2 * quarter), terms(c(lastRun() / 2), /*withMirror=*/false).low);
    });
  }

  /// The cluster form's half row into the workspace, at the bins its slots
  /// hold (accumulateClustered); `firstBlock`: block 0's.
  void storeClusteredRow(Value workspace, bool firstBlock) {
    int64_t m = plan.transform.complexLength, quarter = m / 4;
    auto store = [&](Value slot, Value bin) {
      for (int64_t part = 0; part < 2; ++part) {
        Value x = memref::LoadOp::create(b, loc, accumulator,
                                         index(addc(mulc(slot, 2), part)));
        memref::StoreOp::create(b, loc, x, workspace,
                                ValueRange{index(group), index(h),
                                           index(addc(mulc(bin, 2), part))});
      }
    };
    loop(tid, quarter, layout.threads, [&](Value i) {
      Value f = frequency(itemPosition(addc(i, firstBlock ? 0 : quarter)));
      store(i, f);
      // Bin M - f, but for f = 0 the Nyquist bin M.
      Value zero =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, f, c(0));
      store(addc(i, quarter),
            arith::SelectOp::create(b, loc, zero, c(m), sub(c(m), f)));
    });
    if (!firstBlock)
      return;
    Value first =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, c(0));
    when(first, [&] { store(c(2 * quarter), frequency(c(lastRun() / 2))); });
  }

  /// The slot of bin f in the shared accumulator: its position, so that a
  /// warp's adds (to runs of positions) meet distinct banks; the Nyquist
  /// bin M after them.
  Value accumulatorSlot(Value f) {
    Value nyquist = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, f,
                                          c(plan.transform.complexLength));
    return arith::SelectOp::create(
        b, loc, nyquist, c(plan.transform.complexLength), positionOf(f));
  }

  /// workspace[group, h, f] += x, or the same at `slot` in the shared
  /// accumulator.
  void addPartial(Value workspace, Value f, Value slot, Complex x) {
    if (plan.sharedAccumulator) {
      Value re = mulc(slot, 2), im = addc(re, 1);
      for (auto [offset, part] : {std::pair(re, x.re), std::pair(im, x.im)}) {
        Value old = memref::LoadOp::create(b, loc, accumulator, index(offset));
        memref::StoreOp::create(b, loc, fadd(old, part), accumulator,
                                index(offset));
      }
      return;
    }
    auto pairType = VectorType::get({2}, f32);
    SmallVector<Value> indices = {index(group), index(h), index(mulc(f, 2))};
    Value previous =
        vector::LoadOp::create(b, loc, pairType, workspace, indices);
    Value term = vector::FromElementsOp::create(b, loc, pairType,
                                                ValueRange{x.re, x.im});
    Value total = arith::AddFOp::create(b, loc, previous, term);
    vector::StoreOp::create(b, loc, total, workspace, indices);
  }

  const CrossSpectrumPlan &plan;
  std::optional<HeldConvolution> ofV, ofG;
  Value h, group;
  Value rank;              // the block's rank in its cluster (the cluster form)
  int64_t unscaleSlot = 0; // the cluster form's slot of the range unscale
  RangeScale rangeV, rangeG; // the tile's, null where v and g are f16
  Value accumulator;         // memref<2(M+1) x f32> in shared memory, or null
  Value lagSums;             // memref<threads x f32> in shared memory, or null
};

} // namespace

gpu::GPUFuncOp mlir::fftconv::buildCrossSpectrumKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, TypeRange argTypes, unsigned workspaceArg,
    const CrossSpectrumPlan &plan, LoadInputFn loadV, LoadInputFn loadG,
    std::optional<HeldConvolution> ofV, std::optional<HeldConvolution> ofG) {
  CrossSpectrumBuilder kernel(builder, loc, module, name, argTypes, plan,
                              std::move(ofV), std::move(ofG));
  kernel.emitBody(kernel.args()[workspaceArg], loadV, loadG);
  return kernel.finish();
}

/// Writes each of `outputs` (the kernel arguments `outputArgs`, then k
/// when an output needs squash's subgradient) for channel h from the lags:
/// `lag(s)` is lag s, for s in [0, lags). An output of rank 1 (dD) is lag
/// 0, or what `lagZero` writes to it where given.
static void emitLagOutputs(KernelEmitter &e, Value h, ValueRange outputArgs,
                           ArrayRef<LagOutput> outputs,
                           llvm::function_ref<Value(Value)> lag,
                           std::function<void(Value)> lagZero) {
  OpBuilder &builder = e.b;
  Location loc = e.loc;
  bool needsKernel = llvm::any_of(
      outputs, [](const LagOutput &o) { return o.squashLambda.has_value(); });
  Value k = needsKernel ? outputArgs[outputs.size()] : Value();
  for (auto [index, entry] : llvm::enumerate(outputs)) {
    // A reference of its own: lambdas below capture it (captured
    // structured bindings are C++20).
    const LagOutput &description = entry;
    Value output = outputArgs[index];
    auto type = cast<MemRefType>(output.getType());
    if (lagZero && type.getRank() == 1) {
      Value first = arith::CmpIOp::create(
          builder, loc, arith::CmpIPredicate::eq, e.tid, e.c(0));
      e.when(first, [&] { lagZero(output); });
      continue;
    }
    int64_t lags = type.getRank() == 1 ? 1 : type.getDimSize(1);
    auto inside = [&](Value s) {
      return arith::AndIOp::create(
          builder, loc,
          arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::sge, s,
                                e.c(0)),
          arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::slt, s,
                                e.c(lags)));
    };
    // Lag s of the first `lags` (zero outside them, as the regularizers'
    // zero padding has it), with the circulated taps' second copy's.
    auto lagAt = [&](Value s) -> Value {
      Value in = inside(s);
      Value at = arith::SelectOp::create(builder, loc, in, s, e.c(0));
      Value value = lag(at);
      if (description.circulateOffset)
        value = e.fadd(value, lag(e.addc(at, description.circulateOffset)));
      return arith::SelectOp::create(builder, loc, in, value, e.cf(0.0));
    };
    // The smooths, each its own transpose, innermost first.
    ArrayRef<int64_t> widths = description.smoothWidths;
    std::function<Value(size_t, Value)> smoothed = [&](size_t level,
                                                       Value s) -> Value {
      if (level == 0)
        return lagAt(s);
      int64_t width = widths[level - 1];
      Value sum = e.cf(0.0);
      for (int64_t j = -(width / 2); j <= width / 2; ++j)
        sum = e.fadd(sum, smoothed(level - 1, e.addc(s, j)));
      return arith::SelectOp::create(builder, loc, inside(s),
                                     e.fmul(sum, e.cf(1.0 / width)), e.cf(0.0));
    };
    e.loop(e.tid, lags, e.layout.threads, [&](Value t) {
      Value value = smoothed(widths.size(), t);
      SmallVector<Value> indices = {e.index(h)};
      if (type.getRank() == 2)
        indices.push_back(e.index(t));
      if (description.squashLambda) {
        // Squash's subgradient: zero where the tap was squashed to zero.
        Value tap = memref::LoadOp::create(builder, loc, k, indices);
        Value kept =
            arith::CmpFOp::create(builder, loc, arith::CmpFPredicate::OGT,
                                  math::AbsFOp::create(builder, loc, tap),
                                  e.cf(*description.squashLambda));
        value = arith::SelectOp::create(builder, loc, kept, value, e.cf(0.0));
      }
      memref::StoreOp::create(builder, loc, value, output, indices);
    });
  }
}

gpu::GPUFuncOp mlir::fftconv::buildChannelInverseKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, TypeRange argTypes, int64_t groups, bool lagZero,
    ArrayRef<LagOutput> outputs, const ConvKernelPlan &plan) {
  KernelScope kernel(builder, loc, module, name, argTypes, plan.threads);
  KernelEmitter e(builder, loc, layoutOf(plan, GPUPrecision::Split),
                  /*tile=*/1);
  e.begin();
  Type f32 = builder.getF32Type();
  Value h = e.blockId(gpu::Dimension::x);
  Value seq = e.c(0);
  Value workspace = kernel.args()[0];
  int64_t m = plan.complexLength;

  // S[f], summed over the groups' partial spectra.
  auto spectrum = [&](Value f) -> Complex {
    Value zero = e.cf(0.0);
    auto sum = scf::ForOp::create(
        builder, loc, e.c(0), e.c(groups), e.c(1), ValueRange{zero, zero},
        [&](OpBuilder &, Location, Value g, ValueRange partial) {
          auto pairType = VectorType::get({2}, f32);
          Value pair = vector::LoadOp::create(
              builder, loc, pairType, workspace,
              ValueRange{e.index(g), e.index(h), e.index(e.mulc(f, 2))});
          Value re = vector::ExtractOp::create(builder, loc, pair,
                                               ArrayRef<int64_t>{0});
          Value im = vector::ExtractOp::create(builder, loc, pair,
                                               ArrayRef<int64_t>{1});
          scf::YieldOp::create(
              builder, loc,
              ValueRange{e.fadd(partial[0], re), e.fadd(partial[1], im)});
        });
    return {sum.getResult(0), sum.getResult(1)};
  };

  // The half-length complex spectrum of the lags x (x[2j] + i x[2j+1]):
  // Z[f] = E + i O, E = (S[f] + conj(S[M-f])) / 2 the even lags' spectrum,
  // O = (S[f] - conj(S[M-f])) W_N^-f / 2 the odd ones', at Monarch
  // positions for the inverse stages.
  // The sums are f32, and as small as the gradients they came from.
  KernelEmitter::RangeScale range = e.storeInRange(
      seq, m,
      [&](Value f) -> Complex {
        Complex sf = spectrum(f), sm = spectrum(e.sub(e.c(m), f));
        Value half = e.cf(0.5);
        Complex even{e.fmul(e.fadd(sf.re, sm.re), half),
                     e.fmul(e.fsub(sf.im, sm.im), half)};
        Complex difference{e.fmul(e.fsub(sf.re, sm.re), half),
                           e.fmul(e.fadd(sf.im, sm.im), half)};
        Complex odd = e.cmul(difference, e.root(f, 2 * m, 1.0));
        return {e.fsub(even.re, odd.im), e.fadd(even.im, odd.re)};
      },
      [&](Value f) { return e.swizzle(e.positionOf(f)); });
  e.barrier();
  e.emitInverse();

  // The stages carry 1/sqrt(M) of the inverse's 1/M, and the partial sums
  // were the cross spectrum / M: sqrt(M) gives the lags (of the sums
  // scaled).
  Value scale = e.fmul(e.cf(std::sqrt(double(m))), range.unscale);
  std::function<void(Value)> directLagZero;
  if (lagZero)
    directLagZero = [&](Value output) {
      // The groups' direct sums of v * g.
      Value total = e.cf(0.0);
      for (int64_t g = 0; g < groups; ++g)
        total = e.fadd(total, memref::LoadOp::create(
                                  builder, loc, workspace,
                                  ValueRange{e.index(e.c(g)), e.index(h),
                                             e.index(e.c(2 * (m + 1)))}));
      memref::StoreOp::create(builder, loc, total, output, e.index(h));
    };
  emitLagOutputs(
      e, h, kernel.args().drop_front(), outputs,
      [&](Value s) {
        Value offset = e.swizzle(e.divc(s, 2));
        Value odd = arith::CmpIOp::create(
            builder, loc, arith::CmpIPredicate::ne, e.remc(s, 2), e.c(0));
        Value lag = arith::SelectOp::create(builder, loc, odd,
                                            e.loadPart(seq, ImHigh, offset),
                                            e.loadPart(seq, ReHigh, offset));
        return e.fmul(lag, scale);
      },
      directLagZero);
  return kernel.finish();
}

gpu::GPUFuncOp mlir::fftconv::buildLagOutputsKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, TypeRange argTypes, double scale,
    ArrayRef<LagOutput> outputs, int64_t threads) {
  KernelScope kernel(builder, loc, module, name, argTypes, threads);
  // No sequences: the emitter's loops and guards only.
  KernelEmitter e(builder, loc,
                  SequenceLayout{0, {}, 0, threads, GPUPrecision::Split},
                  /*tile=*/0);
  e.begin();
  Value h = e.blockId(gpu::Dimension::x);
  Value lags = kernel.args()[0];
  Value factor = e.cf(scale);
  emitLagOutputs(
      e, h, kernel.args().drop_front(), outputs,
      [&](Value s) {
        return e.fmul(
            memref::LoadOp::create(builder, loc, lags,
                                   ValueRange{e.index(h), e.index(s)}),
            factor);
      },
      std::function<void(Value)>());
  return kernel.finish();
}

gpu::GPUFuncOp mlir::fftconv::buildSkipGradientSendKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, TypeRange argTypes, double scale, int64_t threads) {
  KernelScope kernel(builder, loc, module, name, argTypes, threads);
  KernelEmitter e(builder, loc,
                  SequenceLayout{0, {}, 0, threads, GPUPrecision::Split},
                  /*tile=*/0);
  e.begin();
  Value lags = kernel.args()[0], send = kernel.args()[1];
  auto sendType = cast<MemRefType>(send.getType());
  int64_t ranks = sendType.getDimSize(0), channels = sendType.getDimSize(1);
  e.loop(e.tid, ranks * channels, threads, [&](Value item) {
    Value chunk = e.divc(item, channels), h = e.remc(item, channels);
    Value lag = memref::LoadOp::create(builder, loc, lags,
                                       ValueRange{e.index(h), e.index(e.c(0))});
    memref::StoreOp::create(builder, loc, e.fmul(lag, e.cf(scale)), send,
                            ValueRange{e.index(chunk), e.index(h)});
  });
  return kernel.finish();
}

gpu::GPUFuncOp mlir::fftconv::buildSkipGradientKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, TypeRange argTypes, int64_t threads) {
  KernelScope kernel(builder, loc, module, name, argTypes, threads);
  KernelEmitter e(builder, loc,
                  SequenceLayout{0, {}, 0, threads, GPUPrecision::Split},
                  /*tile=*/0);
  e.begin();
  Value received = kernel.args()[0];
  int64_t channels = cast<MemRefType>(received.getType()).getDimSize(1);
  e.loop(e.tid, channels, threads, [&](Value h) {
    Value lagZero = memref::LoadOp::create(
        builder, loc, received, ValueRange{e.index(e.c(0)), e.index(h)});
    for (Value output : kernel.args().drop_front())
      memref::StoreOp::create(builder, loc, lagZero, output,
                              ValueRange{e.index(h)});
  });
  return kernel.finish();
}
