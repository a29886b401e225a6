//===- fftconv-run.cpp - Load a manifest + PTX, launch, check and time ----===//
//
//   fftconv-run [options] <manifest.json>
//
// Loads the manifest and its PTX, fills the inputs with random numbers,
// poisons the outputs with NaN, launches every kernel, checks that every
// output element was written with a finite value and that a second launch
// gives the same bits, then times launches with CUDA events and prints the
// median. Every CUDA call is checked; with no GPU or no driver it prints the
// reason and exits with status 1.
//
//===----------------------------------------------------------------------===//

#include "fftconv-runtime/Runtime.h"

#include "CudaDriver.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace fftconv::runtime;
using namespace fftconv::runtime::cuda;

namespace {

const char *kUsage =
    "usage: fftconv-run [options] <manifest.json>\n"
    "\n"
    "Loads a launch manifest and its PTX (docs/gpu-manifest.md), runs it on\n"
    "random inputs, checks the outputs and times it with CUDA events.\n"
    "\n"
    "options:\n"
    "  --ptx FILE        the PTX (default: the manifest's \"ptx\", next to "
    "it)\n"
    "  --device N        CUDA device ordinal (default 0)\n"
    "  --iterations N    timed launches (default 100, at least 1)\n"
    "  --warmup N        untimed launches first (default 10)\n"
    "  --kernels LIST    time only these kernels, e.g. 1 or 0,1 (default: "
    "all)\n"
    "  --seed N          random seed (default 0)\n"
    "  --no-check        skip the finiteness and repeatability checks\n"
    "  -h, --help        this text\n"
    "  --version         the version of fftconv-mlir this is\n"
    "\n"
    "Exit status: 0 success, 1 a load or CUDA error, 2 bad usage, 3 a failed\n"
    "check.\n";

struct Options {
  std::string manifest;
  std::string ptx;
  int device = 0;
  int iterations = 100;
  int warmup = 10;
  std::vector<int> kernels; // empty: all
  bool kernelsGiven = false;
  unsigned long long seed = 0;
  bool check = true;
};

[[noreturn]] void usageError(const std::string &message) {
  std::fprintf(stderr, "fftconv-run: %s\n\n%s", message.c_str(), kUsage);
  std::exit(2);
}

bool parseInt(const char *text, long long low, long long high,
              long long &value) {
  char *end = nullptr;
  errno = 0;
  long long parsed = std::strtoll(text, &end, 10);
  if (errno || !end || *end || end == text || parsed < low || parsed > high)
    return false;
  value = parsed;
  return true;
}

Options parseOptions(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *name) -> const char * {
      if (i + 1 >= argc)
        usageError(std::string(name) + " needs a value");
      return argv[++i];
    };
    long long number;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--version") {
      std::printf("fftconv-mlir %s\n", FFTCONV_RUN_VERSION);
      std::exit(0);
    } else if (arg == "--ptx") {
      options.ptx = value("--ptx");
    } else if (arg == "--device") {
      if (!parseInt(value("--device"), 0, 1 << 20, number))
        usageError("--device takes a non-negative integer");
      options.device = static_cast<int>(number);
    } else if (arg == "--iterations") {
      if (!parseInt(value("--iterations"), 1, 1 << 24, number))
        usageError("--iterations takes a positive integer");
      options.iterations = static_cast<int>(number);
    } else if (arg == "--warmup") {
      if (!parseInt(value("--warmup"), 0, 1 << 24, number))
        usageError("--warmup takes a non-negative integer");
      options.warmup = static_cast<int>(number);
    } else if (arg == "--seed") {
      if (!parseInt(value("--seed"), 0, INT64_MAX, number))
        usageError("--seed takes a non-negative integer");
      options.seed = static_cast<unsigned long long>(number);
    } else if (arg == "--kernels") {
      std::string list = value("--kernels");
      options.kernelsGiven = true;
      size_t start = 0;
      while (start <= list.size()) {
        size_t comma = list.find(',', start);
        std::string item =
            list.substr(start, comma == std::string::npos ? std::string::npos
                                                          : comma - start);
        if (!parseInt(item.c_str(), 0, 1 << 20, number))
          usageError("--kernels takes comma-separated kernel indices");
        options.kernels.push_back(static_cast<int>(number));
        if (comma == std::string::npos)
          break;
        start = comma + 1;
      }
    } else if (arg == "--no-check") {
      options.check = false;
    } else if (!arg.empty() && arg[0] == '-') {
      usageError("unknown option " + arg);
    } else if (options.manifest.empty()) {
      options.manifest = arg;
    } else {
      usageError("more than one manifest given");
    }
  }
  if (options.manifest.empty())
    usageError("no manifest given");
  return options;
}

// IEEE binary16 / bfloat16 bits of a float, rounded to nearest even.
uint16_t toHalf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  uint32_t sign = (bits >> 16) & 0x8000;
  int32_t exponent = static_cast<int32_t>((bits >> 23) & 0xFF) - 127 + 15;
  uint32_t mantissa = bits & 0x7FFFFF;
  if (exponent >= 31)
    return static_cast<uint16_t>(sign | 0x7C00); // overflow: infinity
  if (exponent <= 0) {
    if (exponent < -10)
      return static_cast<uint16_t>(sign); // underflow: zero
    mantissa |= 0x800000;                 // subnormal
    uint32_t shift = static_cast<uint32_t>(14 - exponent);
    uint32_t half = mantissa >> shift;
    uint32_t rest = mantissa & ((1u << shift) - 1);
    uint32_t midpoint = 1u << (shift - 1);
    if (rest > midpoint || (rest == midpoint && (half & 1)))
      ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half =
      sign | (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1FFF;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half; // may carry into the exponent, which is right
  return static_cast<uint16_t>(half);
}

uint16_t toBFloat16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  bits += 0x7FFF + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

// Random bytes for one argument: N(0, 1), over sqrt(last extent) for f32
// tensors of rank >= 2 (kernels), so that sums over taps stay of order 1.
// Large buffers repeat a pool of 2^20 - 3 (a prime number of) samples, so
// that filling gigabytes takes a memcpy's time, not a random generator's.
std::vector<unsigned char> randomData(const Argument &argument,
                                      std::mt19937_64 &generator) {
  const uint64_t poolSize = (uint64_t(1) << 20) - 3;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  uint64_t count = argument.numElements();
  size_t element = dtypeSize(argument.dtype);
  float scale = 1.0f;
  if (argument.dtype == DType::F32 && argument.shape.size() >= 2)
    scale = 1.0f / std::sqrt(static_cast<float>(argument.shape.back()));
  uint64_t unique = std::min(count, poolSize);
  std::vector<unsigned char> bytes(argument.numBytes());
  for (uint64_t i = 0; i < unique; ++i) {
    float x = normal(generator) * scale;
    switch (argument.dtype) {
    case DType::F32:
      std::memcpy(&bytes[i * 4], &x, 4);
      break;
    case DType::F16: {
      uint16_t h = toHalf(x);
      std::memcpy(&bytes[i * 2], &h, 2);
      break;
    }
    case DType::BF16: {
      uint16_t h = toBFloat16(x);
      std::memcpy(&bytes[i * 2], &h, 2);
      break;
    }
    }
  }
  for (uint64_t done = unique; done < count;) {
    uint64_t chunk = std::min(unique, count - done);
    std::memcpy(&bytes[done * element], &bytes[0], chunk * element);
    done += chunk;
  }
  return bytes;
}

uint64_t countNonFinite(const Argument &argument,
                        const std::vector<unsigned char> &bytes) {
  uint64_t count = argument.numElements(), bad = 0;
  for (uint64_t i = 0; i < count; ++i) {
    switch (argument.dtype) {
    case DType::F32: {
      uint32_t bits;
      std::memcpy(&bits, &bytes[i * 4], 4);
      bad += (bits & 0x7F800000u) == 0x7F800000u;
      break;
    }
    case DType::F16: {
      uint16_t bits;
      std::memcpy(&bits, &bytes[i * 2], 2);
      bad += (bits & 0x7C00u) == 0x7C00u;
      break;
    }
    case DType::BF16: {
      uint16_t bits;
      std::memcpy(&bits, &bytes[i * 2], 2);
      bad += (bits & 0x7F80u) == 0x7F80u;
      break;
    }
    }
  }
  return bad;
}

std::string shapeString(const Argument &argument) {
  std::string text;
  for (size_t i = 0; i < argument.shape.size(); ++i)
    text += (i ? "x" : "") + std::to_string(argument.shape[i]);
  return (text.empty() ? "scalar" : text) + " " + dtypeName(argument.dtype);
}

// Everything the tool allocates, freed on every exit path.
struct Session {
  const Driver *driver = nullptr;
  std::unique_ptr<Program> program;
  std::vector<CUdeviceptr> buffers;
  std::vector<CUevent> events;

  ~Session() {
    if (!driver || !program)
      return;
    ScopedContext scope(*driver, static_cast<CUcontext>(program->context()));
    for (CUevent event : events)
      driver->cuEventDestroy(event);
    for (CUdeviceptr pointer : buffers)
      if (pointer)
        driver->cuMemFree(pointer);
  }
};

[[noreturn]] void fail(const std::string &message, int status = 1) {
  std::fprintf(stderr, "fftconv-run: error: %s\n", message.c_str());
  std::exit(status);
}

#define CHECK_CU(call)                                                         \
  do {                                                                         \
    CUresult result_ = (call);                                                 \
    if (result_ != CUDA_SUCCESS) {                                             \
      error = describe(*d, result_, #call);                                    \
      return 1;                                                                \
    }                                                                          \
  } while (false)

double median(std::vector<float> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// Times `iterations` launches of `kernels` (after `warmup`); fills `times`.
int timeLaunches(Session &session, const Options &options,
                 const std::vector<int> &kernels, std::vector<float> &times,
                 std::string &error) {
  const Driver *d = session.driver;
  Program &program = *session.program;
  std::vector<uint64_t> pointers(session.buffers.begin(),
                                 session.buffers.end());
  for (int i = 0; i < options.warmup; ++i)
    if (program.launchKernels(pointers.data(), pointers.size(), nullptr,
                              kernels.data(), kernels.size(), error))
      return 1;
  CHECK_CU(d->cuCtxSynchronize());
  size_t first = session.events.size();
  for (int i = 0; i < 2 * options.iterations; ++i) {
    CUevent event = nullptr;
    CHECK_CU(d->cuEventCreate(&event, CU_EVENT_DEFAULT));
    session.events.push_back(event);
  }
  for (int i = 0; i < options.iterations; ++i) {
    CHECK_CU(d->cuEventRecord(session.events[first + 2 * i], nullptr));
    if (program.launchKernels(pointers.data(), pointers.size(), nullptr,
                              kernels.data(), kernels.size(), error))
      return 1;
    CHECK_CU(d->cuEventRecord(session.events[first + 2 * i + 1], nullptr));
  }
  CHECK_CU(d->cuEventSynchronize(session.events.back()));
  CHECK_CU(d->cuCtxSynchronize());
  times.clear();
  for (int i = 0; i < options.iterations; ++i) {
    float ms = 0;
    CHECK_CU(d->cuEventElapsedTime(&ms, session.events[first + 2 * i],
                                   session.events[first + 2 * i + 1]));
    times.push_back(ms);
  }
  return 0;
}

int run(const Options &options, Session &session, std::string &error) {
  session.program =
      Program::load(options.manifest, options.ptx, options.device, error);
  if (!session.program)
    return 1;
  const Driver *d = getDriver(error);
  if (!d)
    return 1;
  session.driver = d;
  Program &program = *session.program;
  const Manifest &manifest = program.manifest();
  ScopedContext scope(*d, static_cast<CUcontext>(program.context()));
  CHECK_CU(scope.status());

  char name[256] = {0};
  CUdevice device;
  CHECK_CU(d->cuDeviceGet(&device, options.device));
  CHECK_CU(d->cuDeviceGetName(name, sizeof(name) - 1, device));
  int driverVersion = 0;
  CHECK_CU(d->cuDriverGetVersion(&driverVersion));
  std::printf("device %d: %s (driver API %d.%d)\n", options.device, name,
              driverVersion / 1000, (driverVersion % 1000) / 10);
  std::printf("manifest: %s (entry \"%s\", chip %s), %zu kernels\n",
              options.manifest.c_str(), manifest.entry.c_str(),
              manifest.chip.empty() ? "?" : manifest.chip.c_str(),
              manifest.kernels.size());

  // Inputs (random) and outputs (poisoned: all bits set is NaN in every
  // dtype), one device buffer each.
  std::mt19937_64 generator(options.seed);
  std::vector<int> bufferArguments = manifest.bufferArguments();
  for (int index : bufferArguments) {
    const Argument &argument = manifest.arguments[index];
    CUdeviceptr pointer = 0;
    CHECK_CU(d->cuMemAlloc(&pointer, argument.numBytes()));
    session.buffers.push_back(pointer);
    if (argument.role == Role::Input) {
      std::vector<unsigned char> data = randomData(argument, generator);
      CHECK_CU(d->cuMemcpyHtoD(pointer, data.data(), data.size()));
    } else {
      CHECK_CU(d->cuMemsetD8(pointer, 0xFF, argument.numBytes()));
    }
    std::printf("  %-9s %-12s %s\n", roleName(argument.role),
                argument.name.c_str(), shapeString(argument).c_str());
  }
  for (size_t i = 0; i < manifest.arguments.size(); ++i)
    if (manifest.arguments[i].role == Role::Workspace)
      std::printf("  %-9s %-12s %s\n", "workspace",
                  manifest.arguments[i].name.c_str(),
                  shapeString(manifest.arguments[i]).c_str());
  std::vector<uint64_t> pointers(session.buffers.begin(),
                                 session.buffers.end());

  // One full launch, checked.
  if (program.launch(pointers.data(), pointers.size(), nullptr, error))
    return 1;
  CUresult result = d->cuCtxSynchronize();
  if (result != CUDA_SUCCESS) {
    error = describe(*d, result, "cuCtxSynchronize") +
            " after the first launch (a kernel failed; run with "
            "FFTCONV_RUNTIME_SYNC=1 to find which)";
    return 1;
  }
  if (options.check) {
    std::vector<std::vector<unsigned char>> first;
    for (size_t b = 0; b < bufferArguments.size(); ++b) {
      const Argument &argument = manifest.arguments[bufferArguments[b]];
      if (argument.role != Role::Output)
        continue;
      std::vector<unsigned char> bytes(argument.numBytes());
      CHECK_CU(d->cuMemcpyDtoH(bytes.data(), session.buffers[b], bytes.size()));
      uint64_t bad = countNonFinite(argument, bytes);
      if (bad) {
        std::fprintf(stderr,
                     "fftconv-run: check failed: %llu of %llu elements of "
                     "output \"%s\" are not finite (unwritten or overflowed)\n",
                     static_cast<unsigned long long>(bad),
                     static_cast<unsigned long long>(argument.numElements()),
                     argument.name.c_str());
        return 3;
      }
      first.push_back(std::move(bytes));
      CHECK_CU(d->cuMemsetD8(session.buffers[b], 0xFF, argument.numBytes()));
    }
    if (program.launch(pointers.data(), pointers.size(), nullptr, error))
      return 1;
    CHECK_CU(d->cuCtxSynchronize());
    size_t o = 0;
    for (size_t b = 0; b < bufferArguments.size(); ++b) {
      const Argument &argument = manifest.arguments[bufferArguments[b]];
      if (argument.role != Role::Output)
        continue;
      std::vector<unsigned char> bytes(argument.numBytes());
      CHECK_CU(d->cuMemcpyDtoH(bytes.data(), session.buffers[b], bytes.size()));
      if (bytes != first[o++]) {
        std::fprintf(stderr,
                     "fftconv-run: check failed: output \"%s\" differs "
                     "between two launches on the same inputs (a race?)\n",
                     argument.name.c_str());
        return 3;
      }
    }
    std::printf("check: every output element finite, two launches "
                "bit-identical\n");
  }

  // Timings: the kernels asked for (default all), and without the producers
  // of workspaces, which can be skipped while their inputs do not change.
  std::vector<int> all(manifest.kernels.size());
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = static_cast<int>(i);
  std::vector<std::pair<std::string, std::vector<int>>> runs;
  if (options.kernelsGiven) {
    runs.emplace_back("kernels given", options.kernels);
  } else {
    runs.emplace_back("all kernels", all);
    std::vector<int> consumers;
    for (int k : all)
      if (!manifest.isProducer(k))
        consumers.push_back(k);
    if (consumers.size() != all.size() && !consumers.empty())
      runs.emplace_back("without producers", consumers);
  }
  for (auto &entry : runs) {
    for (int k : entry.second)
      if (k < 0 || static_cast<size_t>(k) >= manifest.kernels.size()) {
        error = "--kernels: kernel " + std::to_string(k) + " does not exist (" +
                std::to_string(manifest.kernels.size()) + " kernels)";
        return 2;
      }
    std::vector<float> times;
    if (timeLaunches(session, options, entry.second, times, error))
      return 1;
    std::string list;
    for (int k : entry.second)
      list += (list.empty() ? "" : ",") + std::to_string(k);
    std::printf("time (%s: %s): median %.4f ms, min %.4f ms, max %.4f ms over "
                "%d launches\n",
                entry.first.c_str(), list.c_str(), median(times),
                *std::min_element(times.begin(), times.end()),
                *std::max_element(times.begin(), times.end()),
                options.iterations);
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  Options options = parseOptions(argc, argv);
  int status;
  std::string error;
  {
    Session session;
    status = run(options, session, error);
  }
  if (status && !error.empty())
    fail(error, status);
  return status;
}
