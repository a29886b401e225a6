//===- ThreePassKernels.cpp - FFT convolutions past shared memory -*- C++ -*-=//
//
// The kernels of the three-pass form (ThreePassKernels.h). The workspace
// between the passes holds complex f32 or f16 values, interleaved, in
// natural row order: entry (pair, h, k1, n2) at ((pair * H + h) * W + k1 *
// N2 + n2) * 2, W = N plus, in a scaled workspace (bf16 data's f16 one),
// the places of the (pair, h)'s scales (ThreePassPlan::workspaceScaleSlots).
// Sharded over R ranks, a rank's workspace is R chunks of N / R values a
// (pair, h): before the exchange, chunk j holds the rank's columns of the
// rows rank j's inner kernels own; after it, chunk i holds rank i's columns
// of this rank's rows.
// The blocks' base offsets are 64-bit (a workspace passes 2^31 elements at
// B = 64, N = 64K); offsets within a row are 32-bit like all other index
// work of the kernels.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Conversion/ButterflyToGPU/ThreePassKernels.h"

#include "KernelEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include <algorithm>
#include <array>
#include <numeric>

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

/// The samples of a row an outer block's thread reads or writes at once:
/// the 8 of LoadInputFn and StoreOutputFn, or the block's 4 columns
/// (narrowOuterTiles).
static int64_t rowAccessWidth(const ThreePassPlan &plan) {
  return std::min<int64_t>(plan.columns, kVectorWidth);
}

/// The complex values a thread stores into a workspace at once, adjacent
/// threads' adjacent: sharded, 16 bytes, so that each store of a warp fills
/// whole 32-byte sectors. The stores into the peers' rows cross NVLink as
/// the warp issues them (one GPU's L2 merges its own partial sectors): an
/// f32 workspace's four values a thread, two 16-byte stores 32 bytes apart,
/// half-filled each (K's outer pass 0.37 -> 0.205 ms at 2^24 on 4 H200s,
/// bench/results/distributed-2026-11-28-whole-sectors.md). Unsharded, four.
static int64_t workspaceStoreWidth(const ThreePassPlan &plan, Type element) {
  return plan.sharded() && element.isF32() ? 2 : 4;
}

/// The lanes of the 8-sample access at `t` that are read or written: below
/// `length` (rows whose length is not a multiple of 8: element-aligned, the
/// last access partial) and the first `width` (a narrow tile's); null for
/// all of them.
static Value rowAccessMask(OpBuilder &b, Location loc, Value t, int64_t length,
                           int64_t width) {
  Value mask = length % kVectorWidth ? lanesBelow(b, loc, t, length) : Value();
  if (width == kVectorWidth)
    return mask;
  SmallVector<bool> leading(kVectorWidth, false);
  std::fill_n(leading.begin(), width, true);
  Value first = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({kVectorWidth}, b.getI1Type()),
                             ArrayRef<bool>(leading)));
  return mask ? arith::AndIOp::create(b, loc, mask, first) : first;
}

/// The first `width` lanes of an 8-lane access's values.
static Value leadingLanes(OpBuilder &b, Location loc, Value values,
                          int64_t width) {
  if (width == kVectorWidth)
    return values;
  SmallVector<int64_t> lanes(width);
  std::iota(lanes.begin(), lanes.end(), 0);
  return vector::ShuffleOp::create(b, loc, values, values, lanes);
}

/// `values` (`width` lanes) as an 8-lane access's, the lanes past them
/// zero (rowAccessMask leaves them unwritten).
static Value widenedLanes(OpBuilder &b, Location loc, Value values) {
  auto type = cast<VectorType>(values.getType());
  int64_t width = type.getNumElements();
  if (width == kVectorWidth)
    return values;
  Value zeros = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(0.0f)));
  SmallVector<int64_t> lanes(kVectorWidth);
  std::iota(lanes.begin(), lanes.end(), 0);
  std::fill(lanes.begin() + width, lanes.end(), width);
  return vector::ShuffleOp::create(b, loc, values, zeros, lanes);
}

namespace {

/// What the three kernels share: the sequences of the workspaces and
/// the row and column arithmetic of the N1 x N2 view.
class ThreePassEmitter : public KernelEmitter {
public:
  ThreePassEmitter(OpBuilder &builder, Location loc, SequenceLayout layout,
                   int64_t tile, const ThreePassPlan &plan)
      : KernelEmitter(builder, loc, std::move(layout), tile), plan(plan) {}

  /// The sequence of (pair, h) in a workspace: memref<P x H x 2N x f32>,
  /// or memref<H x 2N x f32> for the spectrum (where `pair` is 0).
  struct Sequence {
    Value memref;
    SmallVector<Value, 2> lead;
  };
  Sequence sequenceOf(Value memref, Value pair, Value h) {
    Sequence s{memref, {}};
    if (cast<MemRefType>(memref.getType()).getRank() == 3)
      s.lead.push_back(index(pair));
    s.lead.push_back(index(h));
    return s;
  }
  /// Chunk `chunk` of (pair, h) of a sharded buffer (memref<R x P x H x
  /// 2N/R>).
  Sequence chunkOf(Value memref, Value chunk, Value pair, Value h) {
    return {memref, {index(chunk), index(pair), index(h)}};
  }

  /// Column `column` of the rank's columns among all N2 (the same
  /// unsharded).
  Value globalColumn(Value column) {
    if (!plan.sharded())
      return column;
    return addc(column, plan.rank * plan.localColumns());
  }

  /// The sequence of (slot, h) of an unsharded workspace, made once before
  /// a kernel's loops; none sharded (each entry has its chunk).
  std::optional<Sequence> wholeSequence(Value workspace, Value slot, Value h) {
    if (plan.sharded())
      return std::nullopt;
    return sequenceOf(workspace, slot, h);
  }

  /// Where the outer kernels keep row k1, column n2 (the rank's) of
  /// (slot, h) in `workspace`: unsharded at k1 * N2 + n2 of `whole`;
  /// sharded in the chunk of the rank whose inner kernels own row k1.
  std::pair<Sequence, Value> outerEntry(const std::optional<Sequence> &whole,
                                        Value workspace, Value slot, Value h,
                                        Value k1, Value n2) {
    if (whole)
      return {*whole, add(mulc(k1, plan.inner()), n2)};
    int64_t rows = plan.localRows();
    return {chunkOf(workspace, divc(k1, rows), slot, h),
            add(mulc(remc(k1, rows), plan.localColumns()), n2)};
  }

  /// The indices of complex value `value` of a sequence.
  SmallVector<Value> at(const Sequence &s, Value value) {
    SmallVector<Value> indices(s.lead.begin(), s.lead.end());
    indices.push_back(index(mulc(value, 2)));
    return indices;
  }

  /// `count` complex values, interleaved, as one f32 vector of 2 count
  /// (an f16 workspace's widened).
  Value loadInterleaved(const Sequence &s, Value value, int64_t count) {
    Type element = cast<MemRefType>(s.memref.getType()).getElementType();
    auto type = VectorType::get({2 * count}, element);
    auto load = vector::LoadOp::create(b, loc, type, s.memref, at(s, value));
    load.setAlignment(
        std::min<int64_t>(16, 2 * count * element.getIntOrFloatBitWidth() / 8));
    if (element == f32)
      return load;
    return arith::ExtFOp::create(b, loc, VectorType::get({2 * count}, f32),
                                 load.getResult());
  }

  /// Loads `count` complex values, interleaved, as (re, im) vectors.
  std::pair<Value, Value> loadComplex(const Sequence &s, Value value,
                                      int64_t count) {
    Value load = loadInterleaved(s, value, count);
    SmallVector<int64_t> even, odd;
    for (int64_t i = 0; i < count; ++i) {
      even.push_back(2 * i);
      odd.push_back(2 * i + 1);
    }
    return {vector::ShuffleOp::create(b, loc, load, load, even),
            vector::ShuffleOp::create(b, loc, load, load, odd)};
  }
  /// The same, as `count` complex values (a fused pass's coefficients).
  SmallVector<Complex> loadComplexValues(const Sequence &s, Value value,
                                         int64_t count) {
    auto [re, im] = loadComplex(s, value, count);
    SmallVector<Complex> values;
    for (int64_t d = 0; d < count; ++d)
      values.push_back(
          {vector::ExtractOp::create(b, loc, re, ArrayRef<int64_t>{d}),
           vector::ExtractOp::create(b, loc, im, ArrayRef<int64_t>{d})});
    return values;
  }
  /// One complex f32 value of `s` (a coefficient of K).
  Complex loadComplexValue(const Sequence &s, Value value) {
    auto load = vector::LoadOp::create(b, loc, VectorType::get({2}, f32),
                                       s.memref, at(s, value));
    load.setAlignment(8);
    return {vector::ExtractOp::create(b, loc, load, ArrayRef<int64_t>{0}),
            vector::ExtractOp::create(b, loc, load, ArrayRef<int64_t>{1})};
  }
  void storeComplex(const Sequence &s, Value value, Value re, Value im) {
    int64_t count = cast<VectorType>(re.getType()).getNumElements();
    SmallVector<int64_t> interleave;
    for (int64_t i = 0; i < count; ++i) {
      interleave.push_back(i);
      interleave.push_back(count + i);
    }
    Value both = vector::ShuffleOp::create(b, loc, re, im, interleave);
    Type element = cast<MemRefType>(s.memref.getType()).getElementType();
    if (element != f32)
      both = arith::TruncFOp::create(
          b, loc, VectorType::get({2 * count}, element), both);
    vector::StoreOp::create(b, loc, both, s.memref, at(s, value))
        .setAlignment(std::min<int64_t>(
            16, 2 * count * element.getIntOrFloatBitWidth() / 8));
  }

  /// Whether `workspace` holds scaled values and their scales
  /// (ThreePassPlan::scaledWorkspace): the f16 workspace of such a plan,
  /// not K's f32 buffers, whose kernels are built from it too.
  bool holdsScales(Value workspace) const {
    return plan.scaledWorkspace &&
           cast<MemRefType>(workspace.getType()).getElementType().isF16();
  }
  /// The f32 scale kept in the place of complex value `value` of `s` (two
  /// f16s), and the same stored.
  Value loadScale(const Sequence &s, Value value) {
    auto load = vector::LoadOp::create(
        b, loc, VectorType::get({2}, b.getF16Type()), s.memref, at(s, value));
    load.setAlignment(4);
    Value bits = vector::BitCastOp::create(b, loc, VectorType::get({1}, f32),
                                           load.getResult());
    return vector::ExtractOp::create(b, loc, bits, ArrayRef<int64_t>{0});
  }
  void storeScale(const Sequence &s, Value value, Value scale) {
    Value one =
        vector::BroadcastOp::create(b, loc, VectorType::get({1}, f32), scale);
    Value halves = vector::BitCastOp::create(
        b, loc, VectorType::get({2}, b.getF16Type()), one);
    vector::StoreOp::create(b, loc, halves, s.memref, at(s, value))
        .setAlignment(4);
  }
  /// Runs `body` on the block's first thread.
  void onFirstThread(function_ref<void()> body) {
    when(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, c(0)),
         body);
  }

  /// Multiplies the vectors (re, im) elementwise by exp(sign 2 pi i e / N)
  /// for e = column(q) * row, q the lane of the vector: the outer kernels'
  /// twiddle, where it is theirs (ThreePassPlan::twiddlesInInner).
  std::pair<Value, Value> twiddleVector(Value re, Value im, Value firstColumn,
                                        Value row, double sign) {
    int64_t count = cast<VectorType>(re.getType()).getNumElements();
    SmallVector<Value> outRe, outIm;
    for (int64_t q = 0; q < count; ++q) {
      Complex x{vector::ExtractOp::create(b, loc, re, ArrayRef<int64_t>{q}),
                vector::ExtractOp::create(b, loc, im, ArrayRef<int64_t>{q})};
      // column < N2 and row < N1, so the product stays below N.
      Value e = mul(addc(firstColumn, q), row);
      Complex y = cmul(x, root(e, plan.length, sign));
      outRe.push_back(y.re);
      outIm.push_back(y.im);
    }
    auto type = VectorType::get({count}, f32);
    return {vector::FromElementsOp::create(b, loc, type, outRe),
            vector::FromElementsOp::create(b, loc, type, outIm)};
  }

  /// The block's place in an outer kernel's grid: its first column, its
  /// channel, its pair's workspace row (`slot`) and the pair itself (the
  /// chunk's first pair on).
  struct OuterBlock {
    Value firstColumn, h, workspaceH, slot, pair;
  };
  OuterBlock outerBlock() {
    OuterBlock block;
    block.firstColumn = mulc(blockId(gpu::Dimension::x), plan.columns);
    block.workspaceH = block.h = blockId(gpu::Dimension::y);
    if (plan.firstChannel)
      block.h = addc(block.workspaceH, plan.firstChannel);
    block.slot = blockId(gpu::Dimension::z);
    block.pair = addc(block.slot, plan.firstPair);
    return block;
  }

  const ThreePassPlan &plan;
};

/// The rows of N2 samples that hold any of the first `samples` (0: every
/// row, none known zero or unread), as natural positions of the outer
/// layout's C columns.
int64_t leadingRows(const ThreePassPlan &plan, int64_t samples) {
  if (samples <= 0 || samples >= plan.length)
    return 0;
  return llvm::divideCeil(samples, plan.inner()) * plan.columns;
}

/// The outer kernels' layout: N1 rows of C columns, the rows transformed.
/// Sample t = n1 N2 + n2 is row n1's, so a causal convolution's zero
/// padding is the last rows of every column (its first forward stage skips
/// the slabs of 16 leading digits that read only those) and its discarded
/// half the last rows of the inverse's outputs (its last stage skips the
/// tiles that write only those), as the single kernel does.
SequenceLayout outerLayout(const ThreePassPlan &plan) {
  SmallVector<int64_t> factors(plan.outerFactors);
  factors.push_back(plan.columns);
  SequenceLayout layout{plan.outer() * plan.columns, factors,
                        plan.outerFactors.size(), plan.threads,
                        plan.outerPrecision()};
  layout.inputExtent = leadingRows(plan, plan.inputLength);
  layout.neededOutputs = leadingRows(plan, plan.outputLength);
  return layout;
}

SequenceLayout innerLayout(const ThreePassPlan &plan) {
  return {plan.inner(), plan.innerFactors, plan.innerFactors.size(),
          plan.threads, plan.precision};
}

/// What both outer passes begin with: the emitter over N1 rows of C
/// columns, the block's place in the grid and its one sequence.
struct OuterEmitter : ThreePassEmitter {
  OuterEmitter(OpBuilder &builder, Location loc, const ThreePassPlan &plan)
      : ThreePassEmitter(builder, loc, outerLayout(plan), /*tile=*/1, plan) {}

  /// begin(), the planes `offsetBytes` into shared memory, and the block's
  /// place.
  void start(int64_t offsetBytes = 0) {
    beginAt(offsetBytes);
    OuterBlock block = outerBlock();
    firstColumn = block.firstColumn;
    h = block.h;
    workspaceH = block.workspaceH;
    slot = block.slot;
    pair = block.pair;
    seq = c(0);
  }

  /// Where item `item` of a pass over the tile's rows, `width` columns an
  /// item, lies: its row and first column in the tile, its sample of the
  /// whole sequence and its index in the data (a rank's sequences hold its
  /// columns of every row).
  struct RowChunk {
    Value row, column, sample, at;
  };
  RowChunk rowChunk(Value item, int64_t width) {
    int64_t chunks = plan.columns / width;
    RowChunk chunk;
    chunk.row = divc(item, chunks);
    chunk.column = mulc(remc(item, chunks), width);
    Value rowStart = mulc(chunk.row, plan.inner());
    Value local = add(firstColumn, chunk.column);
    chunk.sample = add(rowStart, globalColumn(local));
    chunk.at = plan.sharded() ? add(mulc(chunk.row, plan.localColumns()), local)
                              : chunk.sample;
    return chunk;
  }

  /// The block's first column, channel (and its row in a workspace that
  /// holds a chunk of the channels), workspace row and pair.
  Value firstColumn, h, workspaceH, slot, pair;
  /// The tile's one sequence in shared memory.
  Value seq;
  /// The tile's range scale, null where the plan's inputs are f16.
  RangeScale range;
};

/// An outer kernel: the kernel and its pass's emitter.
struct OuterKernel : KernelScope, OuterEmitter {
  OuterKernel(OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
              llvm::StringRef name, TypeRange argTypes,
              const ThreePassPlan &plan)
      : KernelScope(builder, loc, module, name, argTypes, plan.threads),
        OuterEmitter(builder, loc, plan) {
    start();
  }
};

/// The outer forward pass's input: z[n] = v[2 pair][n] + i v[2 pair + 1][n],
/// zero past the input or the batch; row n1 of the tile at shared position
/// n1 * C + column. Then its forward transforms.
void forwardOuterTile(OpBuilder &builder, Location loc, OuterEmitter &e,
                      ValueRange args, LoadInputFn loadInput) {
  const ThreePassPlan &plan = e.plan;
  auto eight = VectorType::get({8}, builder.getF32Type());
  int64_t width = rowAccessWidth(plan);
  int64_t chunks = plan.columns / width;
  auto gather = [&](Value item) -> SmallVector<Value> {
    OuterEmitter::RowChunk chunk = e.rowChunk(item, width);
    Value t = chunk.sample, at = chunk.at;
    Value mask = rowAccessMask(builder, loc, t, plan.inputLength, width);
    auto sample = [&](Value batch) -> Value {
      Value inside =
          arith::AndIOp::create(builder, loc, e.ult(batch, e.c(plan.batch)),
                                e.ult(t, e.c(plan.inputLength)));
      return e.loadOrZero(inside, eight, [&] {
        return loadInput(builder, loc, args, e.index(batch), e.index(e.h),
                         e.index(at), mask);
      });
    };
    Value first = e.mulc(e.pair, 2);
    return {sample(first), sample(e.addc(first, 1))};
  };
  auto scatter = [&](Value item, ArrayRef<Value> z,
                     ArrayRef<KernelEmitter::RangeScale> scales) {
    Value row = e.divc(item, chunks);
    Value column = e.mulc(e.remc(item, chunks), width);
    Value offset = e.swizzle(e.add(e.mulc(row, plan.columns), column));
    auto lanes = [&](Value x) {
      return leadingLanes(builder, loc, e.scaled(x, scales[0].scale), width);
    };
    e.storePart(e.seq, ReHigh, offset, lanes(z[0]));
    e.storePart(e.seq, ImHigh, offset, lanes(z[1]));
  };
  int64_t items = plan.outer() * chunks;
  if (plan.scalesRange)
    e.range = e.gatherScatterInRange(items, {{0, 1}}, gather, scatter,
                                     /*heldPerItem=*/2)
                  .front();
  else
    e.loop(e.tid, items, plan.threads,
           [&](Value item) { scatter(item, gather(item), {e.range}); });
  e.barrier();
  e.emitForward();
}

/// The outer inverse pass's output, after its inverse transforms: real
/// parts to the pair's first batch element, imaginary parts to its second,
/// the L outputs kept only.
void storeOuterOutputs(OpBuilder &builder, Location loc, OuterEmitter &e,
                       ValueRange args, StoreOutputFn storeOutput) {
  const ThreePassPlan &plan = e.plan;
  int64_t width = rowAccessWidth(plan);
  int64_t chunks = plan.columns / width;
  e.loop(e.tid, plan.outer() * chunks, plan.threads, [&](Value item) {
    OuterEmitter::RowChunk chunk = e.rowChunk(item, width);
    Value row = chunk.row, column = chunk.column, t = chunk.sample,
          at = chunk.at;
    Value first = e.mulc(e.pair, 2);
    Value inside = e.ult(t, e.c(plan.outputLength));
    // The last chunk may hold pairs past the batch.
    if (plan.firstPair + plan.workspacePairs() > plan.pairs())
      inside = arith::AndIOp::create(builder, loc, inside,
                                     e.ult(first, e.c(plan.batch)));
    Value mask = rowAccessMask(builder, loc, t, plan.outputLength, width);
    e.when(inside, [&] {
      Value offset = e.swizzle(e.add(e.mulc(row, plan.columns), column));
      auto part = [&](Plane plane) {
        return widenedLanes(
            builder, loc,
            e.scaled(e.loadPart(e.seq, plane, offset, width), e.range.unscale));
      };
      storeOutput(builder, loc, args, e.index(first), e.index(e.h), e.index(at),
                  part(ReHigh), mask);
      Value second = e.addc(first, 1);
      e.when(e.ult(second, e.c(plan.batch)), [&] {
        storeOutput(builder, loc, args, e.index(second), e.index(e.h),
                    e.index(at), part(ImHigh), mask);
      });
    });
  });
}

} // namespace

gpu::GPUFuncOp mlir::fftconv::buildOuterForwardKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, TypeRange argTypes, unsigned workspaceArg,
    const ThreePassPlan &plan, LoadInputFn loadInput) {
  OuterKernel e(builder, loc, module, name, argTypes, plan);
  forwardOuterTile(builder, loc, e, e.args(), loadInput);

  // Row k1 of the tile (at its Monarch position) to the workspace in
  // natural row order, times W_N^(n2 k1) unless the inner kernels apply it
  // (ThreePassPlan::twiddlesInInner), workspaceStoreWidth values at a time.
  // A scaled workspace takes the planes' values as they are, and the
  // tile's scale after them.
  Value workspace = e.args()[workspaceArg];
  auto whole = e.wholeSequence(workspace, e.slot, e.workspaceH);
  bool keepsScale = e.holdsScales(workspace);
  Value unscale = keepsScale ? Value() : e.range.unscale;
  int64_t storeWidth = workspaceStoreWidth(
      plan, cast<MemRefType>(workspace.getType()).getElementType());
  int64_t groups = plan.columns / storeWidth;
  e.loop(e.tid, plan.outer() * groups, plan.threads, [&](Value item) {
    Value position = e.mulc(e.divc(item, groups), plan.columns);
    Value column = e.mulc(e.remc(item, groups), storeWidth);
    Value k1 = e.frequency(position);
    Value offset = e.swizzle(e.add(position, column));
    Value re = e.scaled(e.loadPart(e.seq, ReHigh, offset, storeWidth), unscale);
    Value im = e.scaled(e.loadPart(e.seq, ImHigh, offset, storeWidth), unscale);
    Value n2 = e.add(e.firstColumn, column);
    if (!plan.twiddlesInInner())
      std::tie(re, im) = e.twiddleVector(re, im, e.globalColumn(n2), k1, -1.0);
    auto [sequence, entry] =
        e.outerEntry(whole, workspace, e.slot, e.workspaceH, k1, n2);
    e.storeComplex(sequence, entry, re, im);
  });
  assert((!keepsScale || whole) && "a scaled workspace is one GPU's");
  if (keepsScale)
    e.onFirstThread([&] {
      Value tile = e.divc(e.firstColumn, plan.columns);
      e.storeScale(*whole, e.addc(tile, plan.workspaceColumnScale(0)),
                   e.range.unscale);
    });
  gpu::GPUFuncOp kernel = e.finish();
  kernel.setArgAttr(workspaceArg, kWriteOnlyAttrName, builder.getUnitAttr());
  return kernel;
}

namespace {

/// The inner kernels: a block owns row k1 of channel h for a tile of pairs
/// (the spectrum kernel: of the one spectrum). Rows of pairs past the batch
/// are never read or written: their shared memory is left as it is (their
/// results are never stored).
struct InnerKernel : KernelScope, ThreePassEmitter {
  InnerKernel(OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
              llvm::StringRef name, TypeRange argTypes,
              const ThreePassPlan &plan, int64_t tile, int64_t pairs)
      : KernelScope(builder, loc, module, name, argTypes, plan.threads),
        ThreePassEmitter(builder, loc, innerLayout(plan), tile, plan),
        pairs(pairs) {
    begin();
    k1 = blockId(gpu::Dimension::x);
    spectrumH = h = blockId(gpu::Dimension::y);
    if (plan.firstChannel)
      spectrumH = addc(h, plan.firstChannel);
    firstPair = mulc(blockId(gpu::Dimension::z), tile);
    rowStart = mulc(k1, plan.sharded() ? plan.localColumns() : plan.inner());
  }

  /// Where position `position` of the block's row of (pair, h) is in
  /// `memref` (a workspace, or the spectrum with `pair` 0): unsharded at
  /// rowStart + position; sharded in the chunk of the rank whose outer
  /// kernels own the column.
  std::pair<Sequence, Value> rowEntry(Value memref, Value pair, Value position,
                                      const std::optional<Sequence> &whole = {},
                                      Value channel = {}) {
    if (!channel)
      channel = h;
    if (!plan.sharded())
      return {whole ? *whole : sequenceOf(memref, pair, channel),
              add(rowStart, position)};
    int64_t columns = plan.localColumns();
    return {chunkOf(memref, divc(position, columns), pair, channel),
            add(rowStart, remc(position, columns))};
  }

  /// The block's row among all N1 (sharded, the rank's rows are a range of
  /// them).
  Value globalRow() {
    return plan.sharded() ? addc(k1, plan.rank * plan.localRows()) : k1;
  }

  /// The three-pass twiddle W_N^(sign n2 k1) of the block's row k1, where
  /// it is the inner kernels' (ThreePassPlan::twiddlesInInner): applied in
  /// f32 as they load a row (sign -1) and as they store it (+1). Its powers
  /// for the lanes of a quad, once a kernel: a quad's twiddles are one root
  /// and three products.
  struct RowTwiddle {
    Value row;
    std::array<Complex, 3> steps;
    double sign;
  };
  RowTwiddle rowTwiddle(double sign) {
    RowTwiddle t{globalRow(), {}, sign};
    // q k1 < 4 N1 <= N: within the root's period.
    for (int64_t q = 1; q <= 3; ++q)
      t.steps[q - 1] = root(mulc(t.row, q), plan.length, sign);
    return t;
  }
  /// The twiddles of the four values of the row from `position` on.
  using QuadTwiddles = std::array<Complex, 4>;
  QuadTwiddles quadTwiddles(Value position, const RowTwiddle &t) {
    // n2 < N2 and k1 < N1, so the product stays below N.
    Complex base = root(mul(position, t.row), plan.length, t.sign);
    return {base, cmul(base, t.steps[0]), cmul(base, t.steps[1]),
            cmul(base, t.steps[2])};
  }
  /// (re, im), four values, times `w`.
  std::pair<Value, Value> twiddled(Value re, Value im, const QuadTwiddles &w) {
    SmallVector<Value, 4> outRe, outIm;
    for (int64_t q = 0; q < 4; ++q) {
      Complex x{vector::ExtractOp::create(b, loc, re, ArrayRef<int64_t>{q}),
                vector::ExtractOp::create(b, loc, im, ArrayRef<int64_t>{q})};
      Complex y = cmul(x, w[q]);
      outRe.push_back(y.re);
      outIm.push_back(y.im);
    }
    auto type = VectorType::get({4}, f32);
    return {vector::FromElementsOp::create(b, loc, type, outRe),
            vector::FromElementsOp::create(b, loc, type, outIm)};
  }
  /// The same of four interleaved values.
  Value twiddledInterleaved(Value both, const QuadTwiddles &w) {
    auto [re, im] =
        twiddled(vector::ShuffleOp::create(b, loc, both, both,
                                           ArrayRef<int64_t>{0, 2, 4, 6}),
                 vector::ShuffleOp::create(b, loc, both, both,
                                           ArrayRef<int64_t>{1, 3, 5, 7}),
                 w);
    return vector::ShuffleOp::create(b, loc, re, im,
                                     ArrayRef<int64_t>{0, 4, 1, 5, 2, 6, 3, 7});
  }
  /// Runs `body(seq, position, twiddles)` for the `count` sequences and the
  /// quads of a row: sequence-major, as the rows lie; but, where the row's
  /// twiddles are the inner kernels', a thread's quad for every sequence in
  /// turn, so that a quad's twiddles are computed once for them all.
  /// Without twiddles, groups of `width` positions rather than quads.
  void forEachQuad(
      int64_t count, std::optional<RowTwiddle> twiddle,
      function_ref<void(Value, Value, const std::optional<QuadTwiddles> &)>
          body,
      int64_t width = 4) {
    if (!twiddle) {
      int64_t groups = plan.inner() / width;
      loop(tid, count * groups, plan.threads, [&](Value item) {
        body(divc(item, groups), mulc(remc(item, groups), width), std::nullopt);
      });
      return;
    }
    loop(tid, quads(), plan.threads, [&](Value quad) {
      Value position = mulc(quad, 4);
      std::optional<QuadTwiddles> w = quadTwiddles(position, *twiddle);
      for (int64_t seq = 0; seq < count; ++seq)
        body(c(seq), position, w);
    });
  }

  /// The block's rows from the workspace (argument 0) into shared memory,
  /// and their forward transforms.
  void forwardRows(bool skipLast = false) {
    range = loadRows({{args()[0], 0}}, firstPair, tile).front();
    barrier();
    emitForward(skipLast);
  }
  /// The inverse transforms, and the rows back to the workspace (argument
  /// `rowsOut`).
  void inverseRows(bool skipLast = false) {
    emitInverse(skipLast);
    storeRows(args()[rowsOut], firstPair, 0, tile, range.unscale);
  }

  /// Where loadRows puts the rows of a workspace: memref<P x H x 2N x f32>,
  /// or a rank-2 one for a single row, into sequences `firstSeq` ...
  struct RowSource {
    Value workspace;
    int64_t firstSeq;
  };
  /// Rows of pairs `firstPair` .. + `count` of each source into its
  /// sequences; rows of pairs past the workspace's are zero. With
  /// `scalesRange`, each source's rows scaled by a range scale of their
  /// own, which it returns (all null otherwise).
  SmallVector<RangeScale> loadRows(ArrayRef<RowSource> sources, Value firstPair,
                                   int64_t count) {
    auto eight = VectorType::get({8}, f32);
    std::optional<RowTwiddle> twiddle;
    if (plan.twiddlesInInner())
      twiddle = rowTwiddle(-1.0);
    // Each source's row of sequence `seq` at `position`, twiddled (before a
    // range scale measures them) where the twiddle is the kernel's.
    auto gatherAt = [&](Value seq, Value position,
                        const std::optional<QuadTwiddles> &w) {
      Value pair = add(firstPair, seq);
      Value inside = pairs % count ? ult(pair, c(pairs)) : Value();
      SmallVector<Value> rows;
      for (const RowSource &source : sources) {
        auto [sequence, entry] = rowEntry(source.workspace, pair, position);
        // A scaled workspace's values times the scale of their tile of
        // columns (a quad lies in one).
        bool scaledValues = holdsScales(source.workspace);
        Value both =
            loadOrZero(inside, eight, [&, sequence = sequence, entry = entry] {
              Value values = loadInterleaved(sequence, entry, 4);
              if (!scaledValues)
                return values;
              Value tile = divc(position, plan.columns);
              return scaled(
                  values, loadScale(sequence,
                                    addc(tile, plan.workspaceColumnScale(0))));
            });
        rows.push_back(w ? twiddledInterleaved(both, *w) : both);
      }
      return rows;
    };
    auto scatterAt = [&](Value seq, Value position, ArrayRef<Value> rows,
                         ArrayRef<RangeScale> scales) {
      Value at = swizzle(position);
      for (auto [source, both, scale] :
           llvm::zip_equal(sources, rows, scales)) {
        Value values = scaled(both, scale.scale);
        Value target = addc(seq, source.firstSeq);
        storePart(target, ReHigh, at,
                  vector::ShuffleOp::create(b, loc, values, values,
                                            ArrayRef<int64_t>{0, 2, 4, 6}));
        storePart(target, ImHigh, at,
                  vector::ShuffleOp::create(b, loc, values, values,
                                            ArrayRef<int64_t>{1, 3, 5, 7}));
      }
    };
    if (plan.scalesRange) {
      // Item by item: a thread holds an item's values until the scale is
      // known.
      auto seqOf = [&](Value item) { return divc(item, quads()); };
      auto positionOf = [&](Value item) {
        return mulc(remc(item, quads()), 4);
      };
      auto gather = [&](Value item) -> SmallVector<Value> {
        Value seq = seqOf(item);
        Value position = positionOf(item);
        std::optional<QuadTwiddles> w;
        if (twiddle)
          w = quadTwiddles(position, *twiddle);
        return gatherAt(seq, position, w);
      };
      auto scatter = [&](Value item, ArrayRef<Value> rows,
                         ArrayRef<RangeScale> scales) {
        scatterAt(seqOf(item), positionOf(item), rows, scales);
      };
      SmallVector<SequenceSpan> spans;
      for (const RowSource &source : sources)
        spans.push_back({source.firstSeq, count});
      return gatherScatterInRange(count * quads(), spans, gather, scatter,
                                  /*heldPerItem=*/sources.size());
    }
    SmallVector<RangeScale> none(sources.size());
    forEachQuad(
        count, twiddle,
        [&](Value seq, Value position, const std::optional<QuadTwiddles> &w) {
          scatterAt(seq, position, gatherAt(seq, position, w), none);
        });
    return none;
  }

  /// Sequences `firstSeq` .. + `count` back to the rows of pairs
  /// `firstPair` .. of `workspace` (those within it), times `unscale`
  /// where it is not null (and the row's inverse twiddle where it is the
  /// inner kernels'); a scaled workspace takes them as the planes hold them
  /// and `unscale` as each row's scale.
  void storeRows(Value workspace, Value firstPair, int64_t firstSeq,
                 int64_t count, Value unscale) {
    if (holdsScales(workspace)) {
      for (int64_t seq = 0; seq < count; ++seq) {
        Value pair = addc(firstPair, seq);
        auto store = [&] {
          auto [sequence, entry] = rowEntry(workspace, pair, c(0));
          storeScale(sequence, addc(globalRow(), plan.workspaceRowScale(0)),
                     unscale);
        };
        onFirstThread([&] {
          if (pairs % count)
            when(ult(pair, c(pairs)), store);
          else
            store();
        });
      }
      unscale = Value();
    }
    std::optional<RowTwiddle> twiddle;
    if (plan.twiddlesInInner())
      twiddle = rowTwiddle(1.0);
    // workspaceStoreWidth values a thread, but quads where the thread
    // computes a quad's twiddles once for every sequence.
    int64_t width =
        twiddle
            ? 4
            : workspaceStoreWidth(
                  plan, cast<MemRefType>(workspace.getType()).getElementType());
    forEachQuad(
        count, twiddle,
        [&](Value seq, Value position, const std::optional<QuadTwiddles> &w) {
          Value pair = add(firstPair, seq);
          auto store = [&] {
            auto [sequence, entry] = rowEntry(workspace, pair, position);
            Value at = swizzle(position);
            Value source = addc(seq, firstSeq);
            Value re = scaled(loadPart(source, ReHigh, at, width), unscale);
            Value im = scaled(loadPart(source, ImHigh, at, width), unscale);
            if (w)
              std::tie(re, im) = twiddled(re, im, *w);
            storeComplex(sequence, entry, re, im);
          };
          if (pairs % count)
            when(ult(pair, c(pairs)), store);
          else
            store();
        },
        width);
  }

  /// The block's row; its channel in the workspace (`h`) and in K (the
  /// same but where the workspace holds a chunk of the channels).
  Value k1, h, spectrumH, firstPair, rowStart;

  /// The block's range scale (forwardRows), null where the plan's inputs
  /// are f16.
  RangeScale range;
  /// The argument inverseRows stores the rows to: 0, where forwardRows
  /// loads them, or another (the sharded inner kernel's, whose rows go to
  /// an exchange a runtime may do by these stores).
  unsigned rowsOut = 0;

private:
  int64_t quads() const { return plan.inner() / 4; }

  int64_t pairs; // pairs in the workspace (1: the spectrum)
};

} // namespace

MemRefType mlir::fftconv::threePassWorkspaceType(OpBuilder &b,
                                                 const ThreePassPlan &plan) {
  Type element = plan.halfWorkspace ? Type(b.getF16Type()) : b.getF32Type();
  if (plan.sharded())
    return MemRefType::get({plan.ranks, plan.workspacePairs(),
                            plan.workspaceChannels(), 2 * plan.chunkLength()},
                           element);
  return MemRefType::get({plan.workspacePairs(), plan.workspaceChannels(),
                          2 * (plan.length + plan.workspaceScaleSlots())},
                         element);
}
MemRefType mlir::fftconv::threePassSpectrumType(OpBuilder &b,
                                                const ThreePassPlan &plan) {
  if (plan.sharded())
    return MemRefType::get(
        {plan.ranks, 1, plan.channels, 2 * plan.chunkLength()}, b.getF32Type());
  return MemRefType::get({plan.channels, 2 * plan.length}, b.getF32Type());
}
MemRefType mlir::fftconv::threePassSumsType(OpBuilder &b,
                                            const ThreePassPlan &plan,
                                            int64_t groups) {
  if (plan.sharded())
    return MemRefType::get(
        {plan.ranks, groups, plan.channels, 2 * plan.chunkLength()},
        b.getF32Type());
  return MemRefType::get({groups, plan.channels, 2 * plan.length},
                         b.getF32Type());
}
static MemRefType spectrumType(OpBuilder &b, const ThreePassPlan &plan) {
  return threePassSpectrumType(b, plan);
}

gpu::GPUFuncOp mlir::fftconv::buildInnerKernel(OpBuilder &builder, Location loc,
                                               gpu::GPUModuleOp module,
                                               llvm::StringRef name,
                                               const ThreePassPlan &plan) {
  // Sharded, the rows are stored to an argument of their own (the exchange
  // back's send buffer), which the kernel never loads from.
  MemRefType rows = threePassWorkspaceType(builder, plan);
  SmallVector<Type, 3> argTypes = {rows};
  if (plan.sharded())
    argTypes.push_back(rows);
  argTypes.push_back(spectrumType(builder, plan));
  InnerKernel e(builder, loc, module, name, argTypes, plan, plan.pairTile,
                plan.workspacePairs());
  unsigned spectrumArg = argTypes.size() - 1;
  e.rowsOut = plan.sharded() ? 1 : 0;
  auto finish = [&] {
    gpu::GPUFuncOp kernel = e.finish();
    if (plan.sharded()) {
      kernel.setArgAttr(e.rowsOut, kWriteOnlyAttrName, builder.getUnitAttr());
      // The two are one buffer unless a runtime binds the rows out to the
      // peers': not noalias (each block reads its rows before it stores
      // them, and no other block's).
      for (unsigned arg : {0u, e.rowsOut})
        kernel.removeArgAttr(arg, LLVM::LLVMDialect::getNoAliasAttrName());
    }
    return kernel;
  };
  bool fused = e.fusesPointwiseProduct();
  e.forwardRows(/*skipLast=*/fused);
  auto whole = e.wholeSequence(e.args()[spectrumArg], e.c(0), e.spectrumH);
  if (fused) {
    // The last forward stage, y = x K and the first inverse stage in
    // registers, a group of m consecutive positions at a time (K's m
    // coefficients lie together).
    e.emitFusedPointwiseProduct([&](Value, Value start) {
      auto [spectrum, entry] =
          e.rowEntry(e.args()[spectrumArg], e.c(0), start, whole, e.spectrumH);
      return e.loadComplexValues(spectrum, entry, e.layout.factors.back());
    });
    e.inverseRows(/*skipLast=*/true);
    return finish();
  }
  // y = x K at every position of the row, for every pair of the block, with
  // the coefficient loaded once.
  e.distribute(e.tid, plan.threads, plan.inner(), [&](Value p) {
    auto [spectrum, entry] =
        e.rowEntry(e.args()[spectrumArg], e.c(0), p, whole, e.spectrumH);
    KernelEmitter::Complex k = e.loadComplexValue(spectrum, entry);
    Value offset = e.swizzle(p);
    e.forEachSequence([&](Value seq) {
      e.store(seq, offset, e.cmul(e.load(seq, offset), k));
    });
  });
  e.barrier();
  e.inverseRows();
  return finish();
}

gpu::GPUFuncOp mlir::fftconv::buildInnerSpectrumKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, const ThreePassPlan &plan, bool conjugate,
    int64_t band) {
  InnerKernel e(builder, loc, module, name, {spectrumType(builder, plan)}, plan,
                /*tile=*/1, /*pairs=*/1);
  e.forwardRows();
  // The stages left K / sqrt(N) (unitary): store K at the row's Monarch
  // positions, which the inner kernel reads in place.
  auto whole = e.wholeSequence(e.args()[0], e.c(0), e.h);
  auto four = VectorType::get({4}, builder.getF32Type());
  double scale = std::sqrt(double(plan.length));
  Value rowScale = e.scaled(e.cf(scale), e.range.unscale);
  Value unscale = vector::BroadcastOp::create(builder, loc, four, rowScale);
  Value unscaleIm = vector::BroadcastOp::create(
      builder, loc, four,
      conjugate ? arith::NegFOp::create(builder, loc, rowScale).getResult()
                : rowScale);
  e.loop(e.tid, plan.inner() / 4, plan.threads, [&](Value quad) {
    Value position = e.mulc(quad, 4);
    Value at = e.swizzle(position);
    Value re = e.fmul(e.loadPart(e.c(0), ReHigh, at, 4), unscale);
    Value im = e.fmul(e.loadPart(e.c(0), ImHigh, at, 4), unscaleIm);
    if (band) {
      // Position p of row k1 holds frequency k1 + N1 k2, k2 = frequency(p);
      // sharded, the block's row is the rank's k1-th.
      Value row = e.globalRow();
      SmallVector<Value> inside;
      for (int64_t q = 0; q < 4; ++q) {
        Value f =
            e.add(row, e.mulc(e.frequency(e.addc(position, q)), plan.outer()));
        inside.push_back(
            arith::OrIOp::create(builder, loc, e.ult(f, e.c(band)),
                                 e.ult(e.sub(e.c(plan.length), f), e.c(band))));
      }
      Value mask = vector::FromElementsOp::create(
          builder, loc, VectorType::get({4}, builder.getI1Type()), inside);
      Value zero = arith::ConstantOp::create(
          builder, loc, DenseElementsAttr::get(cast<ShapedType>(four), 0.0f));
      re = arith::SelectOp::create(builder, loc, mask, re, zero);
      im = arith::SelectOp::create(builder, loc, mask, im, zero);
    }
    auto [spectrum, entry] = e.rowEntry(e.args()[0], e.c(0), position, whole);
    e.storeComplex(spectrum, entry, re, im);
  });
  return e.finish();
}

gpu::GPUFuncOp mlir::fftconv::buildOuterInverseKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, TypeRange argTypes, unsigned workspaceArg,
    const ThreePassPlan &plan, StoreOutputFn storeOutput) {
  OuterKernel e(builder, loc, module, name, argTypes, plan);

  // Row k1 from the workspace times W_N^(-n2 k1) (unless the inner kernel
  // that stored it applied it) to its Monarch position.
  auto whole = e.wholeSequence(e.args()[workspaceArg], e.slot, e.workspaceH);
  int64_t quads = plan.columns / 4;
  auto gather = [&](Value item) -> SmallVector<Value> {
    Value k1 = e.divc(item, quads);
    Value column = e.mulc(e.remc(item, quads), 4);
    Value n2 = e.add(e.firstColumn, column);
    auto [sequence, entry] = e.outerEntry(whole, e.args()[workspaceArg], e.slot,
                                          e.workspaceH, k1, n2);
    Value values = e.loadInterleaved(sequence, entry, 4);
    // A scaled workspace's values times their row's scale.
    if (e.holdsScales(e.args()[workspaceArg]))
      values = e.scaled(
          values, e.loadScale(sequence, e.addc(k1, plan.workspaceRowScale(0))));
    return {values};
  };
  auto scatter = [&](Value item, ArrayRef<Value> loaded,
                     ArrayRef<KernelEmitter::RangeScale> scales) {
    Value k1 = e.divc(item, quads);
    Value column = e.mulc(e.remc(item, quads), 4);
    Value both = e.scaled(loaded.front(), scales[0].scale);
    Value re = vector::ShuffleOp::create(builder, loc, both, both,
                                         ArrayRef<int64_t>{0, 2, 4, 6});
    Value im = vector::ShuffleOp::create(builder, loc, both, both,
                                         ArrayRef<int64_t>{1, 3, 5, 7});
    if (!plan.twiddlesInInner()) {
      Value n2 = e.add(e.firstColumn, column);
      std::tie(re, im) = e.twiddleVector(re, im, e.globalColumn(n2), k1, 1.0);
    }
    Value offset = e.swizzle(e.add(e.positionOf(k1), column));
    e.storePart(e.seq, ReHigh, offset, re);
    e.storePart(e.seq, ImHigh, offset, im);
  };
  int64_t items = plan.outer() * quads;
  if (plan.scalesRange)
    e.range = e.gatherScatterInRange(items, {{0, 1}}, gather, scatter).front();
  else
    e.loop(e.tid, items, plan.threads,
           [&](Value item) { scatter(item, gather(item), {e.range}); });
  e.barrier();
  e.emitInverse();
  storeOuterOutputs(builder, loc, e, e.args(), storeOutput);
  return e.finish();
}

gpu::GPUFuncOp mlir::fftconv::buildClusteredThreePassKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, TypeRange argTypes, unsigned spectrumArg,
    const ThreePassPlan &plan, GPUPrecision outerForward,
    GPUPrecision outerInverse, LoadInputFn loadInput,
    StoreOutputFn storeOutput) {
  assert(plan.clustered() && !plan.sharded() && !plan.scalesRange &&
         "a clustered three-pass kernel runs f16 data on one GPU");
  KernelScope scope(builder, loc, module, name, argTypes, plan.threads);
  scope.setClusterBlocks(plan.cluster);
  ValueRange args = scope.args();
  ThreePassPlan forwardPlan = plan, inversePlan = plan;
  forwardPlan.precision = outerForward;
  inversePlan.precision = outerInverse;
  forwardPlan.columns = inversePlan.columns = plan.clusterColumns();
  // One buffer holds the block's tile of columns and, in turn, its rows.
  int64_t rows = plan.clusterRows();
  ThreePassEmitter inner(builder, loc, innerLayout(plan), rows, plan);
  OuterEmitter forward(builder, loc, forwardPlan),
      inverse(builder, loc, inversePlan);
  inner.beginAt(0);
  forward.start(0);
  inverse.start(0);
  // A thread's kClusterExchangeValues-value groups of the block's
  // `items`, read (`gather`) all before the cluster barrier, after which
  // every block's buffer may be written, and written to their blocks
  // (`scatter`); a second barrier before the next pass reads them. Held at
  // the destination's precision (f16 at Half); `scatter` computes the
  // group's place again rather than hold it across the barrier (the held
  // values already cost a fourth block an SM its registers' headroom).
  int64_t items = plan.clusterExchanges();
  auto exchange =
      [&](KernelEmitter &e, const SequenceLayout &destination,
          function_ref<std::pair<Value, Value>(Value item)> gather,
          function_ref<void(Value item, Value re, Value im)> scatter) {
        auto narrow = [&](Value x) -> Value {
          if (destination.isSplit())
            return x;
          return arith::TruncFOp::create(
              builder, loc,
              VectorType::get({ThreePassPlan::kClusterExchangeValues},
                              builder.getF16Type()),
              x);
        };
        SmallVector<std::pair<Value, Value>> held;
        for (int64_t i = 0; i < items / plan.threads; ++i) {
          auto [re, im] = gather(e.addc(e.tid, i * plan.threads));
          held.push_back({narrow(re), narrow(im)});
        }
        e.clusterBarrier();
        for (auto [i, values] : llvm::enumerate(held))
          scatter(e.addc(e.tid, int64_t(i) * plan.threads), values.first,
                  values.second);
        e.clusterBarrier();
      };

  forwardOuterTile(builder, loc, forward, args, loadInput);
  // Row k1 of the tile, times W_N^(n2 k1) in f32, to row k1 mod R of the
  // block that owns it, at natural positions.
  constexpr int64_t width = ThreePassPlan::kClusterExchangeValues;
  int64_t columns = plan.clusterColumns(), groups = columns / width;
  exchange(
      forward, inner.layout,
      [&](Value item) -> std::pair<Value, Value> {
        Value position = forward.mulc(forward.divc(item, groups), columns);
        Value column = forward.mulc(forward.remc(item, groups), width);
        Value k1 = forward.frequency(position);
        Value offset = forward.swizzle(forward.add(position, column));
        return forward.twiddleVector(
            forward.loadPart(forward.seq, ReHigh, offset, width),
            forward.loadPart(forward.seq, ImHigh, offset, width),
            forward.add(forward.firstColumn, column), k1, -1.0);
      },
      [&](Value item, Value re, Value im) {
        Value position = forward.mulc(forward.divc(item, groups), columns);
        Value column = forward.mulc(forward.remc(item, groups), width);
        Value k1 = forward.frequency(position);
        Value peer = inner.peerSharedMemory(inner.divc(k1, rows));
        Value row = inner.remc(k1, rows);
        Value at = inner.swizzle(forward.add(forward.firstColumn, column));
        inner.storePeerPart(peer, row, ReHigh, at, re);
        inner.storePeerPart(peer, row, ImHigh, at, im);
      });

  // The block's rows k1 = r R + seq: their transforms, y = x K, the inverse.
  Value firstRow = inner.mulc(inner.blockId(gpu::Dimension::x), rows);
  auto spectrum = inner.sequenceOf(args[spectrumArg], inner.c(0), forward.h);
  auto coefficientAt = [&](Value seq, Value position) {
    return inner.add(inner.mulc(inner.add(firstRow, seq), plan.inner()),
                     position);
  };
  bool fused = inner.fusesPointwiseProduct();
  inner.emitForward(/*skipLast=*/fused);
  if (fused) {
    inner.emitFusedPointwiseProduct([&](Value seq, Value start) {
      return inner.loadComplexValues(spectrum, coefficientAt(seq, start),
                                     inner.layout.factors.back());
    });
  } else {
    inner.distribute(inner.tid, plan.threads, plan.inner(), [&](Value p) {
      Value offset = inner.swizzle(p);
      inner.forEachSequence([&](Value seq) {
        KernelEmitter::Complex k =
            inner.loadComplexValue(spectrum, coefficientAt(seq, p));
        inner.store(seq, offset, inner.cmul(inner.load(seq, offset), k));
      });
    });
    inner.barrier();
  }
  inner.emitInverse(/*skipLast=*/fused);

  // Each row, times W_N^(-n2 k1), back to the blocks of its columns, at the
  // row's Monarch position of their tiles.
  int64_t rowGroups = plan.inner() / width;
  exchange(
      inner, inverse.layout,
      [&](Value item) -> std::pair<Value, Value> {
        Value seq = inner.divc(item, rowGroups);
        Value n2 = inner.mulc(inner.remc(item, rowGroups), width);
        Value at = inner.swizzle(n2);
        return inner.twiddleVector(inner.loadPart(seq, ReHigh, at, width),
                                   inner.loadPart(seq, ImHigh, at, width), n2,
                                   inner.add(firstRow, seq), 1.0);
      },
      [&](Value item, Value re, Value im) {
        Value seq = inner.divc(item, rowGroups);
        Value n2 = inner.mulc(inner.remc(item, rowGroups), width);
        Value k1 = inner.add(firstRow, seq);
        Value column = inverse.remc(n2, columns);
        Value offset =
            inverse.swizzle(inverse.add(inverse.positionOf(k1), column));
        Value peer = inverse.peerSharedMemory(inverse.divc(n2, columns));
        inverse.storePeerPart(peer, inverse.seq, ReHigh, offset, re);
        inverse.storePeerPart(peer, inverse.seq, ImHigh, offset, im);
      });
  inverse.emitInverse();
  storeOuterOutputs(builder, loc, inverse, args, storeOutput);
  return scope.finish();
}

gpu::GPUFuncOp mlir::fftconv::buildInnerCrossSpectrumKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, const ThreePassPlan &plan, int64_t groups,
    bool accumulate, InnerBackwardProducts products) {
  MemRefType workspace = threePassWorkspaceType(builder, plan);
  MemRefType sums = threePassSumsType(builder, plan, groups);
  SmallVector<Type> argTypes = {workspace, workspace, sums};
  if (products.any())
    argTypes.push_back(spectrumType(builder, plan));
  int64_t pairTile = plan.pairTile;
  InnerKernel e(builder, loc, module, name, argTypes, plan, 2 * pairTile,
                plan.workspacePairs());
  Value group = e.blockId(gpu::Dimension::z);
  auto row = e.wholeSequence(e.args()[2], group, e.h);
  auto eight = VectorType::get({8}, builder.getF32Type());

  // The row's running sum, complex f32 interleaved at natural positions:
  // the chunks before this one's (or zero), then this chunk's pairs.
  Value sum = e.sharedArray(e.f32, plan.crossSharedBytes() - plan.inner() * 8,
                            2 * plan.inner());
  e.loop(e.tid, plan.inner() / 4, plan.threads, [&](Value quad) {
    Value position = e.mulc(quad, 4);
    Value value;
    if (accumulate) {
      auto [sequence, entry] = e.rowEntry(e.args()[2], group, position, row);
      auto load = vector::LoadOp::create(builder, loc, eight, sequence.memref,
                                         e.at(sequence, entry));
      load.setAlignment(16);
      value = load;
    } else {
      value = arith::ConstantOp::create(builder, loc, eight,
                                        builder.getZeroAttr(eight));
    }
    vector::StoreOp::create(builder, loc, value, sum,
                            e.index(e.mulc(position, 2)));
  });

  // Per tile of the group's pairs: the rows of W (g's pairs) into sequences
  // 0 .. T-1 and of Z (v's) into T .. 2T-1, their forward transforms, and
  // the sum over the tile of conj(Z) W added to the row. Re of the inverse
  // of conj(Z) W, Z = V1 + i V2 and W = G1 + i G2, is the correlation of
  // v1 with g1 plus that of v2 with g2: the imaginary part holds the cross
  // terms, which the outer inverse kernel drops. With `products`, the same
  // rows then become the backward's convolutions: W conj(K) and Z K, their
  // inverse row transforms, back to the workspaces.
  auto spectrum =
      products.any() ? e.wholeSequence(e.args()[3], e.c(0), e.h) : std::nullopt;
  int64_t tiles = llvm::divideCeil(plan.workspacePairs(), pairTile);
  e.loop(group, tiles, groups, [&](Value tile) {
    Value first = e.mulc(tile, pairTile);
    SmallVector<KernelEmitter::RangeScale> scales = e.loadRows(
        {{e.args()[1], 0}, {e.args()[0], pairTile}}, first, pairTile);
    KernelEmitter::RangeScale rangeW = scales[0], rangeZ = scales[1];
    // conj(Z) W of Z and W scaled, scaled back.
    Value unscale =
        rangeW.unscale ? e.fmul(rangeW.unscale, rangeZ.unscale) : Value();
    e.barrier();
    e.emitForward();
    e.loop(e.tid, plan.inner(), plan.threads, [&](Value p) {
      Value offset = e.swizzle(p);
      KernelEmitter::Complex k;
      if (products.any()) {
        auto [sequence, entry] = e.rowEntry(e.args()[3], e.c(0), p, spectrum);
        k = e.loadComplexValue(sequence, entry);
      }
      KernelEmitter::Complex total{e.cf(0.0), e.cf(0.0)};
      for (int64_t i = 0; i < pairTile; ++i) {
        KernelEmitter::Complex w = e.load(e.c(i), offset);
        KernelEmitter::Complex z = e.load(e.c(pairTile + i), offset);
        total = e.cadd(total, e.cmul(e.conj(z), w));
        if (products.correlation)
          e.store(e.c(i), offset, e.cmul(w, e.conj(k)));
        if (products.convolution)
          e.store(e.c(pairTile + i), offset, e.cmul(z, k));
      }
      total = {e.scaled(total.re, unscale), e.scaled(total.im, unscale)};
      Value re = e.mulc(p, 2), im = e.addc(re, 1);
      for (auto [at, part] :
           {std::pair(re, total.re), std::pair(im, total.im)}) {
        Value old = memref::LoadOp::create(builder, loc, sum, e.index(at));
        memref::StoreOp::create(builder, loc, e.fadd(old, part), sum,
                                e.index(at));
      }
    });
    if (products.any()) {
      e.barrier();
      // Only the W rows where Z's convolution is not wanted.
      e.tile = products.convolution ? 2 * pairTile : pairTile;
      e.emitInverse();
      e.tile = 2 * pairTile;
      if (products.correlation)
        e.storeRows(e.args()[1], first, 0, pairTile, rangeW.unscale);
      if (products.convolution)
        e.storeRows(e.args()[0], first, pairTile, pairTile, rangeZ.unscale);
    }
    // The next tile overwrites the rows this one's products read.
    e.barrier();
  });

  e.loop(e.tid, plan.inner() / 4, plan.threads, [&](Value quad) {
    Value position = e.mulc(quad, 4);
    auto load = vector::LoadOp::create(builder, loc, eight, sum,
                                       e.index(e.mulc(position, 2)));
    auto [sequence, entry] = e.rowEntry(e.args()[2], group, position, row);
    vector::StoreOp::create(builder, loc, load, sequence.memref,
                            e.at(sequence, entry))
        .setAlignment(16);
  });
  return e.finish();
}

gpu::GPUFuncOp mlir::fftconv::buildInnerSumInverseKernel(
    OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
    llvm::StringRef name, const ThreePassPlan &plan, int64_t groups) {
  MemRefType sums = threePassSumsType(builder, plan, groups);
  InnerKernel e(builder, loc, module, name, {sums}, plan, /*tile=*/1,
                /*pairs=*/1);
  // Row k1 of the groups' sums, added, at natural positions.
  auto eight = VectorType::get({8}, builder.getF32Type());
  auto gather = [&](Value quad) -> SmallVector<Value> {
    Value position = e.mulc(quad, 4);
    Value total;
    for (int64_t g = 0; g < groups; ++g) {
      auto [row, entry] = e.rowEntry(e.args()[0], e.c(g), position);
      auto load = vector::LoadOp::create(builder, loc, eight, row.memref,
                                         e.at(row, entry));
      load.setAlignment(16);
      total = total
                  ? arith::AddFOp::create(builder, loc, total, load).getResult()
                  : load.getResult();
    }
    return {total};
  };
  // The sums are f32, and as small as the gradients they came from.
  auto scatter = [&](Value quad, ArrayRef<Value> sums,
                     ArrayRef<KernelEmitter::RangeScale> scales) {
    Value position = e.mulc(quad, 4);
    Value total = e.scaled(sums.front(), scales[0].scale);
    Value at = e.swizzle(position);
    e.storePart(e.c(0), ReHigh, at,
                vector::ShuffleOp::create(builder, loc, total, total,
                                          ArrayRef<int64_t>{0, 2, 4, 6}));
    e.storePart(e.c(0), ImHigh, at,
                vector::ShuffleOp::create(builder, loc, total, total,
                                          ArrayRef<int64_t>{1, 3, 5, 7}));
  };
  if (plan.scalesRange)
    e.range =
        e.gatherScatterInRange(plan.inner() / 4, {{0, 1}}, gather, scatter)
            .front();
  else
    e.loop(e.tid, plan.inner() / 4, plan.threads,
           [&](Value quad) { scatter(quad, gather(quad), {e.range}); });
  e.barrier();
  e.inverseRows();
  return e.finish();
}
