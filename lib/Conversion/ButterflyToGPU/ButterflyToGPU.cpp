//===- ButterflyToGPU.cpp - fused regions to gpu + nvgpu --------*- C++ -*-===//
//
// A function of fused convolution regions becomes a host function of
// gpu.launch_func ops: per region, a kernel computing the kernel spectrum
// from k (when the region's coefficients come from a function argument) and
// the fused convolution kernel. The region's elementwise ops (the gates, the
// skip, the casts) are evaluated inside the convolution kernel where it
// reads its inputs and writes its outputs, 8 elements at a time.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Conversion/ButterflyToGPU/ButterflyToGPU.h"
#include "fftconv/Conversion/ButterflyToGPU/ConvKernel.h"
#include "fftconv/Conversion/ButterflyToGPU/ThreePassKernels.h"
#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SetVector.h"

namespace mlir {
namespace fftconv {
#define GEN_PASS_DEF_BUTTERFLYTOGPU
#include "fftconv/Conversion/Passes.h.inc"
} // namespace fftconv
} // namespace mlir

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::butterfly;

static constexpr int64_t kVectorWidth = 8;

namespace {

/// Where a kernel finds the inputs of the regions it evaluates: the block of
/// a region whose first argument is kernel argument `offsets[block]` (0 when
/// absent), and the inputs of the three-pass form's outer_inverse region
/// that outer_forward computed (the gated input of a skip term), which the
/// kernel evaluates again from outer_forward's own inputs.
struct ArgumentMap {
  llvm::DenseMap<Block *, unsigned> offsets;
  llvm::DenseMap<Value, Value> redirects;

  Value redirect(Value value) const { return redirects.lookup(value); }
  unsigned index(BlockArgument arg) const {
    return offsets.lookup(arg.getOwner()) + arg.getArgNumber();
  }
};

/// The ops of a convolution the kernels are built from: one fused conv
/// region (the single-kernel form), or an "outer_forward", "conv",
/// "outer_inverse" chain (the three-pass form).
struct ConvRegion {
  FusedOp op;                         // the "conv" region
  FusedOp outerForward, outerInverse; // the three-pass form's outer passes
  PackRealOp pack;
  MonarchOp forward; // single-kernel form only
  HermitianMulOp product;
  MonarchOp inverse; // single-kernel form only
  UnpackRealOp unpack;
  Value output;         // what the last region yields
  ArgumentMap epilogue; // where the output's evaluation finds its inputs

  /// How the kernels are laid out (butterfly-plan-gpu-kernels' plan on
  /// `op`).
  GPUPlanAttr plan;
  ConvolutionShape shape;

  bool threePass() const { return plan.isThreePass(); }

  bool isChain() const { return bool(outerForward); }
  FusedOp first() const { return outerForward ? outerForward : op; }
  FusedOp last() const { return outerInverse ? outerInverse : op; }
};

/// The per-channel preparation of a region's coefficients:
/// permute* . conv_spectrum . real_spectrum . monarch . pack_real (k).
struct SpectrumChain {
  BlockArgument kernel; // k, a function argument
  llvm::SetVector<Operation *> ops;
};

//===----------------------------------------------------------------------===//
// Elementwise evaluation of the region's prologue and epilogue
//===----------------------------------------------------------------------===//

/// Whether `value` can be evaluated 8 elements at a time at [batch, h, t]:
/// reads of [B, H, L] arguments, broadcasts of arguments along t, the
/// region's all-parallel linalg.generics of arith and math ops, and `stop`.
LogicalResult checkElementwise(Value value, Value stop, int64_t batch,
                               int64_t channels, Operation *anchor,
                               const ArgumentMap &arguments) {
  if (value == stop)
    return success();
  if (Value computed = arguments.redirect(value))
    return checkElementwise(computed, Value(), batch, channels, anchor,
                            arguments);
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type || type.getRank() != 3 || type.getDimSize(0) != batch ||
        type.getDimSize(1) != channels)
      return anchor->emitError()
             << "the GPU lowering reads region input #" << arg.getArgNumber()
             << " elementwise, but it is not a [" << batch << ", " << channels
             << ", L] tensor";
    return success();
  }
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  if (!generic || generic.getNumReductionLoops() != 0 ||
      generic->getNumResults() != 1 ||
      !generic.getIndexingMapsArray().back().isIdentity()) {
    Operation *def = value.getDefiningOp();
    return anchor->emitError()
           << "the GPU lowering cannot evaluate '"
           << (def ? def->getName().getStringRef() : "a block argument")
           << "' elementwise inside the convolution kernel";
  }
  for (OpOperand *input : generic.getDpsInputOperands()) {
    AffineMap map = generic.getMatchingIndexingMap(input);
    if (map.isIdentity()) {
      if (failed(checkElementwise(input->get(), stop, batch, channels, anchor,
                                  arguments)))
        return failure();
      continue;
    }
    bool broadcast = isa<BlockArgument>(input->get()) &&
                     !arguments.redirect(input->get()) &&
                     map.isProjectedPermutation() &&
                     !map.isFunctionOfDim(map.getNumDims() - 1);
    if (!broadcast)
      return generic.emitError()
             << "the GPU lowering needs every input of an elementwise op to "
                "be indexed like the output or broadcast along the sequence";
  }
  if (generic.getRegionOutputArgs().front().use_empty() == false)
    return generic.emitError()
           << "the GPU lowering cannot evaluate an elementwise op that reads "
              "its output";
  for (Operation &op : generic.getBody()->without_terminator())
    if (!isa<arith::ArithDialect, math::MathDialect>(op.getDialect()) ||
        op.getNumRegions() != 0 || op.getNumResults() != 1)
      return op.emitError() << "the GPU lowering cannot vectorize '"
                            << op.getName() << "' in an elementwise op";
  return success();
}

/// Emits `value` at [batch, h, t .. t+7] as a vector<8xT> (after a successful
/// checkElementwise).
class ElementwiseEmitter {
public:
  ElementwiseEmitter(OpBuilder &builder, Location loc, ValueRange kernelArgs,
                     const ArgumentMap &arguments, Value batch, Value h,
                     Value t, Value stop, Value stopValue)
      : builder(builder), loc(loc), kernelArgs(kernelArgs),
        arguments(arguments), indices{batch, h, t}, stop(stop),
        stopValue(stopValue) {}

  Value emit(Value value) {
    if (value == stop)
      return stopValue;
    if (Value computed = arguments.redirect(value))
      return emit(computed);
    if (auto arg = dyn_cast<BlockArgument>(value)) {
      Value memref = kernelArgs[arguments.index(arg)];
      Type element = cast<MemRefType>(memref.getType()).getElementType();
      auto load = vector::LoadOp::create(
          builder, loc, VectorType::get({kVectorWidth}, element), memref,
          indices);
      load.setAlignment(16);
      return load;
    }
    auto generic = value.getDefiningOp<linalg::GenericOp>();
    IRMapping mapping;
    Block *body = generic.getBody();
    for (OpOperand *input : generic.getDpsInputOperands()) {
      AffineMap map = generic.getMatchingIndexingMap(input);
      Value vector;
      if (map.isIdentity()) {
        vector = emit(input->get());
      } else {
        auto arg = cast<BlockArgument>(input->get());
        Value memref = kernelArgs[arguments.index(arg)];
        SmallVector<Value> at;
        for (AffineExpr expr : map.getResults())
          at.push_back(indices[cast<AffineDimExpr>(expr).getPosition()]);
        Value scalar = memref::LoadOp::create(builder, loc, memref, at);
        vector = vector::BroadcastOp::create(
            builder, loc, VectorType::get({kVectorWidth}, scalar.getType()),
            scalar);
      }
      mapping.map(body->getArgument(input->getOperandNumber()), vector);
    }
    for (Operation &op : body->without_terminator()) {
      Type resultType =
          VectorType::get({kVectorWidth}, op.getResult(0).getType());
      if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
        auto splat = DenseElementsAttr::get(cast<ShapedType>(resultType),
                                            constant.getValue());
        mapping.map(op.getResult(0),
                    arith::ConstantOp::create(builder, loc, splat));
        continue;
      }
      OperationState state(loc, op.getName());
      for (Value operand : op.getOperands())
        state.addOperands(mapping.lookup(operand));
      state.addAttributes(op.getAttrs());
      state.addTypes(resultType);
      mapping.map(op.getResult(0), builder.create(state)->getResult(0));
    }
    return mapping.lookup(body->getTerminator()->getOperand(0));
  }

private:
  OpBuilder &builder;
  Location loc;
  ValueRange kernelArgs;
  const ArgumentMap &arguments;
  SmallVector<Value, 3> indices;
  Value stop, stopValue;
};

//===----------------------------------------------------------------------===//
// Analysis
//===----------------------------------------------------------------------===//

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

FailureOr<ConvRegion> analyzeRegion(FusedOp op) {
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

FailureOr<SpectrumChain> analyzeSpectrum(Value coefficients, FusedOp user) {
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

/// k[h, t .. t+7] as a vector<8xf32>, zero past the kernel's length.
Value loadKernelTaps(OpBuilder &b, Location loc, Value k, int64_t length,
                     Value h, Value t) {
  Type f32 = b.getF32Type();
  Value taps = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({kVectorWidth}, f32),
                             b.getF32FloatAttr(0.0)));
  for (int64_t i = 0; i < kVectorWidth; ++i) {
    Value at = arith::AddIOp::create(b, loc, t,
                                     arith::ConstantIndexOp::create(b, loc, i));
    Value inside =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, at,
                              arith::ConstantIndexOp::create(b, loc, length));
    auto ifOp = scf::IfOp::create(b, loc, TypeRange{f32}, inside,
                                  /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    scf::YieldOp::create(
        b, loc, ValueRange{memref::LoadOp::create(b, loc, k, {h, at})});
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    scf::YieldOp::create(
        b, loc,
        ValueRange{arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0))});
    b.setInsertionPointAfter(ifOp);
    taps = vector::InsertOp::create(b, loc, ifOp.getResult(0), taps,
                                    ArrayRef<int64_t>{i});
  }
  return taps;
}

MemRefType memrefOf(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

bool isRealTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.hasStaticShape() &&
         isa<Float16Type, BFloat16Type, Float32Type>(tensor.getElementType());
}

} // namespace

//===----------------------------------------------------------------------===//
// The rewrite
//===----------------------------------------------------------------------===//

namespace {

/// The convolutions of a function, checked: each region chain with the
/// preparation of its kernel spectrum, and the chip their plans are for.
struct FunctionAnalysis {
  SmallVector<ConvRegion> regions;
  SmallVector<SpectrumChain> chains;
  StringRef chip;
};

/// Finds the convolutions of `func` and checks that the kernels cover
/// everything the function does.
LogicalResult analyzeConvolutions(func::FuncOp func, ArrayRef<FusedOp> fusedOps,
                                  FunctionAnalysis &analysis) {
  if (!func.getBody().hasOneBlock())
    return func.emitError() << "the GPU lowering needs a single-block function";
  Block &entry = func.getBody().front();
  auto returnOp = cast<func::ReturnOp>(entry.getTerminator());
  llvm::SetVector<Operation *> covered;
  for (FusedOp op : fusedOps) {
    if (covered.contains(op))
      continue; // the inner or outer-inverse region of a three-pass chain
    if (op->getBlock() != &entry)
      return op.emitError() << "the GPU lowering needs fused regions at the "
                               "top level of the function";
    auto region = analyzeRegion(op);
    if (failed(region))
      return failure();
    FusedOp conv = region->op;
    auto coefficientArg =
        cast<BlockArgument>(region->product.getCoefficients());
    auto chain =
        analyzeSpectrum(conv.getOperand(coefficientArg.getArgNumber()), conv);
    if (failed(chain))
      return failure();
    // Inputs come from the function, or from the previous region of the
    // chain (the three-pass form).
    for (FusedOp part : {region->first(), conv, region->last()})
      for (Value operand : part->getOperands()) {
        if (isa<BlockArgument>(operand) ||
            operand == conv.getOperand(coefficientArg.getArgNumber()))
          continue;
        Operation *def = operand.getDefiningOp();
        bool chained = region->isChain() &&
                       ((part == conv && def == region->outerForward) ||
                        (part == region->outerInverse &&
                         (def == conv || def == region->outerForward)));
        if (!chained)
          return part.emitError() << "the GPU lowering needs every input of "
                                     "a fused region to be a function argument";
      }
    for (Operation *user : region->last()->getResult(0).getUsers())
      if (user != returnOp)
        return region->last().emitError()
               << "the GPU lowering needs the result of a fused region to be "
                  "returned";
    // The kernels evaluate the region's elementwise prologue and epilogue.
    auto inputType = cast<RankedTensorType>(region->pack.getInput().getType());
    int64_t batch = inputType.getRank() == 3 ? inputType.getDimSize(0) : -1;
    int64_t channels = inputType.getRank() == 3 ? inputType.getDimSize(1) : -1;
    if (batch < 0)
      return op.emitError() << "the GPU lowering needs [B, H, L] sequences";
    if (failed(checkElementwise(region->pack.getInput(), Value(), batch,
                                channels, region->first(), ArgumentMap())) ||
        failed(checkElementwise(region->output, region->unpack.getResult(),
                                batch, channels, region->last(),
                                region->epilogue)))
      return failure();
    covered.insert(region->first());
    covered.insert(conv);
    covered.insert(region->last());
    covered.insert(chain->ops.begin(), chain->ops.end());
    analysis.regions.push_back(*region);
    analysis.chains.push_back(std::move(*chain));
  }
  for (Operation &op : entry.without_terminator())
    if (!covered.contains(&op))
      return op.emitError()
             << "the GPU lowering has no kernel for '" << op.getName()
             << "' outside a fused convolution region";
  for (Type type : func.getArgumentTypes())
    if (!isRealTensor(type))
      return func.emitError() << "the GPU lowering needs static f16, bf16 or "
                                 "f32 tensors as arguments, not "
                              << type;
  for (Type type : func.getResultTypes())
    if (!isRealTensor(type))
      return func.emitError() << "the GPU lowering needs static f16, bf16 or "
                                 "f32 tensors as results, not "
                              << type;
  return success();
}

/// Reads each convolution's plan and the shapes it is for, and checks that
/// the plan fits the region.
LogicalResult readPlans(FunctionAnalysis &analysis) {
  for (ConvRegion &region : analysis.regions) {
    region.plan = region.op.getGpuPlanAttr();
    if (!region.plan)
      return region.op.emitError()
             << "the GPU lowering needs a plan on the conv region (run "
                "butterfly-plan-gpu-kernels first)";
    if (!analysis.chip.empty() && region.plan.getChip() != analysis.chip)
      return region.op.emitError()
             << "the GPU lowering needs one chip a function: this plan is "
                "for "
             << region.plan.getChip() << ", an earlier one for "
             << analysis.chip;
    analysis.chip = region.plan.getChip();
    auto inputType = cast<RankedTensorType>(region.pack.getInput().getType());
    auto packedType = cast<RankedTensorType>(region.pack.getResult().getType());
    auto outputType =
        cast<RankedTensorType>(region.unpack.getResult().getType());
    auto resultType =
        cast<RankedTensorType>(region.last()->getResult(0).getType());
    ConvolutionShape &shape = region.shape;
    shape.batch = inputType.getDimSize(0);
    shape.channels = inputType.getDimSize(1);
    shape.inputLength = inputType.getDimSize(2);
    shape.outputLength = outputType.getDimSize(2);
    shape.fftSize = 2 * packedType.getDimSize(2);
    shape.resultBytes =
        resultType.getNumElements() * resultType.getElementTypeBitWidth() / 8;
    // The stages compute the transform the region holds: the single kernel
    // one of N/2 points (the real-input trick), the three-pass form one of
    // N (two sequences as one complex sequence).
    int64_t points = 1;
    for (int64_t factor : region.plan.getAllFactors())
      points *= factor;
    int64_t expected = region.threePass() ? shape.fftSize : shape.fftSize / 2;
    if (points != expected)
      return region.op.emitError()
             << "the GPU plan's factors multiply to " << points
             << ", but the transform has " << expected << " points";
    if (region.isChain() && !region.threePass())
      return region.op.emitError() << "the GPU lowering runs an outer_forward, "
                                      "conv, outer_inverse chain in the "
                                      "three_pass form only";
  }
  return success();
}

/// v = prologue(u, gates) at [batch, h, t .. t+7], as f32.
Value loadRegionInput(ConvRegion &region, OpBuilder &b, Location loc,
                      ValueRange args, Value batch, Value h, Value t) {
  ArgumentMap prologue;
  ElementwiseEmitter emitter(b, loc, args, prologue, batch, h, t, Value(),
                             Value());
  Value v = emitter.emit(region.pack.getInput());
  auto type = VectorType::get({kVectorWidth}, b.getF32Type());
  if (v.getType() != type)
    v = arith::ExtFOp::create(b, loc, type, v);
  return v;
}

/// The region's output from the 8 convolution results y, through its
/// epilogue, stored at [batch, h, t .. t+7] of the last kernel argument.
void storeRegionOutput(ConvRegion &region, OpBuilder &b, Location loc,
                       ValueRange args, Value batch, Value h, Value t,
                       Value y) {
  ElementwiseEmitter emitter(b, loc, args, region.epilogue, batch, h, t,
                             region.unpack.getResult(), y);
  Value out = emitter.emit(region.output);
  auto store = vector::StoreOp::create(b, loc, out, args.back(),
                                       ValueRange{batch, h, t});
  store.setAlignment(16);
}

SmallVector<Type> typesOf(ValueRange values) {
  return llvm::to_vector(values.getTypes());
}

/// Builds the host function of a function's convolutions and their kernels
/// in `module`: its arguments (inputs, outputs, and per convolution its
/// spectrum and, in the three-pass form, the workspace between the passes)
/// and a launch per kernel.
class HostBuilder {
public:
  HostBuilder(OpBuilder &builder, func::FuncOp func, gpu::GPUModuleOp module,
              ArrayRef<ConvRegion> regions);

  void emitSingleKernel(size_t index, ConvRegion &region,
                        const SpectrumChain &chain);
  void emitThreePass(size_t index, ConvRegion &region,
                     const SpectrumChain &chain);
  /// Ends the host function; records each convolution's plan and launches.
  void finish(ArrayRef<ConvRegion> regions);

private:
  Value hostArg(Value operand) {
    return hostBlock->getArgument(cast<BlockArgument>(operand).getArgNumber());
  }
  /// The output buffer of the function result `last` yields.
  Value outputOf(FusedOp last);
  void launch(gpu::GPUFuncOp kernel, std::array<int64_t, 3> grid,
              int64_t threads, int64_t sharedBytes, ValueRange operands);
  gpu::KernelDim3 index3(int64_t x, int64_t y, int64_t z);

  OpBuilder &builder;
  Location loc;
  func::FuncOp func;
  gpu::GPUModuleOp module;
  func::FuncOp host;
  Block *hostBlock = nullptr;
  unsigned firstOutput = 0;
  SmallVector<unsigned> spectrumArgs, passArgs;
  int64_t launches = 0;
  SmallVector<int64_t> firstLaunches;
};

HostBuilder::HostBuilder(OpBuilder &builder, func::FuncOp func,
                         gpu::GPUModuleOp module, ArrayRef<ConvRegion> regions)
    : builder(builder), loc(func.getLoc()), func(func), module(module) {
  SmallVector<Type> argTypes;
  SmallVector<StringRef> roles;
  for (Type type : func.getArgumentTypes()) {
    argTypes.push_back(memrefOf(type));
    roles.push_back("input");
  }
  firstOutput = argTypes.size();
  for (Type type : func.getResultTypes()) {
    argTypes.push_back(memrefOf(type));
    roles.push_back("output");
  }
  Type f32 = builder.getF32Type();
  for (const ConvRegion &region : regions) {
    spectrumArgs.push_back(argTypes.size());
    if (region.threePass()) {
      ThreePassPlan plan = getThreePassPlan(region.plan, region.shape);
      argTypes.push_back(
          MemRefType::get({plan.channels, 2 * plan.length}, f32));
      roles.push_back("workspace");
      passArgs.push_back(argTypes.size());
      argTypes.push_back(MemRefType::get(
          {plan.workspacePairs(), plan.channels, 2 * plan.length}, f32));
      roles.push_back("workspace");
      continue;
    }
    ConvKernelPlan plan = getSingleKernelPlan(region.plan, region.shape);
    argTypes.push_back(
        MemRefType::get({plan.channels, 2, 2 * plan.complexLength}, f32));
    roles.push_back("workspace");
    passArgs.push_back(0);
  }
  builder.setInsertionPoint(func);
  host = func::FuncOp::create(builder, loc, func.getName(),
                              builder.getFunctionType(argTypes, {}));
  host.setVisibility(func.getVisibility());
  for (unsigned i = 0; i < argTypes.size(); ++i) {
    host.setArgAttr(i, kRoleAttrName, builder.getStringAttr(roles[i]));
    if (i < func.getNumArguments())
      if (Attribute name = func.getArgAttr(i, kNameAttrName))
        host.setArgAttr(i, kNameAttrName, name);
  }
  hostBlock = host.addEntryBlock();
}

Value HostBuilder::outputOf(FusedOp last) {
  auto returnOp = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  unsigned resultIndex = 0;
  for (OpOperand &use : returnOp->getOpOperands())
    if (use.get() == last->getResult(0))
      resultIndex = use.getOperandNumber();
  return hostBlock->getArgument(firstOutput + resultIndex);
}

gpu::KernelDim3 HostBuilder::index3(int64_t x, int64_t y, int64_t z) {
  return gpu::KernelDim3{arith::ConstantIndexOp::create(builder, loc, x),
                         arith::ConstantIndexOp::create(builder, loc, y),
                         arith::ConstantIndexOp::create(builder, loc, z)};
}

void HostBuilder::launch(gpu::GPUFuncOp kernel, std::array<int64_t, 3> grid,
                         int64_t threads, int64_t sharedBytes,
                         ValueRange operands) {
  ++launches;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(hostBlock);
  gpu::LaunchFuncOp::create(
      builder, loc, kernel, index3(grid[0], grid[1], grid[2]),
      index3(threads, 1, 1),
      arith::ConstantIntOp::create(builder, loc, sharedBytes, 32), operands);
}

void HostBuilder::emitSingleKernel(size_t index, ConvRegion &region,
                                   const SpectrumChain &chain) {
  firstLaunches.push_back(launches);
  std::string name = (func.getName() + "_conv" + Twine(index)).str();
  Value spectrumBuffer = hostBlock->getArgument(spectrumArgs[index]);
  int64_t kernelLength =
      cast<RankedTensorType>(chain.kernel.getType()).getDimSize(1);
  Value kernel = hostArg(chain.kernel);
  ConvKernelPlan plan = getSingleKernelPlan(region.plan, region.shape);
  gpu::GPUFuncOp spectrum = buildSpectrumKernel(
      builder, loc, module, name + "_spectrum", kernelLength, plan);

  // Kernel arguments: the region's inputs, then its output.
  SmallVector<Value> operands;
  unsigned coefficientArg =
      cast<BlockArgument>(region.product.getCoefficients()).getArgNumber();
  for (auto [i, operand] : llvm::enumerate(region.op->getOperands()))
    operands.push_back(i == coefficientArg ? spectrumBuffer : hostArg(operand));
  operands.push_back(outputOf(region.op));
  gpu::GPUFuncOp conv = buildConvKernel(
      builder, loc, module, name, typesOf(operands), coefficientArg, plan,
      [&](OpBuilder &b, Location l, ValueRange args, Value batch, Value h,
          Value t) { return loadRegionInput(region, b, l, args, batch, h, t); },
      [&](OpBuilder &b, Location l, ValueRange args, Value batch, Value h,
          Value t,
          Value y) { storeRegionOutput(region, b, l, args, batch, h, t, y); });
  // The spectrum depends on k alone: a runtime may keep it between calls.
  unsigned spectrumIndex = spectrumArgs[index];
  host.setArgAttr(spectrumIndex, kProducerAttrName,
                  builder.getI64IntegerAttr(launches));
  host.setArgAttr(spectrumIndex, kDependsOnAttrName,
                  builder.getDenseI64ArrayAttr(
                      {cast<BlockArgument>(kernel).getArgNumber()}));
  launch(spectrum, {plan.channels, 1, 1}, plan.threads,
         plan.spectrumSharedBytes(), ValueRange{kernel, spectrumBuffer});
  launch(conv, {plan.channels, plan.gridY(), 1}, plan.threads,
         plan.convSharedBytes(), operands);
}

void HostBuilder::emitThreePass(size_t index, ConvRegion &region,
                                const SpectrumChain &chain) {
  firstLaunches.push_back(launches);
  std::string name = (func.getName() + "_conv" + Twine(index)).str();
  Value spectrumBuffer = hostBlock->getArgument(spectrumArgs[index]);
  int64_t kernelLength =
      cast<RankedTensorType>(chain.kernel.getType()).getDimSize(1);
  Value kernel = hostArg(chain.kernel);
  ThreePassPlan plan = getThreePassPlan(region.plan, region.shape);
  Value passBuffer = hostBlock->getArgument(passArgs[index]);
  // K from k: the outer forward pass over k (as the only "pair"), then the
  // row transforms in place. K at Split precision whatever the
  // convolution's: it is computed once, and every output carries its error.
  ThreePassPlan spectrumPlan = plan;
  spectrumPlan.precision = GPUPrecision::Split;
  ThreePassPlan kernelPlan = spectrumPlan;
  kernelPlan.batch = 1;
  kernelPlan.inputLength = llvm::alignTo(kernelLength, kVectorWidth);
  SmallVector<Value> spectrumOperands{kernel, spectrumBuffer};
  gpu::GPUFuncOp spectrumOuter = buildOuterForwardKernel(
      builder, loc, module, name + "_spectrum_outer", typesOf(spectrumOperands),
      /*workspaceArg=*/1, kernelPlan,
      [&](OpBuilder &b, Location l, ValueRange args, Value, Value h,
          Value t) -> Value {
        return loadKernelTaps(b, l, args[0], kernelLength, h, t);
      });
  gpu::GPUFuncOp spectrumInner = buildInnerSpectrumKernel(
      builder, loc, module, name + "_spectrum_inner", spectrumPlan);

  // The kernels' arguments: the region's inputs (a single region's
  // coefficients are the spectrum buffer, which these kernels do not read),
  // the workspace, and for the outer inverse pass the output.
  Value coefficients = region.op.getOperand(
      cast<BlockArgument>(region.product.getCoefficients()).getArgNumber());
  auto inputOf = [&](Value operand) {
    return operand == coefficients ? spectrumBuffer : hostArg(operand);
  };
  SmallVector<Value> forwardOperands;
  for (Value operand : region.first()->getOperands())
    forwardOperands.push_back(inputOf(operand));
  forwardOperands.push_back(passBuffer);
  gpu::GPUFuncOp inner =
      buildInnerKernel(builder, loc, module, name + "_inner", plan);
  SmallVector<Value> inverseOperands;
  unsigned passOperand = 0;
  if (region.isChain()) {
    for (auto [i, operand] :
         llvm::enumerate(region.outerInverse->getOperands())) {
      if (operand.getDefiningOp() == region.op) {
        passOperand = i;
        inverseOperands.push_back(passBuffer);
      } else if (operand.getDefiningOp() == region.outerForward) {
        // Evaluated again from outer_forward's inputs: never read.
        inverseOperands.push_back(passBuffer);
      } else {
        inverseOperands.push_back(hostArg(operand));
      }
    }
    for (Value operand : region.outerForward->getOperands())
      inverseOperands.push_back(hostArg(operand));
  } else {
    for (Value operand : region.op->getOperands())
      inverseOperands.push_back(inputOf(operand));
    passOperand = inverseOperands.size();
    inverseOperands.push_back(passBuffer);
  }
  inverseOperands.push_back(outputOf(region.last()));

  int64_t columnTiles = plan.inner() / plan.columns;
  launch(spectrumOuter, {columnTiles, plan.channels, 1}, plan.threads,
         kernelPlan.outerSharedBytes(), spectrumOperands);
  launch(spectrumInner, {plan.outer(), plan.channels, 1}, plan.threads,
         spectrumPlan.inner() * spectrumPlan.valueBytes(), spectrumBuffer);
  auto loadInput = [&](OpBuilder &b, Location l, ValueRange args, Value batch,
                       Value h, Value t) {
    return loadRegionInput(region, b, l, args, batch, h, t);
  };
  auto storeOutput = [&](OpBuilder &b, Location l, ValueRange args, Value batch,
                         Value h, Value t, Value y) {
    storeRegionOutput(region, b, l, args, batch, h, t, y);
  };
  // Per chunk of pairs: its outer kernels (built for its first pair), the
  // inner kernel, all over the one workspace.
  for (int64_t chunk = 0; chunk < plan.chunks(); ++chunk) {
    ThreePassPlan chunkPlan = plan;
    chunkPlan.firstPair = chunk * plan.workspacePairs();
    std::string suffix = plan.chunks() > 1 ? "_" + std::to_string(chunk) : "";
    gpu::GPUFuncOp outerForward = buildOuterForwardKernel(
        builder, loc, module, name + "_outer_forward" + suffix,
        typesOf(forwardOperands), forwardOperands.size() - 1, chunkPlan,
        loadInput);
    gpu::GPUFuncOp outerInverse = buildOuterInverseKernel(
        builder, loc, module, name + "_outer_inverse" + suffix,
        typesOf(inverseOperands), passOperand, chunkPlan, storeOutput);
    std::array<int64_t, 3> outerGrid{columnTiles, plan.channels,
                                     plan.workspacePairs()};
    launch(outerForward, outerGrid, plan.threads, plan.outerSharedBytes(),
           forwardOperands);
    launch(inner, {plan.outer(), plan.channels, plan.innerGridZ()},
           plan.threads, plan.innerSharedBytes(),
           ValueRange{passBuffer, spectrumBuffer});
    launch(outerInverse, outerGrid, plan.threads, plan.outerSharedBytes(),
           inverseOperands);
  }
}

void HostBuilder::finish(ArrayRef<ConvRegion> regions) {
  builder.setInsertionPointToEnd(hostBlock);
  func::ReturnOp::create(builder, loc);
  // What each convolution became, for the manifest: its plan, its FFT size
  // and the launches of its kernels.
  SmallVector<Attribute> convolutions;
  for (auto [index, region] : llvm::enumerate(regions)) {
    int64_t end =
        index + 1 < regions.size() ? firstLaunches[index + 1] : launches;
    SmallVector<int64_t> kernels =
        llvm::to_vector(llvm::seq<int64_t>(firstLaunches[index], end));
    convolutions.push_back(builder.getDictionaryAttr({
        builder.getNamedAttr(kPlanKey, region.plan),
        builder.getNamedAttr(kFFTSizeKey,
                             builder.getI64IntegerAttr(region.shape.fftSize)),
        builder.getNamedAttr(kKernelsKey,
                             builder.getDenseI64ArrayAttr(kernels)),
    }));
  }
  host->setAttr(kConvolutionsAttrName, builder.getArrayAttr(convolutions));
}

} // namespace

LogicalResult mlir::fftconv::lowerFusedConvolutionsToGPU(RewriterBase &rewriter,
                                                         func::FuncOp func) {
  SmallVector<FusedOp> fusedOps;
  func.walk([&](FusedOp op) { fusedOps.push_back(op); });
  if (fusedOps.empty())
    return success();
  FunctionAnalysis analysis;
  if (failed(analyzeConvolutions(func, fusedOps, analysis)) ||
      failed(readPlans(analysis)))
    return failure();

  // The kernels go into a gpu.module for the plans' chip, before the host
  // function that launches them.
  OpBuilder &builder = rewriter;
  builder.setInsertionPoint(func);
  auto target =
      NVVM::NVVMTargetAttr::get(func.getContext(), /*optLevel=*/3,
                                "nvptx64-nvidia-cuda", analysis.chip, "+ptx80");
  auto module = gpu::GPUModuleOp::create(builder, func.getLoc(),
                                         (func.getName() + "_kernels").str(),
                                         ArrayRef<Attribute>{target});
  HostBuilder host(builder, func, module, analysis.regions);
  for (auto [index, region] : llvm::enumerate(analysis.regions)) {
    if (region.threePass())
      host.emitThreePass(index, region, analysis.chains[index]);
    else
      host.emitSingleKernel(index, region, analysis.chains[index]);
  }
  host.finish(analysis.regions);

  Operation *parent = func->getParentOp();
  rewriter.modifyOpInPlace(parent, [&] {
    parent->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    builder.getUnitAttr());
  });
  rewriter.eraseOp(func);
  return success();
}

namespace {
struct LowerFunctionToGPU : OpRewritePattern<func::FuncOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(func::FuncOp func,
                                PatternRewriter &rewriter) const override {
    bool hasFused = false;
    func.walk([&](FusedOp) { hasFused = true; });
    if (!hasFused)
      return rewriter.notifyMatchFailure(func, "no fused region");
    return lowerFusedConvolutionsToGPU(rewriter, func);
  }
};

struct ButterflyToGPUPass
    : fftconv::impl::ButterflyToGPUBase<ButterflyToGPUPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<func::FuncOp> funcs(getOperation().getOps<func::FuncOp>());
    IRRewriter rewriter(&getContext());
    for (func::FuncOp func : funcs)
      if (failed(lowerFusedConvolutionsToGPU(rewriter, func)))
        return signalPassFailure();
  }
};
} // namespace

void mlir::fftconv::populateButterflyToGPUPatterns(
    RewritePatternSet &patterns) {
  patterns.add<LowerFunctionToGPU>(patterns.getContext());
}
