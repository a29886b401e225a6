//===- FuseConv.cpp - decomposed convolutions into fused regions -*- C++ -*-=//
//
// Grows a set of ops around each spectral product and outlines it into an
// isolated butterfly.fused region whose operands are exactly what the kernel
// reads and whose results exactly what it writes.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/Butterfly/Transforms/Passes.h"

#include "fftconv/Dialect/Butterfly/Transforms/BoundaryViews.h"
#include "fftconv/Dialect/FFTConv/IR/FFTConv.h"

#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir {
namespace butterfly {
#define GEN_PASS_DEF_BUTTERFLYFUSECONV
#include "fftconv/Dialect/Butterfly/Transforms/Passes.h.inc"
} // namespace butterfly
} // namespace mlir

using namespace mlir;
using namespace mlir::butterfly;

namespace {

/// Ops a convolution kernel can hold: the transform stages, the real-trick
/// views, reshapes and crops, and elementwise (all-parallel) generics.
bool isFusable(Operation *op) {
  if (isa<MonarchOp, KronOp, TwiddleOp, DFTOp, PermuteOp, PackRealOp,
          UnpackRealOp, RealSpectrumOp, HermitianMulOp, tensor::ExpandShapeOp,
          tensor::CollapseShapeOp, tensor::ExtractSliceOp, tensor::EmptyOp,
          tensor::PadOp, linalg::FillOp, arith::ConstantOp>(op))
    return true;
  if (auto generic = dyn_cast<linalg::GenericOp>(op))
    return generic.getNumReductionLoops() == 0;
  return false;
}

/// The ops that view a function argument or result in another shape (a
/// multi-head sequence as rows or as blocks, fftconv-flatten-heads):
/// they stay at the function's boundary, outside every region, so that a
/// region reads and writes the argument's and result's own memory.
using BoundaryOps = llvm::DenseSet<Operation *>;

BoundaryOps findBoundaryViews(Operation *root) {
  BoundaryOps ops;
  root->walk([&](Operation *op) {
    for (Value value : op->getResults())
      for (std::optional<BoundaryView> view :
           {viewOfArgument(value), viewOfResult(value)})
        if (view)
          ops.insert(view->ops.begin(), view->ops.end());
  });
  return ops;
}

/// The values `op` reads from outside itself: its operands and the values
/// its regions capture.
llvm::SetVector<Value> readsOf(Operation *op) {
  llvm::SetVector<Value> reads(op->operand_begin(), op->operand_end());
  getUsedValuesDefinedAbove(op->getRegions(), reads);
  return reads;
}

/// Whether `op` may join the tail (the single-use chain after the product)
/// of a convolution. A pack_real starts the forward transform of a following
/// convolution (or of a standalone transform) and a spectral product is
/// another convolution's own: neither is ever part of this one's inverse, so
/// the tail stops before them. Without this stop, a convolution whose result
/// feeds only a second convolution swallows the second one whole.
bool joinsTail(Operation *op, const BoundaryOps &boundary) {
  return isFusable(op) && !isa<PackRealOp, HermitianMulOp>(op) &&
         !boundary.contains(op);
}

/// Whether `op` may join a convolution as a producer. An unpack_real ends the
/// inverse of an earlier convolution (or a standalone transform) and a
/// spectral product is another convolution's own: the growth stops there,
/// and the region reads the earlier result as an operand.
bool joinsAsProducer(Operation *op, const BoundaryOps &boundary) {
  return isFusable(op) && !isa<UnpackRealOp, HermitianMulOp>(op) &&
         !boundary.contains(op);
}

/// Whether `op` is an elementwise (all-parallel) generic: cheap enough to
/// compute again in every region that reads it.
bool isElementwise(Operation *op) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  return generic && generic.getNumReductionLoops() == 0;
}

/// Whether `op` is cheap enough to compute again in every region that
/// reads it: elementwise generics and the empty tensors and constants they
/// write into or read.
bool isRecomputable(Operation *op) {
  return isElementwise(op) || isa<tensor::EmptyOp, arith::ConstantOp>(op);
}

/// Grows `set` (ops of `block`) to a fixpoint with every fusable producer
/// all of whose uses are already in the set. An elementwise producer that
/// something outside also reads (the backward's g = postgate * dy feeds
/// both the correlation and the cross spectrum) is cloned into the set
/// instead: each region recomputes it from its inputs rather than reading
/// it from memory. `skip` is an operand never followed.
void growProducers(Block *block, llvm::SetVector<Operation *> &set,
                   const BoundaryOps &boundary, OpOperand *skip = nullptr) {
  auto usedOnlyInSet = [&](Operation *op) {
    for (Operation *user : op->getUsers()) {
      Operation *ancestor = block->findAncestorOpInBlock(*user);
      if (!ancestor || !set.contains(ancestor))
        return false;
    }
    return true;
  };
  // One copy a region of each producer it shares with others.
  llvm::DenseMap<Operation *, Operation *> copies;
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t i = 0; i < set.size(); ++i) {
      Operation *op = set[i];
      for (Value read : readsOf(op)) {
        if (skip && skip->getOwner() == op && skip->get() == read)
          continue;
        Operation *def = read.getDefiningOp();
        if (!def || def->getBlock() != block || set.contains(def) ||
            !joinsAsProducer(def, boundary))
          continue;
        if (!usedOnlyInSet(def)) {
          if (!isRecomputable(def))
            continue;
          Operation *&copy = copies[def];
          bool fresh = !copy;
          if (fresh) {
            OpBuilder b(def);
            b.setInsertionPointAfter(def);
            copy = b.clone(*def);
          }
          for (auto [result, replacement] :
               llvm::zip(def->getResults(), copy->getResults()))
            result.replaceUsesWithIf(replacement, [&](OpOperand &use) {
              Operation *ancestor =
                  block->findAncestorOpInBlock(*use.getOwner());
              return ancestor && set.contains(ancestor);
            });
          changed = true;
          if (!fresh)
            continue;
          def = copy;
        }
        set.insert(def);
        changed = true;
      }
    }
  }
}

/// The ops of one convolution: the spectral product, the single-use chain
/// after it (ending, where its last value has several readers, in the
/// elementwise generics that all of them are: the backward's du and dpre
/// both read dv), and every fusable producer (growProducers). The
/// coefficients operand of the product is not followed: the per-channel
/// preparation stays outside. Neither direction crosses into a neighbouring
/// convolution, so every spectral product lies in its own set alone.
llvm::SetVector<Operation *> collectConv(HermitianMulOp product,
                                         const BoundaryOps &boundary) {
  Block *block = product->getBlock();
  llvm::SetVector<Operation *> set;
  set.insert(product);
  Operation *tail = product;
  while (tail->getNumResults() == 1 && tail->getResult(0).hasOneUse()) {
    Operation *user = *tail->getResult(0).getUsers().begin();
    if (user->getBlock() != block || !joinsTail(user, boundary))
      break;
    set.insert(user);
    tail = user;
  }
  if (tail != product && tail->getNumResults() == 1 &&
      !tail->getResult(0).use_empty() &&
      llvm::all_of(tail->getResult(0).getUsers(), [&](Operation *user) {
        return user->getBlock() == block && isElementwise(user);
      }))
    for (Operation *user : tail->getResult(0).getUsers())
      set.insert(user);
  growProducers(block, set, boundary, &product->getOpOperand(1));
  return set;
}

/// The ops of a backward's kernel gradient up to its cross spectrum: the
/// two forward transforms and what feeds only them.
llvm::SetVector<Operation *>
collectCrossSpectrum(fftconv::CrossSpectrumOp cross,
                     const BoundaryOps &boundary) {
  llvm::SetVector<Operation *> set;
  set.insert(cross);
  growProducers(cross->getBlock(), set, boundary);
  return set;
}

/// Whether `op` may join the inverse of a per-channel spectrum: the
/// inverse transform, the real-trick view, the crops and reshapes of its
/// lags, and the transposes of k's regularizers (smooth, and elementwise
/// generics such as squash's subgradient, whose other operands are
/// arguments or constants).
bool joinsChannelInverse(Operation *op, const llvm::SetVector<Operation *> &set,
                         Value spectrum) {
  if (isa<MonarchOp, RealSpectrumOp, UnpackRealOp, tensor::ExtractSliceOp,
          tensor::CollapseShapeOp, tensor::ExpandShapeOp, fftconv::SmoothOp,
          fftconv::CirculateOp>(op))
    return true;
  if (!isElementwise(op))
    return false;
  return llvm::all_of(op->getOperands(), [&](Value operand) {
    Operation *def = operand.getDefiningOp();
    return operand == spectrum || isa<BlockArgument>(operand) ||
           (def && (set.contains(def) ||
                    isa<tensor::EmptyOp, arith::ConstantOp>(def)));
  });
}

/// The inverse of the per-channel spectrum `spectrum` and the crops of its
/// lags: every op reached from it through ops that join.
llvm::SetVector<Operation *>
collectChannelInverse(Value spectrum, const BoundaryOps &boundary) {
  Block *block = spectrum.getParentBlock();
  llvm::SetVector<Operation *> set;
  SmallVector<Value> frontier = {spectrum};
  while (!frontier.empty()) {
    Value value = frontier.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (user->getBlock() != block || set.contains(user) ||
          !joinsChannelInverse(user, set, spectrum))
        continue;
      // What the generic writes into comes along.
      for (Value operand : user->getOperands())
        if (auto empty = operand.getDefiningOp<tensor::EmptyOp>())
          set.insert(empty);
      set.insert(user);
      llvm::append_range(frontier, user->getResults());
    }
  }
  // The constants the transposes' bodies read.
  growProducers(block, set, boundary);
  return set;
}

/// Outlines `ops` (in block order) into a butterfly.fused region placed at
/// the last of them, then restores def-before-use order in the block: a
/// value an early op of the region produced for an op outside it (v of a
/// backward's convolution, read by the kernel gradient of the one before)
/// is now produced at the region's end, after that reader.
void outline(ArrayRef<Operation *> ops, FusedKind kind, int64_t onchipBytes) {
  llvm::SmallPtrSet<Operation *, 16> inSet(ops.begin(), ops.end());
  Block *block = ops.front()->getBlock();
  llvm::SetVector<Value> inputs;
  SmallVector<Value> results;
  for (Operation *op : ops) {
    for (Value read : readsOf(op)) {
      Operation *def = read.getDefiningOp();
      if (!def || !inSet.contains(def))
        inputs.insert(read);
    }
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(), [&](Operation *user) {
            Operation *ancestor = block->findAncestorOpInBlock(*user);
            return !ancestor || !inSet.contains(ancestor);
          }))
        results.push_back(result);
  }

  Operation *last = ops.back();
  OpBuilder b(last->getContext());
  b.setInsertionPointAfter(last);
  Location loc = last->getLoc();
  auto fused = FusedOp::create(b, loc, ValueRange(results).getTypes(),
                               inputs.getArrayRef(),
                               FusedKindAttr::get(b.getContext(), kind),
                               b.getI64IntegerAttr(onchipBytes),
                               /*gpu_plan=*/GPUPlanAttr());
  Block *body = b.createBlock(&fused.getBody());
  IRMapping mapping;
  for (Value input : inputs)
    mapping.map(input, body->addArgument(input.getType(), input.getLoc()));
  for (Operation *op : ops)
    b.clone(*op, mapping);
  SmallVector<Value> yielded;
  for (Value result : results)
    yielded.push_back(mapping.lookup(result));
  YieldOp::create(b, loc, yielded);

  for (auto [result, replacement] : llvm::zip(results, fused.getResults()))
    result.replaceAllUsesWith(replacement);
  for (Operation *op : llvm::reverse(ops))
    op->erase();
  // An order exists: a region's ops other than its results feed only the
  // region (single-use chains and their producers), so no other region
  // reads them to compute one of its inputs.
  bool sorted = sortTopologically(block);
  assert(sorted && "fused regions read each other's results both ways");
  (void)sorted;
}

int64_t intAttr(Operation *op, StringRef name) {
  if (auto attr = op->getAttrOfType<IntegerAttr>(name))
    return attr.getInt();
  return 0;
}

SmallVector<Operation *> inBlockOrder(const llvm::SetVector<Operation *> &set) {
  SmallVector<Operation *> ops(set.begin(), set.end());
  llvm::sort(ops,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return ops;
}

struct ButterflyFuseConvPass
    : butterfly::impl::ButterflyFuseConvBase<ButterflyFuseConvPass> {
  void runOnOperation() override {
    boundary = findBoundaryViews(getOperation());
    SmallVector<HermitianMulOp> products;
    SmallVector<fftconv::CrossSpectrumOp> crossSpectra;
    getOperation()->walk([&](Operation *op) {
      if (op->getParentOfType<FusedOp>())
        return;
      if (auto product = dyn_cast<HermitianMulOp>(op))
        products.push_back(product);
      else if (auto cross = dyn_cast<fftconv::CrossSpectrumOp>(op))
        crossSpectra.push_back(cross);
    });
    for (HermitianMulOp product : products)
      fuseConvolution(product);
    for (fftconv::CrossSpectrumOp cross : crossSpectra)
      fuseKernelGradient(cross);
    // Producers cloned into every region that reads them are left unused.
    SmallVector<Operation *> unused;
    getOperation()->walk([&](Operation *op) {
      if (op->use_empty() && isRecomputable(op) &&
          !op->getParentOfType<FusedOp>())
        unused.push_back(op);
    });
    for (Operation *op : unused)
      op->erase();
  }

  void fuseConvolution(HermitianMulOp product) {
    SmallVector<Operation *> ops = inBlockOrder(collectConv(product, boundary));
    int64_t onchip = intAttr(product, kOnchipBytesAttrName);
    int64_t outerOnchip = intAttr(product, kOuterOnchipBytesAttrName);
    // Three-pass form: the tagged outer stages before and after the
    // product bound the inner kernel.
    auto productPos = llvm::find(ops, product.getOperation());
    auto lastOuterForward = std::find_if(
        std::make_reverse_iterator(productPos), ops.rend(),
        [](Operation *op) { return op->hasAttr(kOuterPassAttrName); });
    auto firstOuterInverse =
        std::find_if(productPos, ops.end(), [](Operation *op) {
          return op->hasAttr(kOuterPassAttrName);
        });
    auto innerBegin =
        lastOuterForward == ops.rend() ? ops.begin() : lastOuterForward.base();
    ArrayRef<Operation *> all(ops);
    size_t begin = innerBegin - ops.begin();
    size_t end = firstOuterInverse - ops.begin();
    if (end < all.size())
      outline(all.drop_front(end), FusedKind::OuterInverse, outerOnchip);
    outline(all.slice(begin, end - begin), FusedKind::Conv, onchip);
    if (begin > 0)
      outline(all.take_front(begin), FusedKind::OuterForward, outerOnchip);
  }

  /// A backward's kernel gradient: a cross_spectrum region (the transforms
  /// of v and g, the batch-reduced cross spectrum) and a channel_inverse
  /// region (its inverse, dk and dD cropped from the lags).
  void fuseKernelGradient(fftconv::CrossSpectrumOp cross) {
    llvm::SetVector<Operation *> inverse =
        collectChannelInverse(cross, boundary);
    SmallVector<Operation *> ops =
        inBlockOrder(collectCrossSpectrum(cross, boundary));
    int64_t onchip = 0;
    for (Operation *op : ops)
      if (auto monarch = dyn_cast<MonarchOp>(op))
        onchip = std::max(
            onchip,
            2 * cast<RankedTensorType>(monarch.getType()).getDimSize(2) * 8);
    outline(ops, FusedKind::CrossSpectrum, onchip);
    if (!inverse.empty())
      outline(inBlockOrder(inverse), FusedKind::ChannelInverse, 0);
  }

  /// The views at the function's boundary (findBoundaryViews).
  BoundaryOps boundary;
};

} // namespace
