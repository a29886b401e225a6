//===- FFTConv.cpp - C API of fftconv-mlir ----------------------*- C++ -*-===//

#include "fftconv-c/FFTConv.h"

#include "fftconv/Dialect/Butterfly/IR/Butterfly.h"
#include "fftconv/Dialect/Butterfly/Transforms/CostModel.h"
#include "fftconv/Dialect/FFTConv/IR/FFTConv.h"
#include "fftconv/InitAll.h"
#include "fftconv/Target/GPUProgram.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(FFTConv, fftconv,
                                      mlir::fftconv::FFTConvDialect)
MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(Butterfly, butterfly,
                                      mlir::butterfly::ButterflyDialect)

void fftconvRegisterAllDialects(MlirDialectRegistry registry) {
  mlir::DialectRegistry &cppRegistry = *unwrap(registry);
  mlir::registerAllDialects(cppRegistry);
  mlir::registerAllExtensions(cppRegistry);
  mlir::fftconv::registerAllDialects(cppRegistry);
  mlir::fftconv::registerGPUCompilation(cppRegistry);
}

FFTConvCompileOptions fftconvCompileOptionsGetDefault() {
  // One default-constructed pipeline options object for the process: its
  // strings back the returned references.
  static const mlir::fftconv::PTXPipelineOptions defaults;
  auto ref = [](const std::string &text) {
    return mlirStringRefCreate(text.data(), text.size());
  };
  FFTConvCompileOptions options;
  options.chip = ref(defaults.chip);
  options.order = ref(defaults.order);
  options.precision = ref(defaults.precision);
  options.threads = defaults.threads;
  options.batchTile = defaults.batchTile;
  options.singleKernelMax = defaults.singleKernelMax;
  options.ranks = defaults.ranks;
  options.rank = defaults.rank;
  options.maxRowLength = defaults.maxRowLength;
  options.threePassCluster = defaults.threePassCluster;
  return options;
}

MlirLogicalResult fftconvCompileToPTX(MlirModule module,
                                      FFTConvCompileOptions compileOptions,
                                      MlirStringCallback ptxCallback,
                                      MlirStringCallback manifestCallback,
                                      void *userData) {
  mlir::fftconv::PTXPipelineOptions options;
  options.chip = unwrap(compileOptions.chip).str();
  options.order = unwrap(compileOptions.order).str();
  options.precision = unwrap(compileOptions.precision).str();
  options.threads = compileOptions.threads;
  options.batchTile = compileOptions.batchTile;
  options.singleKernelMax = compileOptions.singleKernelMax;
  options.ranks = compileOptions.ranks;
  options.rank = compileOptions.rank;
  options.maxRowLength = compileOptions.maxRowLength;
  options.threePassCluster = compileOptions.threePassCluster;
  mlir::FailureOr<mlir::fftconv::GPUProgram> program =
      mlir::fftconv::compileToGPUProgram(unwrap(module), "kernel.ptx", options);
  if (mlir::failed(program))
    return mlirLogicalResultFailure();
  ptxCallback(mlirStringRefCreate(program->ptx.data(), program->ptx.size()),
              userData);
  manifestCallback(
      mlirStringRefCreate(program->manifest.data(), program->manifest.size()),
      userData);
  return mlirLogicalResultSuccess();
}

MlirLogicalResult fftconvPrintCostTable(MlirStringRef chip, int complexBytes,
                                        int minLog2, int maxLog2, int order,
                                        MlirStringCallback callback,
                                        void *userData) {
  auto target = mlir::butterfly::TargetDescription::forChip(unwrap(chip));
  if (!target || minLog2 < 1 || maxLog2 > 40 || minLog2 > maxLog2 ||
      order < 0 || order > 4 || complexBytes < 1)
    return mlirLogicalResultFailure();
  std::optional<int64_t> forced;
  if (order > 0)
    forced = order;
  std::string table;
  llvm::raw_string_ostream os(table);
  mlir::butterfly::printCostTable(os, *target, complexBytes, minLog2, maxLog2,
                                  forced);
  os.flush();
  callback(mlirStringRefCreate(table.data(), table.size()), userData);
  return mlirLogicalResultSuccess();
}

MlirLogicalResult fftconvChooseRanks(MlirStringRef chip, int64_t fftSize,
                                     int64_t batch, int64_t channels,
                                     int64_t available, int64_t *ranks,
                                     double *seconds, double *oneGPUSeconds) {
  auto target = mlir::butterfly::TargetDescription::forChip(unwrap(chip));
  if (!target || !target->isGPU() || fftSize < 2 || batch < 1 || channels < 1 ||
      available < 1 || !ranks || !seconds || !oneGPUSeconds)
    return mlirLogicalResultFailure();
  mlir::butterfly::ShardedShape shape =
      mlir::butterfly::causalShardedShape(fftSize, batch, channels);
  *ranks = mlir::butterfly::chooseRanks(shape, *target, available);
  *oneGPUSeconds = mlir::butterfly::estimateSharding(shape, *target, 1).seconds;
  *seconds =
      *ranks ? mlir::butterfly::estimateSharding(shape, *target, *ranks).seconds
             : 0.0;
  return mlirLogicalResultSuccess();
}

void fftconvRegisterAllPasses() {
  // Once per process (it guards itself), with the upstream passes our
  // pipelines name.
  mlir::fftconv::registerAllPasses();
}

//===----------------------------------------------------------------------===//
// Op construction
//===----------------------------------------------------------------------===//

namespace {
/// Verifies a freshly built op: the op on success, null (after its located
/// diagnostics went to the context's handlers) otherwise.
MlirOperation verified(mlir::Operation *op) {
  if (mlir::failed(mlir::verify(op))) {
    op->erase();
    return MlirOperation{nullptr};
  }
  return wrap(op);
}

mlir::Value optional(MlirValue value) {
  return mlirValueIsNull(value) ? mlir::Value() : unwrap(value);
}

mlir::OpBuilder builderFor(MlirLocation location) {
  return mlir::OpBuilder(unwrap(location)->getContext());
}

mlir::RankedTensorType withLastDim(mlir::Value value, int64_t length,
                                   mlir::Type element) {
  auto type = mlir::cast<mlir::RankedTensorType>(value.getType());
  llvm::SmallVector<int64_t> shape(type.getShape());
  if (!shape.empty())
    shape.back() = length;
  return mlir::RankedTensorType::get(shape, element);
}

/// Checks that `value` is a ranked tensor before anything reads its shape;
/// reports at `location` otherwise.
bool isRankedTensor(MlirLocation location, MlirValue value, const char *op) {
  if (mlirValueIsNull(value) ||
      !mlir::isa<mlir::RankedTensorType>(unwrap(value).getType())) {
    mlir::emitError(unwrap(location))
        << op << ": expects a ranked tensor operand";
    return false;
  }
  return true;
}
} // namespace

MlirOperation fftconvConvCreate(MlirLocation location, bool causal,
                                MlirValue input, MlirValue kernel,
                                MlirValue reverse, MlirValue pregate,
                                MlirValue postgate, MlirValue skip) {
  if (!isRankedTensor(location, input, "fftconv.conv") ||
      !isRankedTensor(location, kernel, "fftconv.conv"))
    return MlirOperation{nullptr};
  mlir::OpBuilder b = builderFor(location);
  auto op = mlir::fftconv::ConvOp::create(
      b, unwrap(location), unwrap(input).getType(),
      causal ? mlir::fftconv::ConvMode::Causal
             : mlir::fftconv::ConvMode::Circular,
      unwrap(input), unwrap(kernel), optional(reverse), optional(pregate),
      optional(postgate), optional(skip));
  return verified(op);
}

MlirOperation fftconvConvGradCreate(MlirLocation location, bool causal,
                                    MlirValue input, MlirValue kernel,
                                    MlirValue reverse, MlirValue pregate,
                                    MlirValue postgate, MlirValue skip,
                                    MlirValue resultGrad, uint32_t wrt) {
  if (!isRankedTensor(location, input, "fftconv.conv_grad") ||
      !isRankedTensor(location, kernel, "fftconv.conv_grad") ||
      !isRankedTensor(location, resultGrad, "fftconv.conv_grad"))
    return MlirOperation{nullptr};
  using mlir::fftconv::ConvGradients;
  std::optional<ConvGradients> which =
      mlir::fftconv::symbolizeConvGradients(wrt);
  if (!which) {
    mlir::emitError(unwrap(location))
        << "fftconv.conv_grad: unknown gradient bits in " << wrt;
    return MlirOperation{nullptr};
  }
  // Result types are the operands' own; a gradient asked of a missing
  // operand gets the input's type and the verifier reports it.
  std::pair<ConvGradients, MlirValue> operands[] = {
      {ConvGradients::Input, input},
      {ConvGradients::Kernel, kernel},
      {ConvGradients::Pregate, pregate},
      {ConvGradients::Postgate, postgate},
      {ConvGradients::Skip, skip},
      {ConvGradients::ReverseKernel, reverse}};
  llvm::SmallVector<mlir::Type> types;
  for (auto [kind, operand] : operands)
    if (mlir::fftconv::bitEnumContainsAll(*which, kind))
      types.push_back(mlirValueIsNull(operand) ? unwrap(input).getType()
                                               : unwrap(operand).getType());
  mlir::OpBuilder b = builderFor(location);
  auto op = mlir::fftconv::ConvGradOp::create(
      b, unwrap(location), types,
      causal ? mlir::fftconv::ConvMode::Causal
             : mlir::fftconv::ConvMode::Circular,
      unwrap(input), unwrap(kernel), optional(reverse), optional(pregate),
      optional(postgate), optional(skip), unwrap(resultGrad), *which);
  return verified(op);
}

MlirOperation fftconvTransformCreate(MlirLocation location,
                                     FFTConvTransformKind kind, MlirValue input,
                                     int64_t n) {
  if (!isRankedTensor(location, input, "fftconv transform"))
    return MlirOperation{nullptr};
  if (n < 1) {
    mlir::emitError(unwrap(location))
        << "fftconv transform: n must be positive, got " << n;
    return MlirOperation{nullptr};
  }
  mlir::OpBuilder b = builderFor(location);
  mlir::Location loc = unwrap(location);
  mlir::Value x = unwrap(input);
  mlir::Type f32 = b.getF32Type();
  mlir::Type c32 = mlir::ComplexType::get(f32);
  switch (kind) {
  case FFTConvFFT:
    return verified(
        mlir::fftconv::FFTOp::create(b, loc, withLastDim(x, n, c32), x, n));
  case FFTConvIFFT:
    return verified(
        mlir::fftconv::IFFTOp::create(b, loc, withLastDim(x, n, c32), x, n));
  case FFTConvRFFT:
    return verified(mlir::fftconv::RFFTOp::create(
        b, loc, withLastDim(x, n / 2 + 1, c32), x, n));
  case FFTConvIRFFT:
    return verified(
        mlir::fftconv::IRFFTOp::create(b, loc, withLastDim(x, n, f32), x, n));
  }
  mlir::emitError(loc) << "fftconv transform: unknown kind";
  return MlirOperation{nullptr};
}

MlirOperation fftconvSquashCreate(MlirLocation location, MlirValue input,
                                  float lambda) {
  if (!isRankedTensor(location, input, "fftconv.squash"))
    return MlirOperation{nullptr};
  mlir::OpBuilder b = builderFor(location);
  return verified(mlir::fftconv::SquashOp::create(
      b, unwrap(location), unwrap(input).getType(), unwrap(input),
      b.getF32FloatAttr(lambda)));
}

MlirOperation fftconvSmoothCreate(MlirLocation location, MlirValue input,
                                  int64_t width) {
  if (!isRankedTensor(location, input, "fftconv.smooth"))
    return MlirOperation{nullptr};
  mlir::OpBuilder b = builderFor(location);
  return verified(mlir::fftconv::SmoothOp::create(
      b, unwrap(location), unwrap(input).getType(), unwrap(input), width));
}

/// fftconv.channel_mul, by the kernel spectrum or (`conjugate`) its
/// conjugate; band <= 0 means no band.
static MlirOperation createChannelMul(MlirLocation location, MlirValue input,
                                      MlirValue kernel, int64_t band,
                                      bool conjugate) {
  if (!isRankedTensor(location, input, "fftconv.channel_mul"))
    return MlirOperation{nullptr};
  mlir::OpBuilder b = builderFor(location);
  auto op = mlir::fftconv::ChannelMulOp::create(
      b, unwrap(location), unwrap(input), unwrap(kernel),
      band > 0 ? b.getI64IntegerAttr(band) : mlir::IntegerAttr(),
      conjugate ? b.getUnitAttr() : mlir::UnitAttr());
  return verified(op);
}

MlirOperation fftconvChannelMulCreate(MlirLocation location, MlirValue input,
                                      MlirValue kernel, int64_t band) {
  return createChannelMul(location, input, kernel, band, /*conjugate=*/false);
}

MlirOperation fftconvConjugateChannelMulCreate(MlirLocation location,
                                               MlirValue input,
                                               MlirValue kernel, int64_t band) {
  return createChannelMul(location, input, kernel, band, /*conjugate=*/true);
}

MlirOperation fftconvCrossSpectrumCreate(MlirLocation location, MlirValue lhs,
                                         MlirValue rhs) {
  if (!isRankedTensor(location, lhs, "fftconv.cross_spectrum") ||
      !isRankedTensor(location, rhs, "fftconv.cross_spectrum"))
    return MlirOperation{nullptr};
  auto type = mlir::cast<mlir::RankedTensorType>(unwrap(lhs).getType());
  if (type.getRank() != 3) {
    mlir::emitError(unwrap(location))
        << "fftconv.cross_spectrum: expects a B x H x F lhs, got " << type;
    return MlirOperation{nullptr};
  }
  mlir::OpBuilder b = builderFor(location);
  auto resultType = mlir::RankedTensorType::get(type.getShape().drop_front(),
                                                type.getElementType());
  return verified(mlir::fftconv::CrossSpectrumOp::create(
      b, unwrap(location), resultType, unwrap(lhs), unwrap(rhs)));
}

MlirOperation butterflyMonarchCreate(MlirLocation location, MlirValue input,
                                     const int64_t *factors,
                                     intptr_t numFactors, bool inverse,
                                     bool permuted) {
  if (!isRankedTensor(location, input, "butterfly.monarch"))
    return MlirOperation{nullptr};
  mlir::OpBuilder b = builderFor(location);
  return verified(mlir::butterfly::MonarchOp::create(
      b, unwrap(location), unwrap(input),
      llvm::ArrayRef<int64_t>(factors, numFactors), inverse, permuted));
}

MlirOperation butterflyMonarchLinearCreate(MlirLocation location,
                                           MlirValue input,
                                           const MlirValue *weights,
                                           intptr_t numWeights) {
  if (!isRankedTensor(location, input, "butterfly.monarch_linear"))
    return MlirOperation{nullptr};
  mlir::OpBuilder b = builderFor(location);
  llvm::SmallVector<mlir::Value> stages;
  for (intptr_t i = 0; i < numWeights; ++i)
    stages.push_back(unwrap(weights[i]));
  return verified(mlir::butterfly::MonarchLinearOp::create(
      b, unwrap(location), unwrap(input).getType(), unwrap(input), stages));
}

MlirOperation butterflyDFTCreate(MlirLocation location, MlirType type,
                                 bool inverse) {
  mlir::OpBuilder b = builderFor(location);
  return verified(mlir::butterfly::DFTOp::create(b, unwrap(location),
                                                 unwrap(type), inverse));
}

MlirOperation butterflyKronCreate(MlirLocation location, MlirValue factor,
                                  MlirValue input, int64_t stride) {
  if (!isRankedTensor(location, input, "butterfly.kron"))
    return MlirOperation{nullptr};
  mlir::OpBuilder b = builderFor(location);
  return verified(mlir::butterfly::KronOp::create(
      b, unwrap(location), unwrap(factor), unwrap(input), stride));
}

MlirOperation butterflyTwiddleCreate(MlirLocation location, MlirValue input,
                                     int64_t rows, int64_t cols, bool inverse) {
  if (!isRankedTensor(location, input, "butterfly.twiddle"))
    return MlirOperation{nullptr};
  mlir::OpBuilder b = builderFor(location);
  return verified(mlir::butterfly::TwiddleOp::create(
      b, unwrap(location), unwrap(input), rows, cols, inverse));
}

MlirOperation butterflyPermuteCreate(MlirLocation location, MlirValue input,
                                     int64_t rows, int64_t cols) {
  if (!isRankedTensor(location, input, "butterfly.permute"))
    return MlirOperation{nullptr};
  mlir::OpBuilder b = builderFor(location);
  return verified(mlir::butterfly::PermuteOp::create(
      b, unwrap(location), unwrap(input), rows, cols));
}
