/* A stand-in for the CUDA driver (libcuda.so.1) with the entry points the
 * runtime looks up, for test_runtime_stub_driver.py: the runtime's load and
 * launch paths run on a machine without a GPU. It reports one sm_90 device
 * with 227 KiB of opt-in shared memory, "loads" any module text holding
 * ".version" (text holding "BROKEN" fails like PTX that does not assemble,
 * with a JIT log), finds an entry when the text has ".entry <name>(", and
 * writes every allocation, attribute and launch, with the launch's grid,
 * block, shared memory, stream and parameter values, one line each, to the
 * file named by FFTCONV_STUB_LOG. Nothing runs.
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
enum {
  kInvalidPtx = 218,
  kNotFound = 500,
};

static void record(const char *format, ...) {
  const char *path = getenv("FFTCONV_STUB_LOG");
  if (!path)
    return;
  FILE *file = fopen(path, "a");
  if (!file)
    return;
  va_list arguments;
  va_start(arguments, format);
  vfprintf(file, format, arguments);
  va_end(arguments);
  fputc('\n', file);
  fclose(file);
}

static int primaryContext;
static void *contextStack[16];
static int contextDepth;
static void *current;

/* Module images by handle: one is enough for these tests, and each load
 * keeps its own copy. */
typedef struct {
  char *image;
} Module;

/* A function: its name and number of parameters, counted in the image. */
typedef struct {
  char name[256];
  int numParams;
} Function;

static uint64_t nextAddress = 0x100000000ull;

CUresult cuInit(unsigned flags) { return 0; }
CUresult cuDriverGetVersion(int *version) {
  *version = 13000;
  return 0;
}
CUresult cuGetErrorString(CUresult error, const char **text) {
  *text = "stub driver error";
  return 0;
}
CUresult cuGetErrorName(CUresult error, const char **text) {
  *text = error == kInvalidPtx ? "CUDA_ERROR_INVALID_PTX"
          : error == kNotFound ? "CUDA_ERROR_NOT_FOUND"
                               : "CUDA_ERROR_UNKNOWN";
  return 0;
}
CUresult cuDeviceGetCount(int *count) {
  *count = 1;
  return 0;
}
CUresult cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return 0;
}
CUresult cuDeviceGetName(char *name, int length, int device) {
  snprintf(name, length, "stub device");
  return 0;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
  switch (attribute) {
  case 75: /* compute capability major */
    *value = 9;
    break;
  case 76: /* minor */
    *value = 0;
    break;
  case 97: /* max shared memory per block, opt-in */
    *value = 232448;
    break;
  default:
    *value = 0;
  }
  return 0;
}
CUresult cuDevicePrimaryCtxRetain(void **context, int device) {
  record("retain %d", device);
  *context = &primaryContext;
  return 0;
}
CUresult cuDevicePrimaryCtxRelease_v2(int device) {
  record("release %d", device);
  return 0;
}
CUresult cuCtxGetCurrent(void **context) {
  *context = current;
  return 0;
}
CUresult cuCtxSetCurrent(void *context) {
  current = context;
  return 0;
}
CUresult cuCtxPushCurrent_v2(void *context) {
  if (contextDepth == 16)
    return 1;
  contextStack[contextDepth++] = current;
  current = context;
  return 0;
}
CUresult cuCtxPopCurrent_v2(void **context) {
  if (contextDepth == 0)
    return 1;
  *context = current;
  current = contextStack[--contextDepth];
  return 0;
}
CUresult cuCtxSynchronize(void) { return 0; }

CUresult cuModuleLoadDataEx(void **module, const void *image,
                            unsigned numOptions, int *options, void **values) {
  const char *text = (const char *)image;
  if (strstr(text, "BROKEN")) {
    for (unsigned i = 0; i < numOptions; ++i)
      if (options[i] == 5) /* CU_JIT_ERROR_LOG_BUFFER */
        strcpy((char *)values[i], "ptxas stub: BROKEN is not an instruction");
    return kInvalidPtx;
  }
  Module *loaded = (Module *)malloc(sizeof(Module));
  loaded->image = strdup(text);
  *module = loaded;
  record("load");
  return 0;
}
CUresult cuModuleUnload(void *module) {
  Module *loaded = (Module *)module;
  free(loaded->image);
  free(loaded);
  record("unload");
  return 0;
}
CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  const Module *loaded = (const Module *)module;
  char entry[300];
  snprintf(entry, sizeof(entry), ".entry %s(", name);
  const char *at = strstr(loaded->image, entry);
  if (!at)
    return kNotFound;
  Function *found = (Function *)calloc(1, sizeof(Function));
  snprintf(found->name, sizeof(found->name), "%s", name);
  const char *end = strchr(at, ')');
  for (const char *p = strstr(at, ".param"); p && p < end;
       p = strstr(p + 1, ".param"))
    ++found->numParams;
  *function = found;
  return 0;
}
CUresult cuFuncSetAttribute(void *function, int attribute, int value) {
  record("attribute %s %d %d", ((Function *)function)->name, attribute, value);
  return 0;
}
CUresult cuLaunchKernel(void *function, unsigned gridX, unsigned gridY,
                        unsigned gridZ, unsigned blockX, unsigned blockY,
                        unsigned blockZ, unsigned sharedBytes, void *stream,
                        void **params, void **extra) {
  const Function *f = (const Function *)function;
  char line[2048];
  int length = snprintf(line, sizeof(line),
                        "launch %s grid %u,%u,%u block %u,%u,%u shared %u "
                        "stream %#llx params",
                        f->name, gridX, gridY, gridZ, blockX, blockY, blockZ,
                        sharedBytes, (unsigned long long)(uintptr_t)stream);
  for (int i = 0; i < f->numParams && length < (int)sizeof(line) - 24; ++i)
    length += snprintf(line + length, sizeof(line) - length, " %#llx",
                       (unsigned long long)*(uint64_t *)params[i]);
  record("%s", line);
  return 0;
}
CUresult cuMemAlloc_v2(uint64_t *pointer, size_t bytes) {
  *pointer = nextAddress;
  nextAddress += (bytes + 0xFFFF) & ~(uint64_t)0xFFFF;
  record("alloc %zu %#llx", bytes, (unsigned long long)*pointer);
  return 0;
}
CUresult cuMemFree_v2(uint64_t pointer) {
  record("free %#llx", (unsigned long long)pointer);
  return 0;
}
CUresult cuMemGetInfo_v2(size_t *free, size_t *total) {
  *free = *total = (size_t)80 << 30;
  return 0;
}
CUresult cuMemcpyHtoD_v2(uint64_t destination, const void *source,
                         size_t bytes) {
  return 0;
}
CUresult cuMemcpyDtoH_v2(void *destination, uint64_t source, size_t bytes) {
  return 0;
}
CUresult cuMemsetD8_v2(uint64_t destination, unsigned char value,
                       size_t count) {
  return 0;
}
CUresult cuStreamSynchronize(void *stream) {
  record("synchronize");
  return 0;
}
CUresult cuEventCreate(void **event, unsigned flags) {
  *event = malloc(1);
  return 0;
}
CUresult cuEventRecord(void *event, void *stream) { return 0; }
CUresult cuEventSynchronize(void *event) { return 0; }
CUresult cuEventElapsedTime_v2(float *milliseconds, void *start, void *end) {
  *milliseconds = 1;
  return 0;
}
CUresult cuEventDestroy_v2(void *event) {
  free(event);
  return 0;
}
