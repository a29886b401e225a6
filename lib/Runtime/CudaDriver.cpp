//===- CudaDriver.cpp - The CUDA driver API, opened at run time -----------===//

#include "CudaDriver.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

namespace fftconv {
namespace runtime {
namespace cuda {

namespace {

struct LoadedDriver {
  Driver driver = {};
  bool ok = false;
  std::string error;
};

// Looks up `name`, then each name in `fallbacks` (older spellings), and
// stores the first found in `slot`. Returns false if none is exported.
template <typename F>
bool lookup(void *library, F &slot, const char *name, std::string &missing,
            const char *fallback = nullptr) {
  void *symbol = dlsym(library, name);
  if (!symbol && fallback)
    symbol = dlsym(library, fallback);
  if (!symbol) {
    if (!missing.empty())
      missing += ", ";
    missing += name;
    return false;
  }
  slot = reinterpret_cast<F>(symbol);
  return true;
}

void open(LoadedDriver &loaded) {
  const char *libraryName = "libcuda.so.1";
  void *library = dlopen(libraryName, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *reason = dlerror();
    loaded.error = std::string("cannot load the CUDA driver library ") +
                   libraryName + " (" + (reason ? reason : "unknown reason") +
                   "): is an NVIDIA driver installed on this machine?";
    return;
  }
  Driver &d = loaded.driver;
  std::string missing;
  lookup(library, d.cuInit, "cuInit", missing);
  lookup(library, d.cuDriverGetVersion, "cuDriverGetVersion", missing);
  lookup(library, d.cuGetErrorString, "cuGetErrorString", missing);
  lookup(library, d.cuGetErrorName, "cuGetErrorName", missing);
  lookup(library, d.cuDeviceGetCount, "cuDeviceGetCount", missing);
  lookup(library, d.cuDeviceGet, "cuDeviceGet", missing);
  lookup(library, d.cuDeviceGetName, "cuDeviceGetName", missing);
  lookup(library, d.cuDeviceGetAttribute, "cuDeviceGetAttribute", missing);
  lookup(library, d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain",
         missing);
  lookup(library, d.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2",
         missing, "cuDevicePrimaryCtxRelease");
  lookup(library, d.cuCtxGetCurrent, "cuCtxGetCurrent", missing);
  lookup(library, d.cuCtxSetCurrent, "cuCtxSetCurrent", missing);
  lookup(library, d.cuCtxPushCurrent, "cuCtxPushCurrent_v2", missing,
         "cuCtxPushCurrent");
  lookup(library, d.cuCtxPopCurrent, "cuCtxPopCurrent_v2", missing,
         "cuCtxPopCurrent");
  lookup(library, d.cuCtxSynchronize, "cuCtxSynchronize", missing);
  lookup(library, d.cuModuleLoadDataEx, "cuModuleLoadDataEx", missing);
  lookup(library, d.cuModuleUnload, "cuModuleUnload", missing);
  lookup(library, d.cuModuleGetFunction, "cuModuleGetFunction", missing);
  lookup(library, d.cuFuncSetAttribute, "cuFuncSetAttribute", missing);
  lookup(library, d.cuLaunchKernel, "cuLaunchKernel", missing);
  lookup(library, d.cuMemAlloc, "cuMemAlloc_v2", missing);
  lookup(library, d.cuMemFree, "cuMemFree_v2", missing);
  lookup(library, d.cuMemGetInfo, "cuMemGetInfo_v2", missing);
  lookup(library, d.cuMemcpyHtoD, "cuMemcpyHtoD_v2", missing);
  lookup(library, d.cuMemcpyDtoH, "cuMemcpyDtoH_v2", missing);
  lookup(library, d.cuMemsetD8, "cuMemsetD8_v2", missing);
  lookup(library, d.cuStreamSynchronize, "cuStreamSynchronize", missing);
  lookup(library, d.cuEventCreate, "cuEventCreate", missing);
  lookup(library, d.cuEventRecord, "cuEventRecord", missing);
  lookup(library, d.cuEventSynchronize, "cuEventSynchronize", missing);
  lookup(library, d.cuEventElapsedTime, "cuEventElapsedTime_v2", missing,
         "cuEventElapsedTime");
  lookup(library, d.cuEventDestroy, "cuEventDestroy_v2", missing,
         "cuEventDestroy");
  if (!missing.empty()) {
    loaded.error = std::string("the CUDA driver library ") + libraryName +
                   " lacks entry points this runtime needs (" + missing +
                   "): the driver is too old";
    return;
  }
  CUresult result = d.cuInit(0);
  if (result != CUDA_SUCCESS) {
    loaded.error = describe(d, result, "cuInit") +
                   " (no usable CUDA device or driver on this machine?)";
    return;
  }
  loaded.ok = true;
}

} // namespace

const Driver *getDriver(std::string &error) {
  // Opened once; the library stays loaded for the process's lifetime.
  static LoadedDriver *loaded = [] {
    auto *result = new LoadedDriver();
    open(*result);
    return result;
  }();
  if (!loaded->ok) {
    error = loaded->error;
    return nullptr;
  }
  return &loaded->driver;
}

std::string describe(const Driver &driver, CUresult result, const char *call) {
  const char *name = nullptr;
  const char *text = nullptr;
  if (driver.cuGetErrorName && driver.cuGetErrorName(result, &name) != 0)
    name = nullptr;
  if (driver.cuGetErrorString && driver.cuGetErrorString(result, &text) != 0)
    text = nullptr;
  std::string message = std::string(call) + " failed: ";
  message += name ? name : "unknown CUDA error";
  message += " (" + std::to_string(result) + ")";
  if (text)
    message += std::string(": ") + text;
  return message;
}

ScopedContext::ScopedContext(const Driver &driver, CUcontext context)
    : driver_(driver) {
  CUcontext current = nullptr;
  status_ = driver_.cuCtxGetCurrent(&current);
  if (status_ != CUDA_SUCCESS || current == context)
    return;
  status_ = driver_.cuCtxPushCurrent(context);
  pushed_ = status_ == CUDA_SUCCESS;
}

ScopedContext::~ScopedContext() {
  if (pushed_) {
    CUcontext popped = nullptr;
    driver_.cuCtxPopCurrent(&popped);
  }
}

} // namespace cuda
} // namespace runtime
} // namespace fftconv
