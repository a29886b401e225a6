//===- KernelEmitter.h - building blocks of the FFT kernels -----*- C++ -*-===//
//
// The emitter every GPU kernel of a convolution is built with: 32-bit index
// arithmetic, sequences held in swizzled shared memory as four f16 planes,
// and the Monarch stages over them (tensor-core stages for factors of 16 and
// 32, FMA stages for 2, 4 and 8; the fused product pass runs a last 8 or 16
// on the FMA units). Private to the ButterflyToGPU lowering;
// its parts live in one file each: KernelEmitter.cpp (scalars, control
// flow, the kernel function), SharedMemory.cpp (the planes), Twiddles.cpp,
// Stages.cpp (their order and the Monarch positions), FMAStage.cpp,
// TensorCoreStage.cpp, TensorCorePair.cpp (the last two stages in
// registers), WarpgroupStage.cpp (a last stage of 64 on sm_90a's wgmma),
// Fragments.cpp (constant MMA operands) and SpectralProduct.cpp.
//
// Layout. A sequence of `SequenceLayout::length` complex values lives in
// shared memory as f16 planes: at Split precision four, Re high, Re low,
// Im high, Im low (x = high + low holds x to about 2^-22); at Half
// precision two, Re and Im. A position is a mixed-radix
// number over `factors`, most significant first; stage s of the first
// `transformed` factors views a position as [a, m, c] (a the product of the
// factors before s, c of those after, the untransformed ones included) and
// applies the DFT of size m along the middle digit, in place, leaving the
// spectrum in Monarch order; the inverse stages run backwards and leave the
// signal in natural order, so nothing is ever permuted. Trailing factors
// that are not transformed are independent columns (the outer passes of the
// three-pass form transform the rows of a tile of columns).
//
// Each stage multiplies by 1/sqrt(m), so the forward transform is unitary
// (its values stay within the f16 range whatever N is) and the inverse
// carries the other 1/sqrt(M) of the inverse DFT.
//
// Tensor cores. A stage of size m = 16 or 32 is a real product
// [Re y; Im y] = [[Fr, -Fi], [Fi, Fr]] [Re x; Im x] over tiles of 8
// columns: the factor is the A operand (loaded into registers for the stage
// from a constant table of the module, computed at compile time),
// the data the B operand (nvgpu.ldmatrix, transposed when the digit has a
// stride). At Split precision each term takes three products (Fhi xhi +
// Fhi xlo + Flo xhi), so the f16 operands lose nothing an f32 result would
// keep; at Half precision one, of a factor rounded from s F (factorScale:
// nearer F than F's own f16 rounding) and scaled back by 1/s in f32. Smaller
// factors (2, 4, 8) run on the FMA units, in f32, as radix-2 FFTs.
//
// Shared memory is swizzled in 16-byte chunks: the low three bits of a
// chunk index are XORed with a fold of the higher bits, so the 8 rows one
// ldmatrix reads fall in 8 different chunks of a 128-byte line whatever the
// stride of the digit.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_CONVERSION_BUTTERFLYTOGPU_KERNELEMITTER_H
#define LIB_CONVERSION_BUTTERFLYTOGPU_KERNELEMITTER_H

#include "fftconv/Conversion/ButterflyToGPU/ConvKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/MathExtras.h"

#include <array>
#include <optional>

namespace mlir {
namespace fftconv {
namespace detail {

/// How one sequence of a kernel is laid out in shared memory and which of
/// its digits the stages transform.
struct SequenceLayout {
  int64_t length = 0;                 // complex values of one sequence
  llvm::SmallVector<int64_t> factors; // digits, most significant first
  size_t transformed = 0;             // leading factors the stages transform
  int64_t threads = 128;              // threads of the block
  GPUPrecision precision = GPUPrecision::Split;
  /// Known zeros and unread outputs (0: none): the natural-order input is
  /// zero from `inputExtent` complex values on, and the inverse's outputs
  /// are read only below `neededOutputs` (a causal convolution's padding
  /// and its discarded half). The first forward stage skips the products
  /// of the digits that read only zeros, the last inverse stage those that
  /// write only unread outputs, a 16-digit slab at a time.
  int64_t inputExtent = 0;
  int64_t neededOutputs = 0;
  /// Frequency-sparse (0: none): every factor is transformed, the last is
  /// m, and on the spectrum side only the values whose last digit d has
  /// d < bandDigits or d >= m - bandDigits (a multiple of 8 below m / 2)
  /// matter; the others are zero (the inverse's inputs) or never read (the
  /// forward's outputs). The last forward stage computes, and the first
  /// inverse stage reads, only those digits, taken cyclically from
  /// m - bandDigits so that they fill whole 16-digit tiles; the spectral
  /// product skips the other positions.
  int64_t bandDigits = 0;
  /// At Half precision the tensor-core factors are scaled (factorScale) and
  /// each stage scales its products back, with its twiddle where it has one.
  /// With `productUnscales`, the last forward stage and every inverse stage
  /// leave theirs scaled and the spectral product, between them, takes all
  /// of them back with the coefficients (productScale): a multiply a pair
  /// instead of one a value. The forward's other stages still scale back
  /// (with their twiddles): deferred, their scales would grow the spectrum
  /// past the f16 range sooner.
  bool productUnscales = false;
  /// The data are f16 (no range scale): fp16's error budget
  /// (fusesSpectralProductAt).
  bool halfData = false;
  /// The last inverse stage (stage 0, on the tensor cores) writes the
  /// outputs from its accumulators, through the kernel's epilogue, instead
  /// of into the planes for a pass of their own
  /// (butterfly::writesDirectOutput).
  bool directOutput = false;

  bool isSplit() const { return precision == GPUPrecision::Split; }
  int64_t planes() const { return planesOf(precision); }
  /// Whether the last stage runs on the warpgroup MMA (a transformed last
  /// factor of 64; an outer pass's 64 columns are not a stage).
  bool warpgroupStage() const {
    return transformed == factors.size() &&
           butterfly::hasWarpgroupStage(factors);
  }
};

using ::mlir::butterfly::kThreadsPerWarp;

/// The planes of a sequence at Split precision; at Half precision only the
/// high planes exist.
enum Plane : int64_t { ReHigh = 0, ReLow = 1, ImHigh = 2, ImLow = 3 };

struct StageShape {
  int64_t size;   // m
  int64_t stride; // c: product of the factors after the stage
};

/// The digits of a stage that may read a nonzero value (its inputs) or
/// write a value that is read (its outputs): `count` of them, from digit
/// `first` on, cyclically (digit (first + i) mod m for i < count).
struct LiveDigits {
  int64_t count;
  int64_t first = 0;
};

/// The MMA operand fragments a lane holds (mma.m16n8k16 and m16n8k8, f16
/// operands, f32 accumulators): A tiles of 16 x 16 and 16 x 8, B tiles
/// (k x n) of 16 x 8 and 8 x 8, accumulator tiles of 16 x 8.
enum class Fragment { A16x16, A16x8, B16x8, B8x8, C16x8 };
/// The values a lane holds of a fragment.
int64_t fragmentValues(Fragment kind);
/// Row and column (k and n for a B tile) of value `value` of lane `lane`.
std::pair<int64_t, int64_t> fragmentElement(Fragment kind, int64_t lane,
                                            int64_t value);
/// x rounded to the nearest f16, as a double.
double roundToHalf(double x);

/// Emits the body of one kernel: index arithmetic, the shared-memory
/// planes, and the stages.
class KernelEmitter {
public:
  KernelEmitter(OpBuilder &builder, Location loc, SequenceLayout layout,
                int64_t tile)
      : b(builder), loc(loc), layout(std::move(layout)), tile(tile) {
    f16 = b.getF16Type();
    f32 = b.getF32Type();
  }

  /// Thread ids and the shared-memory view, and the kernel's register
  /// floor (registerFloor); call first. The view's sequences start
  /// `firstSequence` sequences of this layout into shared memory: an
  /// emitter over some of the sequences of another's block (a cross
  /// spectrum's convolutions of one side's spectra).
  void begin(int64_t firstSequence = 0);
  /// begin() with the view `offsetBytes` into shared memory: an emitter
  /// beside another's sequences of another layout (the clustered three-pass
  /// kernel's row and column tiles).
  void beginAt(int64_t offsetBytes);
  /// The registers the stages hold their factors' fragments in through a
  /// stage, and a tile's working set: at Split precision a stage of 32
  /// holds 4 tiles of 6 fragments of 4 registers.
  int64_t registerFloor() const;

  //===--------------------------------------------------------------------===//
  // Scalars
  //===--------------------------------------------------------------------===//

  /// Integer work is 32-bit (positions, digits, swizzles): 64-bit index
  /// arithmetic costs the GPU twice the instructions. Memory accesses take
  /// `index(...)` of the result.
  Value c(int64_t v) { return arith::ConstantIntOp::create(b, loc, v, 32); }
  Value index(Value v) {
    return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), v);
  }
  Value fromIndex(Value v) {
    return arith::IndexCastUIOp::create(b, loc, b.getI32Type(), v);
  }
  Value cf(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value addc(Value x, int64_t k) { return k == 0 ? x : add(x, c(k)); }
  /// x * k, x / k and x % k: shifts and masks for powers of two.
  Value mulc(Value x, int64_t k);
  Value divc(Value x, int64_t k);
  Value remc(Value x, int64_t k);
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  /// Float arithmetic may contract a product and a sum into one fma (one
  /// rounding instead of two): the kernels' complex products, twiddles and
  /// spectral products then take half the instructions.
  Value fadd(Value x, Value y) {
    return arith::AddFOp::create(b, loc, x, y, arith::FastMathFlags::contract);
  }
  Value fsub(Value x, Value y) {
    return arith::SubFOp::create(b, loc, x, y, arith::FastMathFlags::contract);
  }
  Value fmul(Value x, Value y) {
    return arith::MulFOp::create(b, loc, x, y, arith::FastMathFlags::contract);
  }
  /// blockIdx along `d`, 32-bit.
  Value blockId(gpu::Dimension d) {
    return fromIndex(gpu::BlockIdOp::create(b, loc, d));
  }

  struct Complex {
    Value re, im;
  };
  Complex cmul(Complex x, Complex y) {
    return {fsub(fmul(x.re, y.re), fmul(x.im, y.im)),
            fadd(fmul(x.re, y.im), fmul(x.im, y.re))};
  }
  Complex cadd(Complex x, Complex y) {
    return {fadd(x.re, y.re), fadd(x.im, y.im)};
  }
  Complex conj(Complex x) {
    return {x.re, arith::NegFOp::create(b, loc, x.im)};
  }
  Complex cscale(Complex x, Value s) { return {fmul(x.re, s), fmul(x.im, s)}; }

  //===--------------------------------------------------------------------===//
  // Twiddles (Twiddles.cpp)
  //===--------------------------------------------------------------------===//

  /// The hardware's approximate sine or cosine (`op` is "sin" or "cos").
  Value approx(llvm::StringRef op, Value angle);
  /// exp(sign * 2 pi i e / period) for an integer e in [0, period).
  Complex root(Value e, int64_t period, double sign);
  /// Whether stage `s` applies a twiddle to its outputs.
  bool hasTwiddle(size_t s, bool inverse) const;
  /// The twiddle stage `s` applies at output position `position`, if any.
  std::optional<Complex> twiddle(size_t s, bool inverse, Value position);

  //===--------------------------------------------------------------------===//
  // Shared memory (SharedMemory.cpp)
  //===--------------------------------------------------------------------===//

  /// The physical element of position `e` within a plane.
  Value swizzle(Value e);
  /// The shared-memory index of a plane element: `offset` is a swizzled
  /// position (see `swizzle`), so callers that reuse a position across the
  /// sequences of the tile swizzle it once.
  Value element(Value seq, Plane plane, Value offset);
  /// A real or imaginary part as f32: one position, or with `count` > 0 a
  /// vector of `count` consecutive positions from `offset` (a multiple of
  /// `count`).
  Value loadPart(Value seq, Plane high, Value offset, int64_t count = 0);
  Complex load(Value seq, Value offset) {
    return {loadPart(seq, ReHigh, offset), loadPart(seq, ImHigh, offset)};
  }
  /// The dynamic shared memory of the block of rank `rank` of this block's
  /// cluster (sm_90's distributed shared memory), as an !llvm.ptr<7> to its
  /// first byte: the planes and what follows them, laid out as this
  /// block's.
  Value peerSharedMemory(Value rank);
  /// loadPart and load of one position in the planes of the block whose
  /// shared memory `peer` is (peerSharedMemory).
  Value loadPeerPart(Value peer, Value seq, Plane high, Value offset);
  Complex loadPeer(Value peer, Value seq, Value offset) {
    return {loadPeerPart(peer, seq, ReHigh, offset),
            loadPeerPart(peer, seq, ImHigh, offset)};
  }
  /// The f32 at byte `offsetBytes` of the peer's shared memory.
  Value loadPeerF32(Value peer, int64_t offsetBytes);
  /// storePart into the planes of the block whose shared memory `peer` is
  /// (peerSharedMemory, a view of this emitter's layout there); at Half, x
  /// may be f16 already.
  void storePeerPart(Value peer, Value seq, Plane high, Value offset, Value x);
  /// x = high + low with both halves f16 (also for vectors).
  std::pair<Value, Value> split(Value x);
  /// Stores x (a scalar, or a vector of consecutive positions from an
  /// `offset` that is a multiple of its length) at the layout's precision.
  void storePart(Value seq, Plane high, Value offset, Value x);
  void store(Value seq, Value offset, Complex x) {
    storePart(seq, ReHigh, offset, x.re);
    storePart(seq, ImHigh, offset, x.im);
  }

  //===--------------------------------------------------------------------===//
  // Control flow (KernelEmitter.cpp)
  //===--------------------------------------------------------------------===//

  /// for (i = lb; i < ub; i += step) body(i)
  void loop(Value lb, int64_t ub, int64_t step,
            llvm::function_ref<void(Value)> body);
  void when(Value cond, llvm::function_ref<void()> body);
  void whenElse(Value cond, llvm::function_ref<void()> then,
                llvm::function_ref<void()> otherwise);
  void barrier() { gpu::BarrierOp::create(b, loc); }
  /// Every thread of the cluster's blocks (barrier.cluster, aligned): its
  /// shared-memory writes before it are visible to the cluster after it.
  void clusterBarrier();
  /// The block's dynamic shared memory, as bytes.
  Value sharedBytes();
  /// A memref<count x element> view of shared memory from `offsetBytes` on
  /// (the planes; past them running sums, accumulators, a factor's image).
  Value sharedArray(Type element, int64_t offsetBytes, int64_t count);
  /// Powers of two that bring a block's sequences into f16's range: the
  /// planes hold f16, which an f32 or bf16 input, a gradient or k can fall
  /// below (f16's smallest normal is 2^-14, its subnormals stop at 2^-24) or
  /// rise past (65504).
  struct RangeScale {
    Value scale;   // multiplies the values stored to the planes
    Value unscale; // multiplies the results read back: 1 / scale
  };
  /// An item's values, as loaded.
  using GatherFn = llvm::function_ref<SmallVector<Value>(Value item)>;
  /// What is done with an item's values (stored, counted).
  using ItemFn = llvm::function_ref<void(Value item, ArrayRef<Value>)>;
  /// An item's values stored, times the block's range scales.
  using ScatterInRangeFn = llvm::function_ref<void(Value item, ArrayRef<Value>,
                                                   ArrayRef<RangeScale>)>;
  /// For every item tid, tid + threads, ... below `total`: `gather(item)`,
  /// then `scatter(item, gathered)`. With a whole number of items a thread,
  /// at most kMaxUnrolledItems, the items are unrolled and every gather comes
  /// first, so that a thread's global loads are in flight together instead
  /// of one item's at a time.
  static constexpr int64_t kMaxUnrolledItems = 16;
  void gatherScatter(int64_t total, GatherFn gather, ItemFn scatter);
  /// Where 8 real outputs of sequence `seq` from element `t` on go (a
  /// vector<8xf32>); `mask` (vector<8xi1>) holds the lanes below the
  /// outputs' length where that is not a multiple of 8, and is null
  /// elsewhere.
  using RealOutputFn =
      llvm::function_ref<void(Value seq, Value t, Value y, Value mask)>;
  /// The first `length` real outputs of each of the block's sequences (its
  /// complex results' real and imaginary parts in turn, natural order), 8
  /// an item, times `unscale` where it is given, to `store`.
  void storeRealOutputs(int64_t length, Value unscale, RealOutputFn store);
  /// `count` RangeScales over the f32 values (or vectors) that `gather`
  /// returns for each of the block's `total` items, value j counting
  /// towards scale j % count: scale i puts the largest magnitude of its
  /// values in [4, 8), where the kernels are
  /// checked on N(0, 1) inputs (whose blocks' maxima are about 4); 1 for
  /// values all zero. It reads every item once more than the load that
  /// follows (from L1 or L2), and takes two barriers, between which the
  /// first words of the planes hold the warps' maxima: they must be free.
  SmallVector<RangeScale> blockRangeScales(int64_t total, int64_t count,
                                           GatherFn gather);
  /// The sequences [first, first + count) of the block: where the values
  /// of one range scale are stored.
  struct SequenceSpan {
    int64_t first = 0;
    int64_t count = 1;
  };
  /// gatherScatter with the range scales of blockRangeScales, which
  /// `scatter` applies; value j of an item counts towards scale j % n and
  /// is stored within spans[j % n] (n = spans.size()). Where a thread holds
  /// all its items' values (a few items of `heldPerItem` vectors each,
  /// RangeScale.cpp's kMaxHeldVectors), their maxima are taken from them;
  /// elsewhere storeThenScale's. `consume`, if given, sees every item's
  /// values once, as gathered. Returns the scales.
  SmallVector<RangeScale>
  gatherScatterInRange(int64_t total, ArrayRef<SequenceSpan> spans,
                       GatherFn gather, ScatterInRangeFn scatter,
                       int64_t heldPerItem = 1, ItemFn consume = {});
  /// gatherScatterInRange's items stored as loaded (`scatter` with null
  /// scales), the maxima counted on the way; then, where the block's maxima
  /// allow it, the scales applied to the spans in place (exact), else every
  /// item read and stored again with them. One read of the items for data
  /// within f16's range, at the price of a pass over the block's shared
  /// memory where a scale is not 1.
  SmallVector<RangeScale>
  storeThenScale(int64_t total, ArrayRef<SequenceSpan> spans, GatherFn gather,
                 ScatterInRangeFn scatter, ItemFn consume);
  /// The block's range scales from each thread's maxima (as the bits of
  /// non-negative floats).
  SmallVector<RangeScale> rangeScalesOf(ValueRange threadMaxima);
  /// The block's maxima from each thread's: redux.sync, then the warps'
  /// through the first words of the planes between two barriers. With
  /// `saved` (where the planes hold values), every thread first keeps its
  /// vector of 8 halves (thread t's the t-th), and the slots are the first
  /// words of some of them.
  SmallVector<Value> blockMaxima(ValueRange threadMaxima, Value *saved);
  /// The vectors of 8 halves [first, last) of the planes times `factor`
  /// (a power of two within f16's range) where it is not 1; with `saved`,
  /// the thread's vector `first + tid` is `saved`, not what the planes hold.
  void scaleVectors(int64_t first, int64_t last, Value factor, Value saved);
  /// The scale that puts `blockMax` (bits) in [4, 8), and its inverse.
  RangeScale rangeScaleOf(Value blockMax);
  /// For every j < `count` (a thread's every `threads`-th), `value(j)`
  /// into sequence `seq` at `offset(j)`, all of them scaled by one range
  /// scale, which it returns: the loads of a kernel whose one input is
  /// wider than f16 (k, f32 sums).
  RangeScale storeInRange(Value seq, int64_t count,
                          llvm::function_ref<Complex(Value j)> value,
                          llvm::function_ref<Value(Value j)> offset);
  /// x (a float or a vector of them) times the scalar `s`; x where `s` is
  /// null.
  Value scaled(Value x, Value s);
  /// `load()` where `cond` holds, else zeros of `type` (a float or a vector
  /// of floats): reads past an input's end become its zero padding. A null
  /// `cond` is always true.
  Value loadOrZero(Value cond, Type type, llvm::function_ref<Value()> load);
  /// Work on `units` (positions, columns, tiles) of every sequence of the
  /// block: worker w takes unit u of a group of the block's sequences, so
  /// that what depends on u alone (positions, swizzles, twiddles,
  /// coefficients) is computed once for the group. Small transforms, with
  /// fewer units than workers, split the sequences into several groups.
  void distribute(Value worker, int64_t workers, int64_t units,
                  llvm::function_ref<void(Value)> body);
  /// for (seq in the unit's group) body(seq), inside `distribute`.
  void forEachSequence(llvm::function_ref<void(Value)> body);
  /// The same unrolled into one block where the groups are whole, so that
  /// one sequence's global stores (a direct output's) overlap the next
  /// one's products; else forEachSequence.
  void forEachSequenceUnrolled(llvm::function_ref<void(Value)> body);

  //===--------------------------------------------------------------------===//
  // Stages (Stages.cpp, FMAStage.cpp, TensorCoreStage.cpp)
  //===--------------------------------------------------------------------===//

  StageShape stage(size_t s) const;
  /// The first of the last two stages where they run together in
  /// registers (TensorCorePair.cpp).
  std::optional<size_t> fusedPair() const;
  /// The stages the pair would take, whatever the fused pass does.
  std::optional<size_t> pairedStages() const;
  /// Whether stage `s` runs on the tensor cores (alone or in the pair).
  bool onTensorCores(size_t s) const;
  /// Whether stage `s` runs on the warpgroup MMA (WarpgroupStage.cpp).
  bool onWarpgroup(size_t s) const {
    return layout.warpgroupStage() && s + 1 == layout.factors.size();
  }
  /// Where a direct output (SequenceLayout::directOutput) writes `values`,
  /// sequence `seq`'s results at consecutive positions from `position`
  /// (its natural order).
  using OutputSink = llvm::function_ref<void(Value seq, Value position,
                                             ArrayRef<Complex> values)>;
  /// Whether the last inverse stage writes the outputs to a sink: a direct
  /// output whose stage 0 runs alone on the tensor cores (not in the pair
  /// or on the warpgroup MMA) with a strided digit.
  bool lastStageWritesOutputs() const;
  /// The stages in order, forward and inverse; with `skipLast`, all but
  /// the last factor's (emitFusedSpectralProduct runs it). Where
  /// lastStageWritesOutputs, the last inverse stage writes to `sink`.
  void emitForward(bool skipLast = false);
  void emitInverse(bool skipLast = false, OutputSink sink = {});

  /// Monarch position -> frequency, and back.
  Value frequency(Value position);
  Value positionOf(Value f);
  /// The position of frequency `f` in the Monarch order of `factors`, the
  /// first `transformed` of them stages (all by default; the others
  /// trailing columns): positionOf for this layout, and where a kernel
  /// whose stages differ from the convolution's (the spectrum kernel of a
  /// warpgroup stage) writes what the convolution kernel reads.
  Value positionIn(ArrayRef<int64_t> factors, Value f,
                   std::optional<size_t> transformed = std::nullopt);
  /// The position holding frequency (M - f) mod M.
  Value mirror(Value f);

  //===--------------------------------------------------------------------===//
  // The spectral product (SpectralProduct.cpp)
  //===--------------------------------------------------------------------===//

  /// Coefficient `which` (0: A, 1: B) of channel h at position `position`
  /// of a memref<H x 2 x 2M x f32>.
  Complex loadCoefficient(Value coefficients, Value h, int64_t which,
                          Value position);
  void storeCoefficient(Value coefficients, Value h, int64_t which,
                        Value position, Complex x);
  /// Starts coefficient `which` at `position`'s load into L1
  /// (nvvm.prefetch).
  void prefetchCoefficient(Value coefficients, Value h, int64_t which,
                           Value position);
  /// Whether the separate product pass starts the next position's
  /// coefficients' loads into L1 while it runs this one's.
  bool prefetchesProductCoefficients() const;
  /// y[p] = A[p] x[p] + B[p] conj(x[s(p)]) for every sequence of the block;
  /// with `laterCoefficients`, the sequences from `laterFrom` on take
  /// theirs (a cross spectrum's two sides, one emitter over both). Without
  /// `mayPrefetch` the pass never prefetches its coefficients
  /// (prefetchesProductCoefficients).
  void emitSpectralProduct(Value coefficients, Value h,
                           Value laterCoefficients = Value(),
                           int64_t laterFrom = 0, bool mayPrefetch = true);
  /// Whether the last forward stage, the spectral product and the first
  /// inverse stage can run together in registers: a last factor on the FMA
  /// units (its digit has stride 1, its frequency weight M / m), every
  /// digit transformed, no band.
  bool fusesSpectralProduct() const;
  /// The three of them in one pass, each thread two groups of m
  /// consecutive positions whose frequencies mirror each other's, in f32:
  /// two shared-memory round trips and two f16 roundings fewer.
  void emitFusedSpectralProduct(Value coefficients, Value h);
  /// Where the spectrum kernel stores position p's coefficients for it.
  Value fusedCoefficientSlot(Value position);
  /// Whether a pointwise product (the three-pass inner kernel's: complex
  /// rows, no mirrored positions) runs with the last forward and the first
  /// inverse stage in one pass: with a last factor on the FMA units and
  /// every digit transformed.
  bool fusesPointwiseProduct() const;
  /// The three of them in one pass, each thread a group of m consecutive
  /// positions, in f32: y[p] = x[p] K[p] with the group's m coefficients
  /// from `coefficientsAt(seq, start)`, start its first position in
  /// sequence seq.
  void emitFusedPointwiseProduct(
      llvm::function_ref<SmallVector<Complex>(Value seq, Value start)>
          coefficientsAt);
  /// Item `item` of a fused pass over `units` units a sequence: (sequence,
  /// unit), in runs of a few units of one sequence, the tile's sequences
  /// in consecutive runs.
  std::pair<Value, Value> fusedItem(Value item, int64_t units);
  /// A and B of a slot of the fused order, together.
  std::pair<Complex, Complex> loadCoefficientPair(Value coefficients, Value h,
                                                  Value slot);
  void storeCoefficientPair(Value coefficients, Value h, Value slot, Complex a,
                            Complex bc);
  /// Starts a slot's load into L1 (nvvm.prefetch).
  void prefetchCoefficientPair(Value coefficients, Value h, Value slot);
  /// Whether the fused pass starts a unit's coefficients' loads into L1
  /// one item ahead, an item's work hiding the next one's latency.
  bool prefetchesCoefficients() const;

  //===--------------------------------------------------------------------===//
  // MMA operands (Fragments.cpp)
  //===--------------------------------------------------------------------===//

  /// A constant table `name` of the kernel's module holding, for each of
  /// `fragments` fragments, each lane's `perLane` values of `type` (f16 or
  /// f32): value(fragment, lane, v), computed in double precision and
  /// rounded once; [fragment][lane][v].
  Value
  fragmentTable(llvm::StringRef name, Type type, int64_t fragments,
                int64_t perLane,
                llvm::function_ref<double(int64_t, int64_t, int64_t)> value);
  /// This lane's values of fragment `fragment`: vector<perLane x type>.
  Value loadFragment(Value table, int64_t perLane, int64_t fragment);
  /// vector<2n x f16> as an MMA operand of n register pairs,
  /// vector<n x 2 x f16>.
  Value operandOf(Value loaded);
  /// Register pairs (vector<2xf16> each) as an MMA operand.
  Value registerPairs(ArrayRef<Value> pairs);
  /// acc + a b on the tensor cores: m16n8k16, or m16n8k8 for an A operand
  /// of two register pairs.
  Value mma(Value a, Value bOperand, Value acc);
  /// acc + a x over split operands: ahi xhi, plus ahi xlo and alo xhi
  /// where the low halves are given (at Split precision both, three
  /// products; at Half neither, or only the data's).
  Value mmaTerm(Value acc, Value aHi, Value aLo, Value xHi, Value xLo);

  /// The fragments of one tile of a factor (an A or B operand): its real
  /// and imaginary parts (and the negated imaginary part), each as high and
  /// low halves (the low halves null at Half precision).
  struct FactorTile {
    Value reHi, reLo, imHi, imLo, negImHi, negImLo;
  };

  OpBuilder &b;
  Location loc;
  SequenceLayout layout;
  int64_t tile; // sequences of this kernel's block
  Type f16, f32;
  Value tid, lane, warp, smem;
  /// The chip stores 8x8 matrices (TargetDescription::matrixStores): the
  /// tensor-core stages write their strided tiles back by stmatrix.
  bool storesMatrices = false;

private:
  /// The address of element `element` (i32, of `elementBytes` each, from
  /// the aligned start) of `buffer`, as an !llvm.ptr in `addressSpace`: for
  /// instructions that take a pointer rather than a memref.
  Value addressOf(Value buffer, Value element, int64_t elementBytes,
                  unsigned addressSpace);
  /// Starts the load of the line holding float `flat` of `buffer` (global
  /// memory, f32) into L1 (nvvm.prefetch).
  void prefetchIntoL1(Value buffer, Value flat);
  /// The shared-memory address (!llvm.ptr<3>) of `offset` in plane `plane`
  /// (an i32 Plane value) of sequence `seq`: element() for instructions
  /// that take a pointer.
  Value sharedPointer(Value seq, Value plane, Value offset);
  /// One f16 plane of a part, as f32 (see loadPart).
  Value loadPlane(Value seq, Plane plane, Value offset, int64_t count);
  /// Stores `narrow` (f16, or a vector of them) into one plane.
  void storePlane(Value seq, Plane plane, Value offset, Value narrow);

  void emitStage(size_t s, bool inverse);
  /// The last stage, a factor of 64, on the warpgroup MMA (sm_90a): the
  /// factor's image is copied into shared memory past the sequences once,
  /// at the kernel's start (`begin`).
  void emitWarpgroupStage(size_t s, bool inverse);
  void loadWarpgroupFactor();
  /// The byte offset of the factor's image in shared memory.
  int64_t warpgroupFactorOffset() const {
    return tile * layout.planes() * layout.length * 2;
  }
  /// The shared-memory address (i64) `offsetBytes` into the block's
  /// dynamic shared memory, plus `offset` (an i32, or null).
  Value sharedAddress(int64_t offsetBytes, Value offset = Value());
  /// The wgmma descriptor of a K-major operand with the 128-byte swizzle
  /// whose first row starts at shared address `address` (i64).
  Value warpgroupDescriptor(Value address);
  /// A factor of 2, 4 or 8 on the FMA units.
  void emitFMAStage(size_t s, bool inverse);
  void emitFMAColumn(Value seq, StageShape shape, bool inverse,
                     ArrayRef<Value> offsets,
                     ArrayRef<std::optional<Complex>> twiddles);
  /// The DFT of a column of m <= 16 values in f32 (16 only in the fused
  /// product pass), its twiddles (fmaTwiddle) or its 1/sqrt(m) on the
  /// outputs.
  /// `extraScale` multiplies the outputs too, with the 1/sqrt(m).
  SmallVector<Complex> fmaTransform(ArrayRef<Complex> x, bool inverse,
                                    ArrayRef<std::optional<Complex>> twiddles,
                                    double extraScale = 1.0);
  /// Stage s's output twiddle at `position` times the stage's 1/sqrt(m),
  /// or none.
  std::optional<Complex> fmaTwiddle(size_t s, bool inverse, Value position);
  /// fmaTwiddle of the last stage at the m positions of a group from
  /// `start`, as powers of one root (its digit has stride 1; digit 0's
  /// twiddle is 1, left to the stage's 1/sqrt(m)).
  SmallVector<std::optional<Complex>>
  lastStageTwiddles(bool inverse, Value start, double extraScale = 1.0);
  /// The values of a last digit a 16-byte chunk of a plane holds: the
  /// swizzle keeps a chunk's positions consecutive, not neighbouring chunks.
  static constexpr int64_t kDigitChunk = 8;
  /// The swizzled offsets of the chunks of the m consecutive positions from
  /// `start` (a multiple of min(m, kDigitChunk)).
  SmallVector<Value> digitChunks(Value start, int64_t m);
  /// The m consecutive values of a last digit in `chunks` (digitChunks), as
  /// one vector access a plane and chunk.
  SmallVector<Complex> loadDigits(Value seq, ArrayRef<Value> chunks, int64_t m);
  void storeDigits(Value seq, ArrayRef<Value> chunks, ArrayRef<Complex> y);

  /// Where a warp's tile of 8 columns lives, and the outputs each lane
  /// holds after the products.
  struct WarpTile {
    bool strided;
    int64_t size, stride; // the stage's m and c
    /// Digits that may read a nonzero value / write a read one; the
    /// tile's slabs and row tiles take them in that order.
    LiveDigits liveInputs, liveOutputs;
    Value block, firstColumn;
    /// Per 16-digit slab: the row each lane names for ldmatrix.
    SmallVector<Value> rowOffsets;
    /// Accumulator (r, q) of row tile i: its swizzled offset and twiddles,
    /// at [2 i + r]; the offsets of q = 1 apart when the digit is the last.
    struct Output {
      Value position; // unswizzled: a direct output's
      Value offset;
      std::optional<Complex> twiddle[2];
    };
    SmallVector<Output> outputs;
    SmallVector<Value> secondOffsets;
    /// 1/s for a factor scaled by s (factorScale), for the outputs without
    /// a twiddle (null where s = 1 or the spectral product takes it); the
    /// twiddles above carry it already.
    Value unscale;
  };
  /// At Half precision, the scale s a tensor-core factor of m is rounded
  /// to f16 from (s F; its products are multiplied by 1/s); 1 at Split
  /// precision and for the FMA stages.
  double factorScale(int64_t m) const;
  /// Whether stage `s` scales its products back itself (else the spectral
  /// product does: SequenceLayout::productUnscales).
  bool stageUnscales(size_t s, bool inverse) const;
  /// What the spectral product multiplies the coefficients by: the inverse
  /// of the scales of the stages that do not scale back themselves.
  double productScale() const;
  /// A factor of 16 or 32 on the tensor cores.
  /// With a `sink` (stage 0 inverse of a direct output) the results go to
  /// it.
  void emitTensorCoreStage(size_t s, bool inverse, OutputSink sink = {});
  /// The factor's rows are the output digits from `firstRow` on and its
  /// columns the input digits from `firstColumn` on (LiveDigits' order):
  /// its fragments as a constant table of the kernel's module.
  Value factorTable(int64_t m, bool inverse, int64_t firstRow,
                    int64_t firstColumn);
  SmallVector<FactorTile> factorTiles(int64_t m, bool inverse, int64_t firstRow,
                                      int64_t firstColumn);
  /// Part `part` (Re high, Im high, Re low, Im low) of entry (row, column)
  /// of the m-point DFT factor with the stage's scale.
  double factorPart(int64_t m, bool inverse, int64_t part, int64_t row,
                    int64_t column) const;
  /// A factor tile from its parts' fragments.
  FactorTile factorTile(llvm::function_ref<Value(int64_t part)> fragment);
  /// The last two stages in registers (TensorCorePair.cpp): stage `s` and
  /// s + 1, forward or inverse.
  void emitTensorCorePair(size_t s, bool inverse);
  void emitForwardPairTile(size_t s, ArrayRef<FactorTile> first,
                           ArrayRef<FactorTile> second, Value base, Value seq);
  void emitInversePairTile(size_t s, ArrayRef<FactorTile> first,
                           ArrayRef<FactorTile> second, Value base, Value seq);
  /// The twiddles between the pair's stages, as accumulator fragments.
  Value pairTwiddleTable(size_t s, bool inverse);
  /// The forward's second factor as B operand tiles, and the inverse's
  /// first as A operand tiles.
  SmallVector<FactorTile> pairSecondFactor(int64_t m);
  SmallVector<FactorTile> pairFirstInverseFactor(int64_t m);
  /// A pair's outputs at `first` and first + 1, twiddled and scaled as its
  /// last stage `s` (forward or inverse) does.
  Complex pairOutputScaled(size_t s, bool inverse, Complex y, Value first);
  WarpTile warpTile(size_t s, bool inverse, Value tileIndex);
  Value tilePosition(const WarpTile &warpTile, Value digit, Value column);
  /// Digits of stage `s` whose inputs may be nonzero, and whose outputs are
  /// read: layout.inputExtent and neededOutputs at stage 0, the band at
  /// the last stage, else all.
  LiveDigits liveInputDigits(size_t s, bool inverse) const;
  LiveDigits liveOutputDigits(size_t s, bool inverse) const;
  /// The band's digits where stage `s` is the spectrum side's.
  std::optional<LiveDigits> bandWindow(size_t s) const;
  void emitTileProducts(const WarpTile &warpTile, ArrayRef<FactorTile> factor,
                        Value seq, OutputSink sink = {});
  /// Stores rows 16 i .. 16 i + 15 of a strided tile's outputs, y[r][q] the
  /// lane's accumulators (r, q) (digit 16 i + lane / 4 + 8 r, column
  /// 2 (lane % 4) + q), as 8x8 matrices: one stmatrix of four a part (Re
  /// and Im, rows 0-7 and 8-15), where a position's 8-aligned run of 8 is
  /// one 16-byte chunk of its plane (`swizzle`).
  void storeTileRows(const WarpTile &warpTile, Value seq, int64_t i,
                     const std::array<std::array<Complex, 2>, 2> &y);

  /// Positions p <= q = s(p) of a mirrored pair of frequencies, and their
  /// coefficients.
  struct MirrorPair {
    Value offsetP, offsetQ;
    Complex ap, bp, aq, bq;
    Value distinct; // p < q
  };
  void emitMirrorPair(Value seq, const MirrorPair &pair);

  Value seqBegin, seqEnd; // the sequences of the current unit's group
  /// The group's size where every group is whole (0 where the last is
  /// short): forEachSequenceUnrolled's count.
  int64_t wholeGroup = 0;
};

/// The lanes of t .. t+7 (t an i32) below `length`, as a vector<8xi1>: the
/// mask of a row's last partial chunk where its length is not a multiple of
/// 8 (all lanes elsewhere). Plain vector arithmetic, which the NVVM
/// lowering takes.
Value lanesBelow(OpBuilder &b, Location loc, Value t, int64_t length);

/// A kernel being built: an empty gpu.func of `threads` threads a block
/// in `module`, and the builder inside its entry block until the scope
/// ends; `finish` ends the body.
class KernelScope {
public:
  KernelScope(OpBuilder &builder, Location loc, gpu::GPUModuleOp module,
              llvm::StringRef name, TypeRange argTypes, int64_t threads);
  ValueRange args() { return func.getArguments(); }
  /// Launches in clusters of `blocks` consecutive blocks along x
  /// (nvvm.cluster_dim: PTX's .reqnctapercluster).
  void setClusterBlocks(int64_t blocks);
  gpu::GPUFuncOp finish();

private:
  // Not `builder` and `loc`: kernels derive from both this and the emitter.
  OpBuilder &kernelBuilder;
  Location kernelLoc;
  gpu::GPUFuncOp func;
  OpBuilder::InsertionGuard guard;
};

} // namespace detail
} // namespace fftconv
} // namespace mlir

#endif // LIB_CONVERSION_BUTTERFLYTOGPU_KERNELEMITTER_H
