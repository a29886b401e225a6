//===- KernelEmitter.h - building blocks of the FFT kernels -----*- C++ -*-===//
//
// The emitter every GPU kernel of a convolution is built with: 32-bit index
// arithmetic, sequences held in swizzled shared memory as four f16 planes,
// and the Monarch stages over them (tensor-core stages for factors of 16 and
// 32, FMA stages for 2, 4 and 8). Private to the ButterflyToGPU lowering.
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
// columns: the factor is the A operand (kept in registers for the stage),
// the data the B operand (nvgpu.ldmatrix, transposed when the digit has a
// stride). At Split precision each term takes three products (Fhi xhi +
// Fhi xlo + Flo xhi), so the f16 operands lose nothing an f32 result would
// keep; at Half precision one. Smaller factors (2, 4, 8) run on the FMA
// units, in f32.
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
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <numeric>
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

  bool isSplit() const { return precision == GPUPrecision::Split; }
  int64_t planes() const { return planesOf(precision); }
};

using ::mlir::butterfly::kThreadsPerWarp;
static constexpr int32_t kMaxRegisters = 128;

/// The planes of a sequence at Split precision; at Half precision only the
/// high planes exist.
enum Plane : int64_t { ReHigh = 0, ReLow = 1, ImHigh = 2, ImLow = 3 };

struct StageShape {
  int64_t size;   // m
  int64_t stride; // c: product of the factors after the stage
};

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

  /// Thread ids and the shared-memory view; call first.
  void begin() {
    tid = fromIndex(gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x));
    lane = remc(tid, kThreadsPerWarp);
    warp = divc(tid, kThreadsPerWarp);
    auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                                gpu::AddressSpace::Workgroup);
    auto bytesType = MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                                     MemRefLayoutAttrInterface(), workgroup);
    Value bytes = gpu::DynamicSharedMemoryOp::create(b, loc, bytesType);
    auto planesType =
        MemRefType::get({tile * layout.planes() * layout.length}, f16,
                        MemRefLayoutAttrInterface(), workgroup);
    smem = memref::ViewOp::create(b, loc, planesType, bytes,
                                  arith::ConstantIndexOp::create(b, loc, 0),
                                  ValueRange());
  }

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
  Value mulc(Value x, int64_t k) {
    if (k == 1)
      return x;
    if (llvm::isPowerOf2_64(k))
      return arith::ShLIOp::create(b, loc, x, c(llvm::Log2_64(k)));
    return mul(x, c(k));
  }
  Value divc(Value x, int64_t k) {
    if (k == 1)
      return x;
    if (llvm::isPowerOf2_64(k))
      return arith::ShRUIOp::create(b, loc, x, c(llvm::Log2_64(k)));
    return arith::DivUIOp::create(b, loc, x, c(k));
  }
  Value remc(Value x, int64_t k) {
    if (k == 1)
      return c(0);
    if (llvm::isPowerOf2_64(k))
      return arith::AndIOp::create(b, loc, x, c(k - 1));
    return arith::RemUIOp::create(b, loc, x, c(k));
  }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value fsub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }

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

  /// The hardware's approximate sine and cosine (absolute error about
  /// 2^-21 on [-pi, pi], where every angle here is reduced to).
  Value approx(llvm::StringRef op, Value angle) {
    std::string text = (op + ".approx.f32 $0, $1;").str();
    return LLVM::InlineAsmOp::create(
               b, loc, f32, ValueRange{angle}, text, "=f,f",
               /*has_side_effects=*/false, /*is_align_stack=*/false,
               LLVM::tailcallkind::TailCallKind::None, LLVM::AsmDialectAttr(),
               ArrayAttr())
        .getResult(0);
  }
  /// exp(sign * 2 pi i e / period) for an integer e in [0, period).
  Complex root(Value e, int64_t period, double sign) {
    // Reduce to (-period/2, period/2] so the angle is within [-pi, pi].
    Value wrapped = arith::SelectOp::create(b, loc, ult(c(period / 2), e),
                                            sub(e, c(period)), e);
    Value asFloat = arith::SIToFPOp::create(b, loc, f32, wrapped);
    Value angle = fmul(asFloat, cf(sign * 2.0 * M_PI / double(period)));
    return {approx("cos", angle), approx("sin", angle)};
  }

  //===--------------------------------------------------------------------===//
  // Shared memory
  //===--------------------------------------------------------------------===//

  /// The physical element of position `e` within a plane.
  Value swizzle(Value e) {
    int64_t lines = layout.length / 64; // 128-byte lines of a plane
    if (lines <= 1)
      return e;
    Value high = arith::ShRUIOp::create(b, loc, e, c(6));
    Value fold = high;
    for (int64_t shift = 3; (lines >> shift) > 0; shift += 3)
      fold = arith::XOrIOp::create(
          b, loc, fold, arith::ShRUIOp::create(b, loc, high, c(shift)));
    Value bits = arith::ShLIOp::create(b, loc, remc(fold, 8), c(3));
    return arith::XOrIOp::create(b, loc, e, bits);
  }
  /// The shared-memory index of a plane element: `offset` is a swizzled
  /// position (see `swizzle`), so callers that reuse a position across the
  /// sequences of the tile swizzle it once.
  Value element(Value seq, Plane plane, Value offset) {
    int64_t physical = layout.isSplit() ? plane : plane / 2;
    Value base = addc(mulc(seq, layout.planes() * layout.length),
                      physical * layout.length);
    return index(add(base, offset));
  }
  /// A real or imaginary part as f32: one position, or with `count` > 0 a
  /// vector of `count` consecutive positions from `offset` (a multiple of
  /// `count`).
  Value loadPart(Value seq, Plane high, Value offset, int64_t count = 0) {
    auto half = [&](Plane plane) -> Value {
      Value at = element(seq, plane, offset);
      if (count == 0)
        return arith::ExtFOp::create(
            b, loc, f32, memref::LoadOp::create(b, loc, smem, at).getResult());
      auto load = vector::LoadOp::create(b, loc, VectorType::get({count}, f16),
                                         smem, at);
      load.setAlignment(2 * count);
      return arith::ExtFOp::create(b, loc, VectorType::get({count}, f32),
                                   load.getResult());
    };
    if (!layout.isSplit())
      return half(high);
    return fadd(half(high), half(Plane(high + 1)));
  }
  Complex load(Value seq, Value offset) {
    return {loadPart(seq, ReHigh, offset), loadPart(seq, ImHigh, offset)};
  }
  /// x = high + low with both halves f16 (also for vectors).
  std::pair<Value, Value> split(Value x) {
    Type narrow = f16;
    Type wide = f32;
    if (auto vec = dyn_cast<VectorType>(x.getType())) {
      narrow = VectorType::get(vec.getShape(), f16);
      wide = vec;
    }
    Value hi = arith::TruncFOp::create(b, loc, narrow, x);
    Value rest = fsub(x, arith::ExtFOp::create(b, loc, wide, hi));
    return {hi, arith::TruncFOp::create(b, loc, narrow, rest)};
  }
  /// Stores x (a scalar, or a vector of consecutive positions from an
  /// `offset` that is a multiple of its length) at the layout's precision.
  void storePart(Value seq, Plane high, Value offset, Value x) {
    auto storeHalf = [&](Plane plane, Value narrow) {
      Value at = element(seq, plane, offset);
      if (auto vector = dyn_cast<VectorType>(narrow.getType())) {
        vector::StoreOp::create(b, loc, narrow, smem, at)
            .setAlignment(2 * vector.getNumElements());
        return;
      }
      memref::StoreOp::create(b, loc, narrow, smem, at);
    };
    if (!layout.isSplit()) {
      Type narrow = f16;
      if (auto vector = dyn_cast<VectorType>(x.getType()))
        narrow = VectorType::get(vector.getShape(), f16);
      storeHalf(high, arith::TruncFOp::create(b, loc, narrow, x));
      return;
    }
    auto [hi, lo] = split(x);
    storeHalf(high, hi);
    storeHalf(Plane(high + 1), lo);
  }
  void store(Value seq, Value offset, Complex x) {
    storePart(seq, ReHigh, offset, x.re);
    storePart(seq, ImHigh, offset, x.im);
  }

  //===--------------------------------------------------------------------===//
  // Control flow
  //===--------------------------------------------------------------------===//

  /// for (i = lb; i < ub; i += step) body(i)
  void loop(Value lb, int64_t ub, int64_t step,
            llvm::function_ref<void(Value)> body) {
    auto forOp = scf::ForOp::create(b, loc, lb, c(ub), c(step));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    body(forOp.getInductionVar());
  }
  void when(Value cond, llvm::function_ref<void()> body) {
    auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    body();
  }
  void barrier() { gpu::BarrierOp::create(b, loc); }
  /// For every item tid, tid + threads, ... below `total`: `gather(item)`,
  /// then `scatter(item, gathered)`. With a whole number of items a thread,
  /// at most kMaxUnrolledItems, the items are unrolled and every gather comes
  /// first, so that a thread's global loads are in flight together instead
  /// of one item's at a time.
  static constexpr int64_t kMaxUnrolledItems = 16;
  void
  gatherScatter(int64_t total,
                llvm::function_ref<SmallVector<Value>(Value item)> gather,
                llvm::function_ref<void(Value item, ArrayRef<Value>)> scatter) {
    int64_t threads = layout.threads;
    if (total % threads || total / threads > kMaxUnrolledItems) {
      loop(tid, total, threads,
           [&](Value item) { scatter(item, gather(item)); });
      return;
    }
    SmallVector<Value> items;
    SmallVector<SmallVector<Value>> gathered;
    for (int64_t j = 0; j < total / threads; ++j) {
      items.push_back(addc(tid, j * threads));
      gathered.push_back(gather(items.back()));
    }
    for (auto [item, values] : llvm::zip_equal(items, gathered))
      scatter(item, values);
  }

  /// `load()` where `cond` holds, else zeros of `type` (a float or a vector
  /// of floats): reads past an input's end become its zero padding. A null
  /// `cond` is always true.
  Value loadOrZero(Value cond, Type type, llvm::function_ref<Value()> load) {
    if (!cond)
      return load();
    auto ifOp = scf::IfOp::create(b, loc, TypeRange{type}, cond,
                                  /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    scf::YieldOp::create(b, loc, ValueRange{load()});
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    TypedAttr zero = b.getF32FloatAttr(0.0);
    if (auto vector = dyn_cast<VectorType>(type))
      zero = DenseElementsAttr::get(vector, zero);
    scf::YieldOp::create(b, loc,
                         ValueRange{arith::ConstantOp::create(b, loc, zero)});
    return ifOp.getResult(0);
  }
  /// blockIdx along `d`, 32-bit.
  Value blockId(gpu::Dimension d) {
    return fromIndex(gpu::BlockIdOp::create(b, loc, d));
  }

  //===--------------------------------------------------------------------===//
  // Stages
  //===--------------------------------------------------------------------===//

  StageShape stage(size_t s) const {
    ArrayRef<int64_t> f = layout.factors;
    auto product = [](ArrayRef<int64_t> r) {
      return std::accumulate(r.begin(), r.end(), int64_t(1),
                             std::multiplies<int64_t>());
    };
    return {f[s], product(f.drop_front(s + 1))};
  }

  /// The twiddle a stage applies at output position `pos`: forward stage s
  /// applies T_s (all but the last); inverse stage s applies conj(T_{s-1})
  /// (all but the first), the twiddle the next inverse stage needs first.
  std::optional<Complex> twiddle(size_t s, bool inverse, Value pos) {
    size_t p = layout.transformed;
    if ((!inverse && s + 1 == p) || (inverse && s == 0))
      return std::nullopt;
    StageShape level = stage(inverse ? s - 1 : s);
    // The column within the transformed digits: the untransformed trailing
    // digits are independent transforms and take no part in the twiddle.
    int64_t untransformed = 1;
    for (int64_t f : ArrayRef<int64_t>(layout.factors).drop_front(p))
      untransformed *= f;
    Value digit = remc(divc(pos, level.stride), level.size);
    Value column = divc(remc(pos, level.stride), untransformed);
    int64_t period = level.size * level.stride / untransformed;
    Value e = remc(mul(digit, column), period);
    return root(e, period, inverse ? 1.0 : -1.0);
  }

  /// Work on `units` (positions, columns, tiles) of every sequence of the
  /// block: worker w takes unit u of a group of the block's sequences, so
  /// that what depends on u alone (positions, swizzles, twiddles,
  /// coefficients) is computed once for the group. Small transforms, with
  /// fewer units than workers, split the sequences into several groups.
  void distribute(Value worker, int64_t workers, int64_t units,
                  llvm::function_ref<void(Value)> body) {
    int64_t groups = std::clamp<int64_t>(workers / units, 1, tile);
    int64_t perGroup = (tile + groups - 1) / groups;
    loop(worker, units * groups, workers, [&](Value item) {
      Value unit = remc(item, units);
      seqBegin = mulc(divc(item, units), perGroup);
      seqEnd =
          arith::MinUIOp::create(b, loc, addc(seqBegin, perGroup), c(tile));
      body(unit);
    });
  }
  /// for (seq in the unit's group) body(seq), inside `distribute`.
  void forEachSequence(llvm::function_ref<void(Value)> body) {
    if (tile == 1)
      return body(c(0));
    auto forOp = scf::ForOp::create(b, loc, seqBegin, seqEnd, c(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    body(forOp.getInductionVar());
  }

  /// A factor of 2, 4 or 8: one thread per column, on the FMA units.
  void emitScalarStage(size_t s, bool inverse) {
    StageShape shape = stage(s);
    int64_t m = shape.size, cstride = shape.stride;
    int64_t columns = layout.length / m;
    double scale = 1.0 / std::sqrt(double(m));
    distribute(tid, layout.threads, columns, [&](Value column) {
      Value base =
          add(mulc(divc(column, cstride), m * cstride), remc(column, cstride));
      SmallVector<Value> offsets;
      SmallVector<std::optional<Complex>> twiddles;
      for (int64_t n = 0; n < m; ++n) {
        Value pos = addc(base, n * cstride);
        offsets.push_back(swizzle(pos));
        twiddles.push_back(twiddle(s, inverse, pos));
      }
      double sign = inverse ? 1.0 : -1.0;
      forEachSequence([&](Value seq) {
        SmallVector<Complex> x;
        for (int64_t n = 0; n < m; ++n)
          x.push_back(load(seq, offsets[n]));
        for (int64_t k = 0; k < m; ++k) {
          Complex acc = cscale(x[0], cf(scale));
          for (int64_t n = 1; n < m; ++n) {
            double angle = sign * 2.0 * M_PI * double((k * n) % m) / double(m);
            acc = cadd(acc, cmul(x[n], {cf(scale * std::cos(angle)),
                                        cf(scale * std::sin(angle))}));
          }
          if (twiddles[k])
            acc = cmul(acc, *twiddles[k]);
          store(seq, offsets[k], acc);
        }
      });
    });
  }

  /// The A operand fragment of a 16x16 tile of the real or imaginary part
  /// of F (sign-adjusted), split into high and low halves (the low half
  /// null at Half precision).
  std::pair<Value, Value> factorFragment(int64_t m, int64_t rowTile,
                                         int64_t colTile, bool imaginary,
                                         bool inverse) {
    auto pairType = VectorType::get({2}, f16);
    auto fragType = VectorType::get({4, 2}, f16);
    Value group = divc(lane, 4), inGroup = mulc(remc(lane, 4), 2);
    Value hi = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(fragType, b.getF16FloatAttr(0.0)));
    Value lo = hi;
    for (int64_t reg = 0; reg < 4; ++reg) {
      // Registers: (row g, col 2t), (g + 8, 2t), (g, 2t + 8), (g + 8, 2t + 8).
      Value row = addc(group, 16 * rowTile + (reg % 2) * 8);
      SmallVector<Value> his, los;
      for (int64_t half = 0; half < 2; ++half) {
        Value col = addc(inGroup, 16 * colTile + (reg / 2) * 8 + half);
        Complex w = root(remc(mul(row, col), m), m, inverse ? 1.0 : -1.0);
        // The stage's 1/sqrt(m) rides on the factor.
        Value entry =
            fmul(imaginary ? w.im : w.re, cf(1.0 / std::sqrt(double(m))));
        if (!layout.isSplit()) {
          his.push_back(arith::TruncFOp::create(b, loc, f16, entry));
          continue;
        }
        auto [h, l] = split(entry);
        his.push_back(h);
        los.push_back(l);
      }
      hi = vector::InsertOp::create(
          b, loc, vector::FromElementsOp::create(b, loc, pairType, his), hi,
          ArrayRef<int64_t>{reg});
      if (layout.isSplit())
        lo = vector::InsertOp::create(
            b, loc, vector::FromElementsOp::create(b, loc, pairType, los), lo,
            ArrayRef<int64_t>{reg});
    }
    return {hi, layout.isSplit() ? lo : Value()};
  }

  Value mma(Value a, Value bFrag, Value acc) {
    return nvgpu::MmaSyncOp::create(b, loc, a, bFrag, acc,
                                    ArrayRef<int64_t>{16, 8, 16});
  }

  /// A factor of 16 or 32 on the tensor cores: each warp takes tiles of 8
  /// columns (8 consecutive columns of one block when the digit has a
  /// stride, 8 consecutive blocks when it is the last digit), the same tile
  /// of every sequence of the block in turn.
  void emitTensorCoreStage(size_t s, bool inverse) {
    StageShape shape = stage(s);
    int64_t m = shape.size, cstride = shape.stride;
    int64_t tiles = layout.length / m / 8;
    int64_t k16 = m / 16;
    int64_t warps = layout.threads / kThreadsPerWarp;
    bool strided = cstride >= 8;

    // The factor's fragments, loop-invariant for the stage.
    struct Fragments {
      Value reHi, reLo, imHi, imLo, negImHi, negImLo;
    };
    SmallVector<Fragments> frag(k16 * k16);
    for (int64_t i = 0; i < k16; ++i)
      for (int64_t j = 0; j < k16; ++j) {
        Fragments &f = frag[i * k16 + j];
        std::tie(f.reHi, f.reLo) = factorFragment(m, i, j, false, inverse);
        std::tie(f.imHi, f.imLo) = factorFragment(m, i, j, true, inverse);
        f.negImHi = arith::NegFOp::create(b, loc, f.imHi);
        if (layout.isSplit())
          f.negImLo = arith::NegFOp::create(b, loc, f.imLo);
      }

    distribute(warp, warps, tiles, [&](Value tileIndex) {
      Value rowInSlab = remc(lane, 16);
      Value block, firstColumn;
      if (strided) {
        Value column = mulc(tileIndex, 8);
        block = divc(column, cstride);
        firstColumn = remc(column, cstride);
      } else {
        block = mulc(tileIndex, 8);
      }
      auto position = [&](Value digit, Value col) -> Value {
        if (strided)
          return add(add(mulc(block, m * cstride), mulc(digit, cstride)),
                     add(firstColumn, col));
        return add(mulc(add(block, col), m), digit);
      };
      // The row each lane names for ldmatrix, per 16-digit slab.
      SmallVector<Value> rowOffsets;
      for (int64_t slab = 0; slab < k16; ++slab) {
        Value row;
        if (strided) {
          row = position(addc(rowInSlab, 16 * slab), c(0));
        } else {
          // Lanes 0-7 name the 8 blocks' digits 16j..16j+7, lanes 8-15 the
          // digits 16j+8..16j+15.
          Value digit = addc(mulc(divc(rowInSlab, 8), 8), 16 * slab);
          row = position(digit, remc(lane, 8));
        }
        rowOffsets.push_back(swizzle(row));
      }
      // The outputs each lane holds: accumulator (r, q) of row tile i is
      // digit 16i + g + 8r, column 2t + q. With a strided digit, q = 0, 1
      // are neighbours and are stored as pairs.
      struct Output {
        Value offset;
        std::optional<Complex> twiddle[2];
      };
      SmallVector<Output> outputs; // [i][r]
      SmallVector<Value> pairOffsets[2];
      for (int64_t i = 0; i < k16; ++i)
        for (int64_t r = 0; r < 2; ++r) {
          Value digit = addc(divc(lane, 4), 16 * i + 8 * r);
          Output out;
          Value pos0 = position(digit, mulc(remc(lane, 4), 2));
          Value pos1 = position(digit, addc(mulc(remc(lane, 4), 2), 1));
          out.offset = swizzle(pos0);
          out.twiddle[0] = twiddle(s, inverse, pos0);
          out.twiddle[1] = twiddle(s, inverse, pos1);
          outputs.push_back(out);
          if (!strided)
            pairOffsets[1].push_back(swizzle(pos1));
        }

      auto fragB = VectorType::get({2, 2}, f16);
      auto accType = VectorType::get({2, 2}, f32);
      forEachSequence([&](Value seq) {
        auto loadB = [&](Plane plane, int64_t slab) -> Value {
          return nvgpu::LdMatrixOp::create(
              b, loc, fragB, smem,
              ValueRange{element(seq, plane, rowOffsets[slab])},
              /*transpose=*/strided, /*numTiles=*/2);
        };
        SmallVector<Value> reHi, reLo(k16), imHi, imLo(k16);
        for (int64_t j = 0; j < k16; ++j) {
          reHi.push_back(loadB(ReHigh, j));
          if (layout.isSplit())
            reLo[j] = loadB(ReLow, j);
          imHi.push_back(loadB(ImHigh, j));
          if (layout.isSplit())
            imLo[j] = loadB(ImLow, j);
        }
        // The tile is written back in place, by other lanes than read it:
        // order every lane's reads before any lane's writes.
        NVVM::SyncWarpOp::create(b, loc, c(0xffffffff));
        Value zero = arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(accType, b.getF32FloatAttr(0.0)));
        // At Split precision three products per term: F x = Fhi xhi +
        // Fhi xlo + Flo xhi; at Half precision F x alone.
        auto term = [&](Value acc, Value aHi, Value aLo, Value xHi, Value xLo) {
          acc = mma(aHi, xHi, acc);
          if (!layout.isSplit())
            return acc;
          acc = mma(aHi, xLo, acc);
          return mma(aLo, xHi, acc);
        };
        for (int64_t i = 0; i < k16; ++i) {
          Value accRe = zero, accIm = zero;
          for (int64_t j = 0; j < k16; ++j) {
            const Fragments &f = frag[i * k16 + j];
            accRe = term(accRe, f.reHi, f.reLo, reHi[j], reLo[j]);
            accRe = term(accRe, f.negImHi, f.negImLo, imHi[j], imLo[j]);
            accIm = term(accIm, f.imHi, f.imLo, reHi[j], reLo[j]);
            accIm = term(accIm, f.reHi, f.reLo, imHi[j], imLo[j]);
          }
          for (int64_t r = 0; r < 2; ++r) {
            const Output &out = outputs[i * 2 + r];
            Complex y[2];
            for (int64_t q = 0; q < 2; ++q) {
              y[q] = {vector::ExtractOp::create(b, loc, accRe,
                                                ArrayRef<int64_t>{r, q}),
                      vector::ExtractOp::create(b, loc, accIm,
                                                ArrayRef<int64_t>{r, q})};
              if (out.twiddle[q])
                y[q] = cmul(y[q], *out.twiddle[q]);
            }
            if (strided) {
              auto pair = VectorType::get({2}, f32);
              store(seq, out.offset,
                    {vector::FromElementsOp::create(
                         b, loc, pair, ValueRange{y[0].re, y[1].re}),
                     vector::FromElementsOp::create(
                         b, loc, pair, ValueRange{y[0].im, y[1].im})});
            } else {
              store(seq, out.offset, y[0]);
              store(seq, pairOffsets[1][i * 2 + r], y[1]);
            }
          }
        }
      });
    });
  }

  void emitStage(size_t s, bool inverse) {
    if (layout.factors[s] >= 16)
      emitTensorCoreStage(s, inverse);
    else
      emitScalarStage(s, inverse);
    barrier();
  }
  void emitForward() {
    for (size_t s = 0; s < layout.transformed; ++s)
      emitStage(s, /*inverse=*/false);
  }
  void emitInverse() {
    for (size_t s = layout.transformed; s-- > 0;)
      emitStage(s, /*inverse=*/true);
  }

  /// Monarch position -> frequency, and back.
  Value frequency(Value pos) {
    Value f = c(0);
    int64_t weight = 1;
    for (size_t s = 0; s < layout.transformed; ++s) {
      StageShape shape = stage(s);
      Value digit = remc(divc(pos, shape.stride), shape.size);
      f = add(f, mulc(digit, weight));
      weight *= shape.size;
    }
    return f;
  }
  Value positionOf(Value f) {
    Value pos = c(0);
    int64_t weight = 1;
    for (size_t s = 0; s < layout.transformed; ++s) {
      StageShape shape = stage(s);
      Value digit = remc(divc(f, weight), shape.size);
      pos = add(pos, mulc(digit, shape.stride));
      weight *= shape.size;
    }
    return pos;
  }
  /// The position holding frequency (M - f) mod M.
  Value mirror(Value f) {
    return positionOf(remc(sub(c(layout.length), f), layout.length));
  }

  Complex loadCoefficient(Value coefficients, Value h, int64_t which,
                          Value pos) {
    auto pairType = VectorType::get({2}, f32);
    auto load = vector::LoadOp::create(
        b, loc, pairType, coefficients,
        ValueRange{index(h), index(c(which)), index(mulc(pos, 2))});
    load.setAlignment(8);
    return {vector::ExtractOp::create(b, loc, load, ArrayRef<int64_t>{0}),
            vector::ExtractOp::create(b, loc, load, ArrayRef<int64_t>{1})};
  }
  void storeCoefficient(Value coefficients, Value h, int64_t which, Value pos,
                        Complex x) {
    auto pairType = VectorType::get({2}, f32);
    Value pair = vector::FromElementsOp::create(b, loc, pairType,
                                                ValueRange{x.re, x.im});
    auto store = vector::StoreOp::create(
        b, loc, pair, coefficients,
        ValueRange{index(h), index(c(which)), index(mulc(pos, 2))});
    store.setAlignment(8);
  }

  /// y[p] = A[p] x[p] + B[p] conj(x[s(p)]): each pair {p, s(p)} is handled
  /// by the thread that meets its smaller position, for every sequence of
  /// the tile with the same coefficients.
  void emitSpectralProduct(Value coefficients, Value h) {
    distribute(tid, layout.threads, layout.length, [&](Value p) {
      Value q = mirror(frequency(p));
      Value notAfter =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, p, q);
      when(notAfter, [&] {
        Value offsetP = swizzle(p), offsetQ = swizzle(q);
        Complex ap = loadCoefficient(coefficients, h, 0, p);
        Complex bp = loadCoefficient(coefficients, h, 1, p);
        Complex aq = loadCoefficient(coefficients, h, 0, q);
        Complex bq = loadCoefficient(coefficients, h, 1, q);
        Value distinct = ult(p, q);
        forEachSequence([&](Value seq) {
          Complex xp = load(seq, offsetP), xq = load(seq, offsetQ);
          Complex yp = cadd(cmul(ap, xp), cmul(bp, conj(xq)));
          when(distinct, [&] {
            store(seq, offsetQ, cadd(cmul(aq, xq), cmul(bq, conj(xp))));
          });
          store(seq, offsetP, yp);
        });
      });
    });
    barrier();
  }

  OpBuilder &b;
  Location loc;
  SequenceLayout layout;
  int64_t tile; // sequences of this kernel's block
  Type f16, f32;
  Value tid, lane, warp, smem;
  Value seqBegin, seqEnd; // the sequences of the current unit's group
};

/// An empty kernel of `threads` threads a block, capped at kMaxRegisters.
inline gpu::GPUFuncOp createKernelFunc(OpBuilder &builder, Location loc,
                                       gpu::GPUModuleOp module,
                                       llvm::StringRef name, TypeRange argTypes,
                                       int64_t threads) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto func = gpu::GPUFuncOp::create(builder, loc, name,
                                     builder.getFunctionType(argTypes, {}));
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  func.setKnownBlockSizeAttr(
      builder.getDenseI32ArrayAttr({int32_t(threads), 1, 1}));
  // The runtime passes distinct buffers (docs/runtime.md): noalias lets
  // LLVM move a later item's loads above an earlier item's stores and read
  // the inputs through the non-coherent cache.
  for (unsigned i = 0; i < argTypes.size(); ++i)
    func.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(),
                    builder.getUnitAttr());
  // At most 128 registers a thread: LLVM unrolls the loop over a tile's
  // sequences and interleaves them, which without a cap took 248 registers
  // (one block of 128 threads per SM at N = 1024).
  func->setAttr(NVVM::NVVMDialect::getMaxnregAttrName(),
                builder.getI32IntegerAttr(kMaxRegisters));
  return func;
}

} // namespace detail
} // namespace fftconv
} // namespace mlir

#endif // LIB_CONVERSION_BUTTERFLYTOGPU_KERNELEMITTER_H
