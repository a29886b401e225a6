//===- FFTConvModule.cpp - Python bindings over the C API -------*- C++ -*-===//
//
// The `fftconv._fftconv` extension: an MLIR context with the project's
// dialects and passes, modules parsed, printed and verified, and pass
// pipelines run, all through the C API of libFFTConvCAPI.so (one MLIR per
// process). Every diagnostic MLIR reports while a call runs is collected;
// a failing call raises fftconv.MLIRError carrying them, locations first.
//
//===----------------------------------------------------------------------===//

#include "fftconv-c/FFTConv.h"

#include "mlir-c/Diagnostics.h"
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
    out += "\n  ";
    formatDiagnostic(mlirDiagnosticGetNote(diagnostic, i), out);
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

class Module {
public:
  Module(std::shared_ptr<Context> context, MlirModule module)
      : context(std::move(context)), module(module) {}
  ~Module() { mlirModuleDestroy(module); }
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;

  static std::unique_ptr<Module> parse(std::shared_ptr<Context> context,
                                       const std::string &text,
                                       const std::string &sourceName) {
    context->takeDiagnostics();
    MlirOperation op = mlirOperationCreateParse(
        context->get(), mlirStringRefCreate(text.data(), text.size()),
        mlirStringRefCreate(sourceName.data(), sourceName.size()));
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
    if (!mlirOperationVerify(mlirModuleGetOperation(module)))
      context->fail("the module does not verify");
  }

  std::string str() const {
    std::string text;
    mlirOperationPrint(mlirModuleGetOperation(module), appendTo, &text);
    return text;
  }

  MlirModule get() const { return module; }
  const std::shared_ptr<Context> &getContext() const { return context; }

  /// fftconvCompileToPTX: (PTX text, manifest JSON); rewrites the module.
  /// An option left None takes the pipeline's default.
  std::pair<std::string, std::string>
  compileToPTX(std::optional<std::string> chip,
               std::optional<std::string> order,
               std::optional<std::string> precision,
               std::optional<int64_t> threads, std::optional<int64_t> batchTile,
               std::optional<int64_t> singleKernelMax) {
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
    context->takeDiagnostics();
    std::pair<std::string, std::string> out;
    if (mlirLogicalResultIsFailure(fftconvCompileToPTX(
            module, options, appendToFirst, appendToSecond, &out)))
      context->fail("compiling to PTX failed");
    return out;
  }

private:
  std::shared_ptr<Context> context;
  MlirModule module;
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
  m.doc() = "fftconv-mlir: contexts, modules and pass pipelines over the "
            "C API";
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
        return defaults;
      },
      "The defaults of Module.compile_to_ptx's options: fftconv-to-ptx's.");

  py::class_<Context, std::shared_ptr<Context>>(m, "Context")
      .def(py::init<>(), "A context with the fftconv and butterfly dialects, "
                         "every upstream dialect and all passes.");

  py::class_<Module>(m, "Module")
      .def_static("parse", &Module::parse, py::arg("context"), py::arg("text"),
                  py::arg("source_name") = "<string>",
                  "Parses and verifies MLIR text; raises MLIRError with the "
                  "located diagnostics.")
      .def("verify", &Module::verify)
      .def("__str__", &Module::str)
      .def("compile_to_ptx", &Module::compileToPTX, py::kw_only(),
           py::arg("chip") = py::none(), py::arg("order") = py::none(),
           py::arg("precision") = py::none(), py::arg("threads") = py::none(),
           py::arg("batch_tile") = py::none(),
           py::arg("single_kernel_max") = py::none(),
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
}
