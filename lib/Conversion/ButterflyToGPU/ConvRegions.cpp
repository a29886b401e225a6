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
      outerInverse->getNumResults() != 1)
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
  WalkResult banded = conv.walk([](MonarchOp monarch) {
    return monarch.getSpectralBand() ? WalkResult::interrupt()
                                     : WalkResult::advance();
  });
  if (banded.wasInterrupted())
    return conv.emitError()
           << "the GPU lowering does not run frequency-sparse convolutions yet";
  auto coefficients = dyn_cast<BlockArgument>(region.product.getCoefficients());
  if (!coefficients || coefficients.getArgNumber() == 0)
    return conv.emitError() << "the GPU lowering needs the coefficients of "
                               "the spectral product as a region input";
  region.output = outerInverse.getBody().front().getTerminator()->getOperand(0);
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
  if (op->getNumResults() != 1)
    return op.emitError()
           << "the GPU lowering needs a fused convolution with one result";
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
  if (region.forward.getSpectralBand() || region.inverse.getSpectralBand())
    return op.emitError()
           << "the GPU lowering does not run frequency-sparse convolutions yet";
  if (!isa<BlockArgument>(region.product.getCoefficients()))
    return op.emitError() << "the GPU lowering needs the coefficients of the "
                             "spectral product as a region input";
  region.output = op.getBody().front().getTerminator()->getOperand(0);
  return region;
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
  RealSpectrumOp real =
      spectrum ? spectrum.getInput().getDefiningOp<RealSpectrumOp>() : nullptr;
  MonarchOp monarch =
      real ? real.getInput().getDefiningOp<MonarchOp>() : nullptr;
  PackRealOp pack =
      monarch ? monarch.getInput().getDefiningOp<PackRealOp>() : nullptr;
  if (!pack || spectrum.getBand() || real.getInverse() ||
      monarch.getInverse() || monarch.getPermuted() ||
      !isa<BlockArgument>(pack.getInput()))
    return user.emitError()
           << "the GPU lowering computes the kernel spectrum on the GPU from "
              "a kernel given as a function argument; these coefficients "
              "come from elsewhere (a constant kernel or a band)";
  chain.kernel = cast<BlockArgument>(pack.getInput());
  chain.ops.insert(spectrum);
  chain.ops.insert(real);
  chain.ops.insert(monarch);
  chain.ops.insert(pack);
  return chain;
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
