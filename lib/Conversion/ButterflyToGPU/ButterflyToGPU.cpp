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
#include "fftconv/Dialect/Butterfly/Transforms/CostModel.h"

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

/// The ops of a convolution the kernels are built from: one fused "conv"
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

  /// Whether the kernels take the three-pass form: always for a chain, and
  /// for a single region past `single-kernel-max`.
  bool threePass = false;

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

/// Whether `value` can be evaluated 8 elements at a time at [b, h, t]:
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

/// Emits `value` at [b, h, t .. t+7] as a vector<8xT> (after a successful
/// checkElementwise).
class ElementwiseEmitter {
public:
  ElementwiseEmitter(OpBuilder &builder, Location loc, ValueRange kernelArgs,
                     const ArgumentMap &arguments, Value b, Value h, Value t,
                     Value stop, Value stopValue)
      : builder(builder), loc(loc), kernelArgs(kernelArgs),
        arguments(arguments), indices{b, h, t}, stop(stop),
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
        fused && fused.getKind() == "conv")
      conv = fused;
  if (!conv || conv->getNumResults() != 1 || !conv->getResult(0).hasOneUse() ||
      conv.getOperand(0).getDefiningOp() != outerForward ||
      !conv.getOperand(0).hasOneUse())
    return chainError();
  auto outerInverse = dyn_cast<FusedOp>(*conv->getResult(0).user_begin());
  if (!outerInverse || outerInverse.getKind() != "outer_inverse" ||
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
  region.threePass = true;
  auto pack = uniqueOp<PackRealOp>(outerForward, "pack_real");
  auto product = uniqueOp<HermitianMulOp>(conv, "spectral product");
  auto unpack = uniqueOp<UnpackRealOp>(outerInverse, "unpack_real");
  if (failed(pack) || failed(product) || failed(unpack))
    return failure();
  region.pack = *pack;
  region.product = *product;
  region.unpack = *unpack;
  WalkResult banded = conv.walk([](MonarchOp monarch) {
    return monarch.getSpectralBand() ? WalkResult::interrupt()
                                     : WalkResult::advance();
  });
  if (banded.wasInterrupted())
    return conv.emitError()
           << "the GPU lowering does not run frequency-sparse convolutions yet";
  auto coefficients = dyn_cast<BlockArgument>(product->getCoefficients());
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
  if (op.getKind() == "outer_forward")
    return analyzeThreePass(op);
  if (op.getKind() != "conv")
    return op.emitError() << "the GPU lowering does not run '" << op.getKind()
                          << "' regions on their own (an outer_inverse "
                             "region must follow a conv region that follows "
                             "an outer_forward region)";
  if (op->getNumResults() != 1)
    return op.emitError()
           << "the GPU lowering needs a fused convolution with one result";
  ConvRegion region;
  region.op = op;
  auto product = uniqueOp<HermitianMulOp>(op, "spectral product");
  auto pack = uniqueOp<PackRealOp>(op, "pack_real");
  auto unpack = uniqueOp<UnpackRealOp>(op, "unpack_real");
  if (failed(product) || failed(pack) || failed(unpack))
    return failure();
  region.product = *product;
  region.pack = *pack;
  region.unpack = *unpack;
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

LogicalResult mlir::fftconv::lowerFusedConvolutionsToGPU(
    RewriterBase &rewriter, func::FuncOp func,
    const ButterflyToGPUOptions &options) {
  SmallVector<FusedOp> fusedOps;
  func.walk([&](FusedOp op) { fusedOps.push_back(op); });
  if (fusedOps.empty())
    return success();
  // The chip's limits are the cost model's (the same numbers chose the
  // factors and the single-kernel form).
  std::optional<TargetDescription> chipLimits =
      TargetDescription::forChip(options.chip);
  if (!chipLimits)
    return func.emitError()
           << "unknown chip '" << options.chip << "' (expected sm_80 or sm_90)";
  if (!func.getBody().hasOneBlock())
    return func.emitError() << "the GPU lowering needs a single-block function";

  MLIRContext *ctx = func.getContext();
  Block &entry = func.getBody().front();
  auto returnOp = cast<func::ReturnOp>(entry.getTerminator());

  SmallVector<ConvRegion> regions;
  SmallVector<SpectrumChain> chains;
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
    regions.push_back(*region);
    chains.push_back(std::move(*chain));
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

  // The precision asked for; "auto" is Half for the single-kernel form (at
  // most three f16 roundings each way, fp16 relative error about 6e-4) and
  // Split for the three-pass form, whose five stages each way would take
  // Half close to 1e-3 (bench/NOTES.md).
  std::optional<KernelPrecision> precision;
  if (options.precision != "auto") {
    precision = parseKernelPrecision(options.precision);
    if (!precision)
      return func.emitError() << "unknown precision '" << options.precision
                              << "': expected auto, split or half";
  }

  // Plans, checked before anything is rewritten.
  SmallVector<ConvKernelPlan> plans;
  SmallVector<ThreePassPlan> threePassPlans;
  for (ConvRegion &region : regions) {
    auto inputType = cast<RankedTensorType>(region.pack.getInput().getType());
    auto halfType = cast<RankedTensorType>(region.pack.getResult().getType());
    auto outputType =
        cast<RankedTensorType>(region.unpack.getResult().getType());
    // Past `single-kernel-max` the three-pass form. At half precision the
    // single kernel measured faster on an H100 up to N = 32K (bench/NOTES.md:
    // 16K causal 1.79 ms against 4.52 ms for three passes at split precision
    // and 3.54 ms at half, 32K 3.17 against 4.83 and 3.81 ms), and it needs
    // no workspace.
    int64_t length = 2 * halfType.getDimSize(2);
    if (options.singleKernelMax > 0 && length > options.singleKernelMax)
      region.threePass = true;
    if (region.threePass) {
      ThreePassPlan plan;
      plan.batch = inputType.getDimSize(0);
      plan.channels = inputType.getDimSize(1);
      plan.inputLength = inputType.getDimSize(2);
      plan.outputLength = outputType.getDimSize(2);
      plan.length = 2 * halfType.getDimSize(2);
      plan.threads = options.threads > 0 ? options.threads : 256;
      plan.pairTile = options.batchTile > 0 ? (options.batchTile + 1) / 2 : 0;
      plan.precision = precision.value_or(KernelPrecision::Split);
      // The workspace (8 bytes per complex value of a pair) holds as many
      // pairs as fit in the bytes of the output, at least one; the pairs
      // run through it in chunks. Peak memory beyond the inputs stays within
      // twice the output plus K.
      auto resultType =
          cast<RankedTensorType>(region.last()->getResult(0).getType());
      int64_t outputBytes =
          resultType.getNumElements() * resultType.getElementTypeBitWidth() / 8;
      int64_t pairBytes = plan.channels * 2 * plan.length * 4;
      plan.chunkPairs = std::max<int64_t>(1, outputBytes / pairBytes);
      std::string why = planThreePass(plan, chipLimits->sharedMemoryPerBlock);
      if (!why.empty())
        return region.op.emitError() << why;
      plans.emplace_back();
      threePassPlans.push_back(plan);
      continue;
    }
    ConvKernelPlan plan;
    plan.batch = inputType.getDimSize(0);
    plan.channels = inputType.getDimSize(1);
    plan.inputLength = inputType.getDimSize(2);
    plan.outputLength = outputType.getDimSize(2);
    plan.half = halfType.getDimSize(2);
    plan.factors.assign(region.forward.getFactors().begin(),
                        region.forward.getFactors().end());
    plan.precision = precision.value_or(KernelPrecision::Half);
    // Measured on an H100 (bench/NOTES.md, tuning runs of 48 block shapes):
    // about 32 KiB a block; 2 warps up to M = 512 (at N = 1024, 0.144 ms
    // against 0.162 ms for 4 warps), 4 up to M = 2048 (at N = 4096, 0.855 ms
    // against 0.911 ms for 8 warps and 8 sequences), 8 past it.
    int64_t threads = plan.half <= 512 ? 64 : plan.half <= 2048 ? 128 : 256;
    plan.threads = options.threads > 0 ? options.threads : threads;
    int64_t tile = options.batchTile;
    if (tile <= 0) {
      // About 32 KiB, at least two sequences where two fit: one sequence a
      // block leaves its warps idle at every barrier.
      tile = std::clamp<int64_t>(32768 / plan.sequenceBytes(), 2, 8);
      while (tile > 1 &&
             tile * plan.sequenceBytes() > chipLimits->sharedMemoryPerBlock)
        --tile;
    }
    plan.batchTile = std::min(tile, plan.batch);
    std::string why =
        checkConvKernelPlan(plan, chipLimits->sharedMemoryPerBlock);
    if (!why.empty())
      return region.op.emitError() << why;
    plans.push_back(plan);
    threePassPlans.emplace_back();
  }

  // The kernels.
  OpBuilder &builder = rewriter;
  builder.setInsertionPoint(func);
  Location loc = func.getLoc();
  auto target = NVVM::NVVMTargetAttr::get(
      ctx, /*optLevel=*/3, "nvptx64-nvidia-cuda", options.chip, "+ptx80");
  auto module = gpu::GPUModuleOp::create(builder, loc,
                                         (func.getName() + "_kernels").str(),
                                         ArrayRef<Attribute>{target});

  // The host function: inputs, outputs, workspaces (per convolution its
  // spectrum, and in the three-pass form the values between the passes).
  SmallVector<Type> argTypes;
  SmallVector<StringRef> roles;
  for (Type type : func.getArgumentTypes()) {
    argTypes.push_back(memrefOf(type));
    roles.push_back("input");
  }
  unsigned firstOutput = argTypes.size();
  for (Type type : func.getResultTypes()) {
    argTypes.push_back(memrefOf(type));
    roles.push_back("output");
  }
  Type f32 = builder.getF32Type();
  SmallVector<unsigned> spectrumArgs, passArgs;
  for (auto [index, region] : llvm::enumerate(regions)) {
    spectrumArgs.push_back(argTypes.size());
    if (region.threePass) {
      const ThreePassPlan &plan = threePassPlans[index];
      argTypes.push_back(
          MemRefType::get({plan.channels, 2 * plan.length}, f32));
      roles.push_back("workspace");
      passArgs.push_back(argTypes.size());
      argTypes.push_back(MemRefType::get(
          {plan.workspacePairs(), plan.channels, 2 * plan.length}, f32));
      roles.push_back("workspace");
      continue;
    }
    const ConvKernelPlan &plan = plans[index];
    argTypes.push_back(MemRefType::get({plan.channels, 2, 2 * plan.half}, f32));
    roles.push_back("workspace");
    passArgs.push_back(0);
  }
  builder.setInsertionPoint(func);
  auto host = func::FuncOp::create(builder, loc, func.getName(),
                                   builder.getFunctionType(argTypes, {}));
  host.setVisibility(func.getVisibility());
  for (unsigned i = 0; i < argTypes.size(); ++i) {
    host.setArgAttr(i, kRoleAttrName, builder.getStringAttr(roles[i]));
    if (i < func.getNumArguments())
      if (Attribute name = func.getArgAttr(i, kNameAttrName))
        host.setArgAttr(i, kNameAttrName, name);
  }
  Block *hostBlock = host.addEntryBlock();
  auto hostArg = [&](Value operand) {
    return hostBlock->getArgument(cast<BlockArgument>(operand).getArgNumber());
  };
  auto outputOf = [&](FusedOp last) {
    unsigned resultIndex = 0;
    for (OpOperand &use : returnOp->getOpOperands())
      if (use.get() == last->getResult(0))
        resultIndex = use.getOperandNumber();
    return hostBlock->getArgument(firstOutput + resultIndex);
  };
  auto typesOf = [](ValueRange values) {
    return llvm::to_vector(values.getTypes());
  };
  int64_t launches = 0;
  auto launch = [&](gpu::GPUFuncOp kernel, std::array<int64_t, 3> grid,
                    int64_t threads, int64_t sharedBytes, ValueRange operands) {
    ++launches;
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToEnd(hostBlock);
    auto index3 = [&](int64_t x, int64_t y, int64_t z) {
      return gpu::KernelDim3{arith::ConstantIndexOp::create(builder, loc, x),
                             arith::ConstantIndexOp::create(builder, loc, y),
                             arith::ConstantIndexOp::create(builder, loc, z)};
    };
    gpu::LaunchFuncOp::create(
        builder, loc, kernel, index3(grid[0], grid[1], grid[2]),
        index3(threads, 1, 1),
        arith::ConstantIntOp::create(builder, loc, sharedBytes, 32), operands);
  };

  for (size_t index = 0; index < regions.size(); ++index) {
    ConvRegion &region = regions[index];
    const SpectrumChain &chain = chains[index];
    std::string name = (func.getName() + "_conv" + Twine(index)).str();
    Value spectrumBuffer = hostBlock->getArgument(spectrumArgs[index]);
    int64_t kernelLength =
        cast<RankedTensorType>(chain.kernel.getType()).getDimSize(1);
    Value kernel = hostArg(chain.kernel);
    Value packInput = region.pack.getInput();
    Value output = region.output;
    Value unpacked = region.unpack.getResult();
    auto loadInput = [&](OpBuilder &b, Location l, ValueRange args, Value batch,
                         Value h, Value t) -> Value {
      ArgumentMap prologue;
      ElementwiseEmitter emitter(b, l, args, prologue, batch, h, t, Value(),
                                 Value());
      Value v = emitter.emit(packInput);
      auto type = VectorType::get({kVectorWidth}, b.getF32Type());
      if (v.getType() != type)
        v = arith::ExtFOp::create(b, l, type, v);
      return v;
    };
    auto storeOutput = [&](OpBuilder &b, Location l, ValueRange args,
                           Value batch, Value h, Value t, Value y) {
      ElementwiseEmitter emitter(b, l, args, region.epilogue, batch, h, t,
                                 unpacked, y);
      Value out = emitter.emit(output);
      auto store = vector::StoreOp::create(b, l, out, args.back(),
                                           ValueRange{batch, h, t});
      store.setAlignment(16);
    };

    if (region.threePass) {
      const ThreePassPlan &plan = threePassPlans[index];
      Value passBuffer = hostBlock->getArgument(passArgs[index]);
      // K from k: the outer forward pass over k (as the only "pair"), then
      // the row transforms in place.
      // K at Split precision whatever the convolution's: it is computed once,
      // and every output carries its error.
      ThreePassPlan spectrumPlan = plan;
      spectrumPlan.precision = KernelPrecision::Split;
      ThreePassPlan kernelPlan = spectrumPlan;
      kernelPlan.batch = 1;
      kernelPlan.inputLength = llvm::alignTo(kernelLength, kVectorWidth);
      SmallVector<Value> spectrumOperands{kernel, spectrumBuffer};
      gpu::GPUFuncOp spectrumOuter = buildOuterForwardKernel(
          builder, loc, module, name + "_spectrum_outer",
          typesOf(spectrumOperands), /*workspaceArg=*/1, kernelPlan,
          [&](OpBuilder &b, Location l, ValueRange args, Value, Value h,
              Value t) -> Value {
            return loadKernelTaps(b, l, args[0], kernelLength, h, t);
          });
      gpu::GPUFuncOp spectrumInner = buildInnerSpectrumKernel(
          builder, loc, module, name + "_spectrum_inner", spectrumPlan);

      // The kernels' arguments: the region's inputs (a single region's
      // coefficients are the spectrum buffer, which these kernels do not
      // read), the workspace, and for the outer inverse pass the output.
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
      // Per chunk of pairs: its outer kernels (built for its first pair),
      // the inner kernel, all over the one workspace.
      for (int64_t chunk = 0; chunk < plan.chunks(); ++chunk) {
        ThreePassPlan chunkPlan = plan;
        chunkPlan.firstPair = chunk * plan.workspacePairs();
        std::string suffix =
            plan.chunks() > 1 ? "_" + std::to_string(chunk) : "";
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
      continue;
    }

    const ConvKernelPlan &plan = plans[index];
    gpu::GPUFuncOp spectrum = buildSpectrumKernel(
        builder, loc, module, name + "_spectrum", kernelLength, plan);

    // Kernel arguments: the region's inputs, then its output.
    SmallVector<Value> operands;
    unsigned coefficientArg =
        cast<BlockArgument>(region.product.getCoefficients()).getArgNumber();
    for (auto [i, operand] : llvm::enumerate(region.op->getOperands()))
      operands.push_back(i == coefficientArg ? spectrumBuffer
                                             : hostArg(operand));
    operands.push_back(outputOf(region.op));
    gpu::GPUFuncOp conv =
        buildConvKernel(builder, loc, module, name, typesOf(operands),
                        coefficientArg, plan, loadInput, storeOutput);
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
  builder.setInsertionPointToEnd(hostBlock);
  func::ReturnOp::create(builder, loc);

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
  LowerFunctionToGPU(MLIRContext *ctx, const ButterflyToGPUOptions &options)
      : OpRewritePattern(ctx), options(options) {}
  LogicalResult matchAndRewrite(func::FuncOp func,
                                PatternRewriter &rewriter) const override {
    bool hasFused = false;
    func.walk([&](FusedOp) { hasFused = true; });
    if (!hasFused)
      return rewriter.notifyMatchFailure(func, "no fused region");
    return lowerFusedConvolutionsToGPU(rewriter, func, options);
  }
  ButterflyToGPUOptions options;
};

struct ButterflyToGPUPass
    : fftconv::impl::ButterflyToGPUBase<ButterflyToGPUPass> {
  using Base::Base;
  void runOnOperation() override {
    ButterflyToGPUOptions options{chip, threads, batchTile, singleKernelMax,
                                  precision};
    SmallVector<func::FuncOp> funcs(getOperation().getOps<func::FuncOp>());
    IRRewriter rewriter(&getContext());
    for (func::FuncOp func : funcs)
      if (failed(lowerFusedConvolutionsToGPU(rewriter, func, options)))
        return signalPassFailure();
  }
};
} // namespace

void mlir::fftconv::populateButterflyToGPUPatterns(
    RewritePatternSet &patterns, const ButterflyToGPUOptions &options) {
  patterns.add<LowerFunctionToGPU>(patterns.getContext(), options);
}
