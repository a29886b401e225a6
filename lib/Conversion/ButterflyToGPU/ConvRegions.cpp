//===- ConvRegions.cpp - the regions of one convolution ---------*- C++ -*-===//
//
// Finds what the kernels of a convolution are built from: its conv region
// (and the outer_forward / outer_inverse regions around it in the three-pass
// form), their packing, spectral product and unpacking, and the chain that
// prepares the kernel spectrum from k. Refuses, with a located diagnostic,
// what the kernels do not cover.
//
//===----------------------------------------------------------------------===//

#include "ConvRegions.h"

#include "fftconv/Dialect/FFTConv/IR/FFTConv.h"

#include "mlir/Dialect/Complex/IR/Complex.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <functional>

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;
using namespace mlir::butterfly;

namespace {

template <typename OpTy>
FailureOr<OpTy> uniqueOp(FusedOp op, llvm::StringRef what) {
  OpTy found;
  for (Operation &inner : op.getBody().front().without_terminator()) {
    auto typed = dyn_cast<OpTy>(inner);
    if (!typed)
      continue;
    if (found)
      return op.emitError() << "the GPU lowering needs one " << what
                            << " in a fused convolution region";
    found = typed;
  }
  if (!found)
    return op.emitError() << "the GPU lowering needs a " << what
                          << " in a fused convolution region";
  return found;
}

/// The packing (in the first region), the spectral product (in the conv
/// region) and the unpacking (in the last region) of a convolution.
LogicalResult findRealTrick(ConvRegion &region) {
  auto pack = uniqueOp<PackRealOp>(region.first(), "pack_real");
  auto product = uniqueOp<HermitianMulOp>(region.op, "spectral product");
  auto unpack = uniqueOp<UnpackRealOp>(region.last(), "unpack_real");
  if (failed(pack) || failed(product) || failed(unpack))
    return failure();
  region.pack = *pack;
  region.product = *product;
  region.unpack = *unpack;
  return success();
}

/// The three-pass chain starting at an "outer_forward" region.
FailureOr<ConvRegion> analyzeThreePass(FusedOp outerForward) {
  auto chainError = [&] {
    return outerForward.emitError()
           << "the GPU lowering needs an outer_forward region to feed one "
              "conv region whose result feeds one outer_inverse region";
  };
  // The transformed sequence feeds the conv region; other results (the
  // gated input of a skip term) may feed the outer_inverse region only.
  FusedOp conv;
  for (Operation *user : outerForward->getUsers())
    if (auto fused = dyn_cast<FusedOp>(user);
        fused && fused.getKind() == FusedKind::Conv)
      conv = fused;
  if (!conv || conv->getNumResults() != 1 || !conv->getResult(0).hasOneUse() ||
      conv.getOperand(0).getDefiningOp() != outerForward ||
      !conv.getOperand(0).hasOneUse())
    return chainError();
  auto outerInverse = dyn_cast<FusedOp>(*conv->getResult(0).user_begin());
  if (!outerInverse || outerInverse.getKind() != FusedKind::OuterInverse ||
      outerInverse->getNumResults() < 1)
    return chainError();
  for (Value result : outerForward->getResults())
    if (result != conv.getOperand(0))
      for (Operation *user : result.getUsers())
        if (user != outerInverse)
          return chainError();
  ConvRegion region;
  region.op = conv;
  region.outerForward = outerForward;
  region.outerInverse = outerInverse;
  if (failed(findRealTrick(region)))
    return failure();
  auto coefficients = dyn_cast<BlockArgument>(region.product.getCoefficients());
  if (!coefficients || coefficients.getArgNumber() == 0)
    return conv.emitError() << "the GPU lowering needs the coefficients of "
                               "the spectral product as a region input";
  region.outputs = llvm::to_vector(
      outerInverse.getBody().front().getTerminator()->getOperands());
  // The outer inverse kernel takes outer_inverse's inputs, then
  // outer_forward's, and evaluates what outer_forward passed on again.
  Block &inverseBody = outerInverse.getBody().front();
  Block &forwardBody = outerForward.getBody().front();
  region.epilogue.offsets[&forwardBody] = outerInverse->getNumOperands();
  for (OpOperand &use : outerInverse->getOpOperands())
    if (auto result = dyn_cast<OpResult>(use.get());
        result && result.getOwner() == outerForward)
      region.epilogue
          .redirects[inverseBody.getArgument(use.getOperandNumber())] =
          forwardBody.getTerminator()->getOperand(result.getResultNumber());
  return region;
}

} // namespace

FailureOr<ConvRegion> mlir::fftconv::detail::analyzeRegion(FusedOp op) {
  if (op.getKind() == FusedKind::OuterForward)
    return analyzeThreePass(op);
  if (op.getKind() != FusedKind::Conv)
    return op.emitError() << "the GPU lowering does not run '"
                          << stringifyFusedKind(op.getKind())
                          << "' regions on their own (an outer_inverse "
                             "region must follow a conv region that follows "
                             "an outer_forward region)";
  if (op->getNumResults() < 1)
    return op.emitError()
           << "the GPU lowering needs a fused convolution with a result";
  ConvRegion region;
  region.op = op;
  if (failed(findRealTrick(region)))
    return failure();
  region.forward = region.product.getInput().getDefiningOp<MonarchOp>();
  region.inverse = dyn_cast<MonarchOp>(*region.product->getUsers().begin());
  if (!region.forward || region.forward.getInverse() ||
      !region.forward.getPermuted() ||
      region.forward.getInput() != region.pack.getResult() ||
      !region.product->hasOneUse() || !region.inverse ||
      !region.inverse.getInverse() || !region.inverse.getPermuted() ||
      region.unpack.getInput() != region.inverse.getResult() ||
      region.forward.getFactors() != region.inverse.getFactors() ||
      region.product.getFactors() != region.forward.getFactors())
    return op.emitError()
           << "the GPU lowering needs the chain pack_real, monarch permuted, "
              "hermitian_mul, monarch inverse permuted, unpack_real (the "
              "same factors throughout)";
  if (region.forward.getSpectralBand() != region.inverse.getSpectralBand())
    return op.emitError() << "the GPU lowering needs the forward and the "
                             "inverse transform of a frequency-sparse "
                             "convolution to skip the same band";
  if (!isa<BlockArgument>(region.product.getCoefficients()))
    return op.emitError() << "the GPU lowering needs the coefficients of the "
                             "spectral product as a region input";
  region.outputs =
      llvm::to_vector(op.getBody().front().getTerminator()->getOperands());
  return region;
}

/// The value that `op`, an all-parallel generic of `inputs` inputs read
/// and written at the same index, yields from a body of `bodyOps` ops (its
/// yield included); null for any other generic.
static Value elementwiseYield(linalg::GenericOp op, unsigned inputs,
                              size_t bodyOps) {
  if (op.getNumDpsInputs() != inputs || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 0 ||
      !llvm::all_of(op.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }))
    return nullptr;
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != bodyOps)
    return nullptr;
  return cast<linalg::YieldOp>(body.getTerminator()).getValues()[0];
}

/// Whether `op` is the elementwise complex conjugate of its one input.
static bool isConjugate(linalg::GenericOp op) {
  Value yielded = elementwiseYield(op, 1, 2);
  auto conj = yielded ? yielded.getDefiningOp<complex::ConjOp>() : nullptr;
  return conj && conj.getComplex() == op.getRegion().front().getArgument(0);
}

/// Whether `op` is `a + conj(b)` of its two inputs, elementwise: the
/// spectrum of a bidirectional convolution's kernels (fftconv-conv-to-fft).
static bool isReverseSum(linalg::GenericOp op) {
  Value yielded = elementwiseYield(op, 2, 3);
  auto add = yielded ? yielded.getDefiningOp<complex::AddOp>() : nullptr;
  auto conj = add ? add.getRhs().getDefiningOp<complex::ConjOp>() : nullptr;
  Block &body = op.getRegion().front();
  return conj && add.getLhs() == body.getArgument(0) &&
         conj.getComplex() == body.getArgument(1);
}

/// The kernel whose natural-order real spectrum `realSpectrum` is:
/// real_spectrum . monarch . pack_real of a function argument through
/// squash and smooth (recorded in `filters`, outermost first). Adds the
/// ops to `ops`; null where the spectrum is made otherwise.
static BlockArgument traceKernel(Value realSpectrum,
                                 SmallVector<Operation *> &filters,
                                 llvm::SetVector<Operation *> &ops) {
  RealSpectrumOp real =
      realSpectrum ? realSpectrum.getDefiningOp<RealSpectrumOp>() : nullptr;
  MonarchOp monarch =
      real ? real.getInput().getDefiningOp<MonarchOp>() : nullptr;
  PackRealOp pack =
      monarch ? monarch.getInput().getDefiningOp<PackRealOp>() : nullptr;
  if (!pack || real.getInverse() || monarch.getInverse() ||
      monarch.getPermuted())
    return nullptr;
  // Regularizers of k on the way: applied as the spectrum kernel reads it.
  Value kernel = pack.getInput();
  while (isa_and_nonnull<fftconv::SquashOp, fftconv::SmoothOp,
                         fftconv::CirculateOp>(kernel.getDefiningOp())) {
    Operation *filter = kernel.getDefiningOp();
    filters.push_back(filter);
    ops.insert(filter);
    kernel = filter->getOperand(0);
  }
  auto argument = dyn_cast<BlockArgument>(kernel);
  if (!argument)
    return nullptr;
  ops.insert(real);
  ops.insert(monarch);
  ops.insert(pack);
  return argument;
}

KernelTaps SpectrumChain::taps(int64_t fftSize) const {
  KernelTaps taps;
  taps.length = cast<RankedTensorType>(kernel.getType()).getDimSize(1);
  taps.filters = filters;
  if (reverse) {
    taps.reverseLength =
        cast<RankedTensorType>(reverse.getType()).getDimSize(1);
    taps.reverseFilters = reverseFilters;
  }
  taps.fftSize = fftSize;
  taps.circulant = llvm::any_of(filters, [](Operation *filter) {
    return isa<fftconv::CirculateOp>(filter);
  });
  return taps;
}

FailureOr<SpectrumChain>
mlir::fftconv::detail::analyzeSpectrum(Value coefficients, FusedOp user) {
  SpectrumChain chain;
  Value value = coefficients;
  while (auto permute = value.getDefiningOp<PermuteOp>()) {
    chain.ops.insert(permute);
    value = permute.getInput();
  }
  auto spectrum = value.getDefiningOp<ConvSpectrumOp>();
  Value realSpectrum = spectrum ? spectrum.getInput() : Value();
  // A correlation's coefficients: the conjugate of k's spectrum.
  if (auto conjugate = realSpectrum
                           ? realSpectrum.getDefiningOp<linalg::GenericOp>()
                           : nullptr;
      conjugate && isConjugate(conjugate)) {
    chain.conjugate = true;
    chain.ops.insert(conjugate);
    if (auto empty =
            conjugate.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>())
      chain.ops.insert(empty);
    realSpectrum = conjugate.getDpsInputs()[0];
  }
  // A bidirectional convolution's: rfft(k) + conj(rfft(kr)).
  if (auto sum = realSpectrum ? realSpectrum.getDefiningOp<linalg::GenericOp>()
                              : nullptr;
      sum && isReverseSum(sum)) {
    chain.ops.insert(sum);
    if (auto empty = sum.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>())
      chain.ops.insert(empty);
    chain.reverse =
        traceKernel(sum.getDpsInputs()[1], chain.reverseFilters, chain.ops);
    realSpectrum = chain.reverse ? sum.getDpsInputs()[0] : Value();
  }
  chain.kernel = traceKernel(realSpectrum, chain.filters, chain.ops);
  if (!spectrum || !chain.kernel)
    return user.emitError()
           << "the GPU lowering computes the kernel spectrum on the GPU from "
              "a kernel given as a function argument (through squash and "
              "smooth); these coefficients come from elsewhere (a constant "
              "kernel)";
  chain.band = int64_t(spectrum.getBand().value_or(0));
  chain.ops.insert(spectrum);
  return chain;
}

namespace {
/// `select(|k| > lambda, dk, 0)`: squash's subgradient applied to dk.
struct SquashGradient {
  Value kernel, gradient;
  double lambda;
};
} // namespace

/// The squash subgradient fftconv-derive-backward writes: an elementwise
/// generic of (k, dk) whose body is select(cmpf ogt(absf(k), lambda), dk,
/// 0).
static std::optional<SquashGradient> matchSquashGradient(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumReductionLoops() != 0 ||
      !llvm::all_of(op.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }))
    return std::nullopt;
  Block &body = op.getRegion().front();
  auto select =
      body.getTerminator()->getOperand(0).getDefiningOp<arith::SelectOp>();
  auto compare =
      select ? select.getCondition().getDefiningOp<arith::CmpFOp>() : nullptr;
  auto absolute =
      compare ? compare.getLhs().getDefiningOp<math::AbsFOp>() : nullptr;
  FloatAttr lambda, zero;
  if (!absolute || compare.getPredicate() != arith::CmpFPredicate::OGT ||
      !matchPattern(compare.getRhs(), m_Constant(&lambda)) ||
      !matchPattern(select.getFalseValue(), m_Constant(&zero)) ||
      !zero.getValue().isZero())
    return std::nullopt;
  auto kernel = dyn_cast<BlockArgument>(absolute.getOperand());
  auto gradient = dyn_cast<BlockArgument>(select.getTrueValue());
  if (!kernel || !gradient || kernel.getOwner() != &body ||
      gradient.getOwner() != &body || kernel.getArgNumber() >= 2 ||
      gradient.getArgNumber() >= 2 || kernel == gradient)
    return std::nullopt;
  return SquashGradient{op.getDpsInputs()[kernel.getArgNumber()],
                        op.getDpsInputs()[gradient.getArgNumber()],
                        lambda.getValueAsDouble()};
}

/// The forward transform of a real sequence that `spectrum` (a
/// butterfly.real_spectrum of a butterfly.monarch of a butterfly.pack_real,
/// in natural order) is, or null.
static PackRealOp forwardTransformOf(Value spectrum) {
  auto real = spectrum.getDefiningOp<RealSpectrumOp>();
  auto monarch = real && !real.getInverse()
                     ? real.getInput().getDefiningOp<MonarchOp>()
                     : nullptr;
  if (!monarch || monarch.getInverse() || monarch.getPermuted() ||
      monarch.getSpectralBand())
    return nullptr;
  return monarch.getInput().getDefiningOp<PackRealOp>();
}

FailureOr<KernelGradientRegion>
mlir::fftconv::detail::analyzeKernelGradient(FusedOp cross) {
  KernelGradientRegion gradient;
  gradient.cross = cross;
  auto yield = cross.getBody().front().getTerminator();
  auto product =
      yield->getNumOperands() == 1
          ? yield->getOperand(0).getDefiningOp<fftconv::CrossSpectrumOp>()
          : nullptr;
  if (product) {
    gradient.packV = forwardTransformOf(product.getLhs());
    gradient.packG = forwardTransformOf(product.getRhs());
  }
  if (!gradient.packV || !gradient.packG)
    return cross.emitError()
           << "the GPU lowering needs a cross_spectrum region to yield the "
              "cross spectrum of two forward transforms (pack_real, monarch, "
              "real_spectrum) of real sequences";
  Value spectrum = cross->getResult(0);
  if (!spectrum.hasOneUse() || !isa<FusedOp>(*spectrum.user_begin()) ||
      cast<FusedOp>(*spectrum.user_begin()).getKind() !=
          FusedKind::ChannelInverse)
    return cross.emitError() << "the GPU lowering needs the cross spectrum to "
                                "feed one channel_inverse region";
  gradient.inverse = cast<FusedOp>(*spectrum.user_begin());
  // The inverse: real_spectrum inverse, monarch inverse, unpack_real (with
  // crops), and reshapes of lag 0 to [H].
  Block &body = gradient.inverse.getBody().front();
  auto inverseError = [&] {
    return gradient.inverse.emitError()
           << "the GPU lowering needs a channel_inverse region to yield the "
              "first lags of the inverse of its spectrum (real_spectrum "
              "inverse, monarch inverse, unpack_real, and collapse_shape of "
              "lag 0)";
  };
  for (Value result : body.getTerminator()->getOperands()) {
    Value lags = result;
    LagOutput output;
    // The transposes of k's regularizers: squash's subgradient last, the
    // smooths before it.
    if (auto generic = lags.getDefiningOp<linalg::GenericOp>()) {
      std::optional<SquashGradient> mask = matchSquashGradient(generic);
      auto kernel = mask ? dyn_cast<BlockArgument>(mask->kernel) : nullptr;
      if (!kernel || (gradient.kernelInput >= 0 &&
                      gradient.kernelInput != kernel.getArgNumber()))
        return gradient.inverse.emitError()
               << "the GPU lowering takes the kernel gradient through "
                  "squash's subgradient (zero where |k| <= lambda) of a "
                  "kernel given as an input, and smooth, only";
      gradient.kernelInput = kernel.getArgNumber();
      output.squashLambda = mask->lambda;
      lags = mask->gradient;
    }
    while (auto smooth = lags.getDefiningOp<fftconv::SmoothOp>()) {
      output.smoothWidths.insert(output.smoothWidths.begin(),
                                 smooth.getWidth());
      lags = smooth.getInput();
    }
    if (auto circulate = lags.getDefiningOp<fftconv::CirculateOp>();
        circulate && circulate.getTranspose()) {
      output.circulateOffset = circulate.getWrapOffset();
      lags = circulate.getInput();
    }
    if (auto collapse = lags.getDefiningOp<tensor::CollapseShapeOp>()) {
      if (collapse.getSrcType().getRank() != 2 ||
          collapse.getSrcType().getDimSize(1) != 1)
        return inverseError();
      lags = collapse.getSrc();
    }
    auto unpack = lags.getDefiningOp<UnpackRealOp>();
    auto monarch =
        unpack ? unpack.getInput().getDefiningOp<MonarchOp>() : nullptr;
    auto real =
        monarch ? monarch.getInput().getDefiningOp<RealSpectrumOp>() : nullptr;
    if (!real || !real.getInverse() || !monarch.getInverse() ||
        monarch.getPermuted() || real.getInput() != body.getArgument(0))
      return inverseError();
    gradient.lags.push_back(result);
    gradient.outputs.push_back(output);
  }
  return gradient;
}

BlockArgument mlir::fftconv::detail::viewedArgument(Value value) {
  std::optional<BoundaryView> view = viewOfArgument(value);
  return view ? cast<BlockArgument>(view->buffer) : nullptr;
}

SmallVector<Value>
mlir::fftconv::detail::sequenceIndices(OpBuilder &b, Location loc, Value memref,
                                       Value batch, Value h, Value t) {
  auto type = cast<MemRefType>(memref.getType());
  if (type.getRank() != 4)
    return {batch, h, t};
  Value blocks = arith::ConstantIndexOp::create(b, loc, type.getDimSize(2));
  return {arith::DivUIOp::create(b, loc, batch, blocks), h,
          arith::RemUIOp::create(b, loc, batch, blocks), t};
}

MemRefType mlir::fftconv::detail::memrefOf(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

bool mlir::fftconv::detail::isRealTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.hasStaticShape() &&
         isa<Float16Type, BFloat16Type, Float32Type>(tensor.getElementType());
}

/// Whether the elementwise ops computing `value` (in a fused region, up to
/// the transforms) read a sequence: an argument of rank 3 or more.
static bool readsSequence(Value value) {
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  if (!generic)
    return false;
  return llvm::any_of(generic.getDpsInputs(), [](Value input) {
    auto tensor = dyn_cast<RankedTensorType>(input.getType());
    if (isa<BlockArgument>(input))
      return tensor && tensor.getRank() >= 3;
    return readsSequence(input);
  });
}

bool mlir::fftconv::detail::epilogueReadsSequences(const ConvRegion &region) {
  return llvm::any_of(region.outputs, readsSequence);
}
