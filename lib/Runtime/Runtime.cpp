//===- Runtime.cpp - Load a manifest's PTX and launch its kernels ---------===//

#include "fftconv-runtime/Runtime.h"

#include "CudaDriver.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fftconv {
namespace runtime {

using namespace cuda;

namespace {

bool readFile(const std::string &path, const char *what, std::string &content,
              std::string &error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = std::string("cannot read the ") + what + " '" + path +
            "': " + std::strerror(errno);
    return false;
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  content = buffer.str();
  return true;
}

// "sm_90" -> 90, "sm_90a" -> 90 with `exact`; -1 if not of that form.
int parseChip(const std::string &chip, bool &exact) {
  exact = false;
  if (chip.compare(0, 3, "sm_") != 0)
    return -1;
  size_t i = 3;
  int value = 0;
  while (i < chip.size() && chip[i] >= '0' && chip[i] <= '9' && value < 10000)
    value = value * 10 + (chip[i++] - '0');
  if (i == 3)
    return -1;
  if (i < chip.size()) {
    if (i + 1 != chip.size() || (chip[i] != 'a' && chip[i] != 'f'))
      return -1;
    exact = chip[i] == 'a';
  }
  return value;
}

/// The driver, or null with `error` set where `module` (a program's) is
/// not loaded.
const Driver *loadedDriver(const void *module, std::string &error) {
  std::string dummy;
  const Driver *d = getDriver(dummy);
  if (!d || !module) {
    error = "the program is not loaded";
    return nullptr;
  }
  return d;
}

std::string kernelLabel(const Manifest &manifest, size_t index) {
  return "kernel " + std::to_string(index) + " (" +
         manifest.kernels[index].name + ")";
}

} // namespace

std::unique_ptr<Program> Program::load(const std::string &manifestPath,
                                       const std::string &ptxPath, int device,
                                       std::string &error) {
  Manifest manifest;
  if (!Manifest::read(manifestPath, manifest, error))
    return nullptr;
  int errorCode;
  return loadManifest(manifest, ptxPath, nullptr, device, LoadOptions(), error,
                      errorCode);
}

std::unique_ptr<Program> Program::loadData(const std::string &manifestJson,
                                           const std::string &ptx, int device,
                                           std::string &error) {
  Manifest manifest;
  if (!Manifest::parse(manifestJson.data(), manifestJson.size(), manifest,
                       error))
    return nullptr;
  int errorCode;
  return loadManifest(manifest, "", &ptx, device, LoadOptions(), error,
                      errorCode);
}

std::unique_ptr<Program>
Program::loadManifest(const Manifest &manifest, const std::string &ptxPath,
                      const std::string *ptx, int device,
                      const LoadOptions &options, std::string &error,
                      int &errorCode) {
  std::string ptxText;
  if (!ptx) {
    std::string path = ptxPath.empty() ? manifest.ptxPath() : ptxPath;
    if (path.empty()) {
      error = (manifest.path.empty() ? "" : manifest.path + ": ") +
              "the manifest names no PTX file (\"ptx\") and none was given";
      errorCode = kErrorInvalid;
      return nullptr;
    }
    if (!readFile(path, "PTX file", ptxText, error)) {
      errorCode = kErrorInvalid;
      return nullptr;
    }
    ptx = &ptxText;
  }
  std::unique_ptr<Program> program(new Program());
  program->manifest_ = manifest;
  program->options_ = options;
  errorCode = program->initialize(*ptx, device, error);
  if (errorCode != 0)
    return nullptr;
  return program;
}

int Program::initialize(const std::string &ptx, int device,
                        std::string &error) {
  bufferArguments_ = manifest_.bufferArguments();
  const char *sync = std::getenv("FFTCONV_RUNTIME_SYNC");
  syncEachKernel_ = sync && *sync && std::strcmp(sync, "0") != 0;
  // PTX text (or a cubin, which the driver loads as well).
  bool elf = ptx.compare(0, 4,
                         "\x7f"
                         "ELF") == 0;
  if (!elf && ptx.find(".version") == std::string::npos) {
    error = "the PTX text holds no '.version' directive: not a PTX module";
    return kErrorInvalid;
  }

  const Driver *d = getDriver(error);
  if (!d)
    return kErrorUnsupported;
  int count = 0;
  CUresult result = d->cuDeviceGetCount(&count);
  if (result != CUDA_SUCCESS) {
    error = describe(*d, result, "cuDeviceGetCount");
    return result;
  }
  if (device < 0 || device >= count) {
    error = "CUDA device " + std::to_string(device) + " does not exist (" +
            std::to_string(count) + " device(s))";
    return kErrorInvalid;
  }
  CUdevice handle;
  if ((result = d->cuDeviceGet(&handle, device)) != CUDA_SUCCESS) {
    error = describe(*d, result, "cuDeviceGet");
    return result;
  }
  int major = 0, minor = 0, sharedOptin = 0;
  d->cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                          handle);
  d->cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                          handle);
  d->cuDeviceGetAttribute(&sharedOptin,
                          CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                          handle);
  bool exact;
  int required = parseChip(manifest_.chip, exact);
  int actual = major * 10 + minor;
  if (required > 0 && (exact ? actual != required : actual < required)) {
    error = "the PTX was compiled for " + manifest_.chip + " and device " +
            std::to_string(device) + " is sm_" + std::to_string(actual) +
            ": compile for this chip";
    return kErrorUnsupported;
  }

  CUcontext context = nullptr;
  if ((result = d->cuDevicePrimaryCtxRetain(&context, handle)) !=
      CUDA_SUCCESS) {
    error = describe(*d, result, "cuDevicePrimaryCtxRetain");
    return result;
  }
  device_ = handle;
  context_ = context;
  retainedPrimary_ = true;

  ScopedContext scope(*d, context);
  if (scope.status() != CUDA_SUCCESS) {
    error = describe(*d, scope.status(), "cuCtxPushCurrent");
    return scope.status();
  }

  // The JIT's logs make PTX errors readable.
  char errorLog[8192] = {0};
  char infoLog[4096] = {0};
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                   CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {
      errorLog, reinterpret_cast<void *>(uintptr_t(sizeof(errorLog))), infoLog,
      reinterpret_cast<void *>(uintptr_t(sizeof(infoLog)))};
  CUmodule module = nullptr;
  result = d->cuModuleLoadDataEx(&module, ptx.c_str(), 4, options, values);
  if (result != CUDA_SUCCESS) {
    error = describe(*d, result, "cuModuleLoadDataEx (loading the PTX)");
    errorLog[sizeof(errorLog) - 1] = 0;
    if (errorLog[0])
      error += "; JIT log: " + std::string(errorLog);
    return result;
  }
  module_ = module;

  functions_.assign(manifest_.kernels.size(), nullptr);
  for (size_t i = 0; i < manifest_.kernels.size(); ++i) {
    const Kernel &kernel = manifest_.kernels[i];
    CUfunction function = nullptr;
    result = d->cuModuleGetFunction(&function, module, kernel.name.c_str());
    if (result != CUDA_SUCCESS) {
      error = describe(*d, result, "cuModuleGetFunction") + " for " +
              kernelLabel(manifest_, i) + ": the PTX has no such entry";
      return result;
    }
    functions_[i] = function;
    if (kernel.sharedBytes > static_cast<unsigned>(sharedOptin)) {
      error = kernelLabel(manifest_, i) + " needs " +
              std::to_string(kernel.sharedBytes) +
              " bytes of dynamic shared memory; device " +
              std::to_string(device) + " allows " +
              std::to_string(sharedOptin) + " per block";
      return kErrorUnsupported;
    }
    // Raised for any dynamic use: the 48 KiB default also counts the kernel's
    // static shared memory, so 48 KiB of dynamic memory alone can already be
    // refused at launch.
    if (kernel.sharedBytes > 0) {
      result = d->cuFuncSetAttribute(
          function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
          static_cast<int>(kernel.sharedBytes));
      if (result != CUDA_SUCCESS) {
        error = describe(*d, result, "cuFuncSetAttribute") + " raising " +
                kernelLabel(manifest_, i) + "'s dynamic shared memory to " +
                std::to_string(kernel.sharedBytes) + " bytes";
        return result;
      }
    }
  }

  workspaces_.assign(manifest_.arguments.size(), 0);
  for (size_t i = 0; i < manifest_.arguments.size(); ++i) {
    const Argument &argument = manifest_.arguments[i];
    // A caller that owns the workspaces (a binding over PyTorch, whose
    // allocator should see and count all the memory) passes them at launch.
    if (argument.role != Role::Workspace || options_.callerWorkspaces)
      continue;
    CUdeviceptr pointer = 0;
    result = d->cuMemAlloc(&pointer, argument.numBytes());
    if (result != CUDA_SUCCESS) {
      error = describe(*d, result, "cuMemAlloc") + " for workspace \"" +
              argument.name + "\" (" + std::to_string(argument.numBytes()) +
              " bytes)";
      return result;
    }
    workspaces_[i] = pointer;
  }
  addresses_.assign(manifest_.arguments.size(), 0);
  return 0;
}

uint64_t Program::workspace(int argument) const {
  if (argument < 0 || static_cast<size_t>(argument) >= workspaces_.size())
    return 0;
  return workspaces_[argument];
}

int Program::launch(const uint64_t *buffers, size_t numBuffers, void *stream,
                    std::string &error) {
  if (!manifest_.exchanges.empty()) {
    error = "the program is sharded over " +
            std::to_string(manifest_.exchanges.front().ranks) +
            " ranks: its exchanges run through a communication library "
            "(fftconv.distributed), its kernels between them "
            "(fftconvRuntimeLaunchKernels)";
    return kErrorUnsupported;
  }
  std::vector<int> all(manifest_.kernels.size());
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = static_cast<int>(i);
  return launchKernels(buffers, numBuffers, stream, all.data(), all.size(),
                       error);
}

int Program::launchKernels(const uint64_t *buffers, size_t numBuffers,
                           void *stream, const int *kernels, size_t numKernels,
                           std::string &error) {
  const Driver *d = loadedDriver(module_, error);
  if (!d)
    return kErrorInvalid;
  const size_t numArguments = manifest_.arguments.size();
  bool perArgument = numBuffers == numArguments;
  if (numBuffers != bufferArguments_.size() && !perArgument) {
    error = "expected " + std::to_string(bufferArguments_.size()) +
            " buffers (the manifest's inputs and outputs) or " +
            std::to_string(numArguments) + " (one per argument), got " +
            std::to_string(numBuffers);
    return kErrorInvalid;
  }
  if (numBuffers && !buffers) {
    error = "the buffer array is null";
    return kErrorInvalid;
  }
  if (numKernels && !kernels) {
    error = "the kernel list is null";
    return kErrorInvalid;
  }
  size_t next = 0;
  for (size_t i = 0; i < numArguments; ++i) {
    const Argument &argument = manifest_.arguments[i];
    std::string label = std::string(roleName(argument.role)) + " \"" +
                        argument.name + "\" (argument " + std::to_string(i) +
                        ")";
    uint64_t given = 0;
    if (argument.role == Role::Workspace) {
      given = perArgument ? buffers[i] : 0;
      if (!given && options_.callerWorkspaces) {
        error = "no device pointer for " + label +
                ": the program was loaded to use the caller's workspaces "
                "(FFTCONV_RUNTIME_CALLER_WORKSPACES), pass one per argument";
        return kErrorInvalid;
      }
    } else {
      given = perArgument ? buffers[i] : buffers[next++];
      if (!given) {
        error = "the device pointer of " + label + " is null";
        return kErrorInvalid;
      }
    }
    // The kernels move 16-byte vectors; an offset view would fault or read
    // the wrong elements.
    if (given % 16 != 0) {
      error = "the device pointer of " + label +
              " is not 16-byte aligned (a view at an offset?)";
      return kErrorInvalid;
    }
    addresses_[i] = given ? given : workspaces_[i];
  }
  // The kernels take their buffers as noalias: an output may share memory
  // with no input and no other output.
  for (size_t i = 0; i < numArguments; ++i) {
    const Argument &output = manifest_.arguments[i];
    if (output.role != Role::Output)
      continue;
    for (size_t j = 0; j < numArguments; ++j) {
      const Argument &other = manifest_.arguments[j];
      if (j == i || other.role == Role::Workspace)
        continue;
      if (addresses_[i] < addresses_[j] + other.numBytes() &&
          addresses_[j] < addresses_[i] + output.numBytes()) {
        error = "output \"" + output.name + "\" shares memory with " +
                roleName(other.role) + " \"" + other.name + "\"";
        return kErrorInvalid;
      }
    }
  }
  for (size_t j = 0; j < numKernels; ++j) {
    if (kernels[j] < 0 ||
        static_cast<size_t>(kernels[j]) >= manifest_.kernels.size()) {
      error = "kernel index " + std::to_string(kernels[j]) + " out of range (" +
              std::to_string(manifest_.kernels.size()) + " kernels)";
      return kErrorInvalid;
    }
  }

  ScopedContext scope(*d, static_cast<CUcontext>(context_));
  if (scope.status() != CUDA_SUCCESS) {
    error = describe(*d, scope.status(), "cuCtxPushCurrent");
    return scope.status();
  }
  for (size_t j = 0; j < numKernels; ++j) {
    size_t index = static_cast<size_t>(kernels[j]);
    const Kernel &kernel = manifest_.kernels[index];
    // One pointer per parameter, each to a 64-bit device address; the driver
    // copies the values at launch, so the arrays are reused.
    params_.resize(kernel.arguments.size());
    for (size_t p = 0; p < kernel.arguments.size(); ++p)
      params_[p] = &addresses_[kernel.arguments[p]];
    if (int result = launchOne(index, stream, error))
      return result;
  }
  return 0;
}

int Program::launchOne(size_t index, void *stream, std::string &error) {
  std::string dummy;
  const Driver &d = *getDriver(dummy); // loadedDriver: the callers checked it
  const Kernel &kernel = manifest_.kernels[index];
  auto cuStream = static_cast<CUstream>(stream);
  CUresult result = d.cuLaunchKernel(
      static_cast<CUfunction>(functions_[index]), kernel.grid[0],
      kernel.grid[1], kernel.grid[2], kernel.block[0], kernel.block[1],
      kernel.block[2], kernel.sharedBytes, cuStream,
      params_.empty() ? nullptr : params_.data(), nullptr);
  if (result != CUDA_SUCCESS) {
    error = describe(d, result, "cuLaunchKernel") + " launching " +
            kernelLabel(manifest_, index);
    return result;
  }
  if (syncEachKernel_) {
    result = d.cuStreamSynchronize(cuStream);
    if (result != CUDA_SUCCESS) {
      error = describe(d, result, "cuStreamSynchronize") + " after " +
              kernelLabel(manifest_, index);
      return result;
    }
  }
  return 0;
}

int Program::launchKernelOperands(int kernel, const uint64_t *operands,
                                  size_t numOperands, void *stream,
                                  std::string &error) {
  const Driver *d = loadedDriver(module_, error);
  if (!d)
    return kErrorInvalid;
  if (kernel < 0 || static_cast<size_t>(kernel) >= manifest_.kernels.size()) {
    error = "kernel index " + std::to_string(kernel) + " out of range (" +
            std::to_string(manifest_.kernels.size()) + " kernels)";
    return kErrorInvalid;
  }
  const Kernel &info = manifest_.kernels[kernel];
  if (numOperands != info.arguments.size()) {
    error = "expected " + std::to_string(info.arguments.size()) +
            " operands for " + kernelLabel(manifest_, kernel) + ", got " +
            std::to_string(numOperands);
    return kErrorInvalid;
  }
  if (numOperands && !operands) {
    error = "the operand array is null";
    return kErrorInvalid;
  }
  for (size_t p = 0; p < numOperands; ++p) {
    // As launchKernels: the kernels move 16-byte vectors.
    if (!operands[p] || operands[p] % 16 != 0) {
      error = "operand " + std::to_string(p) + " of " +
              kernelLabel(manifest_, kernel) +
              " is null or not 16-byte aligned";
      return kErrorInvalid;
    }
  }
  ScopedContext scope(*d, static_cast<CUcontext>(context_));
  if (scope.status() != CUDA_SUCCESS) {
    error = describe(*d, scope.status(), "cuCtxPushCurrent");
    return scope.status();
  }
  std::vector<uint64_t> values(operands, operands + numOperands);
  params_.resize(numOperands);
  for (size_t p = 0; p < numOperands; ++p)
    params_[p] = &values[p];
  return launchOne(static_cast<size_t>(kernel), stream, error);
}

void Program::release() {
  std::string dummy;
  const Driver *d = getDriver(dummy);
  if (!d || !context_)
    return;
  {
    ScopedContext scope(*d, static_cast<CUcontext>(context_));
    if (scope.status() == CUDA_SUCCESS) {
      for (uint64_t &pointer : workspaces_) {
        if (pointer)
          d->cuMemFree(pointer);
        pointer = 0;
      }
      if (module_)
        d->cuModuleUnload(static_cast<CUmodule>(module_));
    }
  }
  module_ = nullptr;
  if (retainedPrimary_)
    d->cuDevicePrimaryCtxRelease(device_);
  retainedPrimary_ = false;
  context_ = nullptr;
}

Program::~Program() { release(); }

} // namespace runtime
} // namespace fftconv

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

using fftconv::runtime::Argument;
using fftconv::runtime::Convolution;
using fftconv::runtime::Kernel;
using fftconv::runtime::kErrorInvalid;
using fftconv::runtime::LoadOptions;
using fftconv::runtime::Manifest;
using fftconv::runtime::Program;

namespace {

thread_local std::string lastError;
thread_local int lastErrorCode = 0;

// Records a failure and returns its code (never 0: a failure must read as
// one even if a driver call reported success by mistake).
int failWith(const std::string &message, int code = kErrorInvalid) {
  lastError = message;
  lastErrorCode = code ? code : kErrorInvalid;
  return lastErrorCode;
}

Program *unwrap(fftconvRuntime *program) {
  return reinterpret_cast<Program *>(program);
}
const Program *unwrap(const fftconvRuntime *program) {
  return reinterpret_cast<const Program *>(program);
}
fftconvRuntime *wrap(std::unique_ptr<Program> program) {
  return reinterpret_cast<fftconvRuntime *>(program.release());
}
const Manifest *unwrap(const fftconvRuntimeManifest *manifest) {
  return reinterpret_cast<const Manifest *>(manifest);
}
fftconvRuntimeManifest *wrap(std::unique_ptr<Manifest> manifest) {
  return reinterpret_cast<fftconvRuntimeManifest *>(manifest.release());
}

// Checks an accessor's arguments; sets the error when they are wrong.
bool inRange(const void *object, const void *out, int index, size_t size,
             const char *function, const char *what) {
  if (!object || !out) {
    failWith(std::string(function) + ": null argument");
    return false;
  }
  if (index < 0 || static_cast<size_t>(index) >= size) {
    failWith(std::string(function) + ": index " + std::to_string(index) +
             " out of range (" + std::to_string(size) + " " + what + ")");
    return false;
  }
  return true;
}

} // namespace

extern "C" {

int fftconvRuntimeCheckManifest(const char *json, size_t length) {
  if (!json)
    return failWith("invalid manifest: no text given");
  Manifest manifest;
  std::string error;
  if (!Manifest::parse(json, length, manifest, error))
    return failWith(error);
  return 0;
}

fftconvRuntimeManifest *fftconvRuntimeManifestParse(const char *json,
                                                    size_t length) {
  if (!json) {
    failWith("invalid manifest: no text given");
    return nullptr;
  }
  auto manifest = std::make_unique<Manifest>();
  std::string error;
  if (!Manifest::parse(json, length, *manifest, error)) {
    failWith(error);
    return nullptr;
  }
  return wrap(std::move(manifest));
}

fftconvRuntimeManifest *fftconvRuntimeManifestRead(const char *path) {
  if (!path) {
    failWith("fftconvRuntimeManifestRead: no path given");
    return nullptr;
  }
  auto manifest = std::make_unique<Manifest>();
  std::string error;
  if (!Manifest::read(path, *manifest, error)) {
    failWith(error);
    return nullptr;
  }
  return wrap(std::move(manifest));
}

void fftconvRuntimeManifestDestroy(fftconvRuntimeManifest *manifest) {
  delete reinterpret_cast<Manifest *>(manifest);
}

int fftconvRuntimeManifestGetInfo(const fftconvRuntimeManifest *manifest,
                                  fftconvRuntimeManifestInfo *info) {
  if (!manifest || !info)
    return failWith("fftconvRuntimeManifestGetInfo: null argument");
  const Manifest &m = *unwrap(manifest);
  info->format = m.format.c_str();
  info->version = m.version;
  info->chip = m.chip.c_str();
  info->ptx = m.ptx.c_str();
  info->entry = m.entry.c_str();
  info->path = m.path.c_str();
  info->numArguments = static_cast<int>(m.arguments.size());
  info->numKernels = static_cast<int>(m.kernels.size());
  info->numConvolutions = static_cast<int>(m.convolutions.size());
  return 0;
}

int fftconvRuntimeManifestGetArgument(const fftconvRuntimeManifest *manifest,
                                      int index,
                                      fftconvRuntimeArgument *argument) {
  if (!inRange(manifest, argument, index,
               manifest ? unwrap(manifest)->arguments.size() : 0,
               "fftconvRuntimeManifestGetArgument", "arguments"))
    return kErrorInvalid;
  const Argument &a = unwrap(manifest)->arguments[index];
  argument->name = a.name.c_str();
  argument->role = static_cast<int>(a.role);
  argument->dtype = static_cast<int>(a.dtype);
  argument->rank = static_cast<int>(a.shape.size());
  argument->shape = a.shape.data();
  argument->numBytes = a.numBytes();
  argument->producer = a.producer;
  argument->numDependsOn = static_cast<int>(a.dependsOn.size());
  argument->dependsOn = a.dependsOn.data();
  argument->numProducers = a.producer >= 0 ? a.producerCount : 0;
  return 0;
}

int fftconvRuntimeManifestGetKernel(const fftconvRuntimeManifest *manifest,
                                    int index, fftconvRuntimeKernel *kernel) {
  if (!inRange(manifest, kernel, index,
               manifest ? unwrap(manifest)->kernels.size() : 0,
               "fftconvRuntimeManifestGetKernel", "kernels"))
    return kErrorInvalid;
  const Manifest &m = *unwrap(manifest);
  const Kernel &k = m.kernels[index];
  kernel->name = k.name.c_str();
  for (int i = 0; i < 3; ++i) {
    kernel->grid[i] = k.grid[i];
    kernel->block[i] = k.block[i];
  }
  kernel->sharedBytes = k.sharedBytes;
  kernel->numArguments = static_cast<int>(k.arguments.size());
  kernel->arguments = k.arguments.data();
  kernel->isProducer = m.isProducer(index) ? 1 : 0;
  return 0;
}

int fftconvRuntimeManifestGetKernelWrites(
    const fftconvRuntimeManifest *manifest, int index, int *positions,
    int capacity) {
  // positions may be null with no capacity: a query of the count alone.
  const void *out = capacity > 0 ? static_cast<const void *>(positions)
                                 : static_cast<const void *>(manifest);
  if (!inRange(manifest, out, index,
               manifest ? unwrap(manifest)->kernels.size() : 0,
               "fftconvRuntimeManifestGetKernelWrites", "kernels"))
    return kErrorInvalid;
  const std::vector<int> &writes = unwrap(manifest)->kernels[index].writes;
  for (int i = 0; i < capacity && i < static_cast<int>(writes.size()); ++i)
    positions[i] = writes[i];
  return static_cast<int>(writes.size());
}

int fftconvRuntimeManifestNumExchanges(const fftconvRuntimeManifest *manifest) {
  if (!manifest)
    return failWith("fftconvRuntimeManifestNumExchanges: null manifest");
  return static_cast<int>(unwrap(manifest)->exchanges.size());
}

int fftconvRuntimeManifestGetExchange(const fftconvRuntimeManifest *manifest,
                                      int index, int *after, int *send,
                                      int *recv, int64_t *ranks) {
  if (!inRange(manifest, after, index,
               manifest ? unwrap(manifest)->exchanges.size() : 0,
               "fftconvRuntimeManifestGetExchange", "exchanges") ||
      !send || !recv || !ranks)
    return kErrorInvalid;
  const fftconv::runtime::Exchange &e = unwrap(manifest)->exchanges[index];
  *after = e.after;
  *send = e.send;
  *recv = e.recv;
  *ranks = e.ranks;
  return 0;
}

int fftconvRuntimeManifestGetShard(const fftconvRuntimeManifest *manifest,
                                   int64_t *rank, int64_t *ranks,
                                   int64_t *rowLength) {
  if (!manifest || !rank || !ranks || !rowLength)
    return failWith("fftconvRuntimeManifestGetShard: null argument");
  const Manifest &m = *unwrap(manifest);
  if (m.shardRanks == 0)
    return failWith("fftconvRuntimeManifestGetShard: the manifest has no "
                    "shard");
  *rank = m.shardRank;
  *ranks = m.shardRanks;
  *rowLength = m.shardRowLength;
  return 0;
}

int fftconvRuntimeManifestGetConvolution(
    const fftconvRuntimeManifest *manifest, int index,
    fftconvRuntimeConvolution *convolution) {
  if (!inRange(manifest, convolution, index,
               manifest ? unwrap(manifest)->convolutions.size() : 0,
               "fftconvRuntimeManifestGetConvolution", "convolutions"))
    return kErrorInvalid;
  const Convolution &c = unwrap(manifest)->convolutions[index];
  convolution->form = static_cast<int>(c.form);
  convolution->precision = static_cast<int>(c.precision);
  convolution->fftSize = c.fftSize;
  convolution->numFactors = static_cast<int>(c.factors.size());
  convolution->factors = c.factors.data();
  convolution->numKernels = static_cast<int>(c.kernels.size());
  convolution->kernels = c.kernels.data();
  return 0;
}

fftconvRuntime *fftconvRuntimeLoad(const char *manifestPath,
                                   const char *ptxPath, int device) {
  if (!manifestPath) {
    failWith("fftconvRuntimeLoad: no manifest path given");
    return nullptr;
  }
  Manifest manifest;
  std::string error;
  if (!Manifest::read(manifestPath, manifest, error)) {
    failWith(error);
    return nullptr;
  }
  return fftconvRuntimeLoadManifest(
      reinterpret_cast<const fftconvRuntimeManifest *>(&manifest), ptxPath,
      nullptr, 0, device, 0);
}

fftconvRuntime *fftconvRuntimeLoadData(const char *manifestJson,
                                       size_t manifestLength, const char *ptx,
                                       size_t ptxLength, int device) {
  if (!manifestJson || !ptx) {
    failWith("fftconvRuntimeLoadData: no manifest or no PTX given");
    return nullptr;
  }
  Manifest manifest;
  std::string error;
  if (!Manifest::parse(manifestJson, manifestLength, manifest, error)) {
    failWith(error);
    return nullptr;
  }
  return fftconvRuntimeLoadManifest(
      reinterpret_cast<const fftconvRuntimeManifest *>(&manifest), nullptr, ptx,
      ptxLength, device, 0);
}

fftconvRuntime *
fftconvRuntimeLoadManifest(const fftconvRuntimeManifest *manifest,
                           const char *ptxPath, const char *ptx,
                           size_t ptxLength, int device, unsigned flags) {
  if (!manifest) {
    failWith("fftconvRuntimeLoadManifest: no manifest given");
    return nullptr;
  }
  if (flags & ~unsigned(FFTCONV_RUNTIME_CALLER_WORKSPACES)) {
    failWith("fftconvRuntimeLoadManifest: unknown flags " +
             std::to_string(flags));
    return nullptr;
  }
  LoadOptions options;
  options.callerWorkspaces = flags & FFTCONV_RUNTIME_CALLER_WORKSPACES;
  std::string ptxText;
  if (ptx)
    ptxText.assign(ptx, ptxLength);
  std::string error;
  int errorCode = 0;
  auto program = Program::loadManifest(
      *unwrap(manifest), ptxPath ? ptxPath : "", ptx ? &ptxText : nullptr,
      device, options, error, errorCode);
  if (!program) {
    failWith(error, errorCode);
    return nullptr;
  }
  return wrap(std::move(program));
}

const fftconvRuntimeManifest *
fftconvRuntimeGetManifest(const fftconvRuntime *program) {
  if (!program) {
    failWith("fftconvRuntimeGetManifest: null program");
    return nullptr;
  }
  return reinterpret_cast<const fftconvRuntimeManifest *>(
      &unwrap(program)->manifest());
}

int fftconvRuntimeNumArguments(const fftconvRuntime *program) {
  return program
             ? static_cast<int>(unwrap(program)->manifest().arguments.size())
             : 0;
}

int fftconvRuntimeGetArgument(const fftconvRuntime *program, int index,
                              fftconvRuntimeArgument *argument) {
  if (!program)
    return failWith("fftconvRuntimeGetArgument: null argument");
  return fftconvRuntimeManifestGetArgument(fftconvRuntimeGetManifest(program),
                                           index, argument);
}

int fftconvRuntimeNumKernels(const fftconvRuntime *program) {
  return program ? static_cast<int>(unwrap(program)->manifest().kernels.size())
                 : 0;
}

uint64_t fftconvRuntimeWorkspace(const fftconvRuntime *program, int index) {
  return program ? unwrap(program)->workspace(index) : 0;
}

int fftconvRuntimeLaunch(fftconvRuntime *program, const uint64_t *buffers,
                         size_t numBuffers, void *stream) {
  if (!program)
    return failWith("fftconvRuntimeLaunch: null program");
  std::string error;
  int result = unwrap(program)->launch(buffers, numBuffers, stream, error);
  return result ? failWith(error, result) : 0;
}

int fftconvRuntimeLaunchKernels(fftconvRuntime *program,
                                const uint64_t *buffers, size_t numBuffers,
                                void *stream, const int *kernels,
                                size_t numKernels) {
  if (!program)
    return failWith("fftconvRuntimeLaunchKernels: null program");
  std::string error;
  int result = unwrap(program)->launchKernels(buffers, numBuffers, stream,
                                              kernels, numKernels, error);
  return result ? failWith(error, result) : 0;
}

int fftconvRuntimeLaunchKernelOperands(fftconvRuntime *program, int kernel,
                                       const uint64_t *operands,
                                       size_t numOperands, void *stream) {
  if (!program)
    return failWith("fftconvRuntimeLaunchKernelOperands: null program");
  std::string error;
  int result = unwrap(program)->launchKernelOperands(
      kernel, operands, numOperands, stream, error);
  return result ? failWith(error, result) : 0;
}

void fftconvRuntimeDestroy(fftconvRuntime *program) { delete unwrap(program); }

const char *fftconvRuntimeLastError(void) { return lastError.c_str(); }

int fftconvRuntimeLastErrorCode(void) { return lastErrorCode; }

} // extern "C"
