//===- ButterflyOps.cpp - butterfly operations ------------------*- C++ -*-===//
//
// Verifiers and folders of the butterfly ops.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"
#include "fftconv/Support/Spectral.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

#include <limits>

using namespace mlir;
using namespace mlir::butterfly;
using mlir::fftconv::Complex;

/// The product of the positive `sizes`, or nullopt if it overflows int64
/// (attribute values are user input and must not wrap around).
static std::optional<int64_t> checkedProduct(ArrayRef<int64_t> sizes) {
  int64_t product = 1;
  for (int64_t size : sizes) {
    if (size < 1 || product > std::numeric_limits<int64_t>::max() / size)
      return std::nullopt;
    product *= size;
  }
  return product;
}

/// Every butterfly op reads static sizes to define its index view.
static LogicalResult verifyStaticTensor(Operation *op, StringRef what,
                                        RankedTensorType type) {
  if (type.getRank() < 1)
    return op->emitOpError()
           << "expects " << what << " of rank at least 1, got " << type;
  if (!type.hasStaticShape() || llvm::is_contained(type.getShape(), 0))
    return op->emitOpError() << "expects " << what
                             << " with a static non-empty shape, got " << type;
  // The same bound as the fftconv dialect's: sizes, 2 * M and the byte
  // offsets the lowerings compute (16 bytes a complex<f64> element) stay
  // far from int64 overflow.
  std::optional<int64_t> count = checkedProduct(type.getShape());
  if (!count || *count > (int64_t(1) << 56))
    return op->emitOpError()
           << "expects " << what << " of at most 2^56 elements (the most the "
           << "lowerings address), got " << type;
  return success();
}

/// The last axis (length N) must split as [a, block] with block the product
/// of the op's view sizes, `viewSizes`, named `view`.
static LogicalResult verifyBlocking(Operation *op, RankedTensorType type,
                                    ArrayRef<int64_t> viewSizes,
                                    StringRef view) {
  int64_t length = type.getShape().back();
  std::optional<int64_t> blockSize = checkedProduct(viewSizes);
  if (!blockSize || length % *blockSize != 0) {
    InFlightDiagnostic diag = op->emitOpError()
                              << "expects the last dimension (" << length
                              << ") to be a multiple of " << view;
    if (blockSize)
      diag << " = " << *blockSize;
    else
      diag << ", which overflows";
    return diag;
  }
  return success();
}

/// Checks that `factors` (each at least 2) multiply to `length`.
static LogicalResult verifyFactors(Operation *op, ArrayRef<int64_t> factors,
                                   int64_t length, StringRef lengthName) {
  for (int64_t factor : factors) {
    if (factor < 2)
      return op->emitOpError()
             << "expects every factor to be at least 2, got " << factor;
    // A stage may become a dense factor of factor^2 entries (a
    // butterfly.dft), which must stay addressable.
    if (factor > (int64_t(1) << 28))
      return op->emitOpError()
             << "expects every factor to be at most 2^28 (a stage's dense "
             << "factor has factor^2 entries), got " << factor;
  }
  std::optional<int64_t> product = checkedProduct(factors);
  if (!product)
    return op->emitOpError()
           << "expects the factors to multiply to " << lengthName << " ("
           << length << "), but their product overflows";
  if (*product != length)
    return op->emitOpError()
           << "expects the factors to multiply to " << lengthName << " ("
           << length << "), got " << *product;
  return success();
}

//===----------------------------------------------------------------------===//
// DFTOp
//===----------------------------------------------------------------------===//

LogicalResult DFTOp::verify() {
  RankedTensorType type = getResult().getType();
  if (failed(verifyStaticTensor(*this, "result", type)))
    return failure();
  if (type.getRank() != 2 || type.getDimSize(0) != type.getDimSize(1))
    return emitOpError() << "expects a square m x m result, got " << type;
  return success();
}

//===----------------------------------------------------------------------===//
// KronOp
//===----------------------------------------------------------------------===//

LogicalResult KronOp::verify() {
  RankedTensorType factorType = getFactor().getType();
  RankedTensorType inputType = getInput().getType();
  if (failed(verifyStaticTensor(*this, "factor", factorType)) ||
      failed(verifyStaticTensor(*this, "input", inputType)))
    return failure();
  int64_t rank = factorType.getRank();
  if (rank < 2 || rank > 4 ||
      factorType.getDimSize(rank - 1) != factorType.getDimSize(rank - 2))
    return emitOpError() << "expects an m x m factor, a x m x m or "
                         << "a x c x m x m blocks, got " << factorType;
  if (factorType.getElementType() != inputType.getElementType())
    return emitOpError() << "expects the factor and the input to have one "
                         << "element type";
  if (failed(verifyBlocking(*this, inputType,
                            {getFactorSize(), int64_t(getStride())},
                            "factor size * stride")))
    return failure();
  if (rank >= 3 && factorType.getDimSize(0) != getNumBlocks())
    return emitOpError() << "expects one factor block per outer block: "
                         << getNumBlocks() << " blocks, got "
                         << factorType.getDimSize(0);
  if (rank == 4 && factorType.getDimSize(1) != int64_t(getStride()))
    return emitOpError() << "expects one factor block per inner position: "
                         << getStride() << " positions, got "
                         << factorType.getDimSize(1);
  for (auto [name, extent] :
       {std::make_pair("input extent", getInputExtent()),
        std::make_pair("output extent", getOutputExtent()),
        std::make_pair("input band", getInputBand()),
        std::make_pair("output band", getOutputBand())})
    if (extent && int64_t(*extent) > getFactorSize())
      return emitOpError() << "expects the " << name
                           << " to be at most the factor size "
                           << getFactorSize() << ", got " << *extent;
  return success();
}

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

namespace {
/// Zero inputs of a first stage (a = 1) fed by pack_real, and unread
/// outputs of a last stage feeding unpack_real, are blocks a kernel skips.
struct KronExtentsFromPacking : OpRewritePattern<KronOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(KronOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getNumBlocks() != 1)
      return failure();
    int64_t size = op.getFactorSize(), stride = op.getStride();
    std::optional<int64_t> inputExtent, outputExtent;
    if (auto pack = op.getInput().getDefiningOp<PackRealOp>()) {
      int64_t nonzero = ceilDiv(pack.getInput().getType().getShape().back(), 2);
      inputExtent = ceilDiv(nonzero, stride);
    }
    if (op->hasOneUse())
      if (auto unpack = dyn_cast<UnpackRealOp>(*op->user_begin())) {
        int64_t needed =
            ceilDiv(unpack.getResult().getType().getShape().back(), 2);
        outputExtent = ceilDiv(needed, stride);
      }
    bool newInput =
        inputExtent && *inputExtent < size &&
        (!op.getInputExtent() || int64_t(*op.getInputExtent()) > *inputExtent);
    bool newOutput = outputExtent && *outputExtent < size &&
                     (!op.getOutputExtent() ||
                      int64_t(*op.getOutputExtent()) > *outputExtent);
    if (!newInput && !newOutput)
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      if (newInput)
        op.setInputExtent(*inputExtent);
      if (newOutput)
        op.setOutputExtent(*outputExtent);
    });
    return success();
  }
};

/// The same knowledge for a whole monarch transform.
struct MonarchExtentsFromPacking : OpRewritePattern<MonarchOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MonarchOp op,
                                PatternRewriter &rewriter) const override {
    int64_t length = op.getInput().getType().getShape().back();
    std::optional<int64_t> nonzero, needed;
    if (!op.getInverse())
      if (auto pack = op.getInput().getDefiningOp<PackRealOp>())
        nonzero = ceilDiv(pack.getInput().getType().getShape().back(), 2);
    if (op.getInverse() && op->hasOneUse())
      if (auto unpack = dyn_cast<UnpackRealOp>(*op->user_begin()))
        needed = ceilDiv(unpack.getResult().getType().getShape().back(), 2);
    bool newNonzero =
        nonzero && *nonzero < length &&
        (!op.getNonzeroInputs() || int64_t(*op.getNonzeroInputs()) > *nonzero);
    bool newNeeded =
        needed && *needed < length &&
        (!op.getNeededOutputs() || int64_t(*op.getNeededOutputs()) > *needed);
    if (!newNonzero && !newNeeded)
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      if (newNonzero)
        op.setNonzeroInputs(*nonzero);
      if (newNeeded)
        op.setNeededOutputs(*needed);
    });
    return success();
  }
};
} // namespace

void KronOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                         MLIRContext *context) {
  results.add<KronExtentsFromPacking>(context);
}

void MonarchOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<MonarchExtentsFromPacking>(context);
}

//===----------------------------------------------------------------------===//
// TwiddleOp
//===----------------------------------------------------------------------===//

LogicalResult TwiddleOp::verify() {
  if (failed(verifyStaticTensor(*this, "input", getInput().getType())))
    return failure();
  return verifyBlocking(*this, getInput().getType(),
                        {int64_t(getRows()), int64_t(getCols())},
                        "rows * cols");
}

OpFoldResult TwiddleOp::fold(FoldAdaptor) {
  // The forward and the inverse twiddle of one view cancel exactly.
  auto inner = getInput().getDefiningOp<TwiddleOp>();
  if (inner && inner.getRows() == getRows() && inner.getCols() == getCols() &&
      inner.getInverse() != getInverse())
    return inner.getInput();
  // exp(-2 pi i k j / (rows * cols)) = 1 when either index range is {0}.
  if (getRows() == 1 || getCols() == 1)
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// PermuteOp
//===----------------------------------------------------------------------===//

LogicalResult PermuteOp::verify() {
  if (failed(verifyStaticTensor(*this, "input", getInput().getType())))
    return failure();
  return verifyBlocking(*this, getInput().getType(),
                        {int64_t(getRows()), int64_t(getCols())},
                        "rows * cols");
}

OpFoldResult PermuteOp::fold(FoldAdaptor adaptor) {
  // Transposing a 1 x c or r x 1 view moves nothing.
  if (getRows() == 1 || getCols() == 1)
    return getInput();
  // Constants (a constant kernel's spectrum put in Monarch order) move at
  // compile time.
  if (auto input = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput())) {
    if (input.isSplat())
      return input;
    auto values = llvm::to_vector(input.getValues<Attribute>());
    int64_t rows = getRows(), cols = getCols();
    SmallVector<Attribute> moved(values.size());
    for (size_t base = 0; base < values.size(); base += rows * cols)
      for (int64_t k = 0; k < rows; ++k)
        for (int64_t j = 0; j < cols; ++j)
          moved[base + j * rows + k] = values[base + k * cols + j];
    return DenseElementsAttr::get(getType(), moved);
  }
  // Transposing r x c and then c x r restores the order.
  auto inner = getInput().getDefiningOp<PermuteOp>();
  if (inner && inner.getRows() == getCols() && inner.getCols() == getRows())
    return inner.getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// MonarchOp
//===----------------------------------------------------------------------===//

LogicalResult MonarchOp::verify() {
  if (failed(verifyStaticTensor(*this, "input", getInput().getType())))
    return failure();
  ArrayRef<int64_t> factors = getFactors();
  if (factors.empty())
    return emitOpError() << "expects at least one factor";
  int64_t length = getInput().getType().getShape().back();
  if (failed(verifyFactors(*this, factors, length, "the last dimension")))
    return failure();
  if (getNonzeroInputs() && int64_t(*getNonzeroInputs()) > length)
    return emitOpError() << "expects nonzero_inputs <= " << length;
  if (getNeededOutputs() && int64_t(*getNeededOutputs()) > length)
    return emitOpError() << "expects needed_outputs <= " << length;
  if (getNeededOutputs() && !getInverse())
    return emitOpError() << "expects needed_outputs only on an inverse "
                         << "transform (whose output is in natural order)";
  if (getSpectralBand() && !getPermuted())
    return emitOpError() << "expects spectral_band only with permuted (a "
                         << "band of the Monarch-order spectrum)";
  if (getSpectralBand() && int64_t(*getSpectralBand()) > length)
    return emitOpError() << "expects spectral_band <= " << length;
  if (getNonzeroInputs() && getInverse() && getPermuted())
    return emitOpError() << "expects nonzero_inputs only on a transform "
                         << "whose input is in natural order";
  return success();
}

OpFoldResult MonarchOp::fold(FoldAdaptor) {
  // A forward and an inverse transform with the same factors and the same
  // order convention in between cancel.
  auto inner = getInput().getDefiningOp<MonarchOp>();
  if (inner && inner.getFactors() == getFactors() &&
      inner.getPermuted() == getPermuted() &&
      inner.getInverse() != getInverse())
    return inner.getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// MonarchLinearOp
//===----------------------------------------------------------------------===//

SmallVector<int64_t> MonarchLinearOp::getFactorSizes() {
  SmallVector<int64_t> sizes;
  for (Value weight : getWeights())
    sizes.push_back(cast<RankedTensorType>(weight.getType()).getShape().back());
  return sizes;
}

int64_t MonarchLinearOp::getNumParameters() {
  int64_t count = 0;
  for (Value weight : getWeights())
    count += cast<RankedTensorType>(weight.getType()).getNumElements();
  return count;
}

LogicalResult MonarchLinearOp::verify() {
  RankedTensorType inputType = getInput().getType();
  if (failed(verifyStaticTensor(*this, "input", inputType)))
    return failure();
  if (getWeights().empty())
    return emitOpError() << "expects at least one stage of weights";
  int64_t length = inputType.getShape().back();
  SmallVector<int64_t> sizes;
  for (auto [stage, weight] : llvm::enumerate(getWeights())) {
    auto type = cast<RankedTensorType>(weight.getType());
    if (failed(verifyStaticTensor(*this, "weights", type)))
      return failure();
    if (type.getElementType() != inputType.getElementType())
      return emitOpError() << "expects weights of the input's element type, "
                           << "stage " << stage << " has " << type;
    int64_t size = type.getShape().back();
    if (type.getRank() != 3 || type.getDimSize(1) != size || size < 2 ||
        size > length || type.getDimSize(0) != length / size ||
        length % size != 0)
      return emitOpError() << "expects stage " << stage
                           << " weights of shape (N/m) x m x m with m >= 2 "
                           << "and N = " << length << ", got " << type;
    sizes.push_back(size);
  }
  std::optional<int64_t> product = checkedProduct(sizes);
  if (product != length) {
    InFlightDiagnostic diag = emitOpError()
                              << "expects the stage sizes to multiply to N = "
                              << length;
    if (product)
      diag << ", got " << *product;
    else
      diag << ", but their product overflows";
    return diag;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Real-input transforms
//===----------------------------------------------------------------------===//

/// `input` and `result` keep their leading dimensions; returns failure after
/// reporting otherwise.
static LogicalResult verifySameLeadingDims(Operation *op,
                                           RankedTensorType input,
                                           RankedTensorType result) {
  if (failed(verifyStaticTensor(op, "input", input)) ||
      failed(verifyStaticTensor(op, "result", result)))
    return failure();
  if (input.getRank() != result.getRank() ||
      input.getShape().drop_back() != result.getShape().drop_back())
    return op->emitOpError()
           << "expects the result to keep the input's leading dimensions: "
           << input << " vs " << result;
  return success();
}

LogicalResult PackRealOp::verify() {
  RankedTensorType input = getInput().getType(), result = getResult().getType();
  if (failed(verifySameLeadingDims(*this, input, result)))
    return failure();
  if (input.getShape().back() > 2 * result.getShape().back())
    return emitOpError() << "expects at most 2M = "
                         << 2 * result.getShape().back() << " real values, got "
                         << input.getShape().back();
  return success();
}

LogicalResult UnpackRealOp::verify() {
  RankedTensorType input = getInput().getType(), result = getResult().getType();
  if (failed(verifySameLeadingDims(*this, input, result)))
    return failure();
  if (result.getShape().back() > 2 * input.getShape().back())
    return emitOpError() << "expects at most 2M = "
                         << 2 * input.getShape().back() << " real outputs, got "
                         << result.getShape().back();
  return success();
}

namespace {
/// extract_slice(unpack_real(z))[.., 0:L'] = unpack_real(z) of length L':
/// the outputs that are dropped are never computed.
struct CropUnpackReal : OpRewritePattern<tensor::ExtractSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::ExtractSliceOp slice,
                                PatternRewriter &rewriter) const override {
    auto unpack = slice.getSource().getDefiningOp<UnpackRealOp>();
    if (!unpack)
      return failure();
    RankedTensorType source = slice.getSourceType();
    RankedTensorType result = slice.getResultType();
    if (!slice.hasUnitStride() || !slice.hasZeroOffset() ||
        result.getRank() != source.getRank() ||
        result.getShape().drop_back() != source.getShape().drop_back())
      return failure();
    auto replacement = rewriter.replaceOpWithNewOp<UnpackRealOp>(
        slice, result, unpack.getInput());
    replacement->setDiscardableAttrs(unpack->getDiscardableAttrDictionary());
    return success();
  }
};
} // namespace

void UnpackRealOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                               MLIRContext *context) {
  results.add<CropUnpackReal>(context);
}

LogicalResult RealSpectrumOp::verify() {
  RankedTensorType input = getInput().getType(), result = getResult().getType();
  if (failed(verifySameLeadingDims(*this, input, result)))
    return failure();
  int64_t half = getHalfLength();
  int64_t bins =
      getInverse() ? input.getShape().back() : result.getShape().back();
  if (bins != half + 1)
    return emitOpError() << "expects M + 1 = " << half + 1
                         << " spectrum bins for M = " << half << ", got "
                         << bins;
  return success();
}

LogicalResult ConvSpectrumOp::verify() {
  RankedTensorType input = getInput().getType(), result = getResult().getType();
  if (failed(verifyStaticTensor(*this, "input", input)) ||
      failed(verifyStaticTensor(*this, "result", result)))
    return failure();
  if (input.getRank() != 2 || result.getRank() != 3)
    return emitOpError() << "expects H x (M+1) bins and H x 2 x M "
                         << "coefficients, got " << input << " and " << result;
  int64_t half = result.getDimSize(2);
  if (result.getDimSize(0) != input.getDimSize(0) ||
      result.getDimSize(1) != 2 || input.getDimSize(1) != half + 1)
    return emitOpError() << "expects H x (M+1) bins and H x 2 x M "
                         << "coefficients, got " << input << " and " << result;
  if (getBand() && int64_t(*getBand()) > half + 1)
    return emitOpError() << "expects a band of at most M + 1 = " << half + 1
                         << " bins, got " << *getBand();
  return success();
}

LogicalResult PackedConvSpectrumOp::verify() {
  RankedTensorType input = getInput().getType(), result = getResult().getType();
  if (failed(verifyStaticTensor(*this, "input", input)) ||
      failed(verifyStaticTensor(*this, "result", result)))
    return failure();
  if (input.getRank() != 2 || result.getRank() != 3 ||
      result.getDimSize(0) != input.getDimSize(0) ||
      result.getDimSize(1) != 2 || result.getDimSize(2) != input.getDimSize(1))
    return emitOpError() << "expects H x M values and H x 2 x M "
                         << "coefficients, got " << input << " and " << result;
  if (std::optional<ArrayRef<int64_t>> factors = getFactors())
    if (failed(verifyFactors(*this, *factors, input.getDimSize(1), "M")))
      return failure();
  return success();
}

LogicalResult HermitianMulOp::verify() {
  RankedTensorType input = getInput().getType();
  RankedTensorType coefficients = getCoefficients().getType();
  if (failed(verifyStaticTensor(*this, "input", input)) ||
      failed(verifyStaticTensor(*this, "coefficients", coefficients)))
    return failure();
  if (input.getRank() != 3 || coefficients.getRank() != 3 ||
      coefficients.getDimSize(0) != input.getDimSize(1) ||
      coefficients.getDimSize(1) != 2 ||
      coefficients.getDimSize(2) != input.getDimSize(2))
    return emitOpError() << "expects B x H x M values and H x 2 x M "
                         << "coefficients, got " << input << " and "
                         << coefficients;
  if (std::optional<ArrayRef<int64_t>> factors = getFactors())
    if (failed(verifyFactors(*this, *factors, input.getDimSize(2), "M")))
      return failure();
  return success();
}

OpFoldResult ConvSpectrumOp::fold(FoldAdaptor adaptor) {
  auto input = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput());
  if (!input)
    return {};
  int64_t bins = getInput().getType().getDimSize(1);
  SmallVector<Complex> values;
  int64_t band = getBand().value_or(bins);
  for (auto [index, value] :
       llvm::enumerate(input.getValues<std::complex<float>>()))
    values.push_back(int64_t(index % bins) < band ? Complex(value)
                                                  : Complex(0.0));
  SmallVector<std::complex<float>> result;
  for (size_t row = 0; row < values.size(); row += bins)
    for (Complex c : fftconv::computeConvSpectrum(
             ArrayRef<Complex>(values).slice(row, bins)))
      result.push_back(std::complex<float>(c));
  return DenseElementsAttr::get(getResult().getType(),
                                ArrayRef<std::complex<float>>(result));
}

//===----------------------------------------------------------------------===//
// FusedOp
//===----------------------------------------------------------------------===//

/// The kind as a bare keyword (`butterfly.fused conv ins(...)`); the
/// attribute's own printer would lead with a space.
static ParseResult parseFusedKind(OpAsmParser &parser, FusedKindAttr &kind) {
  llvm::SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<FusedKind> value = symbolizeFusedKind(keyword);
  if (!value)
    return parser.emitError(loc)
           << "expected conv, outer_forward or outer_inverse, got '" << keyword
           << "'";
  kind = FusedKindAttr::get(parser.getContext(), *value);
  return success();
}

static void printFusedKind(OpAsmPrinter &printer, Operation *,
                           FusedKindAttr kind) {
  printer << stringifyFusedKind(kind.getValue());
}

LogicalResult FusedOp::verify() {
  Block &body = getBody().front();
  if (body.getArgumentTypes() != getInputs().getTypes())
    return emitOpError()
           << "expects one block argument per input, of the input's type";
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError() << "expects the region to end in butterfly.yield";
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError() << "expects the yielded types to be the results' "
                         << "types";
  // The passes through memory follow the plan of the conv region they
  // surround: one plan a convolution.
  if (getGpuPlan() && (getKind() == FusedKind::OuterForward ||
                       getKind() == FusedKind::OuterInverse))
    return emitOpError() << "expects no GPU plan on the outer passes (they "
                            "follow their conv region's)";
  if (getOnchipBytesAttr().getInt() < 0)
    return emitOpError() << "expects onchip_bytes >= 0";
  return success();
}

LogicalResult ExchangeOp::verify() {
  auto type = cast<MemRefType>(getSend().getType());
  if (type.getRank() < 2 || type.getDimSize(0) < 2)
    return emitOpError() << "expects buffers of at least two chunks (the "
                            "leading dimension, one a rank) and a chunk's "
                            "dimensions";
  return success();
}

#define GET_OP_CLASSES
#include "fftconv/Dialect/Butterfly/IR/ButterflyOps.cpp.inc"
