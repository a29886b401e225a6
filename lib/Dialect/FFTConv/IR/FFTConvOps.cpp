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

#include <cmath>

using namespace mlir;
using namespace mlir::fftconv;

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
  return success();
}

//===----------------------------------------------------------------------===//
// ConvOp
//===----------------------------------------------------------------------===//

/// The rules `fftconv.conv` and `fftconv.conv_grad` share: a B x H x L
/// input, an H x K kernel with K <= L, gates of the input's type, one skip
/// weight per channel.
static LogicalResult verifyConvOperands(Operation *op, Value input,
                                        Value kernel, Value pregate,
                                        Value postgate, Value skip) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto kernelType = cast<RankedTensorType>(kernel.getType());
  if (failed(verifyStaticShape(op, "input", inputType, 3, "B x H x L")) ||
      failed(verifyStaticShape(op, "kernel", kernelType, 2, "H x K")))
    return failure();
  int64_t channels = inputType.getDimSize(1);
  if (kernelType.getDimSize(0) != channels)
    return op->emitOpError()
           << "expects the kernel to have one row per channel: "
           << "input has H = " << channels << " but kernel has "
           << kernelType.getDimSize(0);
  if (kernelType.getDimSize(1) > inputType.getDimSize(2))
    return op->emitOpError()
           << "expects kernel length K = " << kernelType.getDimSize(1)
           << " to be at most the sequence length L = "
           << inputType.getDimSize(2);
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
  if (failed(verifyConvOperands(*this, getInput(), getKernel(), getPregate(),
                                getPostgate(), getSkip())))
    return failure();
  if (getResult().getType() != inputType)
    return emitOpError() << "expects the result to have the input's type "
                         << inputType << ", got " << getResult().getType();
  return success();
}

//===----------------------------------------------------------------------===//
// FFT ops
//===----------------------------------------------------------------------===//

/// The shared rule of fft, ifft, rfft and irfft: the result keeps every
/// leading axis of the input and has `expectedLength` on the last one.
static LogicalResult verifyTransform(Operation *op, RankedTensorType inputType,
                                     RankedTensorType resultType,
                                     int64_t expectedLength) {
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
                         getExpectedResultLength());
}
LogicalResult IFFTOp::verify() {
  return verifyTransform(*this, getInput().getType(), getResult().getType(),
                         getExpectedResultLength());
}
LogicalResult RFFTOp::verify() {
  return verifyTransform(*this, getInput().getType(), getResult().getType(),
                         getExpectedResultLength());
}
LogicalResult IRFFTOp::verify() {
  return verifyTransform(*this, getInput().getType(), getResult().getType(),
                         getExpectedResultLength());
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
  // Row by row along the last axis, in f64, rounded once to complex<f32>.
  int64_t length = getInput().getType().getShape().back();
  int64_t bins = getExpectedResultLength();
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

/// The gradients a conv_grad can return, in the order of its results, with
/// the forward operand each one is the gradient of.
static SmallVector<std::pair<ConvGradients, Value>>
orderedGradients(ConvGradOp op) {
  return {{ConvGradients::Input, op.getInput()},
          {ConvGradients::Kernel, op.getKernel()},
          {ConvGradients::Pregate, op.getPregate()},
          {ConvGradients::Postgate, op.getPostgate()},
          {ConvGradients::Skip, op.getSkip()}};
}

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

static void printGradients(OpAsmPrinter &printer, ConvGradOp,
                           ConvGradientsAttr gradients) {
  // stringify of a bit enum returns a std::string: keep it owned.
  SmallVector<std::string> names;
  for (ConvGradients bit :
       {ConvGradients::Input, ConvGradients::Kernel, ConvGradients::Pregate,
        ConvGradients::Postgate, ConvGradients::Skip})
    if (bitEnumContainsAll(gradients.getValue(), bit))
      names.push_back(stringifyConvGradients(bit));
  printer << "[";
  llvm::interleaveComma(names, printer);
  printer << "]";
}

Value ConvGradOp::getGradient(ConvGradients which) {
  unsigned index = 0;
  for (auto [kind, operand] : orderedGradients(*this)) {
    if (!wants(kind))
      continue;
    if (kind == which)
      return getGradients()[index];
    ++index;
  }
  return nullptr;
}

LogicalResult ConvGradOp::verify() {
  if (failed(verifyConvOperands(*this, getInput(), getKernel(), getPregate(),
                                getPostgate(), getSkip())))
    return failure();
  if (getResultGrad().getType() != getInput().getType())
    return emitOpError() << "expects the result gradient to have the input's "
                         << "type " << getInput().getType() << ", got "
                         << getResultGrad().getType();
  if (getWrt() == ConvGradients{})
    return emitOpError() << "expects at least one gradient to compute";
  unsigned index = 0;
  for (auto [kind, operand] : orderedGradients(*this)) {
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
