/*===- fftconv-runtime/Runtime.h - Launch compiled fftconv kernels -------===*\
|*                                                                            *|
|* The runtime of fftconv-mlir, the only one: Python binds this C ABI
|* (python/fftconv/runtime.py). It reads a launch manifest
|* (docs/gpu-manifest.md) and its PTX, loads them through the CUDA driver API
|* and launches the kernels in order. It needs neither MLIR nor the CUDA
|* toolkit: libcuda.so.1 is opened with dlopen() when a program is first
|* loaded, so a machine without a driver gets an error message, never a
|* crash or a link failure.
|*                                                                            *|
|* Buffers are passed as one 64-bit device pointer per manifest argument that
|* is not a workspace, in manifest order (the inputs, then the outputs). The
|* runtime allocates the workspaces itself, once per program, and keeps them
|* until the program is destroyed (unless it was loaded with
|* FFTCONV_RUNTIME_CALLER_WORKSPACES: then the caller passes them). A
|* program is not thread-safe: launch it from one thread at a time, on one
|* stream at a time (its workspaces are shared by all its launches).
|*                                                                            *|
|* Every function that can fail returns 0 on success and non-zero on failure
|* (the CUresult when a driver call failed, else FFTCONV_RUNTIME_ERROR_INVALID
|* or FFTCONV_RUNTIME_ERROR_UNSUPPORTED), or NULL for the loaders;
|* fftconvRuntimeLastError() then says what went wrong and
|* fftconvRuntimeLastErrorCode() which kind of failure it was.
\*===----------------------------------------------------------------------===*/

#ifndef FFTCONV_RUNTIME_RUNTIME_H
#define FFTCONV_RUNTIME_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define FFTCONV_RUNTIME_EXPORT __attribute__((visibility("default")))
#else
#define FFTCONV_RUNTIME_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A loaded program: a manifest, its CUDA module and its workspaces. */
typedef struct fftconvRuntime fftconvRuntime;
/* A parsed, validated manifest, with no CUDA behind it. */
typedef struct fftconvRuntimeManifest fftconvRuntimeManifest;

/* What a failure returns besides a CUresult (which is positive), and what
 * fftconvRuntimeLastErrorCode() says, so that a binding can tell the
 * caller's mistakes from what this machine cannot do. */
enum {
  /* The caller's input is wrong: a manifest, a file, the PTX text, a device
   * index, a buffer or a kernel index. */
  FFTCONV_RUNTIME_ERROR_INVALID = -1,
  /* This machine cannot run the program: no driver, a chip older than the
   * manifest's, less shared memory than a kernel needs. */
  FFTCONV_RUNTIME_ERROR_UNSUPPORTED = -2
};

/* Flags of fftconvRuntimeLoadManifest. */
enum {
  /* Allocate no workspaces: every launch passes one buffer per argument,
   * workspaces included (a binding whose allocator should own and count all
   * device memory, as PyTorch's does). */
  FFTCONV_RUNTIME_CALLER_WORKSPACES = 1
};

/* Roles and element types of manifest arguments. */
enum {
  FFTCONV_RUNTIME_INPUT = 0,
  FFTCONV_RUNTIME_OUTPUT = 1,
  FFTCONV_RUNTIME_WORKSPACE = 2
};
enum {
  FFTCONV_RUNTIME_F16 = 0,
  FFTCONV_RUNTIME_BF16 = 1,
  FFTCONV_RUNTIME_F32 = 2
};
/* Forms and precisions of the manifest's optional "convolutions". */
enum { FFTCONV_RUNTIME_SINGLE_KERNEL = 0, FFTCONV_RUNTIME_THREE_PASS = 1 };
enum { FFTCONV_RUNTIME_HALF = 0, FFTCONV_RUNTIME_SPLIT = 1 };

/* One manifest argument. The pointers stay valid while the manifest (or the
 * program holding it) lives. The fields after numBytes were added with the
 * manifest accessors: code compiled against the older, shorter struct must
 * be rebuilt. */
typedef struct {
  const char *name;
  int role;  /* FFTCONV_RUNTIME_INPUT, _OUTPUT or _WORKSPACE */
  int dtype; /* FFTCONV_RUNTIME_F16, _BF16 or _F32 */
  int rank;
  const int64_t *shape;
  uint64_t numBytes;
  int producer; /* workspaces: the first kernel that writes it, or -1 */
  int numDependsOn;
  const int *dependsOn; /* workspaces: the inputs it is computed from */
  int numProducers;     /* the kernels producer .. producer + numProducers - 1
                           write it (0 without a producer) */
} fftconvRuntimeArgument;

/* One kernel launch of the manifest. */
typedef struct {
  const char *name;
  unsigned grid[3];
  unsigned block[3];
  unsigned sharedBytes;
  int numArguments;
  const int *arguments; /* argument indices, in parameter order */
  int isProducer; /* 1 if it writes a workspace (some argument's producer) */
} fftconvRuntimeKernel;

/* One fused convolution (the manifest's optional "convolutions"). */
typedef struct {
  int form;      /* FFTCONV_RUNTIME_SINGLE_KERNEL or _THREE_PASS */
  int precision; /* FFTCONV_RUNTIME_HALF or _SPLIT */
  int64_t fftSize;
  int numFactors;
  const int64_t *factors;
  int numKernels;
  const int *kernels;
} fftconvRuntimeConvolution;

/* The manifest's top-level fields; "" for an absent string. */
typedef struct {
  const char *format;
  int version;
  const char *chip;
  const char *ptx;
  const char *entry;
  const char *path; /* the file it was read from; "" if parsed from memory */
  int numArguments;
  int numKernels;
  int numConvolutions; /* 0 when the manifest has no "convolutions" */
} fftconvRuntimeManifestInfo;

/* Parses and validates a manifest given as JSON text, without touching CUDA.
 * Returns 0 when it is valid; otherwise non-zero, with the reason in
 * fftconvRuntimeLastError(). */
FFTCONV_RUNTIME_EXPORT int fftconvRuntimeCheckManifest(const char *json,
                                                       size_t length);

/* Parses and validates a manifest (JSON text, or the file at `path`) without
 * touching CUDA; NULL on failure. Free it with fftconvRuntimeManifestDestroy.
 * Errors about a file start with its path. */
FFTCONV_RUNTIME_EXPORT fftconvRuntimeManifest *
fftconvRuntimeManifestParse(const char *json, size_t length);
FFTCONV_RUNTIME_EXPORT fftconvRuntimeManifest *
fftconvRuntimeManifestRead(const char *path);
FFTCONV_RUNTIME_EXPORT void
fftconvRuntimeManifestDestroy(fftconvRuntimeManifest *manifest);

/* The parts of a manifest. Return 0, or -1 for a null pointer or an index
 * out of range. */
FFTCONV_RUNTIME_EXPORT int
fftconvRuntimeManifestGetInfo(const fftconvRuntimeManifest *manifest,
                              fftconvRuntimeManifestInfo *info);
FFTCONV_RUNTIME_EXPORT int
fftconvRuntimeManifestGetArgument(const fftconvRuntimeManifest *manifest,
                                  int index, fftconvRuntimeArgument *argument);
FFTCONV_RUNTIME_EXPORT int
fftconvRuntimeManifestGetKernel(const fftconvRuntimeManifest *manifest,
                                int index, fftconvRuntimeKernel *kernel);
FFTCONV_RUNTIME_EXPORT int
fftconvRuntimeManifestGetConvolution(const fftconvRuntimeManifest *manifest,
                                     int index,
                                     fftconvRuntimeConvolution *convolution);

/* The operands kernel `index` only stores to (its optional "writes"):
 * positions in its arguments, which a caller may bind elsewhere than their
 * arguments' buffers (fftconvRuntimeLaunchKernelOperands). Writes up to
 * `capacity` of them to `positions` (which may be NULL when `capacity` is 0)
 * and returns how many there are, or a negative error. */
FFTCONV_RUNTIME_EXPORT int
fftconvRuntimeManifestGetKernelWrites(const fftconvRuntimeManifest *manifest,
                                      int index, int *positions, int capacity);

/* A sharded program's exchanges (the manifest's "exchanges",
 * docs/gpu-manifest.md): their number, and exchange `index`: after the first
 * `after` kernels, the all-to-all of workspace `send` into workspace `recv`
 * over `ranks` ranks. Such a program is launched kernels by kernels
 * (fftconvRuntimeLaunchKernels), the caller running the exchanges between
 * them; fftconvRuntimeLaunch refuses it. */
FFTCONV_RUNTIME_EXPORT int
fftconvRuntimeManifestNumExchanges(const fftconvRuntimeManifest *manifest);
FFTCONV_RUNTIME_EXPORT int
fftconvRuntimeManifestGetExchange(const fftconvRuntimeManifest *manifest,
                                  int index, int *after, int *send, int *recv,
                                  int64_t *ranks);
/* A sharded program's place (the manifest's "shard"): its `rank` among
 * `ranks`, and the `rowLength` of the rows whose rowLength / ranks columns
 * its sequences hold, row after row. Returns 0, or -1 when the manifest has
 * no "shard". */
FFTCONV_RUNTIME_EXPORT int
fftconvRuntimeManifestGetShard(const fftconvRuntimeManifest *manifest,
                               int64_t *rank, int64_t *ranks,
                               int64_t *rowLength);

/* Loads the manifest at `manifestPath` and the PTX at `ptxPath` (NULL: the
 * file the manifest's "ptx" names, relative to the manifest's folder) on CUDA
 * device `device`, in that device's primary context. Returns NULL on failure.
 */
FFTCONV_RUNTIME_EXPORT fftconvRuntime *
fftconvRuntimeLoad(const char *manifestPath, const char *ptxPath, int device);

/* Same, from a manifest and a PTX module held in memory. */
FFTCONV_RUNTIME_EXPORT fftconvRuntime *
fftconvRuntimeLoadData(const char *manifestJson, size_t manifestLength,
                       const char *ptx, size_t ptxLength, int device);

/* Same, from a parsed manifest (copied; the caller still owns it). The PTX is
 * `ptx` (`ptxLength` bytes) if not NULL, else the file at `ptxPath` if not
 * NULL, else the file the manifest's "ptx" names (relative to the folder of
 * the manifest's file). `flags`: 0 or FFTCONV_RUNTIME_CALLER_WORKSPACES. */
FFTCONV_RUNTIME_EXPORT fftconvRuntime *
fftconvRuntimeLoadManifest(const fftconvRuntimeManifest *manifest,
                           const char *ptxPath, const char *ptx,
                           size_t ptxLength, int device, unsigned flags);

/* The manifest a program was loaded from (owned by the program). */
FFTCONV_RUNTIME_EXPORT const fftconvRuntimeManifest *
fftconvRuntimeGetManifest(const fftconvRuntime *program);

/* The manifest's arguments and kernels. */
FFTCONV_RUNTIME_EXPORT int
fftconvRuntimeNumArguments(const fftconvRuntime *program);
FFTCONV_RUNTIME_EXPORT int
fftconvRuntimeGetArgument(const fftconvRuntime *program, int index,
                          fftconvRuntimeArgument *argument);
FFTCONV_RUNTIME_EXPORT int
fftconvRuntimeNumKernels(const fftconvRuntime *program);

/* The device pointer of the workspace the runtime allocated for argument
 * `index`; 0 for any other argument, or with
 * FFTCONV_RUNTIME_CALLER_WORKSPACES. */
FFTCONV_RUNTIME_EXPORT uint64_t
fftconvRuntimeWorkspace(const fftconvRuntime *program, int index);

/* Launches every kernel in order on `stream` (a CUstream; NULL: the legacy
 * default stream) and returns without waiting for them. `buffers` holds one
 * device pointer per non-workspace argument, in manifest order; or, when
 * `numBuffers` is the number of all arguments, one per argument, where a
 * workspace's entry is either 0 (the runtime's own workspace) or a buffer of
 * the caller's. Every pointer must be 16-byte aligned (the kernels load
 * vectors), and an output may share memory with no input and no other output
 * (the kernels take their arguments as noalias): otherwise nothing is
 * launched. Launch errors are reported here; errors of the running kernels
 * appear at the next synchronization (set FFTCONV_RUNTIME_SYNC=1 to
 * synchronize and check after every kernel). */
FFTCONV_RUNTIME_EXPORT int fftconvRuntimeLaunch(fftconvRuntime *program,
                                                const uint64_t *buffers,
                                                size_t numBuffers,
                                                void *stream);

/* Launches only the kernels listed in `kernels` (indices into the manifest's
 * kernels), in the order given: for instance the convolution kernel alone,
 * once a workspace's producer has run and the inputs it depends on have not
 * changed. */
FFTCONV_RUNTIME_EXPORT int
fftconvRuntimeLaunchKernels(fftconvRuntime *program, const uint64_t *buffers,
                            size_t numBuffers, void *stream, const int *kernels,
                            size_t numKernels);

/* Launches kernel `kernel` (an index into the manifest's kernels) with
 * `operands`, one device pointer per entry of its "arguments" in that
 * order, instead of its arguments' buffers: for a caller that binds an
 * operand to other memory than its argument's (fftconv.distributed's mapped
 * exchanges: a kernel stores an exchange's send buffer through a view of
 * the peers' receive buffers). Each pointer non-null and 16-byte aligned. */
FFTCONV_RUNTIME_EXPORT int
fftconvRuntimeLaunchKernelOperands(fftconvRuntime *program, int kernel,
                                   const uint64_t *operands, size_t numOperands,
                                   void *stream);

/* Frees the workspaces, unloads the module and releases the context. */
FFTCONV_RUNTIME_EXPORT void fftconvRuntimeDestroy(fftconvRuntime *program);

/* The message of the last failure on this thread ("" if none). */
FFTCONV_RUNTIME_EXPORT const char *fftconvRuntimeLastError(void);

/* The code of the last failure on this thread: a CUresult (> 0),
 * FFTCONV_RUNTIME_ERROR_INVALID or _UNSUPPORTED; 0 if none. */
FFTCONV_RUNTIME_EXPORT int fftconvRuntimeLastErrorCode(void);

#ifdef __cplusplus
} /* extern "C" */

#include <memory>
#include <string>
#include <vector>

namespace fftconv {
namespace runtime {

enum class Role { Input, Output, Workspace };
enum class DType { F16, BF16, F32 };
enum class ConvolutionForm { SingleKernel, ThreePass };
enum class Precision { Half, Split };

FFTCONV_RUNTIME_EXPORT const char *roleName(Role role);
FFTCONV_RUNTIME_EXPORT const char *dtypeName(DType dtype);
FFTCONV_RUNTIME_EXPORT size_t dtypeSize(DType dtype);

/// The kinds of failure (see FFTCONV_RUNTIME_ERROR_*); a CUresult otherwise.
constexpr int kErrorInvalid = FFTCONV_RUNTIME_ERROR_INVALID;
constexpr int kErrorUnsupported = FFTCONV_RUNTIME_ERROR_UNSUPPORTED;

/// One buffer of the host function (an entry of the manifest's "arguments").
struct FFTCONV_RUNTIME_EXPORT Argument {
  std::string name;
  Role role = Role::Input;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// Workspaces only: the input indices it is computed from, and the
  /// kernels that write it, `producerCount` of them from `producer` on (-1
  /// if the manifest does not say; the three-pass form's K takes two).
  std::vector<int> dependsOn;
  int producer = -1;
  int producerCount = 1;

  bool isWrittenBy(int kernel) const {
    return producer >= 0 && kernel >= producer &&
           kernel < producer + producerCount;
  }

  uint64_t numElements() const;
  uint64_t numBytes() const { return numElements() * dtypeSize(dtype); }
};

/// One launch (an entry of the manifest's "kernels").
struct Kernel {
  std::string name;
  unsigned grid[3] = {1, 1, 1};
  unsigned block[3] = {1, 1, 1};
  unsigned sharedBytes = 0;
  std::vector<int> arguments;
  /// Positions in `arguments` of the operands the kernel only stores to
  /// (the optional "writes").
  std::vector<int> writes;
};

/// One fused convolution (an entry of the optional "convolutions"): how the
/// compiler built it, for tools and reports; launching does not need it.
struct Convolution {
  ConvolutionForm form = ConvolutionForm::SingleKernel;
  Precision precision = Precision::Split;
  int64_t fftSize = 0;
  std::vector<int64_t> factors;
  std::vector<int> kernels;
};

/// One all-to-all of a sharded program (an entry of the optional
/// "exchanges"): after the first `after` kernels, chunk j of workspace
/// `send` goes to chunk r (this rank's) of rank j's workspace `recv`; the
/// leading dimension of both is the `ranks` chunks.
struct Exchange {
  int after = 0;
  int send = 0;
  int recv = 0;
  int64_t ranks = 0;
};

/// A parsed, validated launch manifest.
struct FFTCONV_RUNTIME_EXPORT Manifest {
  std::string format;
  int version = 0;
  std::string chip;  ///< "" if absent
  std::string ptx;   ///< "" if absent
  std::string entry; ///< "" if absent
  std::vector<Argument> arguments;
  std::vector<Kernel> kernels;
  std::vector<Convolution> convolutions; ///< empty if absent
  /// A sharded program's exchanges, in order (empty if absent): such a
  /// program runs only through a caller that performs them between its
  /// kernels (fftconv.distributed); `launch` refuses it.
  std::vector<Exchange> exchanges;
  /// With exchanges, the "shard": this program's rank among `shardRanks`,
  /// and the rows (of `shardRowLength` samples) whose columns
  /// [rank, rank + 1) x rowLength / ranks its sequences hold, row after row.
  int64_t shardRank = 0, shardRanks = 0, shardRowLength = 0;
  /// The file it was read from ("" if parsed from memory): a relative "ptx"
  /// is found next to it.
  std::string path;

  /// Parses and validates JSON text; on failure returns false and sets
  /// `error` to a message naming the offending field.
  static bool parse(const char *json, size_t length, Manifest &manifest,
                    std::string &error);
  /// Same, from a file; errors start with its path.
  static bool read(const std::string &path, Manifest &manifest,
                   std::string &error);
  /// The indices of the arguments passed by the caller (not workspaces).
  std::vector<int> bufferArguments() const;
  /// Whether kernel `kernel` writes a workspace (is some argument's producer).
  bool isProducer(int kernel) const;
  /// The PTX file "ptx" names, resolved against the manifest's folder; "" if
  /// it names none.
  std::string ptxPath() const;
};

/// How a program is loaded (see FFTCONV_RUNTIME_CALLER_WORKSPACES).
struct LoadOptions {
  bool callerWorkspaces = false;
};

/// A manifest loaded onto a device: its module, functions and workspaces.
class FFTCONV_RUNTIME_EXPORT Program {
public:
  /// See fftconvRuntimeLoad; `ptxPath` empty: the manifest's "ptx" file.
  static std::unique_ptr<Program> load(const std::string &manifestPath,
                                       const std::string &ptxPath, int device,
                                       std::string &error);
  static std::unique_ptr<Program> loadData(const std::string &manifestJson,
                                           const std::string &ptx, int device,
                                           std::string &error);
  /// See fftconvRuntimeLoadManifest: `ptx` is the PTX text, or null to read
  /// `ptxPath` (empty: the manifest's "ptx" file). On failure `errorCode` is
  /// the CUresult, kErrorInvalid or kErrorUnsupported.
  static std::unique_ptr<Program>
  loadManifest(const Manifest &manifest, const std::string &ptxPath,
               const std::string *ptx, int device, const LoadOptions &options,
               std::string &error, int &errorCode);
  ~Program();
  Program(const Program &) = delete;
  Program &operator=(const Program &) = delete;

  const Manifest &manifest() const { return manifest_; }
  /// Number of pointers `launch` takes: the non-workspace arguments.
  size_t numBuffers() const { return bufferArguments_.size(); }
  /// The CUcontext the program lives in (the device's primary context).
  void *context() const { return context_; }
  /// The device pointer of a workspace the runtime allocated (0 otherwise).
  uint64_t workspace(int argument) const;

  /// See fftconvRuntimeLaunch / fftconvRuntimeLaunchKernels. Return 0 on
  /// success, else the CUresult, kErrorInvalid or kErrorUnsupported with
  /// `error` set.
  int launch(const uint64_t *buffers, size_t numBuffers, void *stream,
             std::string &error);
  int launchKernels(const uint64_t *buffers, size_t numBuffers, void *stream,
                    const int *kernels, size_t numKernels, std::string &error);
  /// See fftconvRuntimeLaunchKernelOperands.
  int launchKernelOperands(int kernel, const uint64_t *operands,
                           size_t numOperands, void *stream,
                           std::string &error);

private:
  Program() = default;
  int initialize(const std::string &ptx, int device, std::string &error);
  /// Launches kernel `index` with params_ (one pointer a parameter), and,
  /// with FFTCONV_RUNTIME_SYNC set, waits for it and checks.
  int launchOne(size_t index, void *stream, std::string &error);
  void release();

  Manifest manifest_;
  LoadOptions options_;
  std::vector<int> bufferArguments_;
  int device_ = -1;
  void *context_ = nullptr;
  void *module_ = nullptr;
  bool retainedPrimary_ = false;
  bool syncEachKernel_ = false;
  std::vector<void *> functions_;
  std::vector<uint64_t> workspaces_; // per argument; 0 if not a workspace
  std::vector<uint64_t> addresses_;  // per argument, for one launch
  std::vector<void *> params_;       // per kernel argument, for one launch
};

} // namespace runtime
} // namespace fftconv

#endif /* __cplusplus */

#endif /* FFTCONV_RUNTIME_RUNTIME_H */
