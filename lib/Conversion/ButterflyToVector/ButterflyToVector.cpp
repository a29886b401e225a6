//===- ButterflyToVector.cpp - Monarch DFTs as vectorized CPU stages -----===//
//
// butterfly.monarch on the CPU as loops of straight-line DFT codelets on
// vectors. The complex rows are split into planes of real and imaginary
// parts (vectors of complex numbers do not exist); each stage runs one
// codelet per column of its [a, f, c] view, with the vector lanes along the
// contiguous c or, where c is narrower than a vector (the last stage, c = 1),
// along the blocks a, transposed in registers; the planes are joined back at
// the end. A codelet is the radix-2 recursion of F_f unrolled with its
// roots of unity as constants, so a stage costs O(f log f) per column where
// the dense factor (butterfly-to-linalg's kron) costs f^2. The twiddle of
// column j is built from w^j by products, so a stage computes c roots of
// unity per call, not f*c. Each row is split, goes through all stages and
// is joined before the next starts, so it stays in cache; rows are tasks of
// an scf.forall (threads under fftconv-to-cpu{threads}). The real-input
// trick's pack_real and unpack_real around a transform are read and written
// by the split and the join themselves.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Conversion/ButterflyToVector/ButterflyToVector.h"

#include "fftconv/Conversion/Utils/LoweringUtils.h"
#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"
#include "fftconv/Dialect/Butterfly/Transforms/CostModel.h"
#include "fftconv/Dialect/Butterfly/Transforms/MonarchStages.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Complex/IR/Complex.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/Support/MathExtras.h"

#include <cmath>

namespace mlir {
namespace fftconv {
#define GEN_PASS_DEF_BUTTERFLYTOVECTOR
#include "fftconv/Conversion/Passes.h.inc"
} // namespace fftconv
} // namespace mlir

using namespace mlir;
using namespace mlir::butterfly;
using namespace mlir::fftconv;

namespace {

/// A complex vector as its two planes; `known zero` where absent.
struct Lanes {
  Value re, im;
};
using MaybeLanes = std::optional<Lanes>;

/// Builds the arithmetic of codelets on complex vectors of one type.
class CodeletBuilder {
public:
  CodeletBuilder(OpBuilder &b, Location loc, VectorType type)
      : b(b), loc(loc), type(type) {}

  Value splat(double value) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(value)));
  }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value neg(Value x) { return arith::NegFOp::create(b, loc, x); }

  MaybeLanes add(MaybeLanes x, MaybeLanes y) {
    if (!x || !y)
      return x ? x : y;
    return Lanes{add(x->re, y->re), add(x->im, y->im)};
  }
  MaybeLanes sub(MaybeLanes x, MaybeLanes y) {
    if (!y)
      return x;
    if (!x)
      return Lanes{neg(y->re), neg(y->im)};
    return Lanes{sub(x->re, y->re), sub(x->im, y->im)};
  }
  Lanes mul(Lanes x, Lanes y) {
    return {sub(mul(x.re, y.re), mul(x.im, y.im)),
            add(mul(x.re, y.im), mul(x.im, y.re))};
  }

  /// `x * exp(-+2 pi i k / m)` (`+` when `inverse`) with the root a
  /// constant: multiples of pi/2 are swaps and negations, odd multiples of
  /// pi/4 two products.
  MaybeLanes mulRoot(MaybeLanes x, int64_t k, int64_t m, bool inverse) {
    k %= m;
    if (!x || k == 0)
      return x;
    double angle = (inverse ? 2.0 : -2.0) * M_PI * double(k) / double(m);
    if ((8 * k) % m == 0) {
      int64_t eighths = 8 * k / m;
      if (eighths % 2 == 0) {
        // exp(i angle) is one of 1, i, -1, -i.
        int64_t quarter = (inverse ? eighths / 2 : 4 - eighths / 2) % 4;
        switch (quarter) {
        case 1:
          return Lanes{neg(x->im), x->re};
        case 2:
          return Lanes{neg(x->re), neg(x->im)};
        case 3:
          return Lanes{x->im, neg(x->re)};
        default:
          return x;
        }
      }
      double c = std::cos(angle), s = std::sin(angle);
      Value scale = splat(c);
      if ((c > 0) == (s > 0))
        return Lanes{mul(scale, sub(x->re, x->im)),
                     mul(scale, add(x->re, x->im))};
      return Lanes{mul(scale, add(x->re, x->im)),
                   mul(scale, sub(x->im, x->re))};
    }
    return mul(*x, Lanes{splat(std::cos(angle)), splat(std::sin(angle))});
  }

  /// F_m x (F_m^-1 without its 1/m when `inverse`) in natural order, m a
  /// power of two: the radix-2 recursion on even and odd entries, unrolled.
  SmallVector<MaybeLanes> dft(ArrayRef<MaybeLanes> x, bool inverse) {
    int64_t m = x.size();
    if (m == 1)
      return SmallVector<MaybeLanes>(x);
    SmallVector<MaybeLanes> evenIn, oddIn;
    for (int64_t n = 0; n < m; ++n)
      (n % 2 ? oddIn : evenIn).push_back(x[n]);
    SmallVector<MaybeLanes> even = dft(evenIn, inverse);
    SmallVector<MaybeLanes> odd = dft(oddIn, inverse);
    SmallVector<MaybeLanes> y(m);
    for (int64_t k = 0; k < m / 2; ++k) {
      MaybeLanes rotated = mulRoot(odd[k], k, m, inverse);
      y[k] = add(even[k], rotated);
      y[k + m / 2] = sub(even[k], rotated);
    }
    return y;
  }

  /// w^0 .. w^(count-1) given w, as products of earlier powers (w^k =
  /// w^(k/2) w^(k - k/2)), so each carries about log2(k) roundings.
  SmallVector<Lanes> powers(Lanes w, int64_t count) {
    SmallVector<Lanes> result;
    result.push_back({splat(1.0), splat(0.0)});
    if (count > 1)
      result.push_back(w);
    for (int64_t k = 2; k < count; ++k)
      result.push_back(mul(result[k / 2], result[k - k / 2]));
    return result;
  }

private:
  OpBuilder &b;
  Location loc;
  VectorType type;
};

/// The real and imaginary planes of a row ([1, length] f32 tensors),
/// threaded through the stages' loops.
struct Planes {
  Value re, im;
};

/// The planes viewed with the row's last dimension split into `shape`
/// ([1, N] -> [1, shape...]), so that a codelet's values are one vector
/// access a plane: a chain of one write a value made One-Shot
/// Bufferize's conflict analysis quadratic in the codelet's size (2.6 of
/// 3.9 s of a small backward's CPU pipeline), and ConvertVectorToSCF's
/// full unroll gives back the same 1-D accesses after bufferization.
/// The reassociation between a [1, N] row and its view of `rank`
/// dimensions [1, ...].
SmallVector<ReassociationIndices> rowViewReassociation(int64_t rank) {
  ReassociationIndices split;
  for (int64_t d = 1; d < rank; ++d)
    split.push_back(d);
  return {{0}, split};
}

Planes viewPlanes(OpBuilder &b, Location loc, Planes planes,
                  ArrayRef<int64_t> shape) {
  SmallVector<int64_t> viewShape = {1};
  viewShape.append(shape.begin(), shape.end());
  auto type = RankedTensorType::get(viewShape, b.getF32Type());
  auto reassociation = rowViewReassociation(type.getRank());
  auto view = [&](Value plane) -> Value {
    return tensor::ExpandShapeOp::create(b, loc, type, plane, reassociation);
  };
  return {view(planes.re), view(planes.im)};
}

/// The planes back as [1, N] rows (viewPlanes undone).
Planes rowPlanes(OpBuilder &b, Location loc, Planes planes) {
  auto type = cast<RankedTensorType>(planes.re.getType());
  auto rowType =
      RankedTensorType::get({1, type.getNumElements()}, b.getF32Type());
  auto reassociation = rowViewReassociation(type.getRank());
  auto row = [&](Value plane) -> Value {
    return tensor::CollapseShapeOp::create(b, loc, rowType, plane,
                                           reassociation);
  };
  return {row(planes.re), row(planes.im)};
}

/// A block of `type` (its dimensions the view's minor ones) of both planes
/// of a view, at `indices`.
Lanes readBlock(OpBuilder &b, Location loc, Planes planes, ValueRange indices,
                VectorType type) {
  Value pad = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  SmallVector<bool> inBounds(type.getRank(), true);
  auto read = [&](Value plane) -> Value {
    return vector::TransferReadOp::create(b, loc, type, plane, indices, pad,
                                          inBounds);
  };
  return {read(planes.re), read(planes.im)};
}

Planes writeBlock(OpBuilder &b, Location loc, Lanes block, Planes planes,
                  ValueRange indices) {
  SmallVector<bool> inBounds(cast<VectorType>(block.re.getType()).getRank(),
                             true);
  auto write = [&](Value vector, Value plane) -> Value {
    return vector::TransferWriteOp::create(b, loc, vector, plane, indices,
                                           inBounds)
        .getResult();
  };
  return {write(block.re, planes.re), write(block.im, planes.im)};
}

/// The rows of a 2-D vector.
SmallVector<Value> rowsOf(OpBuilder &b, Location loc, Value matrix) {
  SmallVector<Value> rows;
  int64_t count = cast<VectorType>(matrix.getType()).getShape()[0];
  for (int64_t n = 0; n < count; ++n)
    rows.push_back(
        vector::ExtractOp::create(b, loc, matrix, ArrayRef<int64_t>{n}));
  return rows;
}

/// A matrix of `rows` (zero where absent), joined by shuffles pairwise and
/// shape-cast. Not a chain of vector.insert into a matrix: the canonicalizer
/// turns that into a vector.from_elements of every element, an LLVM
/// insertelement each.
Value matrixOf(OpBuilder &b, Location loc, ArrayRef<Value> rows,
               VectorType type) {
  auto rowType = VectorType::get({type.getShape()[1]}, type.getElementType());
  Value zero = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(rowType, b.getF32FloatAttr(0.0f)));
  SmallVector<Value> parts;
  for (Value row : rows)
    parts.push_back(row ? row : zero);
  while (parts.size() > 1) {
    SmallVector<Value> joined;
    for (size_t n = 0; n + 1 < parts.size(); n += 2) {
      int64_t lanes = cast<VectorType>(parts[n].getType()).getNumElements() +
                      cast<VectorType>(parts[n + 1].getType()).getNumElements();
      joined.push_back(vector::ShuffleOp::create(
          b, loc, parts[n], parts[n + 1],
          llvm::to_vector(llvm::seq<int64_t>(0, lanes))));
    }
    if (parts.size() % 2)
      joined.push_back(parts.back());
    parts = std::move(joined);
  }
  return vector::ShapeCastOp::create(b, loc, type, parts.front());
}

/// One Monarch stage: the stage's view of a row is [a, f, c].
struct StageShape {
  int64_t blocks, factor, stride;
  /// Inputs / outputs of the factor that are read / needed (known zeros
  /// past `inputExtent`, unread outputs past `outputExtent`).
  int64_t inputExtent, outputExtent;
};

/// The stage over one row with the lanes along c: a codelet per (i, j),
/// `width` consecutive j at a time, its f values of a plane one access of
/// the row's [a, f, c] view. `roots` are w^j, j < c, for the twiddle (null
/// for the last stage, c = 1).
Planes buildColumnStage(OpBuilder &b, Location loc, Planes planes,
                        const StageShape &stage, int64_t width, bool inverse,
                        std::optional<Planes> roots) {
  Type f32 = b.getF32Type();
  auto type = VectorType::get({width}, f32);
  int64_t f = stage.factor, c = stage.stride;
  Planes view = viewPlanes(b, loc, planes, {stage.blocks, f, c});
  auto blockLoop = scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, stage.blocks),
      indexConstant(b, loc, 1), ValueRange{view.re, view.im});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(blockLoop.getBody());
    Value i = blockLoop.getInductionVar();
    Planes outer{blockLoop.getRegionIterArgs()[0],
                 blockLoop.getRegionIterArgs()[1]};
    auto columnLoop = scf::ForOp::create(
        b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, c),
        indexConstant(b, loc, width), ValueRange{outer.re, outer.im});
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(columnLoop.getBody());
      Value j = columnLoop.getInductionVar();
      Planes current{columnLoop.getRegionIterArgs()[0],
                     columnLoop.getRegionIterArgs()[1]};
      CodeletBuilder codelet(b, loc, type);
      Value zero = indexConstant(b, loc, 0);
      SmallVector<Value> at = {zero, i, zero, j};
      SmallVector<Lanes> twiddle;
      if (roots) {
        Planes table = *roots;
        Value pad = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
        SmallVector<bool> inBounds = {true};
        auto read = [&](Value plane) -> Value {
          return vector::TransferReadOp::create(b, loc, type, plane,
                                                ValueRange{j}, pad, inBounds);
        };
        twiddle = codelet.powers({read(table.re), read(table.im)}, f);
      }
      Lanes inputs =
          readBlock(b, loc, current, at,
                    VectorType::get({stage.inputExtent, width}, f32));
      SmallVector<Value> re = rowsOf(b, loc, inputs.re),
                         im = rowsOf(b, loc, inputs.im);
      SmallVector<MaybeLanes> x(f);
      for (int64_t n = 0; n < stage.inputExtent; ++n) {
        x[n] = Lanes{re[n], im[n]};
        // The inverse twiddles its input (w^-(n j)), the forward its output.
        if (inverse && roots && n > 0)
          x[n] = codelet.mul(*x[n], twiddle[n]);
      }
      SmallVector<MaybeLanes> y = codelet.dft(x, inverse);
      SmallVector<Value> outRe, outIm;
      for (int64_t k = 0; k < stage.outputExtent; ++k) {
        Lanes value =
            y[k] ? *y[k] : Lanes{codelet.splat(0.0), codelet.splat(0.0)};
        if (!inverse && roots && k > 0)
          value = codelet.mul(value, twiddle[k]);
        outRe.push_back(value.re);
        outIm.push_back(value.im);
      }
      auto outputType = VectorType::get({stage.outputExtent, width}, f32);
      current = writeBlock(b, loc,
                           Lanes{matrixOf(b, loc, outRe, outputType),
                                 matrixOf(b, loc, outIm, outputType)},
                           current, at);
      scf::YieldOp::create(b, loc, ValueRange{current.re, current.im});
    }
    scf::YieldOp::create(b, loc, columnLoop.getResults());
  }
  return rowPlanes(b, loc, {blockLoop.getResult(0), blockLoop.getResult(1)});
}

/// The last stage (c = 1) with the lanes along the blocks: `width` blocks
/// of f contiguous values are read as a width x f matrix of the row's
/// [a, f] view and transposed in registers, so that lane l holds block
/// i + l.
Planes buildTransposedStage(OpBuilder &b, Location loc, Planes planes,
                            const StageShape &stage, int64_t width,
                            bool inverse) {
  int64_t f = stage.factor;
  Type f32 = b.getF32Type();
  auto laneType = VectorType::get({width}, f32);
  auto matrixType = VectorType::get({width, f}, f32);
  Planes view = viewPlanes(b, loc, planes, {stage.blocks, f});
  auto loop = scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, stage.blocks),
      indexConstant(b, loc, width), ValueRange{view.re, view.im});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value zero = indexConstant(b, loc, 0);
  SmallVector<Value> at = {zero, loop.getInductionVar(), zero};
  Planes current{loop.getRegionIterArgs()[0], loop.getRegionIterArgs()[1]};
  CodeletBuilder codelet(b, loc, laneType);
  // A plane's width x f block -> f vectors of `width` lanes.
  auto columnsOf = [&](Value matrix) {
    return rowsOf(
        b, loc,
        vector::TransposeOp::create(b, loc, matrix, ArrayRef<int64_t>{1, 0}));
  };
  Lanes inputs = readBlock(b, loc, current, at, matrixType);
  SmallVector<Value> re = columnsOf(inputs.re), im = columnsOf(inputs.im);
  SmallVector<MaybeLanes> x(f);
  for (int64_t n = 0; n < stage.inputExtent; ++n)
    x[n] = Lanes{re[n], im[n]};
  SmallVector<MaybeLanes> y = codelet.dft(x, inverse);
  // f vectors of `width` lanes -> the plane's width x f block.
  auto blockOf = [&](bool imaginary) -> Value {
    SmallVector<Value> columns;
    for (const MaybeLanes &value : y)
      columns.push_back(value ? (imaginary ? value->im : value->re) : Value());
    Value matrix = matrixOf(b, loc, columns, VectorType::get({f, width}, f32));
    return vector::TransposeOp::create(b, loc, matrix, ArrayRef<int64_t>{1, 0});
  };
  current =
      writeBlock(b, loc, Lanes{blockOf(false), blockOf(true)}, current, at);
  scf::YieldOp::create(b, loc, ValueRange{current.re, current.im});
  b.setInsertionPointAfter(loop);
  return rowPlanes(b, loc, {loop.getResult(0), loop.getResult(1)});
}

/// w^j for j < `count`, w = exp(-+2 pi i / `order`), as two f32 planes.
Planes buildRoots(OpBuilder &b, Location loc, int64_t count, int64_t order,
                  bool inverse) {
  Type f32 = b.getF32Type();
  Value table =
      buildRootTable(b, loc, count, order, inverse, ComplexType::get(f32));
  auto type = RankedTensorType::get({count}, f32);
  Value empty = tensor::EmptyOp::create(b, loc, type.getShape(), f32);
  AffineMap identity = b.getMultiDimIdentityMap(1);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type, type}, ValueRange{table},
      ValueRange{empty, empty},
      ArrayRef<AffineMap>{identity, identity, identity},
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(
            nb, nloc,
            ValueRange{complex::ReOp::create(nb, nloc, args[0]),
                       complex::ImOp::create(nb, nloc, args[0])});
      });
  return {generic.getResult(0), generic.getResult(1)};
}

struct MonarchToVector : OpRewritePattern<MonarchOp> {
  MonarchToVector(MLIRContext *context, int64_t vectorWidth, int64_t maxFactor)
      : OpRewritePattern(context), vectorWidth(vectorWidth),
        maxFactor(maxFactor) {}

  LogicalResult matchAndRewrite(MonarchOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getInput().getType();
    ArrayRef<int64_t> factors = op.getFactors();
    if (!type.hasStaticShape() || type.getRank() < 1)
      return rewriter.notifyMatchFailure(op, "needs a static shape");
    for (int64_t factor : factors)
      if (!llvm::isPowerOf2_64(factor) || factor > maxFactor)
        return rewriter.notifyMatchFailure(
            op, "codelets are for powers of two up to the maximum factor");
    // A band leaves spectrum-side values unspecified, which the codelets
    // would read: the dense stages skip them instead.
    if (op.getSpectralBand())
      return rewriter.notifyMatchFailure(op, "frequency band");

    Location loc = op.getLoc();
    bool inverse = op.getInverse();
    int64_t length = type.getShape().back();
    int64_t rows = type.getNumElements() / length;
    Value value = op.getInput();
    // The real-input trick's packing and unpacking, where they are this
    // transform's producer and only user (and no digit reversal is between):
    // the rows are read from and written to the real sequences directly.
    PackRealOp pack;
    if (!inverse || op.getPermuted())
      pack = value.getDefiningOp<PackRealOp>();
    UnpackRealOp unpack;
    if ((inverse || op.getPermuted()) && op->hasOneUse())
      unpack = dyn_cast<UnpackRealOp>(*op->user_begin());
    if (inverse && !op.getPermuted()) {
      SmallVector<int64_t> reversed(llvm::reverse(factors));
      value = buildDigitReversal(rewriter, loc, value, reversed);
    }
    value = toMatrix(rewriter, loc, pack ? pack.getInput() : value, rows);

    // The stages' shapes and their twiddles' roots (once per call).
    size_t numStages = factors.size();
    SmallVector<StageShape> stages;
    SmallVector<std::optional<Planes>> roots;
    int64_t stride = length;
    for (size_t s = 0; s < numStages; ++s) {
      stride /= factors[s];
      StageShape stage{length / (factors[s] * stride), factors[s], stride,
                       factors[s], factors[s]};
      // Known zeros are whole blocks of the leading digit (stride N / N1).
      if (s == 0 && !inverse)
        if (std::optional<uint64_t> count = op.getNonzeroInputs())
          stage.inputExtent = std::min<int64_t>(
              factors[0], (int64_t(*count) + stride - 1) / stride);
      if (s == 0 && inverse)
        if (std::optional<uint64_t> count = op.getNeededOutputs())
          stage.outputExtent = std::min<int64_t>(
              factors[0], (int64_t(*count) + stride - 1) / stride);
      stages.push_back(stage);
      roots.push_back(
          stride > 1 ? std::optional<Planes>(buildRoots(
                           rewriter, loc, stride, factors[s] * stride, inverse))
                     : std::nullopt);
    }

    // Row by row: split into planes, all stages (the forward in order, the
    // inverse reversed), join, so a row is read and written once and stays
    // in cache in between. Rows are independent: an scf.forall of tasks
    // (threads where the pipeline has them), each an scf.for over enough
    // rows to be worth a task, with planes of one row to work in.
    int64_t rowsPerTask =
        std::clamp<int64_t>(kCPUMinPointsPerTask / length, 1, rows);
    int64_t tasks = llvm::divideCeil(rows, rowsPerTask);
    RankedTensorType resultType = unpack ? unpack.getType() : type;
    Value output = tensor::EmptyOp::create(rewriter, loc,
                                           {rows, resultType.getShape().back()},
                                           resultType.getElementType());
    auto taskLoop = scf::ForallOp::create(
        rewriter, loc, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(tasks)},
        ValueRange{output}, std::nullopt);
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(taskLoop.getBody());
      Value task = taskLoop.getInductionVars()[0];
      Value firstRow = arith::MulIOp::create(
          rewriter, loc, task, indexConstant(rewriter, loc, rowsPerTask));
      Value endRow = arith::MinUIOp::create(
          rewriter, loc,
          arith::AddIOp::create(rewriter, loc, firstRow,
                                indexConstant(rewriter, loc, rowsPerTask)),
          indexConstant(rewriter, loc, rows));
      Value taskRows = arith::SubIOp::create(rewriter, loc, endRow, firstRow);
      SmallVector<OpFoldResult> taskOffsets = {firstRow,
                                               rewriter.getIndexAttr(0)};
      SmallVector<OpFoldResult> taskSizes = {
          taskRows, rewriter.getIndexAttr(resultType.getShape().back())};
      SmallVector<OpFoldResult> unit(2, rewriter.getIndexAttr(1));
      Value taskOutput = tensor::ExtractSliceOp::create(
          rewriter, loc, taskLoop.getRegionIterArgs()[0], taskOffsets,
          taskSizes, unit);
      Type f32 = rewriter.getF32Type();
      Planes scratch{tensor::EmptyOp::create(rewriter, loc, {1, length}, f32),
                     tensor::EmptyOp::create(rewriter, loc, {1, length}, f32)};
      auto rowLoop =
          scf::ForOp::create(rewriter, loc, indexConstant(rewriter, loc, 0),
                             taskRows, indexConstant(rewriter, loc, 1),
                             ValueRange{scratch.re, scratch.im, taskOutput});
      rewriter.setInsertionPointToStart(rowLoop.getBody());
      Value row = rowLoop.getInductionVar();
      Planes current = splitRow(
          rewriter, loc, value,
          arith::AddIOp::create(rewriter, loc, firstRow, row),
          {rowLoop.getRegionIterArgs()[0], rowLoop.getRegionIterArgs()[1]});
      for (size_t step = 0; step < numStages; ++step) {
        size_t s = inverse ? numStages - 1 - step : step;
        const StageShape &stage = stages[s];
        if (stage.stride == 1 && stage.blocks > 1)
          current = buildTransposedStage(rewriter, loc, current, stage,
                                         std::min(vectorWidth, stage.blocks),
                                         inverse);
        else
          current = buildColumnStage(rewriter, loc, current, stage,
                                     std::min(vectorWidth, stage.stride),
                                     inverse, roots[s]);
      }
      Value rows =
          joinRow(rewriter, loc, current, rowLoop.getRegionIterArgs()[2], row,
                  inverse ? 1.0 / double(length) : 1.0);
      scf::YieldOp::create(rewriter, loc,
                           ValueRange{current.re, current.im, rows});
      rewriter.setInsertionPointToStart(taskLoop.getTerminator().getBody());
      tensor::ParallelInsertSliceOp::create(rewriter, loc, rowLoop.getResult(2),
                                            taskLoop.getRegionIterArgs()[0],
                                            taskOffsets, taskSizes, unit);
    }
    Value result = fromMatrix(rewriter, loc, taskLoop.getResult(0), resultType);
    if (unpack) {
      rewriter.replaceOp(unpack, result);
      rewriter.eraseOp(op);
      return success();
    }
    if (!inverse && !op.getPermuted())
      result = buildDigitReversal(rewriter, loc, result, factors);
    rewriter.replaceOp(op, result);
    return success();
  }

private:
  /// The reassociation between a tensor of `rank` and its [rows, N] view.
  static SmallVector<ReassociationIndices> rowsAndLength(int64_t rank) {
    if (rank == 1)
      return {{0, 1}};
    ReassociationIndices leading;
    for (int64_t d = 0; d + 1 < rank; ++d)
      leading.push_back(d);
    return {leading, {rank - 1}};
  }

  static Value toMatrix(OpBuilder &b, Location loc, Value value, int64_t rows) {
    auto type = cast<RankedTensorType>(value.getType());
    auto matrixType = RankedTensorType::get({rows, type.getShape().back()},
                                            type.getElementType());
    if (type.getRank() == 2)
      return value;
    if (type.getRank() == 1)
      return tensor::ExpandShapeOp::create(b, loc, matrixType, value,
                                           rowsAndLength(1));
    return tensor::CollapseShapeOp::create(b, loc, matrixType, value,
                                           rowsAndLength(type.getRank()));
  }

  static Value fromMatrix(OpBuilder &b, Location loc, Value value,
                          RankedTensorType type) {
    if (type.getRank() == 2)
      return value;
    if (type.getRank() == 1)
      return tensor::CollapseShapeOp::create(b, loc, type, value,
                                             rowsAndLength(1));
    return tensor::ExpandShapeOp::create(b, loc, type, value,
                                         rowsAndLength(type.getRank()));
  }

  /// An scf.for from `lower` to `upper` threading `values`, its body from
  /// `body(j, values)` (which returns the values to yield).
  static SmallVector<Value>
  buildLoop(OpBuilder &b, Location loc, int64_t lower, int64_t upper,
            ValueRange values,
            function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    if (lower >= upper)
      return SmallVector<Value>(values);
    auto loop = scf::ForOp::create(b, loc, indexConstant(b, loc, lower),
                                   indexConstant(b, loc, upper),
                                   indexConstant(b, loc, 1), values);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    scf::YieldOp::create(
        b, loc, body(loop.getInductionVar(), loop.getRegionIterArgs()));
    return SmallVector<Value>(loop.getResults());
  }

  /// Row `row` of `input` into the planes `into` (row 0 of each), N values
  /// long: `input` is complex [rows, N], or real [rows, L] (L <= 2N) read
  /// as pack_real does (x[2j] + i x[2j+1], zero past L).
  static Planes splitRow(OpBuilder &b, Location loc, Value input, Value row,
                         Planes into) {
    auto inputType = cast<RankedTensorType>(input.getType());
    int64_t length = cast<RankedTensorType>(into.re.getType()).getShape()[1];
    Value zero = indexConstant(b, loc, 0);
    auto insert = [&](Value re, Value im, ValueRange planes, Value j) {
      return SmallVector<Value>{
          tensor::InsertOp::create(b, loc, re, planes[0], ValueRange{zero, j}),
          tensor::InsertOp::create(b, loc, im, planes[1], ValueRange{zero, j})};
    };
    auto read = [&](Value t) -> Value {
      return tensor::ExtractOp::create(b, loc, input, ValueRange{row, t});
    };
    SmallVector<Value> planes = {into.re, into.im};
    if (isa<ComplexType>(inputType.getElementType())) {
      planes = buildLoop(
          b, loc, 0, length, planes, [&](Value j, ValueRange current) {
            Value value = read(j);
            return insert(complex::ReOp::create(b, loc, value),
                          complex::ImOp::create(b, loc, value), current, j);
          });
      return {planes[0], planes[1]};
    }
    int64_t real = inputType.getShape()[1];
    Value zeroValue = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    planes = buildLoop(
        b, loc, 0, real / 2, planes, [&](Value j, ValueRange current) {
          Value even =
              arith::MulIOp::create(b, loc, j, indexConstant(b, loc, 2));
          Value odd =
              arith::AddIOp::create(b, loc, even, indexConstant(b, loc, 1));
          return insert(read(even), read(odd), current, j);
        });
    if (real % 2)
      planes = insert(read(indexConstant(b, loc, real - 1)), zeroValue, planes,
                      indexConstant(b, loc, real / 2));
    planes = buildLoop(b, loc, (real + 1) / 2, length, planes,
                       [&](Value j, ValueRange current) {
                         return insert(zeroValue, zeroValue, current, j);
                       });
    return {planes[0], planes[1]};
  }

  /// The planes (row 0), times `scale` (the inverse's 1/N), as row `row`
  /// of `into`: complex [rows, N], or real [rows, L] (L <= 2N) written as
  /// unpack_real does (Re z[t/2] at even t, Im z[t/2] at odd t).
  static Value joinRow(OpBuilder &b, Location loc, Planes planes, Value into,
                       Value row, double scale) {
    auto type = cast<RankedTensorType>(into.getType());
    int64_t length = type.getShape()[1];
    Value zero = indexConstant(b, loc, 0);
    Value factor =
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(float(scale)));
    auto read = [&](Value plane, Value j) -> Value {
      Value value =
          tensor::ExtractOp::create(b, loc, plane, ValueRange{zero, j});
      return scale != 1.0 ? arith::MulFOp::create(b, loc, value, factor)
                          : value;
    };
    auto write = [&](Value value, Value target, Value t) -> Value {
      return tensor::InsertOp::create(b, loc, value, target,
                                      ValueRange{row, t});
    };
    if (auto complexType = dyn_cast<ComplexType>(type.getElementType()))
      return buildLoop(
          b, loc, 0, length, into, [&](Value j, ValueRange current) {
            Value value = complex::CreateOp::create(
                b, loc, complexType, read(planes.re, j), read(planes.im, j));
            return SmallVector<Value>{write(value, current[0], j)};
          })[0];
    Value result = buildLoop(
        b, loc, 0, length / 2, into, [&](Value j, ValueRange current) {
          Value even =
              arith::MulIOp::create(b, loc, j, indexConstant(b, loc, 2));
          Value odd =
              arith::AddIOp::create(b, loc, even, indexConstant(b, loc, 1));
          Value partial = write(read(planes.re, j), current[0], even);
          return SmallVector<Value>{write(read(planes.im, j), partial, odd)};
        })[0];
    if (length % 2)
      result = write(read(planes.re, indexConstant(b, loc, length / 2)), result,
                     indexConstant(b, loc, length - 1));
    return result;
  }

  int64_t vectorWidth, maxFactor;
};

struct ButterflyToVectorPass
    : fftconv::impl::ButterflyToVectorBase<ButterflyToVectorPass> {
  using Base::Base;

  void runOnOperation() override {
    if (vectorWidth < 1 || vectorWidth > 64 ||
        !llvm::isPowerOf2_64(vectorWidth)) {
      getOperation()->emitError()
          << "butterfly-to-vector: vector-width must be a power of two from "
             "1 to 64, got "
          << int64_t(vectorWidth);
      return signalPassFailure();
    }
    if (maxFactor < 2 || maxFactor > 64 || !llvm::isPowerOf2_64(maxFactor)) {
      getOperation()->emitError()
          << "butterfly-to-vector: max-factor must be a power of two from 2 "
             "to 64, got "
          << int64_t(maxFactor);
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    populateButterflyToVectorPatterns(patterns, vectorWidth, maxFactor);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::fftconv::populateButterflyToVectorPatterns(
    RewritePatternSet &patterns, int64_t vectorWidth, int64_t maxFactor) {
  patterns.add<MonarchToVector>(patterns.getContext(), vectorWidth, maxFactor);
}
