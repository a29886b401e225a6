//===- LoweringUtils.h - helpers shared by the CPU lowerings ----*- C++ -*-===//
//
// Building blocks of the reference lowerings to linalg: roots of unity
// computed from indices, zero-initialized accumulators, the reshapes that
// view the last axis as [a, m, c], and elementwise linalg.generic bodies.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_CONVERSION_UTILS_LOWERINGUTILS_H
#define FFTCONV_CONVERSION_UTILS_LOWERINGUTILS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir {
namespace fftconv {

/// `scale * exp(-2*pi*i*(exponent mod n)/n)` (`+` when `inverse`), with the
/// angle, cosine and sine in f64 and the result rounded to `complexType`
/// (complex<f32> or complex<f64>). `exponent` is an index. Reducing the
/// exponent mod n first keeps the angle in [0, 2*pi).
Value buildRootOfUnity(OpBuilder &b, Location loc, Value exponent, int64_t n,
                       bool inverse, double scale, ComplexType complexType);

/// `exp(-2*pi*i*k/n)` (`+` when `inverse`) for k < `count`, as a
/// tensor<count x complexType>: each the product, in f64, of an entry of a
/// table of `w^(q*B)` and one of `w^r` (k = q*B + r, B about sqrt(count)),
/// so a table costs 2 sqrt(count) sines and cosines, not `count` (at 64K
/// points those took half of a CPU real-input transform).
Value buildRootTable(OpBuilder &b, Location loc, int64_t count, int64_t n,
                     bool inverse, ComplexType complexType);

/// The cosine and sine (f64) of `2*pi*(exponent mod n)/n`.
std::pair<Value, Value> buildCosSin(OpBuilder &b, Location loc, Value exponent,
                                    int64_t n);

/// An index constant.
Value indexConstant(OpBuilder &b, Location loc, int64_t value);

/// A tensor of `shape` and `elementType` filled with zero (complex zero for
/// complex element types).
Value buildZeroTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                      Type elementType);

/// The zero of a float or complex type.
Value buildZero(OpBuilder &b, Location loc, Type type);

/// Converts a float or complex scalar to `type` (extension or rounding).
Value castScalar(OpBuilder &b, Location loc, Value value, Type type);

/// Views the last axis of `value` (length N) as `sizes` (product N).
Value expandLastDim(OpBuilder &b, Location loc, Value value,
                    ArrayRef<int64_t> sizes);

/// `value` with its last axis cropped (tensor.extract_slice) or zero-padded
/// (tensor.pad) to `length`.
Value resizeLastDim(OpBuilder &b, Location loc, Value value, int64_t length);

/// Folds the last `count` axes of `value` back into one.
Value collapseTrailingDims(OpBuilder &b, Location loc, Value value,
                           int64_t count);

/// Applies `body` to the elements of same-shaped `inputs` (or, for inputs of
/// lower rank, through the maps in `inputMaps` when given) and produces a
/// tensor of `shape` x `resultType`.
Value buildElementwise(
    OpBuilder &b, Location loc, ValueRange inputs, ArrayRef<int64_t> shape,
    Type resultType,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body,
    ArrayRef<AffineMap> inputMaps = {});

/// The linalg.index values of the first `count` loops of the enclosing
/// linalg.generic (for index-driven bodies).
SmallVector<Value> loopIndices(OpBuilder &b, Location loc, int64_t count);

/// Iterator types: `numParallel` parallel loops then `numReduction`
/// reductions.
SmallVector<utils::IteratorType> parallelThenReduction(int64_t numParallel,
                                                       int64_t numReduction);

/// Rewrites every op of `Dialect` under `root` with `patterns` and leaves
/// all other ops as they are: the driver of both CPU lowerings, each of
/// which removes one dialect. Fails if an op of `Dialect` remains.
template <typename Dialect>
LogicalResult lowerDialectOps(Operation *root, RewritePatternSet &&patterns) {
  ConversionTarget target(*root->getContext());
  target.addIllegalDialect<Dialect>();
  target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
  return applyPartialConversion(root, target, std::move(patterns));
}

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_CONVERSION_UTILS_LOWERINGUTILS_H
