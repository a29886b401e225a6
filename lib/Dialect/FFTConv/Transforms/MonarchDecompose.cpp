//===- MonarchDecompose.cpp - FFTs into order-p Monarch form ----*- C++ -*-===//
//
// Rewrites the FFT ops into butterfly ops with the factorization the cost
// model picks. A convolution's transforms run at half size through the
// real-input trick and stay in Monarch order between the forward and the
// inverse transform; its kernel's coefficients are put in that order once
// per channel.
//
//===----------------------------------------------------------------------===//

#include "fftconv/Dialect/FFTConv/Transforms/Passes.h"

#include "fftconv/Conversion/Utils/LoweringUtils.h"
#include "fftconv/Dialect/Butterfly/Transforms/MonarchStages.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mlir {
namespace fftconv {
#define GEN_PASS_DEF_FFTCONVMONARCHDECOMPOSE
#include "fftconv/Dialect/FFTConv/Transforms/Passes.h.inc"
} // namespace fftconv
} // namespace mlir

using namespace mlir;
using namespace mlir::fftconv;
using butterfly::Factorization;
using butterfly::kOnchipBytesAttrName;
using butterfly::kOuterOnchipBytesAttrName;
using butterfly::kOuterPassAttrName;

namespace {

/// Bytes of one complex value in the kernel: f16/bf16 data computes in
/// complex halves, f32 data in complex f32.
int64_t complexBytesFor(Type elementType) {
  return elementType.getIntOrFloatBitWidth() <= 16 ? 4 : 8;
}

/// A Monarch DFT over all of `f`'s factors on the last axis of `value`
/// (Monarch order on the spectrum side when `permuted`), with the outer
/// factors, if any, as explicit stages tagged as passes through memory.
Value buildTransform(OpBuilder &b, Location loc, Value value,
                     const Factorization &f, bool inverse, bool permuted) {
  SmallVector<int64_t> all = f.allFactors();
  if (f.outerFactors.empty())
    return butterfly::MonarchOp::create(b, loc, value, all, inverse, permuted);
  size_t numOuter = f.outerFactors.size();
  // Tags every op of a stage (factor, kron, twiddle) from its result back
  // to its input.
  auto outerStage = [&](Value in, size_t stage, bool inv) {
    Value out = butterfly::buildMonarchStage(b, loc, in, all, stage, inv);
    SmallVector<Operation *> worklist = {out.getDefiningOp()};
    while (!worklist.empty()) {
      Operation *op = worklist.pop_back_val();
      op->setAttr(kOuterPassAttrName, b.getUnitAttr());
      for (Value operand : op->getOperands())
        if (operand != in)
          if (Operation *def = operand.getDefiningOp())
            worklist.push_back(def);
    }
    return out;
  };
  auto inner = [&](Value v) {
    // monarch(inner) on the [.., outer, inner] view is stages numOuter..p-1.
    auto type = cast<RankedTensorType>(v.getType());
    int64_t outer = 1;
    for (int64_t factor : f.outerFactors)
      outer *= factor;
    int64_t rest = type.getShape().back() / outer;
    Value view = expandLastDim(b, loc, v, {outer, rest});
    view = butterfly::MonarchOp::create(b, loc, view, f.factors, inverse,
                                        /*permuted=*/true);
    return collapseTrailingDims(b, loc, view, 2);
  };
  if (!inverse) {
    for (size_t stage = 0; stage < numOuter; ++stage)
      value = outerStage(value, stage, false);
    value = inner(value);
    if (!permuted)
      value = butterfly::buildDigitReversal(b, loc, value, all);
    return value;
  }
  if (!permuted) {
    SmallVector<int64_t> reversed(llvm::reverse(all));
    value = butterfly::buildDigitReversal(b, loc, value, reversed);
  }
  value = inner(value);
  for (size_t stage = numOuter; stage-- > 0;)
    value = outerStage(value, stage, true);
  return value;
}

/// The factorization for a convolution's transform of `length` points, or
/// failure.
FailureOr<Factorization> factorize(int64_t length, int64_t complexBytes,
                                   const MonarchDecomposeOptions &options) {
  std::optional<Factorization> f = butterfly::chooseFactorization(
      length, complexBytes, options.target, options.order);
  if (!f)
    return failure();
  return *f;
}

/// The factorization of a standalone transform: it is not fused with
/// anything, so only its work counts, not what fits on chip.
FailureOr<Factorization>
factorizeStandalone(int64_t length, const MonarchDecomposeOptions &options) {
  MonarchDecomposeOptions unbounded = options;
  unbounded.target.sharedMemoryPerBlock =
      std::numeric_limits<int64_t>::max() / 4;
  return factorize(length, 8, unbounded);
}

//===----------------------------------------------------------------------===//
// The convolution: irfft(channel_mul(rfft(v, n), kf), n)
//===----------------------------------------------------------------------===//

struct MatchedConv {
  IRFFTOp inverse;
  ChannelMulOp product;
  RFFTOp forward;
};

std::optional<MatchedConv> matchConv(IRFFTOp op) {
  int64_t n = op.getN();
  auto product = op.getInput().getDefiningOp<ChannelMulOp>();
  // A conjugate product is made explicit (makeConjugationExplicit) before
  // matching; the spectrum's conv_spectrum form has no conjugation.
  if (!product || product.getConjugate() || n % 2 != 0)
    return std::nullopt;
  auto forward = product.getInput().getDefiningOp<RFFTOp>();
  if (!forward || int64_t(forward.getN()) != n)
    return std::nullopt;
  return MatchedConv{op, product, forward};
}

int64_t convComplexBytes(ChannelMulOp product) {
  if (auto type = product->getAttrOfType<TypeAttr>(kElementTypeAttrName))
    return complexBytesFor(type.getValue());
  return 8;
}

/// Rewrites `channel_mul %x, %kf conjugate` into `channel_mul %x, conj(%kf)`
/// so that the correlation of a backward pass takes the convolution's
/// decomposition: the conjugation is per channel (H x F, once), the product
/// per sequence.
void makeConjugationExplicit(Operation *root) {
  root->walk([](ChannelMulOp op) {
    if (!op.getConjugate())
      return;
    OpBuilder b(op);
    RankedTensorType type = op.getKernel().getType();
    Value conjugated = buildElementwise(
        b, op.getLoc(), op.getKernel(), type.getShape(), type.getElementType(),
        [](OpBuilder &nb, Location loc, ValueRange args) {
          return complex::ConjOp::create(nb, loc, args[0]).getResult();
        });
    op.getKernelMutable().assign(conjugated);
    op.removeConjugateAttr();
  });
}

/// A decomposition pattern: it knows the target and the order asked for.
template <typename OpTy> struct DecomposePattern : OpRewritePattern<OpTy> {
  DecomposePattern(MLIRContext *ctx, const MonarchDecomposeOptions &options,
                   PatternBenefit benefit = 1)
      : OpRewritePattern<OpTy>(ctx, benefit), options(options) {}

  MonarchDecomposeOptions options;
};

struct DecomposeConv : DecomposePattern<IRFFTOp> {
  DecomposeConv(MLIRContext *ctx, const MonarchDecomposeOptions &options)
      : DecomposePattern(ctx, options, /*benefit=*/2) {}

  LogicalResult matchAndRewrite(IRFFTOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<MatchedConv> conv = matchConv(op);
    if (!conv)
      return failure();
    Location loc = op.getLoc();
    int64_t half = op.getN() / 2;
    if (half < 2)
      return failure();
    FailureOr<Factorization> f =
        factorize(half, convComplexBytes(conv->product), options);
    if (failed(f))
      return failure();
    SmallVector<int64_t> all = f->allFactors();

    Value v = conv->forward.getInput();
    auto vType = cast<RankedTensorType>(v.getType());
    if (vType.getRank() != 3)
      return failure();
    // As for a standalone rfft: pack_real zero-pads by itself but takes at
    // most 2M = n values, so a longer input (rfft crops it) is cropped here.
    if (uint64_t(vType.getShape().back()) > op.getN())
      v = resizeLastDim(rewriter, loc, v, op.getN());
    auto c32 = ComplexType::get(rewriter.getF32Type());
    SmallVector<int64_t> shape(vType.getShape().drop_back());
    shape.push_back(half);
    Value z = butterfly::PackRealOp::create(
        rewriter, loc, RankedTensorType::get(shape, c32), v);
    if (!f->outerFactors.empty())
      z.getDefiningOp()->setAttr(kOuterPassAttrName, rewriter.getUnitAttr());

    // Once per channel: the coefficients, in the transform's Monarch order.
    Value kf = conv->product.getKernel();
    int64_t channels = cast<RankedTensorType>(kf.getType()).getDimSize(0);
    std::optional<uint64_t> band = conv->product.getBand();
    auto coefficientsType = RankedTensorType::get({channels, 2, half}, c32);
    Value coefficients;
    auto kernelTransform = kf.getDefiningOp<RFFTOp>();
    if (!options.target.isGPU() && !band && kernelTransform &&
        int64_t(kernelTransform.getN()) == 2 * half &&
        kernelTransform.getInput().getType().getRank() == 2 &&
        kernelTransform.getInput().getType().getElementType().isF32()) {
      // On the CPU, from the kernel's own packed transform in Monarch order:
      // no real_spectrum pass, no digit reversals.
      Value k = kernelTransform.getInput();
      if (kernelTransform.getInput().getType().getShape().back() > 2 * half)
        k = resizeLastDim(rewriter, loc, k, 2 * half);
      Value packed = butterfly::PackRealOp::create(
          rewriter, loc, RankedTensorType::get({channels, half}, c32), k);
      Value transformed = butterfly::MonarchOp::create(
          rewriter, loc, packed, all, /*inverse=*/false, /*permuted=*/true);
      coefficients = butterfly::PackedConvSpectrumOp::create(
          rewriter, loc, coefficientsType, transformed,
          rewriter.getDenseI64ArrayAttr(all));
    } else {
      auto spectrum = butterfly::ConvSpectrumOp::create(
          rewriter, loc, coefficientsType, kf, /*band=*/nullptr);
      if (band)
        spectrum.setBand(*band);
      SmallVector<int64_t> reversed(llvm::reverse(all));
      coefficients =
          butterfly::buildDigitReversal(rewriter, loc, spectrum, reversed);
    }

    // Frequency-sparse: the coefficients vanish where min(k, M - k) >= band,
    // so the spectrum-side stages skip those blocks (fully fused form).
    auto withBand = [&](Value transformed) {
      if (band && f->outerFactors.empty())
        cast<butterfly::MonarchOp>(transformed.getDefiningOp())
            .setSpectralBand(std::min<uint64_t>(*band, half));
      return transformed;
    };
    Value forward = withBand(buildTransform(rewriter, loc, z, *f, false, true));
    auto product =
        butterfly::HermitianMulOp::create(rewriter, loc, forward, coefficients,
                                          rewriter.getDenseI64ArrayAttr(all));
    product->setAttr(kOnchipBytesAttrName,
                     rewriter.getI64IntegerAttr(f->onchipBytes));
    if (!f->outerFactors.empty())
      product->setAttr(kOuterOnchipBytesAttrName,
                       rewriter.getI64IntegerAttr(f->outerOnchipBytes));
    Value back =
        withBand(buildTransform(rewriter, loc, product, *f, true, true));
    auto result =
        butterfly::UnpackRealOp::create(rewriter, loc, op.getType(), back);
    if (!f->outerFactors.empty())
      result->setAttr(kOuterPassAttrName, rewriter.getUnitAttr());
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Standalone transforms
//===----------------------------------------------------------------------===//

/// `type` with its last dimension `length` and element type `element`.
RankedTensorType withLastDim(RankedTensorType type, int64_t length,
                             Type element) {
  SmallVector<int64_t> shape(type.getShape().drop_back());
  shape.push_back(length);
  return RankedTensorType::get(shape, element);
}

/// The factors of a standalone transform of `length` points: empty for a
/// single point (nothing to do), failure if none fit the options.
FailureOr<SmallVector<int64_t>>
standaloneFactors(int64_t length, const MonarchDecomposeOptions &options) {
  if (length < 2)
    return SmallVector<int64_t>();
  FailureOr<Factorization> f = factorizeStandalone(length, options);
  if (failed(f))
    return failure();
  return f->allFactors();
}

/// A natural-order Monarch DFT of the last axis of `value` over `factors`
/// (none: the identity of a single point).
Value applyTransform(OpBuilder &b, Location loc, Value value,
                     ArrayRef<int64_t> factors, bool inverse) {
  if (factors.empty())
    return value;
  return butterfly::MonarchOp::create(b, loc, value, factors, inverse,
                                      /*permuted=*/false);
}

template <typename OpTy, bool Inverse>
struct DecomposeComplexFFT : DecomposePattern<OpTy> {
  using DecomposePattern<OpTy>::DecomposePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    int64_t n = op.getN();
    FailureOr<SmallVector<int64_t>> factors =
        standaloneFactors(n, this->options);
    if (n < 2 || failed(factors))
      return failure();
    Value x = resizeLastDim(rewriter, op.getLoc(), op.getInput(), n);
    rewriter.replaceOp(
        op, applyTransform(rewriter, op.getLoc(), x, *factors, Inverse));
    return success();
  }
};

/// rfft (even n): pack pairs, a half-size DFT, the real-trick twiddle pass.
struct DecomposeRFFT : DecomposePattern<RFFTOp> {
  using DecomposePattern::DecomposePattern;

  LogicalResult matchAndRewrite(RFFTOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t n = op.getN();
    FailureOr<SmallVector<int64_t>> factors = standaloneFactors(n / 2, options);
    if (n % 2 != 0 || failed(factors))
      return failure();
    // pack_real zero-pads by itself; only a longer input needs cropping.
    Value x = op.getInput();
    if (op.getInput().getType().getShape().back() > n)
      x = resizeLastDim(rewriter, loc, x, n);
    Value z = butterfly::PackRealOp::create(
        rewriter, loc,
        withLastDim(op.getInput().getType(), n / 2,
                    ComplexType::get(rewriter.getF32Type())),
        x);
    z = applyTransform(rewriter, loc, z, *factors, /*inverse=*/false);
    rewriter.replaceOpWithNewOp<butterfly::RealSpectrumOp>(op, op.getType(), z);
    return success();
  }
};

/// irfft (even n): the inverse real-trick pass, a half-size inverse DFT,
/// unpacking.
struct DecomposeIRFFT : DecomposePattern<IRFFTOp> {
  using DecomposePattern::DecomposePattern;

  LogicalResult matchAndRewrite(IRFFTOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t n = op.getN();
    FailureOr<SmallVector<int64_t>> factors = standaloneFactors(n / 2, options);
    if (n % 2 != 0 || failed(factors))
      return failure();
    Value x = resizeLastDim(rewriter, loc, op.getInput(), n / 2 + 1);
    RankedTensorType xType = cast<RankedTensorType>(x.getType());
    Value z = butterfly::RealSpectrumOp::create(
        rewriter, loc, withLastDim(xType, n / 2, xType.getElementType()), x,
        /*inverse=*/true);
    z = applyTransform(rewriter, loc, z, *factors, /*inverse=*/true);
    rewriter.replaceOpWithNewOp<butterfly::UnpackRealOp>(op, op.getType(), z);
    return success();
  }
};

struct FFTConvMonarchDecomposePass
    : fftconv::impl::FFTConvMonarchDecomposeBase<FFTConvMonarchDecomposePass> {
  using Base::Base;

  void runOnOperation() override {
    makeConjugationExplicit(getOperation());
    MonarchDecomposeOptions options;
    std::optional<butterfly::TargetDescription> target =
        butterfly::TargetDescription::forChip(chip);
    if (!target) {
      getOperation()->emitError() << "fftconv-monarch-decompose: unknown chip '"
                                  << chip << "' (expected sm_80, sm_90 or cpu)";
      return signalPassFailure();
    }
    options.target = *target;
    options.target.mmaM = mmaM;
    options.target.mmaN = mmaN;
    options.target.mmaK = mmaK;
    options.target.registersPerThread = registersPerThread;
    if (sharedMemoryPerBlock > 0)
      options.target.sharedMemoryPerBlock = sharedMemoryPerBlock;
    // The model's inputs: a tile the tensor cores have (a power of two up
    // to 256 each way), a register budget a thread can have (1 to 255), and
    // shared memory that is the chip's (0) or a positive size.
    for (auto [name, size] : {std::pair<StringRef, int64_t>{"mma-m", mmaM},
                              {"mma-n", mmaN},
                              {"mma-k", mmaK}}) {
      if (size < 1 || size > 256 || !llvm::isPowerOf2_64(size)) {
        getOperation()->emitError()
            << "fftconv-monarch-decompose: " << name
            << " must be a power of two from 1 to 256, got " << size;
        return signalPassFailure();
      }
    }
    if (registersPerThread < 1 || registersPerThread > 255) {
      getOperation()->emitError() << "fftconv-monarch-decompose: "
                                     "regs-per-thread must be 1 to 255, got "
                                  << int64_t(registersPerThread);
      return signalPassFailure();
    }
    if (sharedMemoryPerBlock < 0) {
      getOperation()->emitError()
          << "fftconv-monarch-decompose: smem-per-block must be 0 (the "
             "chip's) or a size in bytes, got "
          << int64_t(sharedMemoryPerBlock);
      return signalPassFailure();
    }
    if (order != "auto") {
      int64_t p = 0;
      if (StringRef(order).getAsInteger(10, p) || p < 1 || p > 4) {
        getOperation()->emitError()
            << "fftconv-monarch-decompose: order must be auto, 1, 2, 3 or 4, "
            << "got '" << order << "'";
        return signalPassFailure();
      }
      options.order = p;
    }

    // Refuse, with a location, what cannot be decomposed as asked, before
    // rewriting anything.
    // complexBytes 0: a standalone transform.
    auto check = [&](Operation *op, int64_t length,
                     int64_t complexBytes) -> WalkResult {
      if (length < 2 ||
          succeeded(complexBytes ? factorize(length, complexBytes, options)
                                 : factorizeStandalone(length, options)))
        return WalkResult::advance();
      InFlightDiagnostic diag =
          op->emitError() << "cannot decompose a DFT of length " << length;
      if (options.order)
        diag << " into " << *options.order << " factors between 2 and 256";
      if (complexBytes)
        diag << " with the fused kernel's data fitting in "
             << options.target.sharedMemoryPerBlock
             << " bytes of shared memory";
      return WalkResult::interrupt();
    };
    WalkResult result = getOperation()->walk([&](Operation *op) {
      if (auto irfft = dyn_cast<IRFFTOp>(op)) {
        if (std::optional<MatchedConv> conv = matchConv(irfft))
          return check(op, irfft.getN() / 2, convComplexBytes(conv->product));
        if (irfft.getN() % 2 == 0)
          return check(op, irfft.getN() / 2, 0);
      } else if (auto rfft = dyn_cast<RFFTOp>(op)) {
        // The forward transform of a convolution is checked with its
        // inverse, as the convolution it is.
        bool feedsConv = llvm::any_of(rfft->getUsers(), [](Operation *user) {
          auto product = dyn_cast<ChannelMulOp>(user);
          return product &&
                 llvm::any_of(product->getUsers(), [](Operation *next) {
                   auto inverse = dyn_cast<IRFFTOp>(next);
                   return inverse && matchConv(inverse);
                 });
        });
        if (!feedsConv && rfft.getN() % 2 == 0)
          return check(op, rfft.getN() / 2, 0);
      } else if (auto fft = dyn_cast<FFTOp>(op)) {
        return check(op, fft.getN(), 0);
      } else if (auto ifft = dyn_cast<IFFTOp>(op)) {
        return check(op, ifft.getN(), 0);
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();

    RewritePatternSet patterns(&getContext());
    populateMonarchDecomposePatterns(patterns, options);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::fftconv::populateMonarchDecomposePatterns(
    RewritePatternSet &patterns, const MonarchDecomposeOptions &options) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<DecomposeConv>(ctx, options);
  patterns
      .add<DecomposeComplexFFT<FFTOp, false>, DecomposeComplexFFT<IFFTOp, true>,
           DecomposeRFFT, DecomposeIRFFT>(ctx, options);
}
