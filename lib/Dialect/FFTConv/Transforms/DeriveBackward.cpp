//===- DeriveBackward.cpp - reverse mode for fftconv functions --*- C++ -*-===//
//
// Builds @f_backward next to every forward function @f: the forward's ops
// replayed (the gradients need their values; the forward stores nothing),
// then each op's adjoint in reverse order, accumulated per value.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/FFTConv/Transforms/Passes.h"

#include "fftconv/Conversion/Utils/LoweringUtils.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/Sequence.h"

namespace mlir {
namespace fftconv {
#define GEN_PASS_DEF_FFTCONVDERIVEBACKWARD
#include "fftconv/Dialect/FFTConv/Transforms/Passes.h.inc"
} // namespace fftconv
} // namespace mlir

using namespace mlir;
using namespace mlir::fftconv;

namespace {

constexpr llvm::StringLiteral kBackwardSuffix = "_backward";
/// Marks the functions this pass made, so that a second run skips them.
constexpr llvm::StringLiteral kDerivedAttrName = "fftconv.derived_backward";

bool isDifferentiable(Operation *op) {
  // Constants are replayed and need no gradient.
  return isa<ConvOp, SquashOp, SmoothOp, arith::ConstantOp, func::ReturnOp>(op);
}

/// The adjoints of the forward values, summed where a value has several
/// uses.
class Adjoints {
public:
  explicit Adjoints(OpBuilder &builder) : builder(builder) {}

  void accumulate(Location loc, Value forward, Value adjoint) {
    auto [it, inserted] = adjoints.try_emplace(forward, adjoint);
    if (inserted)
      return;
    // A linalg sum rather than arith.addf on tensors: the CPU pipeline
    // bufferizes linalg, not elementwise arith.
    auto type = cast<RankedTensorType>(adjoint.getType());
    it->second = buildElementwise(
        builder, loc, {it->second, adjoint}, type.getShape(),
        type.getElementType(), [](OpBuilder &b, Location l, ValueRange args) {
          return arith::AddFOp::create(b, l, args[0], args[1]).getResult();
        });
  }
  Value lookup(Value forward) const { return adjoints.lookup(forward); }

private:
  OpBuilder &builder;
  DenseMap<Value, Value> adjoints;
};

/// `dk * (|k| > lambda)`: the subgradient of Squash (zero where it clamps).
Value buildSquashAdjoint(OpBuilder &b, Location loc, SquashOp op, Value input,
                         Value adjoint) {
  auto type = cast<RankedTensorType>(input.getType());
  float lambda = op.getLambda().convertToFloat();
  return buildElementwise(
      b, loc, {input, adjoint}, type.getShape(), type.getElementType(),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value magnitude = math::AbsFOp::create(nb, nloc, args[0]);
        Value threshold =
            arith::ConstantOp::create(nb, nloc, nb.getF32FloatAttr(lambda));
        Value passes = arith::CmpFOp::create(
            nb, nloc, arith::CmpFPredicate::OGT, magnitude, threshold);
        return arith::SelectOp::create(nb, nloc, passes, args[1],
                                       buildZero(nb, nloc, args[1].getType()))
            .getResult();
      });
}

/// Which operands of `op` carry a gradient back to an argument.
bool dependsOnArgument(Value value, const DenseSet<Value> &active) {
  return value && active.contains(value);
}

/// Derives @<forward>_backward, returning the gradients of the arguments
/// `wrt` (indices, in that order; all arguments when empty).
LogicalResult deriveBackward(func::FuncOp forward, SymbolTable &symbols,
                             ArrayRef<int64_t> wrt) {
  for (Operation &op : forward.getBody().getOps())
    if (!isDifferentiable(&op))
      return op.emitError()
             << "fftconv-derive-backward: cannot differentiate '"
             << op.getName()
             << "'; a forward function may hold only fftconv.conv, with "
                "fftconv.squash and fftconv.smooth on its operands, and "
                "constants";
  if (!forward.getBody().hasOneBlock())
    return forward.emitError(
        "fftconv-derive-backward: expects a function of one block");

  std::string name = (forward.getSymName() + kBackwardSuffix).str();
  if (symbols.lookup(name))
    return forward.emitError()
           << "fftconv-derive-backward: @" << name << " already exists";

  FunctionType forwardType = forward.getFunctionType();
  unsigned numInputs = forwardType.getNumInputs();
  SmallVector<int64_t> wanted(wrt);
  if (wanted.empty())
    wanted = llvm::to_vector(llvm::seq<int64_t>(0, numInputs));
  SmallVector<Type> gradientTypes;
  for (int64_t index : wanted) {
    if (index < 0 || index >= int64_t(numInputs))
      return forward.emitError()
             << "fftconv-derive-backward: asks for the gradient of argument "
             << index << " of a function of " << numInputs << " arguments";
    gradientTypes.push_back(forwardType.getInput(index));
  }
  SmallVector<Type> arguments(forwardType.getInputs());
  llvm::append_range(arguments, forwardType.getResults());
  OpBuilder builder(forward);
  builder.setInsertionPointAfter(forward);
  auto backward =
      func::FuncOp::create(builder, forward.getLoc(), name,
                           builder.getFunctionType(arguments, gradientTypes));
  symbols.insert(backward);
  backward->setAttr(kDerivedAttrName, builder.getUnitAttr());
  if (forward->hasAttr("llvm.emit_c_interface"))
    backward->setAttr("llvm.emit_c_interface", builder.getUnitAttr());
  Block *entry = backward.addEntryBlock();
  builder.setInsertionPointToStart(entry);

  // Replay the forward; `active` holds the values that depend on an
  // argument whose gradient is asked for (the others act as constants, so
  // no gradient is computed only to be dropped).
  IRMapping mapping;
  DenseSet<Value> active;
  for (unsigned i = 0; i < numInputs; ++i)
    mapping.map(forward.getArgument(i), entry->getArgument(i));
  for (int64_t index : wanted)
    active.insert(forward.getArgument(index));
  func::ReturnOp ret;
  SmallVector<Operation *> replayed;
  for (Operation &op : forward.getBody().getOps()) {
    if (auto r = dyn_cast<func::ReturnOp>(&op)) {
      ret = r;
      continue;
    }
    replayed.push_back(builder.clone(op, mapping));
    if (llvm::any_of(op.getOperands(),
                     [&](Value v) { return active.contains(v); }))
      active.insert(op.getResult(0));
  }

  Adjoints adjoints(builder);
  for (auto [index, value] : llvm::enumerate(ret.getOperands()))
    adjoints.accumulate(ret.getLoc(), value,
                        entry->getArgument(numInputs + index));

  // Reverse sweep over the forward ops.
  SmallVector<Operation *> ops;
  for (Operation &op : forward.getBody().getOps())
    if (!isa<func::ReturnOp>(op))
      ops.push_back(&op);
  for (Operation *op : llvm::reverse(ops)) {
    Value adjoint = adjoints.lookup(op->getResult(0));
    if (!adjoint)
      continue;
    Location loc = op->getLoc();
    if (auto conv = dyn_cast<ConvOp>(op)) {
      auto candidates = getGradientOperands(conv);
      ConvGradients wrt{};
      SmallVector<Type> types;
      SmallVector<Value> targets;
      for (auto [kind, operand] : candidates) {
        if (!dependsOnArgument(operand, active))
          continue;
        wrt = wrt | kind;
        types.push_back(operand.getType());
        targets.push_back(operand);
      }
      if (targets.empty())
        continue;
      auto mapped = [&](Value v) { return v ? mapping.lookup(v) : Value(); };
      auto grad = ConvGradOp::create(
          builder, loc, types, conv.getMode(), mapped(conv.getInput()),
          mapped(conv.getKernel()), mapped(conv.getReverse()),
          mapped(conv.getPregate()), mapped(conv.getPostgate()),
          mapped(conv.getSkip()), adjoint, wrt);
      for (auto [target, gradient] :
           llvm::zip_equal(targets, grad.getGradients()))
        adjoints.accumulate(loc, target, gradient);
    } else if (auto squash = dyn_cast<SquashOp>(op)) {
      if (dependsOnArgument(squash.getInput(), active))
        adjoints.accumulate(
            loc, squash.getInput(),
            buildSquashAdjoint(builder, loc, squash,
                               mapping.lookup(squash.getInput()), adjoint));
    } else if (auto smooth = dyn_cast<SmoothOp>(op)) {
      // Zero-padded average pooling with a fixed divisor is symmetric: its
      // transpose is itself.
      if (dependsOnArgument(smooth.getInput(), active))
        adjoints.accumulate(
            loc, smooth.getInput(),
            SmoothOp::create(builder, loc, adjoint, smooth.getWidth()));
    }
  }

  SmallVector<Value> gradients;
  for (int64_t index : wanted) {
    Value gradient = adjoints.lookup(forward.getArgument(index));
    if (!gradient) {
      auto type = cast<RankedTensorType>(forwardType.getInput(index));
      gradient = arith::ConstantOp::create(
          builder, forward.getLoc(), type,
          DenseElementsAttr::get(type,
                                 builder.getZeroAttr(type.getElementType())));
    }
    gradients.push_back(gradient);
  }
  func::ReturnOp::create(builder, ret.getLoc(), gradients);

  // Replayed forward values that no gradient needs.
  for (Operation *op : llvm::reverse(replayed))
    if (op->use_empty())
      op->erase();
  return success();
}

struct FFTConvDeriveBackwardPass
    : fftconv::impl::FFTConvDeriveBackwardBase<FFTConvDeriveBackwardPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> forwards;
    for (auto function : module.getOps<func::FuncOp>())
      if (!function.isExternal() && !function->hasAttr(kDerivedAttrName))
        forwards.push_back(function);
    for (func::FuncOp function : forwards)
      if (failed(deriveBackward(function, symbols, arguments)))
        return signalPassFailure();
  }
};

} // namespace
