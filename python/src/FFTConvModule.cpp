//===- FFTConvModule.cpp - Python bindings over the C API -------*- C++ -*-===//
//
// The `fftconv._fftconv` extension: an MLIR context with the project's
// dialects and passes; modules parsed, built op by op (the C API's op
// builders), printed and verified; pass pipelines run; and modules lowered
// to the LLVM dialect JIT-compiled by MLIR's ExecutionEngine; all through
// the C API of libFFTConvCAPI.so (one MLIR per process). Every diagnostic
// MLIR reports while a call runs is collected; a failing call raises
// fftconv.MLIRError carrying them, locations first.
//
//===----------------------------------------------------------------------===//

#include "fftconv-c/FFTConv.h"

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "mlir-c/Diagnostics.h"
#include "mlir-c/ExecutionEngine.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace py = pybind11;

namespace {

/// What a failed call raises; the message holds the diagnostics.
struct MLIRError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void appendTo(MlirStringRef text, void *userData) {
  static_cast<std::string *>(userData)->append(text.data, text.length);
}

const char *severityName(MlirDiagnosticSeverity severity) {
  switch (severity) {
  case MlirDiagnosticError:
    return "error";
  case MlirDiagnosticWarning:
    return "warning";
  case MlirDiagnosticNote:
    return "note";
  case MlirDiagnosticRemark:
    return "remark";
  }
  return "diagnostic";
}

/// "<location>: <severity>: <message>", notes on the following lines.
void formatDiagnostic(MlirDiagnostic diagnostic, std::string &out) {
  mlirLocationPrint(mlirDiagnosticGetLocation(diagnostic), appendTo, &out);
  out += ": ";
  out += severityName(mlirDiagnosticGetSeverity(diagnostic));
  out += ": ";
  mlirDiagnosticPrint(diagnostic, appendTo, &out);
  for (intptr_t i = 0, e = mlirDiagnosticGetNumNotes(diagnostic); i < e; ++i) {
    MlirDiagnostic note = mlirDiagnosticGetNote(diagnostic, i);
    // The verifier's "see current operation" notes dump the op in generic
    // form (pages for a fused region); the location already says where.
    std::string message;
    mlirDiagnosticPrint(note, appendTo, &message);
    if (message.rfind("see current operation", 0) == 0)
      continue;
    out += "\n  ";
    formatDiagnostic(note, out);
  }
}

class Context {
public:
  Context() {
    MlirDialectRegistry registry = mlirDialectRegistryCreate();
    fftconvRegisterAllDialects(registry);
    context =
        mlirContextCreateWithRegistry(registry, /*threadingEnabled=*/false);
    mlirDialectRegistryDestroy(registry);
    fftconvRegisterAllPasses();
    // Op builders need their dialects loaded (parsing loads them on
    // demand; building does not).
    for (const char *dialect :
         {"builtin", "func", "arith", "fftconv", "butterfly"})
      mlirContextGetOrLoadDialect(context,
                                  mlirStringRefCreateFromCString(dialect));
    mlirContextAttachDiagnosticHandler(context, &Context::collect, this,
                                       nullptr);
  }
  ~Context() { mlirContextDestroy(context); }
  Context(const Context &) = delete;
  Context &operator=(const Context &) = delete;

  MlirContext get() const { return context; }

  /// The diagnostics collected since the last call, emptied.
  std::string takeDiagnostics() {
    std::string text;
    for (const std::string &diagnostic : diagnostics)
      text += (text.empty() ? "" : "\n") + diagnostic;
    diagnostics.clear();
    return text;
  }

  [[noreturn]] void fail(const std::string &what) {
    std::string diagnostics = takeDiagnostics();
    throw MLIRError(diagnostics.empty() ? what : what + ":\n" + diagnostics);
  }

private:
  static MlirLogicalResult collect(MlirDiagnostic diagnostic, void *self) {
    std::string text;
    formatDiagnostic(diagnostic, text);
    static_cast<Context *>(self)->diagnostics.push_back(std::move(text));
    return mlirLogicalResultSuccess();
  }

  MlirContext context;
  std::vector<std::string> diagnostics;
};

/// MlirStringCallback into the first and second strings of a pair: the
/// C API calls the PTX callback, then the manifest callback.
void appendToFirst(MlirStringRef text, void *userData) {
  static_cast<std::pair<std::string, std::string> *>(userData)->first.append(
      text.data, text.length);
}
void appendToSecond(MlirStringRef text, void *userData) {
  static_cast<std::pair<std::string, std::string> *>(userData)->second.append(
      text.data, text.length);
}

/// A module that outlives whichever of its owners (Module, Function, the
/// values a Function hands out) goes last.
struct OwnedModule {
  explicit OwnedModule(MlirModule module) : module(module) {}
  ~OwnedModule() { mlirModuleDestroy(module); }
  OwnedModule(const OwnedModule &) = delete;
  OwnedModule &operator=(const OwnedModule &) = delete;
  MlirModule module;
};

MlirStringRef stringRef(const std::string &text) {
  return mlirStringRefCreate(text.data(), text.size());
}

std::string printed(MlirType type) {
  std::string text;
  mlirTypePrint(type, appendTo, &text);
  return text;
}

/// An MLIR type of a context.
class Type {
public:
  Type(std::shared_ptr<Context> context, MlirType type)
      : context(std::move(context)), type(type) {}

  /// The element types fftconv programs hold, by the names the graph
  /// builder uses; built through the C API, never parsed.
  static MlirType element(MlirContext context, const std::string &name) {
    if (name == "f32")
      return mlirF32TypeGet(context);
    if (name == "f16")
      return mlirF16TypeGet(context);
    if (name == "bf16")
      return mlirBF16TypeGet(context);
    if (name == "complex<f32>")
      return mlirComplexTypeGet(mlirF32TypeGet(context));
    throw MLIRError("unknown element type '" + name +
                    "' (f16, bf16, f32 or complex<f32>)");
  }

  static Type tensor(std::shared_ptr<Context> context,
                     const std::vector<int64_t> &shape,
                     const std::string &elementName) {
    MlirType elementType = element(context->get(), elementName);
    MlirType type = mlirRankedTensorTypeGet(static_cast<intptr_t>(shape.size()),
                                            shape.data(), elementType,
                                            mlirAttributeGetNull());
    return Type(std::move(context), type);
  }

  /// The shape of a ranked shaped type; None otherwise.
  std::optional<std::vector<int64_t>> shape() const {
    if (!mlirTypeIsAShaped(type) || !mlirShapedTypeHasRank(type))
      return std::nullopt;
    std::vector<int64_t> dims;
    for (intptr_t i = 0, e = mlirShapedTypeGetRank(type); i < e; ++i)
      dims.push_back(mlirShapedTypeGetDimSize(type, i));
    return dims;
  }

  /// The element type's name (as `element` spells it), or its printed form.
  std::string elementName() const {
    MlirType element =
        mlirTypeIsAShaped(type) ? mlirShapedTypeGetElementType(type) : type;
    if (mlirTypeIsAF32(element))
      return "f32";
    if (mlirTypeIsAF16(element))
      return "f16";
    if (mlirTypeIsABF16(element))
      return "bf16";
    if (mlirTypeIsAComplex(element) &&
        mlirTypeIsAF32(mlirComplexTypeGetElementType(element)))
      return "complex<f32>";
    return printed(element);
  }

  std::string str() const { return printed(type); }
  bool operator==(const Type &other) const {
    return mlirTypeEqual(type, other.type);
  }
  MlirType get() const { return type; }
  const std::shared_ptr<Context> &getContext() const { return context; }

private:
  std::shared_ptr<Context> context;
  MlirType type;
};

/// A source location: where a graph node was made, named after it.
class Location {
public:
  Location(std::shared_ptr<Context> context, MlirLocation location)
      : context(std::move(context)), location(location) {}

  static Location unknown(std::shared_ptr<Context> context) {
    MlirLocation location = mlirLocationUnknownGet(context->get());
    return Location(std::move(context), location);
  }
  static Location file(std::shared_ptr<Context> context,
                       const std::string &filename, unsigned line,
                       unsigned column) {
    MlirLocation location = mlirLocationFileLineColGet(
        context->get(), stringRef(filename), line, column);
    return Location(std::move(context), location);
  }
  static Location name(std::shared_ptr<Context> context,
                       const std::string &name, std::optional<Location> child) {
    MlirLocation location = mlirLocationNameGet(
        context->get(), stringRef(name),
        child ? child->get() : mlirLocationUnknownGet(context->get()));
    return Location(std::move(context), location);
  }

  std::string str() const {
    std::string text;
    mlirLocationPrint(location, appendTo, &text);
    return text;
  }
  MlirLocation get() const { return location; }

private:
  std::shared_ptr<Context> context;
  MlirLocation location;
};

class Module {
public:
  Module(std::shared_ptr<Context> context, MlirModule module)
      : context(std::move(context)),
        owned(std::make_shared<OwnedModule>(module)) {}
  Module(std::shared_ptr<Context> context, std::shared_ptr<OwnedModule> owned)
      : context(std::move(context)), owned(std::move(owned)) {}
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;

  static std::unique_ptr<Module> parse(std::shared_ptr<Context> context,
                                       const std::string &text,
                                       const std::string &sourceName) {
    context->takeDiagnostics();
    MlirOperation op = mlirOperationCreateParse(context->get(), stringRef(text),
                                                stringRef(sourceName));
    if (mlirOperationIsNull(op))
      context->fail("cannot parse " + sourceName);
    MlirModule module = mlirModuleFromOperation(op);
    if (mlirModuleIsNull(module)) {
      // A single top-level op (a func.func, say) goes into a module of its
      // own, as mlir-opt does.
      module = mlirModuleCreateEmpty(mlirOperationGetLocation(op));
      mlirBlockAppendOwnedOperation(mlirModuleGetBody(module), op);
    }
    return std::make_unique<Module>(std::move(context), module);
  }

  void verify() {
    context->takeDiagnostics();
    if (!mlirOperationVerify(mlirModuleGetOperation(get())))
      context->fail("the module does not verify");
  }

  /// The module printed; a value whose location is a NameLoc (what Graph
  /// gives its inputs and nodes) prints under that name (%u, %v1).
  std::string str() const {
    std::string text;
    MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
    mlirOpPrintingFlagsPrintNameLocAsPrefix(flags);
    mlirOperationPrintWithFlags(mlirModuleGetOperation(get()), flags, appendTo,
                                &text);
    mlirOpPrintingFlagsDestroy(flags);
    return text;
  }

  MlirModule get() const { return owned->module; }
  const std::shared_ptr<Context> &getContext() const { return context; }

  /// The names of the module's top-level func.func ops, in order.
  std::vector<std::string> functionNames() const {
    std::vector<std::string> names;
    for (MlirOperation op =
             mlirBlockGetFirstOperation(mlirModuleGetBody(get()));
         !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
      if (!isFunction(op))
        continue;
      MlirStringRef name =
          mlirStringAttrGetValue(mlirOperationGetAttributeByName(
              op, mlirStringRefCreateFromCString("sym_name")));
      names.emplace_back(name.data, name.length);
    }
    return names;
  }

  /// (argument types, result types) of func.func @`name`.
  std::pair<std::vector<Type>, std::vector<Type>>
  functionType(const std::string &name) const {
    MlirType type = mlirTypeAttrGetValue(mlirOperationGetAttributeByName(
        function(name), mlirStringRefCreateFromCString("function_type")));
    std::pair<std::vector<Type>, std::vector<Type>> out;
    for (intptr_t i = 0, e = mlirFunctionTypeGetNumInputs(type); i < e; ++i)
      out.first.emplace_back(context, mlirFunctionTypeGetInput(type, i));
    for (intptr_t i = 0, e = mlirFunctionTypeGetNumResults(type); i < e; ++i)
      out.second.emplace_back(context, mlirFunctionTypeGetResult(type, i));
    return out;
  }

  /// Marks func.func @`name` with llvm.emit_c_interface, so that the CPU
  /// lowering gives it the `_mlir_ciface_<name>` wrapper: memref
  /// descriptors passed by pointer, results through a pointer first.
  void emitCInterface(const std::string &name) {
    mlirOperationSetDiscardableAttributeByName(
        function(name), mlirStringRefCreateFromCString("llvm.emit_c_interface"),
        mlirUnitAttrGet(context->get()));
  }

  /// fftconvCompileToPTX: (PTX text, manifest JSON); rewrites the module.
  /// An option left None takes the pipeline's default.
  std::pair<std::string, std::string> compileToPTX(
      std::optional<std::string> chip, std::optional<std::string> order,
      std::optional<std::string> precision, std::optional<int64_t> threads,
      std::optional<int64_t> batchTile, std::optional<int64_t> singleKernelMax,
      std::optional<int64_t> ranks, std::optional<int64_t> rank,
      std::optional<int64_t> maxRowLength,
      std::optional<int64_t> threePassCluster) {
    FFTConvCompileOptions options = fftconvCompileOptionsGetDefault();
    auto ref = [](const std::string &text) {
      return mlirStringRefCreate(text.data(), text.size());
    };
    if (chip)
      options.chip = ref(*chip);
    if (order)
      options.order = ref(*order);
    if (precision)
      options.precision = ref(*precision);
    options.threads = threads.value_or(options.threads);
    options.batchTile = batchTile.value_or(options.batchTile);
    options.singleKernelMax = singleKernelMax.value_or(options.singleKernelMax);
    options.ranks = ranks.value_or(options.ranks);
    options.rank = rank.value_or(options.rank);
    options.maxRowLength = maxRowLength.value_or(options.maxRowLength);
    options.threePassCluster =
        threePassCluster.value_or(options.threePassCluster);
    context->takeDiagnostics();
    std::pair<std::string, std::string> out;
    if (mlirLogicalResultIsFailure(fftconvCompileToPTX(
            get(), options, appendToFirst, appendToSecond, &out)))
      context->fail("compiling to PTX failed");
    return out;
  }

private:
  static bool isFunction(MlirOperation op) {
    MlirIdentifier opName = mlirOperationGetName(op);
    MlirStringRef text = mlirIdentifierStr(opName);
    return std::string(text.data, text.length) == "func.func";
  }

  MlirOperation function(const std::string &name) const {
    for (MlirOperation op =
             mlirBlockGetFirstOperation(mlirModuleGetBody(get()));
         !mlirOperationIsNull(op); op = mlirOperationGetNextInBlock(op)) {
      if (!isFunction(op))
        continue;
      MlirStringRef symbol =
          mlirStringAttrGetValue(mlirOperationGetAttributeByName(
              op, mlirStringRefCreateFromCString("sym_name")));
      if (std::string(symbol.data, symbol.length) == name)
        return op;
    }
    throw MLIRError("the module has no func.func @" + name);
  }

  std::shared_ptr<Context> context;
  std::shared_ptr<OwnedModule> owned;
};

class Function;

/// An SSA value of a function being built.
class Value {
public:
  Value(std::shared_ptr<Function> function, MlirValue value)
      : function(std::move(function)), value(value) {}
  Type type() const;
  MlirValue get() const { return value; }
  const Function *owner() const { return function.get(); }

private:
  std::shared_ptr<Function> function;
  MlirValue value;
};

/// A func.func built op by op through the C API's builders: each op is
/// verified as it is made (a failure raises MLIRError with the located
/// diagnostics), and `finish` returns the verified module holding it.
class Function : public std::enable_shared_from_this<Function> {
public:
  Function(std::shared_ptr<Context> context, const std::string &name,
           const std::vector<Type> &argumentTypes,
           const std::vector<std::string> &argumentNames,
           const std::vector<Location> &argumentLocations,
           const Location &location)
      : context(std::move(context)) {
    MlirContext ctx = this->context->get();
    if (!argumentNames.empty() && argumentNames.size() != argumentTypes.size())
      throw MLIRError("Function: one argument name per argument type");
    if (!argumentLocations.empty() &&
        argumentLocations.size() != argumentTypes.size())
      throw MLIRError("Function: one location per argument type");
    for (size_t i = 0; i < argumentTypes.size(); ++i) {
      arguments.push_back(argumentTypes[i].get());
      argumentLocs.push_back(argumentLocations.empty()
                                 ? location.get()
                                 : argumentLocations[i].get());
    }
    owned =
        std::make_shared<OwnedModule>(mlirModuleCreateEmpty(location.get()));

    MlirRegion region = mlirRegionCreate();
    body = mlirBlockCreate(static_cast<intptr_t>(arguments.size()),
                           arguments.data(), argumentLocs.data());
    mlirRegionAppendOwnedBlock(region, body);
    MlirOperationState state = mlirOperationStateGet(
        mlirStringRefCreateFromCString("func.func"), location.get());
    mlirOperationStateAddOwnedRegions(&state, 1, &region);
    std::vector<MlirNamedAttribute> attributes = {
        namedAttribute("sym_name", mlirStringAttrGet(ctx, stringRef(name))),
        namedAttribute("function_type", mlirTypeAttrGet(functionType({})))};
    if (!argumentNames.empty()) {
      // fftconv.name on each argument: the GPU manifest reports it.
      std::vector<MlirAttribute> dictionaries;
      for (const std::string &argumentName : argumentNames) {
        MlirNamedAttribute tag = namedAttribute(
            "fftconv.name", mlirStringAttrGet(ctx, stringRef(argumentName)));
        dictionaries.push_back(mlirDictionaryAttrGet(ctx, 1, &tag));
      }
      attributes.push_back(namedAttribute(
          "arg_attrs",
          mlirArrayAttrGet(ctx, static_cast<intptr_t>(dictionaries.size()),
                           dictionaries.data())));
    }
    mlirOperationStateAddAttributes(
        &state, static_cast<intptr_t>(attributes.size()), attributes.data());
    function = mlirOperationCreate(&state);
    mlirBlockAppendOwnedOperation(mlirModuleGetBody(owned->module), function);
  }
  Function(const Function &) = delete;
  Function &operator=(const Function &) = delete;

  std::vector<Value> getArguments() {
    std::vector<Value> values;
    for (intptr_t i = 0, e = mlirBlockGetNumArguments(body); i < e; ++i)
      values.emplace_back(shared_from_this(), mlirBlockGetArgument(body, i));
    return values;
  }

  Value conv(const Value &input, const Value &kernel, bool causal,
             const std::optional<Value> &pregate,
             const std::optional<Value> &postgate,
             const std::optional<Value> &skip, const Location &location,
             const std::optional<Value> &reverse) {
    prepare({&input, &kernel, optionalPtr(reverse), optionalPtr(pregate),
             optionalPtr(postgate), optionalPtr(skip)});
    return append(
        fftconvConvCreate(location.get(), causal, input.get(), kernel.get(),
                          optionalValue(reverse), optionalValue(pregate),
                          optionalValue(postgate), optionalValue(skip)),
        "fftconv.conv");
  }

  /// fftconv.conv_grad: one Value per gradient named in `wrt` (bits of
  /// FFTConvGrad*), in the order input, kernel, pregate, postgate, skip.
  std::vector<Value> convGrad(const Value &input, const Value &kernel,
                              bool causal, const std::optional<Value> &pregate,
                              const std::optional<Value> &postgate,
                              const std::optional<Value> &skip,
                              const Value &resultGrad, uint32_t wrt,
                              const Location &location,
                              const std::optional<Value> &reverse) {
    prepare({&input, &kernel, optionalPtr(reverse), optionalPtr(pregate),
             optionalPtr(postgate), optionalPtr(skip), &resultGrad});
    MlirOperation op = fftconvConvGradCreate(
        location.get(), causal, input.get(), kernel.get(),
        optionalValue(reverse), optionalValue(pregate), optionalValue(postgate),
        optionalValue(skip), resultGrad.get(), wrt);
    if (mlirOperationIsNull(op))
      context->fail("cannot build fftconv.conv_grad");
    mlirBlockAppendOwnedOperation(body, op);
    std::vector<Value> results;
    for (intptr_t i = 0, e = mlirOperationGetNumResults(op); i < e; ++i)
      results.emplace_back(shared_from_this(), mlirOperationGetResult(op, i));
    return results;
  }

  Value crossSpectrum(const Value &lhs, const Value &rhs,
                      const Location &location) {
    prepare({&lhs, &rhs});
    return append(
        fftconvCrossSpectrumCreate(location.get(), lhs.get(), rhs.get()),
        "fftconv.cross_spectrum");
  }

  Value transform(FFTConvTransformKind kind, const char *name,
                  const Value &input, int64_t n, const Location &location) {
    prepare({&input});
    return append(fftconvTransformCreate(location.get(), kind, input.get(), n),
                  name);
  }

  Value squash(const Value &input, float lambda, const Location &location) {
    prepare({&input});
    return append(fftconvSquashCreate(location.get(), input.get(), lambda),
                  "fftconv.squash");
  }

  Value smooth(const Value &input, int64_t width, const Location &location) {
    prepare({&input});
    return append(fftconvSmoothCreate(location.get(), input.get(), width),
                  "fftconv.smooth");
  }

  Value channelMul(const Value &input, const Value &kernel, int64_t band,
                   const Location &location, bool conjugate) {
    prepare({&input, &kernel});
    return append(conjugate
                      ? fftconvConjugateChannelMulCreate(
                            location.get(), input.get(), kernel.get(), band)
                      : fftconvChannelMulCreate(location.get(), input.get(),
                                                kernel.get(), band),
                  "fftconv.channel_mul");
  }

  Value monarch(const Value &input, const std::vector<int64_t> &factors,
                bool inverse, bool permuted, const Location &location) {
    prepare({&input});
    return append(butterflyMonarchCreate(
                      location.get(), input.get(), factors.data(),
                      static_cast<intptr_t>(factors.size()), inverse, permuted),
                  "butterfly.monarch");
  }

  Value monarchLinear(const Value &input, const std::vector<Value> &weights,
                      const Location &location) {
    std::vector<const Value *> operands = {&input};
    std::vector<MlirValue> stages;
    for (const Value &weight : weights) {
      operands.push_back(&weight);
      stages.push_back(weight.get());
    }
    prepare(operands);
    return append(
        butterflyMonarchLinearCreate(location.get(), input.get(), stages.data(),
                                     static_cast<intptr_t>(stages.size())),
        "butterfly.monarch_linear");
  }

  Value dft(const Type &type, bool inverse, const Location &location) {
    prepare({});
    return append(butterflyDFTCreate(location.get(), type.get(), inverse),
                  "butterfly.dft");
  }

  Value kron(const Value &factor, const Value &input, int64_t stride,
             const Location &location) {
    prepare({&factor, &input});
    return append(
        butterflyKronCreate(location.get(), factor.get(), input.get(), stride),
        "butterfly.kron");
  }

  Value twiddle(const Value &input, int64_t rows, int64_t cols, bool inverse,
                const Location &location) {
    prepare({&input});
    return append(butterflyTwiddleCreate(location.get(), input.get(), rows,
                                         cols, inverse),
                  "butterfly.twiddle");
  }

  Value permute(const Value &input, int64_t rows, int64_t cols,
                const Location &location) {
    prepare({&input});
    return append(
        butterflyPermuteCreate(location.get(), input.get(), rows, cols),
        "butterfly.permute");
  }

  /// arith.constant of `type` holding `data`, the elements' raw bytes in
  /// row-major order (f16/bf16 as 16-bit patterns, complex<f32> as pairs of
  /// f32): the values go in bit-exactly, no decimal text on the way.
  Value constant(const Type &type, const py::bytes &data,
                 const Location &location) {
    prepare({});
    std::string bytes = data;
    MlirAttribute value = mlirDenseElementsAttrRawBufferGet(
        type.get(), bytes.size(), bytes.data());
    if (mlirAttributeIsNull(value))
      throw MLIRError("constant: " + std::to_string(bytes.size()) +
                      " bytes do not hold the elements of " + type.str());
    MlirOperationState state = mlirOperationStateGet(
        mlirStringRefCreateFromCString("arith.constant"), location.get());
    MlirType resultType = type.get();
    mlirOperationStateAddResults(&state, 1, &resultType);
    MlirNamedAttribute named = namedAttribute("value", value);
    mlirOperationStateAddAttributes(&state, 1, &named);
    return append(verified(mlirOperationCreate(&state)), "arith.constant");
  }

  /// Returns `results` (func.return), sets the function's result types and
  /// hands over the verified module; the builder takes no more ops.
  std::unique_ptr<Module> finish(const std::vector<Value> &results,
                                 const Location &location) {
    std::vector<const Value *> operands;
    std::vector<MlirValue> values;
    std::vector<MlirType> types;
    for (const Value &result : results) {
      operands.push_back(&result);
      values.push_back(result.get());
      types.push_back(mlirValueGetType(result.get()));
    }
    prepare(operands);
    MlirOperationState state = mlirOperationStateGet(
        mlirStringRefCreateFromCString("func.return"), location.get());
    mlirOperationStateAddOperands(&state, static_cast<intptr_t>(values.size()),
                                  values.data());
    mlirBlockAppendOwnedOperation(body, mlirOperationCreate(&state));
    mlirOperationSetInherentAttributeByName(
        function, mlirStringRefCreateFromCString("function_type"),
        mlirTypeAttrGet(functionType(types)));
    finished = true;
    auto module = std::make_unique<Module>(context, owned);
    module->verify();
    return module;
  }

  const std::shared_ptr<Context> &getContext() const { return context; }

private:
  MlirNamedAttribute namedAttribute(const char *name, MlirAttribute value) {
    return mlirNamedAttributeGet(
        mlirIdentifierGet(context->get(), mlirStringRefCreateFromCString(name)),
        value);
  }

  MlirType functionType(const std::vector<MlirType> &results) {
    return mlirFunctionTypeGet(
        context->get(), static_cast<intptr_t>(arguments.size()),
        arguments.data(), static_cast<intptr_t>(results.size()),
        results.data());
  }

  static const Value *optionalPtr(const std::optional<Value> &value) {
    return value ? &*value : nullptr;
  }
  static MlirValue optionalValue(const std::optional<Value> &value) {
    return value ? value->get() : MlirValue{nullptr};
  }

  /// Rejects operands of other functions (the builders would link the two
  /// modules' IR) and clears stale diagnostics before an op is built.
  void prepare(std::initializer_list<const Value *> operands) {
    prepare(std::vector<const Value *>(operands));
  }
  void prepare(const std::vector<const Value *> &operands) {
    if (finished)
      throw MLIRError("the function is finished; it takes no more ops");
    for (const Value *operand : operands)
      if (operand && operand->owner() != this)
        throw MLIRError("an operand is a value of another function");
    context->takeDiagnostics();
  }

  MlirOperation verified(MlirOperation op) {
    if (!mlirOperationVerify(op)) {
      mlirOperationDestroy(op);
      return MlirOperation{nullptr};
    }
    return op;
  }

  /// Appends a built op (null: its builder reported why) to the body.
  Value append(MlirOperation op, const std::string &name) {
    if (mlirOperationIsNull(op))
      context->fail("cannot build " + name);
    mlirBlockAppendOwnedOperation(body, op);
    return Value(shared_from_this(), mlirOperationGetResult(op, 0));
  }

  std::shared_ptr<Context> context;
  std::shared_ptr<OwnedModule> owned;
  std::vector<MlirType> arguments;
  std::vector<MlirLocation> argumentLocs;
  MlirBlock body;
  MlirOperation function;
  bool finished = false;
};

Type Value::type() const {
  return Type(function->getContext(), mlirValueGetType(value));
}

/// A module in the LLVM dialect compiled to machine code by MLIR's
/// ExecutionEngine (ORC JIT, in this process).
class ExecutionEngine {
public:
  ExecutionEngine(Module &module, int optLevel,
                  const std::vector<std::string> &sharedLibs)
      : context(module.getContext()) {
    std::vector<MlirStringRef> paths;
    for (const std::string &path : sharedLibs)
      paths.push_back(stringRef(path));
    context->takeDiagnostics();
    // Code generated at optLevel too (mlirExecutionEngineCreate's is at
    // the default level whatever optLevel).
    engine = fftconvExecutionEngineCreate(
        module.get(), optLevel, static_cast<int>(paths.size()), paths.data());
    if (mlirExecutionEngineIsNull(engine))
      context->fail("cannot JIT-compile the module (it must be in the LLVM "
                    "dialect, e.g. after fftconv-to-cpu)");
    // What fftconv-to-cpu{pooled-allocator} programs allocate through.
    mlirExecutionEngineRegisterSymbol(
        engine, stringRef("_mlir_memref_to_llvm_alloc"),
        reinterpret_cast<void *>(&fftconvCPUAllocate));
    mlirExecutionEngineRegisterSymbol(
        engine, stringRef("_mlir_memref_to_llvm_aligned_alloc"),
        reinterpret_cast<void *>(&fftconvCPUAllocateAligned));
    mlirExecutionEngineRegisterSymbol(
        engine, stringRef("_mlir_memref_to_llvm_free"),
        reinterpret_cast<void *>(&fftconvCPUFree));
    mlirExecutionEngineInitialize(engine);
  }
  ~ExecutionEngine() { mlirExecutionEngineDestroy(engine); }
  ExecutionEngine(const ExecutionEngine &) = delete;
  ExecutionEngine &operator=(const ExecutionEngine &) = delete;

  /// The address of the compiled symbol `name` (e.g. `_mlir_ciface_f`),
  /// for ctypes to call.
  uintptr_t lookup(const std::string &name) {
    void *address = mlirExecutionEngineLookup(engine, stringRef(name));
    if (!address)
      throw MLIRError("the JIT-compiled module has no symbol " + name);
    return reinterpret_cast<uintptr_t>(address);
  }

private:
  std::shared_ptr<Context> context;
  MlirExecutionEngine engine;
};

class PassManager {
public:
  PassManager(std::shared_ptr<Context> context, const std::string &pipeline)
      : context(std::move(context)),
        passManager(mlirPassManagerCreate(this->context->get())) {
    std::string error;
    MlirLogicalResult parsed = mlirParsePassPipeline(
        mlirPassManagerGetAsOpPassManager(passManager),
        mlirStringRefCreate(pipeline.data(), pipeline.size()), appendTo,
        &error);
    if (mlirLogicalResultIsFailure(parsed)) {
      mlirPassManagerDestroy(passManager);
      throw MLIRError("invalid pass pipeline '" + pipeline + "': " + error);
    }
  }
  ~PassManager() { mlirPassManagerDestroy(passManager); }
  PassManager(const PassManager &) = delete;
  PassManager &operator=(const PassManager &) = delete;

  void run(Module &module) {
    if (module.getContext() != context)
      throw MLIRError("the module belongs to another context");
    context->takeDiagnostics();
    if (mlirLogicalResultIsFailure(mlirPassManagerRunOnOp(
            passManager, mlirModuleGetOperation(module.get()))))
      context->fail("the pass pipeline failed");
  }

private:
  std::shared_ptr<Context> context;
  MlirPassManager passManager;
};

} // namespace

PYBIND11_MODULE(_fftconv, m) {
  m.doc() = "fftconv-mlir: contexts, modules built op by op, pass pipelines "
            "and the JIT over the C API";
  py::register_exception<MLIRError>(m, "MLIRError", PyExc_ValueError);

  m.def(
      "compile_options_default",
      [] {
        FFTConvCompileOptions options = fftconvCompileOptionsGetDefault();
        auto str = [](MlirStringRef ref) {
          return std::string(ref.data, ref.length);
        };
        py::dict defaults;
        defaults["chip"] = str(options.chip);
        defaults["order"] = str(options.order);
        defaults["precision"] = str(options.precision);
        defaults["threads"] = options.threads;
        defaults["batch_tile"] = options.batchTile;
        defaults["single_kernel_max"] = options.singleKernelMax;
        defaults["ranks"] = options.ranks;
        defaults["rank"] = options.rank;
        defaults["max_row_length"] = options.maxRowLength;
        defaults["three_pass_cluster"] = options.threePassCluster;
        return defaults;
      },
      "The defaults of Module.compile_to_ptx's options: fftconv-to-ptx's.");

  py::class_<Context, std::shared_ptr<Context>>(m, "Context")
      .def(py::init<>(), "A context with the fftconv and butterfly dialects, "
                         "every upstream dialect and all passes.");

  py::class_<Type>(m, "Type")
      .def_static("tensor", &Type::tensor, py::arg("context"), py::arg("shape"),
                  py::arg("element"),
                  "tensor<shape x element>, element one of f16, bf16, f32, "
                  "complex<f32>.")
      .def_property_readonly("shape", &Type::shape)
      .def_property_readonly("element", &Type::elementName)
      .def("__eq__", &Type::operator==)
      .def("__str__", &Type::str)
      .def("__repr__",
           [](const Type &type) { return "Type(" + type.str() + ")"; });

  py::class_<Location>(m, "Location")
      .def_static("unknown", &Location::unknown, py::arg("context"))
      .def_static("file", &Location::file, py::arg("context"),
                  py::arg("filename"), py::arg("line"), py::arg("column") = 0)
      .def_static("name", &Location::name, py::arg("context"), py::arg("name"),
                  py::arg("child") = std::nullopt,
                  "A NameLoc: `name` at `child` (e.g. a file location).")
      .def("__str__", &Location::str);

  py::class_<Value>(m, "Value").def_property_readonly("type", &Value::type);

  // Each op method takes the op's operands and attributes, then
  // `location`; it raises MLIRError with the verifier's located diagnostics
  // when the op breaks a rule.
  py::class_<Function, std::shared_ptr<Function>>(m, "Function")
      .def(py::init([](std::shared_ptr<Context> context,
                       const std::string &name, const std::vector<Type> &types,
                       const std::vector<std::string> &names,
                       const std::vector<Location> &locations,
                       std::optional<Location> location) {
             Location loc = location ? *location : Location::unknown(context);
             return std::make_shared<Function>(context, name, types, names,
                                               locations, loc);
           }),
           py::arg("context"), py::arg("name"), py::arg("argument_types"),
           py::arg("argument_names") = std::vector<std::string>(),
           py::arg("argument_locations") = std::vector<Location>(),
           py::arg("location") = std::nullopt,
           "A func.func @name under construction; argument_names tag the "
           "arguments with fftconv.name (the GPU manifest's names).")
      .def_property_readonly("arguments", &Function::getArguments)
      .def("conv", &Function::conv, py::arg("input"), py::arg("kernel"),
           py::arg("causal"), py::arg("pregate"), py::arg("postgate"),
           py::arg("skip"), py::arg("location"),
           py::arg("reverse") = std::nullopt,
           "reverse: the bidirectional form's reverse kernel (causal only).")
      .def(
          "fft",
          [](Function &f, const Value &x, int64_t n, const Location &loc) {
            return f.transform(FFTConvFFT, "fftconv.fft", x, n, loc);
          },
          py::arg("input"), py::arg("n"), py::arg("location"))
      .def(
          "ifft",
          [](Function &f, const Value &x, int64_t n, const Location &loc) {
            return f.transform(FFTConvIFFT, "fftconv.ifft", x, n, loc);
          },
          py::arg("input"), py::arg("n"), py::arg("location"))
      .def(
          "rfft",
          [](Function &f, const Value &x, int64_t n, const Location &loc) {
            return f.transform(FFTConvRFFT, "fftconv.rfft", x, n, loc);
          },
          py::arg("input"), py::arg("n"), py::arg("location"))
      .def(
          "irfft",
          [](Function &f, const Value &x, int64_t n, const Location &loc) {
            return f.transform(FFTConvIRFFT, "fftconv.irfft", x, n, loc);
          },
          py::arg("input"), py::arg("n"), py::arg("location"))
      .def("squash", &Function::squash, py::arg("input"), py::arg("lam"),
           py::arg("location"))
      .def("smooth", &Function::smooth, py::arg("input"), py::arg("width"),
           py::arg("location"))
      .def("channel_mul", &Function::channelMul, py::arg("input"),
           py::arg("kernel"), py::arg("band"), py::arg("location"),
           py::arg("conjugate") = false,
           "band <= 0: no band; conjugate: multiply by conj(kernel).")
      .def("conv_grad", &Function::convGrad, py::arg("input"),
           py::arg("kernel"), py::arg("causal"), py::arg("pregate"),
           py::arg("postgate"), py::arg("skip"), py::arg("result_grad"),
           py::arg("wrt"), py::arg("location"),
           py::arg("reverse") = std::nullopt,
           "fftconv.conv_grad: the gradients named by the bits of wrt "
           "(input 1, kernel 2, pregate 4, postgate 8, skip 16, reverse "
           "kernel 32), in that order.")
      .def("cross_spectrum", &Function::crossSpectrum, py::arg("lhs"),
           py::arg("rhs"), py::arg("location"))
      .def("monarch", &Function::monarch, py::arg("input"), py::arg("factors"),
           py::arg("inverse"), py::arg("permuted"), py::arg("location"))
      .def("monarch_linear", &Function::monarchLinear, py::arg("input"),
           py::arg("weights"), py::arg("location"))
      .def("dft", &Function::dft, py::arg("type"), py::arg("inverse"),
           py::arg("location"))
      .def("kron", &Function::kron, py::arg("factor"), py::arg("input"),
           py::arg("stride"), py::arg("location"))
      .def("twiddle", &Function::twiddle, py::arg("input"), py::arg("rows"),
           py::arg("cols"), py::arg("inverse"), py::arg("location"))
      .def("permute", &Function::permute, py::arg("input"), py::arg("rows"),
           py::arg("cols"), py::arg("location"))
      .def("constant", &Function::constant, py::arg("type"), py::arg("data"),
           py::arg("location"),
           "arith.constant of `type` from the elements' raw bytes.")
      .def("finish", &Function::finish, py::arg("results"), py::arg("location"),
           "Appends func.return of `results` and returns the verified "
           "Module.");

  py::class_<Module>(m, "Module")
      .def_static("parse", &Module::parse, py::arg("context"), py::arg("text"),
                  py::arg("source_name") = "<string>",
                  "Parses and verifies MLIR text; raises MLIRError with the "
                  "located diagnostics.")
      .def("verify", &Module::verify)
      .def("__str__", &Module::str)
      .def_property_readonly("functions", &Module::functionNames,
                             "The names of the top-level func.func ops.")
      .def("function_type", &Module::functionType, py::arg("name"),
           "(argument types, result types) of func.func @name.")
      .def("emit_c_interface", &Module::emitCInterface, py::arg("name"),
           "Marks func.func @name with llvm.emit_c_interface.")
      .def("compile_to_ptx", &Module::compileToPTX, py::kw_only(),
           py::arg("chip") = py::none(), py::arg("order") = py::none(),
           py::arg("precision") = py::none(), py::arg("threads") = py::none(),
           py::arg("batch_tile") = py::none(),
           py::arg("single_kernel_max") = py::none(),
           py::arg("ranks") = py::none(), py::arg("rank") = py::none(),
           py::arg("max_row_length") = py::none(),
           py::arg("three_pass_cluster") = py::none(),
           "Compiles through fftconv-to-ptx (the module is rewritten) and "
           "returns (ptx, manifest_json); an option left None takes the "
           "pipeline's default (compile_options_default()). Raises MLIRError "
           "with the located diagnostics.")
      .def_property_readonly("context", &Module::getContext);

  py::class_<PassManager>(m, "PassManager")
      .def(py::init<std::shared_ptr<Context>, const std::string &>(),
           py::arg("context"), py::arg("pipeline"),
           "A pass manager for a textual pipeline, e.g. "
           "'builtin.module(fftconv-to-butterfly)'.")
      .def("run", &PassManager::run, py::arg("module"),
           "Runs the pipeline on the module in place; raises MLIRError with "
           "the located diagnostics when a pass fails.");

  m.def(
      "cost_table",
      [](const std::string &chip, int complexBytes, int minLog2, int maxLog2,
         int order) {
        std::string table;
        if (mlirLogicalResultIsFailure(
                fftconvPrintCostTable(stringRef(chip), complexBytes, minLog2,
                                      maxLog2, order, appendTo, &table)))
          throw MLIRError("cost_table: unknown chip '" + chip +
                          "' or a bad range/order");
        return table;
      },
      py::arg("chip") = "sm_90", py::arg("complex_bytes") = 4,
      py::arg("min_log2") = 4, py::arg("max_log2") = 22, py::arg("order") = 0,
      "The cost model's choices as fftconv-cost-table's markdown table.");

  m.def(
      "choose_ranks",
      [](int64_t fftSize, int64_t batch, int64_t channels, int64_t available,
         const std::string &chip) {
        int64_t ranks = 0;
        double seconds = 0, one = 0;
        if (mlirLogicalResultIsFailure(
                fftconvChooseRanks(stringRef(chip), fftSize, batch, channels,
                                   available, &ranks, &seconds, &one)))
          throw MLIRError("choose_ranks: unknown GPU chip '" + chip +
                          "' or a bad shape");
        return py::make_tuple(ranks, seconds, one);
      },
      py::arg("fft_size"), py::arg("batch"), py::arg("channels"),
      py::arg("available"), py::arg("chip") = "sm_90",
      "The sharding model's choice for a causal f16 convolution: (ranks, "
      "estimated seconds on them, on one GPU); ranks 0 when none fits.");

  py::class_<ExecutionEngine>(m, "ExecutionEngine")
      .def(py::init<Module &, int, const std::vector<std::string> &>(),
           py::arg("module"), py::arg("opt_level") = 2,
           py::arg("shared_libs") = std::vector<std::string>(),
           "JIT-compiles a module in the LLVM dialect (after "
           "fftconv-to-cpu); shared_libs are loaded for the symbols it "
           "calls.")
      .def("lookup", &ExecutionEngine::lookup, py::arg("name"),
           "The address of a compiled symbol, e.g. _mlir_ciface_<name>.");
  m.def(
      "cpu_free_address",
      [] { return reinterpret_cast<uintptr_t>(&fftconvCPUFree); },
      "The address of fftconvCPUFree, which releases a buffer a program "
      "compiled with fftconv-to-cpu{pooled-allocator} returned.");
}
