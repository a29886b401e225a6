//===- CudaDriver.h - The CUDA driver API, opened at run time ---*- C++ -*-===//
//
// The few driver entry points the runtime and fftconv-run use, declared here
// (no CUDA headers needed) and looked up in libcuda.so.1 with dlopen/dlsym
// the first time they are needed. Where the driver exports a versioned symbol
// (`cuMemAlloc_v2`, ...) that is the one the CUDA headers call, and the one
// looked up here.
//
// Internal to lib/Runtime: not installed.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_RUNTIME_CUDADRIVER_H
#define FFTCONV_RUNTIME_CUDADRIVER_H

#include "fftconv-runtime/Runtime.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace fftconv {
namespace runtime {
namespace cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = uint64_t;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;

constexpr CUresult CUDA_SUCCESS = 0;

// Enumerators of cuda.h that are used here (values fixed by the driver ABI).
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_JIT_INFO_LOG_BUFFER = 3;
constexpr int CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
constexpr unsigned CU_EVENT_DEFAULT = 0;

/// The driver's entry points. Every member is non-null once getDriver()
/// succeeded.
struct Driver {
  CUresult (*cuInit)(unsigned flags);
  CUresult (*cuDriverGetVersion)(int *version);
  CUresult (*cuGetErrorString)(CUresult error, const char **text);
  CUresult (*cuGetErrorName)(CUresult error, const char **text);
  CUresult (*cuDeviceGetCount)(int *count);
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
  CUresult (*cuDeviceGetName)(char *name, int length, CUdevice device);
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device);
  CUresult (*cuCtxGetCurrent)(CUcontext *context);
  CUresult (*cuCtxSetCurrent)(CUcontext context);
  CUresult (*cuCtxPushCurrent)(CUcontext context);
  CUresult (*cuCtxPopCurrent)(CUcontext *context);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuModuleLoadDataEx)(CUmodule *module, const void *image,
                                 unsigned numOptions, int *options,
                                 void **optionValues);
  CUresult (*cuModuleUnload)(CUmodule module);
  CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module,
                                  const char *name);
  CUresult (*cuFuncSetAttribute)(CUfunction function, int attribute, int value);
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned gridX,
                             unsigned gridY, unsigned gridZ, unsigned blockX,
                             unsigned blockY, unsigned blockZ,
                             unsigned sharedBytes, CUstream stream,
                             void **params, void **extra);
  CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes);
  CUresult (*cuMemFree)(CUdeviceptr pointer);
  CUresult (*cuMemGetInfo)(size_t *free, size_t *total);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr destination, const void *source,
                           size_t bytes);
  CUresult (*cuMemcpyDtoH)(void *destination, CUdeviceptr source, size_t bytes);
  CUresult (*cuMemsetD8)(CUdeviceptr destination, unsigned char value,
                         size_t count);
  CUresult (*cuStreamSynchronize)(CUstream stream);
  CUresult (*cuEventCreate)(CUevent *event, unsigned flags);
  CUresult (*cuEventRecord)(CUevent event, CUstream stream);
  CUresult (*cuEventSynchronize)(CUevent event);
  CUresult (*cuEventElapsedTime)(float *milliseconds, CUevent start,
                                 CUevent end);
  CUresult (*cuEventDestroy)(CUevent event);
};

/// Opens libcuda.so.1 (once per process) and calls cuInit(0). Returns null
/// and sets `error` when there is no driver or it cannot initialize (no
/// device, for instance); the same message comes back on every later call.
FFTCONV_RUNTIME_EXPORT const Driver *getDriver(std::string &error);

/// "<call> failed: CUDA_ERROR_X (n): <the driver's description>".
FFTCONV_RUNTIME_EXPORT std::string describe(const Driver &driver,
                                            CUresult result, const char *call);

/// Makes `context` current on this thread for the object's lifetime and
/// restores the previous one after (no-op when it is already current).
class FFTCONV_RUNTIME_EXPORT ScopedContext {
public:
  ScopedContext(const Driver &driver, CUcontext context);
  ~ScopedContext();
  ScopedContext(const ScopedContext &) = delete;
  ScopedContext &operator=(const ScopedContext &) = delete;
  /// CUDA_SUCCESS, or the error of making the context current.
  CUresult status() const { return status_; }

private:
  const Driver &driver_;
  bool pushed_ = false;
  CUresult status_ = CUDA_SUCCESS;
};

} // namespace cuda
} // namespace runtime
} // namespace fftconv

#endif // FFTCONV_RUNTIME_CUDADRIVER_H
