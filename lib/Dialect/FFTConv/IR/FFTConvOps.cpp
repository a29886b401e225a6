//===- FFTConvOps.cpp - fftconv operations ----------------------*- C++ -*-===//
//
// Verifiers, folders and canonicalization patterns of the fftconv ops.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/FFTConv/IR/FFTConv.h"
#include "fftconv/Support/Spectral.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::fftconv;

/// The most elements one tensor of an fftconv op may have. The CPU lowering
/// accumulates in complex<f64> (16 bytes an element) and addresses buffers
/// with int64 byte offsets, so 2^56 elements keep every size and offset it
/// computes far from overflow; ShapedType::getNumElements itself overflows
/// (silently) past 2^63.
static constexpr int64_t kMaxElements = int64_t(1) << 56;
/// The longest transform (n of fft, ifft, rfft, irfft) the lowerings
/// support: the CPU lowering reduces twiddle exponents j * k (j, k < n)
/// modulo n in unsigned 64-bit index arithmetic, exact only while
/// n * n <= 2^64.
static constexpr int64_t kMaxTransformLength = int64_t(1) << 32;
/// The longest sequence of fftconv.conv: its FFT size is the power of two
/// at or above L + K - 1 <= 2L - 1, at most 2^32 = kMaxTransformLength.
static constexpr int64_t kMaxSeqLen = int64_t(1) << 31;

/// Checks that `type` has `rank` (or at least `minRank` when `rank` < 0)
/// static, non-empty dimensions; reports against `op` with `what` naming the
/// value. Every later rule of the dialect reads static sizes.
static LogicalResult verifyStaticShape(Operation *op, StringRef what,
                                       RankedTensorType type, int64_t rank,
                                       StringRef layout = "") {
  if (rank >= 0 && type.getRank() != rank)
    return op->emitOpError() << "expects " << what << " of rank " << rank
                             << (layout.empty() ? "" : " (") << layout
                             << (layout.empty() ? "" : ")") << ", got " << type;
  if (type.getRank() < 1)
    return op->emitOpError()
           << "expects " << what << " of rank at least 1, got " << type;
  if (!type.hasStaticShape())
    return op->emitOpError()
           << "expects " << what << " with a static shape, got " << type;
  if (llvm::is_contained(type.getShape(), 0))
    return op->emitOpError()
           << "expects " << what << " without empty dimensions, got " << type;
  int64_t count = 1;
  for (int64_t dim : type.getShape())
    if (llvm::MulOverflow(count, dim, count) || count > kMaxElements)
      return op->emitOpError()
             << "expects " << what << " of at most 2^56 elements (the most "
             << "the lowerings address), got " << type;
  return success();
}

//===----------------------------------------------------------------------===//
// ConvOp
//===----------------------------------------------------------------------===//

/// The rules `fftconv.conv` and `fftconv.conv_grad` share: a B x H x L (or
/// multi-head B x G x H x Z x L) input, an H x K kernel with K <= L, an
/// H x K' reverse kernel (causal only) with K' <= L, gates of the input's
/// type, one skip weight per channel.
static LogicalResult verifyConvOperands(Operation *op, ConvMode mode,
                                        Value input, Value kernel,
                                        Value reverse, Value pregate,
                                        Value postgate, Value skip) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto kernelType = cast<RankedTensorType>(kernel.getType());
  int64_t rank = inputType.getRank() == 5 ? 5 : 3;
  if (failed(verifyStaticShape(op, "input", inputType, rank,
                               rank == 5 ? "B x G x H x Z x L"
                                         : "B x H x L, or B x G x H x Z x L "
                                           "with heads")) ||
      failed(verifyStaticShape(op, "kernel", kernelType, 2, "H x K")))
    return failure();
  int64_t channels = inputType.getDimSize(rank == 5 ? 2 : 1);
  if (kernelType.getDimSize(0) != channels)
    return op->emitOpError()
           << "expects the kernel to have one row per channel: "
           << "input has H = " << channels << " but kernel has "
           << kernelType.getDimSize(0);
  int64_t length = inputType.getShape().back();
  if (length > kMaxSeqLen)
    return op->emitOpError()
           << "expects a sequence length L of at most 2^31, got " << length
           << ": its FFT size (up to 2L) must not exceed 2^32, the longest "
           << "transform the lowerings support";
  // The FFT form's spectra are B x H x N with an FFT size N < 4L: a quarter
  // of the bound keeps them within it too.
  if (inputType.getNumElements() > kMaxElements / 4)
    return op->emitOpError()
           << "expects B x H x L of at most 2^54, got " << inputType
           << ": its FFT form holds B x H x N values with N up to 4L, at most "
           << "2^56";
  if (kernelType.getDimSize(1) > length)
    return op->emitOpError()
           << "expects kernel length K = " << kernelType.getDimSize(1)
           << " to be at most the sequence length L = " << length;
  if (reverse) {
    if (mode != ConvMode::Causal)
      return op->emitOpError()
             << "expects a reverse kernel only in the causal form: a circular "
             << "convolution's kernel already covers every lag";
    auto reverseType = cast<RankedTensorType>(reverse.getType());
    if (failed(
            verifyStaticShape(op, "reverse kernel", reverseType, 2, "H x K'")))
      return failure();
    if (reverseType.getDimSize(0) != channels)
      return op->emitOpError()
             << "expects the reverse kernel to have one row per channel: "
             << "input has H = " << channels << " but reverse kernel has "
             << reverseType.getDimSize(0);
    if (reverseType.getDimSize(1) > length)
      return op->emitOpError()
             << "expects reverse kernel length K' = "
             << reverseType.getDimSize(1)
             << " to be at most the sequence length L = " << length;
  }
  for (auto [gate, name] : {std::make_pair(pregate, "pregate"),
                            std::make_pair(postgate, "postgate")}) {
    if (gate && gate.getType() != inputType)
      return op->emitOpError()
             << "expects the " << name << " to have the input's type "
             << inputType << ", got " << gate.getType();
  }
  if (skip) {
    auto skipType = cast<RankedTensorType>(skip.getType());
    if (failed(verifyStaticShape(op, "skip", skipType, 1, "H")))
      return failure();
    if (skipType.getDimSize(0) != channels)
      return op->emitOpError()
             << "expects one skip weight per channel (H = " << channels
             << "), got " << skipType;
  }
  return success();
}

LogicalResult ConvOp::verify() {
  RankedTensorType inputType = getInput().getType();
  if (failed(verifyConvOperands(*this, getMode(), getInput(), getKernel(),
                                getReverse(), getPregate(), getPostgate(),
                                getSkip())))
    return failure();
  if (getResult().getType() != inputType)
    return emitOpError() << "expects the result to have the input's type "
                         << inputType << ", got " << getResult().getType();
  return success();
}

//===----------------------------------------------------------------------===//
// FFT ops
//===----------------------------------------------------------------------===//

/// The shared rule of fft, ifft, rfft and irfft: a transform length `n` the
/// lowerings support, and a result that keeps every leading axis of the
/// input and has `expectedLength` on the last one.
static LogicalResult verifyTransform(Operation *op, RankedTensorType inputType,
                                     RankedTensorType resultType, int64_t n,
                                     int64_t expectedLength) {
  if (n > kMaxTransformLength)
    return op->emitOpError()
           << "expects a transform length n of at most 2^32 (the longest "
           << "the lowerings support), got " << n;
  if (failed(verifyStaticShape(op, "input", inputType, -1)) ||
      failed(verifyStaticShape(op, "result", resultType, -1)))
    return failure();
  if (inputType.getRank() != resultType.getRank() ||
      inputType.getShape().drop_back() != resultType.getShape().drop_back())
    return op->emitOpError()
           << "expects the result to keep the input's leading dimensions: "
           << inputType << " vs " << resultType;
  if (resultType.getShape().back() != expectedLength)
    return op->emitOpError()
           << "expects the result's last dimension to be " << expectedLength
           << ", got " << resultType.getShape().back();
  return success();
}

int64_t FFTOp::getExpectedResultLength() { return getN(); }
int64_t IFFTOp::getExpectedResultLength() { return getN(); }
int64_t RFFTOp::getExpectedResultLength() { return getN() / 2 + 1; }
int64_t IRFFTOp::getExpectedResultLength() { return getN(); }

LogicalResult FFTOp::verify() {
  return verifyTransform(*this, getInput().getType(), getResult().getType(),
                         getN(), getExpectedResultLength());
}
LogicalResult IFFTOp::verify() {
  return verifyTransform(*this, getInput().getType(), getResult().getType(),
                         getN(), getExpectedResultLength());
}
LogicalResult RFFTOp::verify() {
  return verifyTransform(*this, getInput().getType(), getResult().getType(),
                         getN(), getExpectedResultLength());
}
LogicalResult IRFFTOp::verify() {
  return verifyTransform(*this, getInput().getType(), getResult().getType(),
                         getN(), getExpectedResultLength());
}

/// Folds `inverse(forward(x, n), n)` to `x` when nothing was padded or
/// cropped on the way, i.e. when x already had the result's type.
template <typename ForwardOp, typename InverseOp>
static OpFoldResult foldInversePair(InverseOp op) {
  auto forward = op.getInput().template getDefiningOp<ForwardOp>();
  if (!forward || forward.getN() != op.getN() ||
      forward.getInput().getType() != op.getResult().getType())
    return {};
  return forward.getInput();
}

OpFoldResult FFTOp::fold(FoldAdaptor) { return foldInversePair<IFFTOp>(*this); }
OpFoldResult IFFTOp::fold(FoldAdaptor) { return foldInversePair<FFTOp>(*this); }
OpFoldResult RFFTOp::fold(FoldAdaptor adaptor) {
  auto input = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput());
  if (!input)
    return {};
  // Folding runs in the compiler: only small spectra are worth it. The host
  // DFT is O(n log n) for powers of two but O(n^2) otherwise, and it and the
  // folded attribute take memory for every row (a splat input of 2^40 rows
  // is one attribute, but its spectrum would not be).
  int64_t length = getInput().getType().getShape().back();
  int64_t bins = getExpectedResultLength();
  int64_t rows = getInput().getType().getNumElements() / length;
  int64_t n = getN();
  constexpr int64_t kMaxFoldedElements = int64_t(1) << 24;
  if (n > (llvm::isPowerOf2_64(n) ? (int64_t(1) << 20) : 4096) ||
      rows > kMaxFoldedElements / std::max(n, bins))
    return {};
  // Row by row along the last axis, in f64, rounded once to complex<f32>.
  SmallVector<double> values;
  for (APFloat value : input.getValues<APFloat>())
    values.push_back(value.convertToDouble());
  SmallVector<std::complex<float>> result;
  for (size_t row = 0; row < values.size(); row += length) {
    std::vector<Complex> spectrum =
        computeRFFT(ArrayRef<double>(values).slice(row, length), getN());
    for (int64_t k = 0; k < bins; ++k)
      result.push_back(std::complex<float>(spectrum[k]));
  }
  return DenseElementsAttr::get(getResult().getType(),
                                ArrayRef<std::complex<float>>(result));
}

OpFoldResult IRFFTOp::fold(FoldAdaptor) {
  return foldInversePair<RFFTOp>(*this);
}

//===----------------------------------------------------------------------===//
// SquashOp
//===----------------------------------------------------------------------===//

LogicalResult SquashOp::verify() {
  if (failed(verifyStaticShape(*this, "input", getInput().getType(), -1)))
    return failure();
  float lambda = getLambda().convertToFloat();
  if (!std::isfinite(lambda) || lambda < 0.0f)
    return emitOpError() << "expects a finite threshold lambda >= 0, got "
                         << lambda;
  return success();
}

OpFoldResult SquashOp::fold(FoldAdaptor) {
  if (getLambda().isZero())
    return getInput();
  return {};
}

namespace {
/// squash(squash(k, a), b) = squash(k, a + b): soft thresholding by a, then
/// by b, shrinks every magnitude by a + b and clamps at zero once.
struct ComposeSquashes : OpRewritePattern<SquashOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SquashOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<SquashOp>();
    if (!inner)
      return failure();
    float lambda =
        op.getLambda().convertToFloat() + inner.getLambda().convertToFloat();
    rewriter.replaceOpWithNewOp<SquashOp>(op, op.getType(), inner.getInput(),
                                          rewriter.getF32FloatAttr(lambda));
    return success();
  }
};
} // namespace

void SquashOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *context) {
  results.add<ComposeSquashes>(context);
}

//===----------------------------------------------------------------------===//
// SmoothOp
//===----------------------------------------------------------------------===//

LogicalResult CirculateOp::verify() {
  bool transpose = getTranspose();
  RankedTensorType input = getInput().getType(), result = getResult().getType();
  if (failed(verifyStaticShape(*this, "input", input, 2,
                               transpose ? "H x N" : "H x K")) ||
      failed(verifyStaticShape(*this, "result", result, 2,
                               transpose ? "H x K" : "H x N")))
    return failure();
  if (input.getDimSize(0) != result.getDimSize(0))
    return emitOpError() << "expects the result to keep the input's "
                         << input.getDimSize(0) << " rows, got " << result;
  int64_t period = getPeriod(), taps = getKernelType().getDimSize(1);
  int64_t transformLength = getTransformType().getDimSize(1);
  if (taps > period)
    return emitOpError() << "expects kernel length K = " << taps
                         << " to be at most the period L = " << period;
  if (transformLength < 2 * period)
    return emitOpError() << "expects a transform length N >= 2L = "
                         << 2 * period << " (the wrapped taps must not reach "
                         << "the outputs kept), got " << transformLength;
  return success();
}

LogicalResult SmoothOp::verify() {
  if (failed(verifyStaticShape(*this, "input", getInput().getType(), -1)))
    return failure();
  int64_t width = getWidth();
  if (width < 1 || width % 2 == 0)
    return emitOpError() << "expects an odd width 2p+1 >= 1, got " << width;
  // Past 2L - 1 the window only adds zero padding: a wider one is a mistake.
  int64_t length = getInput().getType().getShape().back();
  if (width > 2 * length - 1)
    return emitOpError() << "expects a width of at most 2L - 1 = "
                         << 2 * length - 1 << ", got " << width;
  return success();
}

OpFoldResult SmoothOp::fold(FoldAdaptor) {
  if (getWidth() == 1)
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// ChannelMulOp
//===----------------------------------------------------------------------===//

LogicalResult ChannelMulOp::verify() {
  RankedTensorType input = getInput().getType();
  RankedTensorType kernel = getKernel().getType();
  if (failed(verifyStaticShape(*this, "input", input, 3, "B x H x F")) ||
      failed(verifyStaticShape(*this, "kernel", kernel, 2, "H x F")))
    return failure();
  if (kernel.getShape() != input.getShape().drop_front())
    return emitOpError() << "expects an H x F kernel spectrum matching the "
                         << "input " << input << ", got " << kernel;
  if (getBand() && int64_t(*getBand()) > kernel.getDimSize(1))
    return emitOpError() << "expects a band of at most F = "
                         << kernel.getDimSize(1) << " frequencies, got "
                         << *getBand();
  return success();
}

//===----------------------------------------------------------------------===//
// ConvGradOp
//===----------------------------------------------------------------------===//

/// `[input, kernel]`: the gradients of a conv_grad as a list of keywords,
/// in the order of its results.
static ParseResult parseGradients(OpAsmParser &parser,
                                  ConvGradientsAttr &gradients) {
  ConvGradients bits{};
  auto parseOne = [&]() -> ParseResult {
    SMLoc loc = parser.getCurrentLocation();
    StringRef keyword;
    if (parser.parseKeyword(&keyword))
      return failure();
    std::optional<ConvGradients> bit = symbolizeConvGradients(keyword);
    if (!bit || llvm::popcount(uint32_t(*bit)) != 1)
      return parser.emitError(loc)
             << "expected one of input, kernel, pregate, postgate, skip; got '"
             << keyword << "'";
    bits = bits | *bit;
    return success();
  };
  if (parser.parseCommaSeparatedList(OpAsmParser::Delimiter::Square, parseOne))
    return failure();
  gradients = ConvGradientsAttr::get(parser.getContext(), bits);
  return success();
}

static void printGradients(OpAsmPrinter &printer, ConvGradOp op,
                           ConvGradientsAttr gradients) {
  // stringify of a bit enum returns a std::string: keep it owned.
  SmallVector<std::string> names;
  for (auto [bit, operand] : getGradientOperands(op))
    if (bitEnumContainsAll(gradients.getValue(), bit))
      names.push_back(stringifyConvGradients(bit));
  printer << "[";
  llvm::interleaveComma(names, printer);
  printer << "]";
}

Value ConvGradOp::getGradient(ConvGradients which) {
  unsigned index = 0;
  for (auto [kind, operand] : getGradientOperands(*this)) {
    if (!wants(kind))
      continue;
    if (kind == which)
      return getGradients()[index];
    ++index;
  }
  return nullptr;
}

LogicalResult ConvGradOp::verify() {
  if (failed(verifyConvOperands(*this, getMode(), getInput(), getKernel(),
                                getReverse(), getPregate(), getPostgate(),
                                getSkip())))
    return failure();
  if (getResultGrad().getType() != getInput().getType())
    return emitOpError() << "expects the result gradient to have the input's "
                         << "type " << getInput().getType() << ", got "
                         << getResultGrad().getType();
  if (getWrt() == ConvGradients{})
    return emitOpError() << "expects at least one gradient to compute";
  unsigned index = 0;
  for (auto [kind, operand] : getGradientOperands(*this)) {
    if (!wants(kind))
      continue;
    if (!operand)
      return emitOpError() << "asks for the gradient of the "
                           << stringifyConvGradients(kind)
                           << ", which the convolution does not have";
    if (index >= getGradients().size())
      return emitOpError() << "expects one result per gradient asked for ("
                           << stringifyConvGradients(getWrt()) << "), got "
                           << getGradients().size();
    Type type = getGradients()[index].getType();
    if (type != operand.getType())
      return emitOpError() << "expects the gradient of the "
                           << stringifyConvGradients(kind)
                           << " to have its type " << operand.getType()
                           << ", got " << type;
    ++index;
  }
  if (index != getGradients().size())
    return emitOpError() << "expects one result per gradient asked for ("
                         << stringifyConvGradients(getWrt()) << "), got "
                         << getGradients().size();
  return success();
}

//===----------------------------------------------------------------------===//
// CrossSpectrumOp
//===----------------------------------------------------------------------===//

LogicalResult CrossSpectrumOp::verify() {
  RankedTensorType input = getLhs().getType();
  RankedTensorType result = getResult().getType();
  if (failed(verifyStaticShape(*this, "lhs", input, 3, "B x H x F")) ||
      failed(verifyStaticShape(*this, "result", result, 2, "H x F")))
    return failure();
  if (result.getShape() != input.getShape().drop_front())
    return emitOpError() << "expects an H x F result reducing the batch of "
                         << input << ", got " << result;
  return success();
}

#define GET_OP_CLASSES
#include "fftconv/Dialect/FFTConv/IR/FFTConvOps.cpp.inc"
