//===- Manifest.cpp - Parse and validate launch manifests -----------------===//
//
// The one implementation of the manifest's rules (docs/gpu-manifest.md); the
// Python binding (python/fftconv/runtime.py) asks this code through the C
// ABI. Every message reads "invalid manifest: <field path>: <what is wrong>".
//
// The JSON is read with nlohmann-json, header-only, so that the runtime
// builds and runs without LLVM (docs/runtime.md). No exceptions are used:
// the syntax check runs as a SAX pass whose handler keeps the parser's
// message, and the tree is built after it with exceptions turned off, so
// the code is the same with and without -fno-exceptions.
//
//===----------------------------------------------------------------------===//

#include "fftconv-runtime/Runtime.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace fftconv {
namespace runtime {

const char *roleName(Role role) {
  switch (role) {
  case Role::Input:
    return "input";
  case Role::Output:
    return "output";
  case Role::Workspace:
    return "workspace";
  }
  return "?";
}

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::F32:
    return "f32";
  }
  return "?";
}

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::F32:
    return 4;
  }
  return 0;
}

uint64_t Argument::numElements() const {
  uint64_t count = 1;
  for (int64_t extent : shape)
    count *= static_cast<uint64_t>(extent);
  return count;
}

bool Manifest::isProducer(int kernel) const {
  for (const Argument &argument : arguments)
    if (argument.isWrittenBy(kernel))
      return true;
  return false;
}

std::string Manifest::ptxPath() const {
  if (ptx.empty() || ptx[0] == '/')
    return ptx;
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? ptx : path.substr(0, slash + 1) + ptx;
}

std::vector<int> Manifest::bufferArguments() const {
  std::vector<int> result;
  for (size_t i = 0; i < arguments.size(); ++i)
    if (arguments[i].role != Role::Workspace)
      result.push_back(static_cast<int>(i));
  return result;
}

namespace {

using Json = nlohmann::json;

// Largest buffer accepted (bytes): 2^48, far above any device's memory, and
// low enough that no product of extents overflows on the way.
constexpr uint64_t kMaxBytes = uint64_t(1) << 48;

std::string inQuotes(const std::string &text) { return "\"" + text + "\""; }

// The kind of a value, as messages name it.
const char *kindName(const Json &value) {
  switch (value.type()) {
  case Json::value_t::object:
    return "an object";
  case Json::value_t::array:
    return "an array";
  case Json::value_t::string:
    return "a string";
  case Json::value_t::boolean:
    return "a boolean";
  case Json::value_t::number_integer:
  case Json::value_t::number_unsigned:
  case Json::value_t::number_float:
    return "a number";
  case Json::value_t::null:
    return "null";
  default:
    return "a value";
  }
}

// A short rendering of a value for messages: scalars as written, containers
// by kind.
std::string show(const Json &value) {
  switch (value.type()) {
  case Json::value_t::string:
    return inQuotes(value.get_ref<const std::string &>());
  case Json::value_t::number_integer:
    return std::to_string(value.get<int64_t>());
  case Json::value_t::number_unsigned:
    return std::to_string(value.get<uint64_t>());
  case Json::value_t::number_float: {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%g", value.get<double>());
    return buffer;
  }
  case Json::value_t::boolean:
    return value.get<bool>() ? "true" : "false";
  default:
    return kindName(value);
  }
}

// The syntax pass: accepts exactly RFC 8259 JSON without duplicate keys
// (which nlohmann's tree would silently collapse, so that a manifest could
// say two things about one field), and keeps the first error's message.
class SyntaxChecker : public nlohmann::json_sax<Json> {
public:
  std::string error;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t &) override { return true; }
  bool string(string_t &) override { return true; }
  bool binary(binary_t &) override { return true; }
  bool start_object(std::size_t) override {
    keys_.emplace_back();
    return true;
  }
  bool key(string_t &key) override {
    if (keys_.back().insert(key).second)
      return true;
    error = "duplicate key " + inQuotes(key);
    return false;
  }
  bool end_object() override {
    keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string &,
                   const nlohmann::detail::exception &exception) override {
    // "[json.exception.parse_error.101] parse error at line 1, column 2:
    // syntax error ..." -> "line 1, column 2: syntax error ...".
    std::string message = exception.what();
    size_t at = message.find(" at line ");
    error = at == std::string::npos ? message : message.substr(at + 4);
    return false;
  }

private:
  std::vector<std::set<std::string>> keys_;
};

class Validator {
public:
  explicit Validator(std::string &error) : error_(error) {}

  bool fail(const std::string &path, const std::string &what) {
    error_ = "invalid manifest: " + (path.empty() ? what : path + ": " + what);
    return false;
  }

  // The member `key` of `object`, which must exist (or be optional).
  const Json *member(const Json &object, const std::string &path,
                     const std::string &key, bool required) {
    auto found = object.find(key);
    if (found == object.end()) {
      if (required)
        fail(join(path, key), "required field is missing");
      return nullptr;
    }
    return &*found;
  }

  static std::string join(const std::string &path, const std::string &key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string at(const std::string &path, size_t index) {
    return path + "[" + std::to_string(index) + "]";
  }

  bool expectObject(const Json &value, const std::string &path) {
    return value.is_object() ||
           fail(path, "expected an object, got " + show(value));
  }
  bool expectArray(const Json &value, const std::string &path) {
    return value.is_array() ||
           fail(path, "expected an array, got " + show(value));
  }

  // An integer in [low, high]. Booleans and numbers with a fraction or an
  // exponent are not integers, whatever their value.
  bool integer(const Json &value, const std::string &path, int64_t low,
               int64_t high, const char *what, int64_t &result) {
    bool inRange = false;
    if (value.is_number_unsigned()) {
      uint64_t number = value.get<uint64_t>();
      inRange = number <= static_cast<uint64_t>(INT64_MAX) &&
                static_cast<int64_t>(number) >= low &&
                static_cast<int64_t>(number) <= high;
      result = static_cast<int64_t>(number);
    } else if (value.is_number_integer()) {
      result = value.get<int64_t>();
      inRange = result >= low && result <= high;
    }
    return inRange ||
           fail(path, std::string("expected ") + what + ", got " + show(value));
  }

  bool string(const Json &object, const std::string &path,
              const std::string &key, bool required, std::string &result) {
    const Json *value = member(object, path, key, required);
    if (!value)
      return !required;
    if (!value->is_string())
      return fail(join(path, key), "expected a string, got " + show(*value));
    result = value->get<std::string>();
    return true;
  }

  bool nonEmptyString(const Json &object, const std::string &path,
                      const std::string &key, std::string &result) {
    if (!string(object, path, key, true, result))
      return false;
    if (result.empty())
      return fail(join(path, key), "must not be empty");
    return true;
  }

  // A string that must be one of `choices`; returns its index.
  bool choice(const Json &object, const std::string &path,
              const std::string &key, const std::vector<std::string> &choices,
              int &result) {
    std::string text;
    if (!string(object, path, key, true, text))
      return false;
    for (size_t i = 0; i < choices.size(); ++i) {
      if (choices[i] == text) {
        result = static_cast<int>(i);
        return true;
      }
    }
    std::string list;
    for (size_t i = 0; i < choices.size(); ++i)
      list += (i ? ", " : "") + inQuotes(choices[i]);
    return fail(join(path, key),
                "expected one of " + list + ", got " + inQuotes(text));
  }

  // An array of integers in [low, high], of length in [minLength, maxLength].
  bool integers(const Json &value, const std::string &path, int64_t low,
                int64_t high, const char *what, size_t minLength,
                size_t maxLength, std::vector<int64_t> &result) {
    if (!expectArray(value, path))
      return false;
    if (value.size() < minLength || value.size() > maxLength) {
      std::string count =
          minLength == maxLength
              ? std::to_string(minLength)
              : std::to_string(minLength) + " to " + std::to_string(maxLength);
      return fail(path, "expected " + count + " entries, got " +
                            std::to_string(value.size()));
    }
    result.clear();
    for (size_t i = 0; i < value.size(); ++i) {
      int64_t entry;
      if (!integer(value[i], at(path, i), low, high, what, entry))
        return false;
      result.push_back(entry);
    }
    return true;
  }

private:
  std::string &error_;
};

bool validateDims(Validator &v, const Json &kernel, const std::string &path,
                  const char *key, unsigned (&dims)[3]) {
  const Json *value = v.member(kernel, path, key, true);
  if (!value)
    return false;
  std::string dimsPath = Validator::join(path, key);
  std::vector<int64_t> entries;
  if (!v.integers(*value, dimsPath, 1, INT32_MAX, "a positive integer", 1, 3,
                  entries))
    return false;
  for (size_t i = 0; i < 3; ++i)
    dims[i] = i < entries.size() ? static_cast<unsigned>(entries[i]) : 1;
  bool block = std::string(key) == "block";
  // The hardware's limits, the same on every chip since sm_30.
  const int64_t limits[3] = {block ? 1024 : INT32_MAX, block ? 1024 : 65535,
                             block ? 64 : 65535};
  for (size_t i = 0; i < entries.size(); ++i)
    if (entries[i] > limits[i])
      return v.fail(Validator::at(dimsPath, i), std::to_string(entries[i]) +
                                                    " exceeds the limit " +
                                                    std::to_string(limits[i]));
  if (block) {
    uint64_t threads = uint64_t(dims[0]) * dims[1] * dims[2];
    if (threads > 1024)
      return v.fail(dimsPath, std::to_string(threads) +
                                  " threads per block (at most 1024)");
  }
  return true;
}

// The optional "convolutions": what the compiler fused, one entry per
// convolution. Checked as strictly as the rest, so that a tool reading it
// can trust it, though launching does not use it.
bool validateConvolutions(Validator &v, const Json &convolutions, Manifest &m) {
  if (!v.expectArray(convolutions, "convolutions"))
    return false;
  const size_t numKernels = m.kernels.size();
  std::vector<int> ownerOfKernel(numKernels, -1);
  for (size_t i = 0; i < convolutions.size(); ++i) {
    const Json &entry = convolutions[i];
    std::string path = Validator::at("convolutions", i);
    Convolution c;
    int form, precision;
    if (!v.expectObject(entry, path) ||
        !v.choice(entry, path, "form", {"single-kernel", "three-pass"}, form) ||
        !v.choice(entry, path, "precision", {"half", "split"}, precision))
      return false;
    c.form = static_cast<ConvolutionForm>(form);
    c.precision = static_cast<Precision>(precision);
    const Json *size = v.member(entry, path, "fft_size", true);
    if (!size || !v.integer(*size, Validator::join(path, "fft_size"), 2,
                            INT64_MAX, "an integer of at least 2", c.fftSize))
      return false;
    std::string factorsPath = Validator::join(path, "factors");
    const Json *factors = v.member(entry, path, "factors", true);
    if (!factors ||
        !v.integers(*factors, factorsPath, 2, c.fftSize,
                    "an integer from 2 to fft_size", 1, 64, c.factors))
      return false;
    // The factors split the FFT (or its half-size complex transform): their
    // product divides the size. Checked factor by factor, so the product
    // never overflows.
    int64_t remaining = c.fftSize;
    for (int64_t factor : c.factors) {
      if (remaining % factor != 0)
        return v.fail(factorsPath, "the product of the factors does not "
                                   "divide fft_size " +
                                       std::to_string(c.fftSize));
      remaining /= factor;
    }
    std::string kernelsPath = Validator::join(path, "kernels");
    const Json *kernels = v.member(entry, path, "kernels", true);
    std::vector<int64_t> indices;
    if (!kernels || !v.integers(*kernels, kernelsPath, 0, INT32_MAX,
                                "a kernel index", 1, numKernels, indices))
      return false;
    for (size_t j = 0; j < indices.size(); ++j) {
      std::string indexPath = Validator::at(kernelsPath, j);
      if (static_cast<size_t>(indices[j]) >= numKernels)
        return v.fail(indexPath, std::to_string(indices[j]) +
                                     " is not a kernel index (" +
                                     std::to_string(numKernels) + " kernels)");
      int &owner = ownerOfKernel[indices[j]];
      if (owner == static_cast<int>(i))
        return v.fail(indexPath, "kernel " + std::to_string(indices[j]) +
                                     " is listed twice");
      if (owner >= 0)
        return v.fail(indexPath, "kernel " + std::to_string(indices[j]) +
                                     " already belongs to convolutions[" +
                                     std::to_string(owner) + "]");
      owner = static_cast<int>(i);
      c.kernels.push_back(static_cast<int>(indices[j]));
    }
    m.convolutions.push_back(std::move(c));
  }
  return true;
}

// The optional "exchanges" of a sharded program: each between two launches,
// between two workspaces of the same dtype and shape whose leading dimension
// is the ranks (one workspace: an exchange in place).
bool validateExchanges(Validator &v, const Json &exchanges, Manifest &m) {
  if (!v.expectArray(exchanges, "exchanges"))
    return false;
  int64_t previous = 0;
  for (size_t i = 0; i < exchanges.size(); ++i) {
    const Json &entry = exchanges[i];
    std::string path = Validator::at("exchanges", i);
    if (!v.expectObject(entry, path))
      return false;
    int64_t fields[4];
    const char *names[4] = {"after", "send", "recv", "ranks"};
    int64_t highs[4] = {int64_t(m.kernels.size()),
                        int64_t(m.arguments.size()) - 1,
                        int64_t(m.arguments.size()) - 1, INT32_MAX};
    const char *whats[4] = {"a number of kernels launched before it",
                            "an argument index", "an argument index",
                            "an integer of at least 2"};
    for (int f = 0; f < 4; ++f) {
      const Json *value = v.member(entry, path, names[f], true);
      if (!value || !v.integer(*value, Validator::join(path, names[f]),
                               f == 3 ? 2 : 0, highs[f], whats[f], fields[f]))
        return false;
    }
    if (fields[0] < previous)
      return v.fail(Validator::join(path, "after"),
                    "exchanges must be listed in launch order");
    previous = fields[0];
    const Argument &send = m.arguments[fields[1]];
    const Argument &recv = m.arguments[fields[2]];
    if (send.role != Role::Workspace || recv.role != Role::Workspace)
      return v.fail(path, "send and recv must be workspaces");
    if (send.dtype != recv.dtype || send.shape != recv.shape ||
        send.shape.empty() || send.shape[0] != fields[3])
      return v.fail(path, "send and recv must have the same dtype and "
                          "shape, leading with the " +
                              std::to_string(fields[3]) + " ranks");
    m.exchanges.push_back(
        {int(fields[0]), int(fields[1]), int(fields[2]), fields[3]});
  }
  return true;
}

bool validate(const Json &root, Manifest &m, std::string &error) {
  Validator v(error);
  if (!root.is_object())
    return v.fail("", std::string("expected a JSON object at the top level, "
                                  "got ") +
                          kindName(root));
  if (!v.string(root, "", "format", true, m.format))
    return false;
  if (m.format != "fftconv-manifest")
    return v.fail("format",
                  "expected \"fftconv-manifest\", got " + inQuotes(m.format));
  const Json *version = v.member(root, "", "version", true);
  if (!version)
    return false;
  int64_t versionNumber;
  if (!v.integer(*version, "version", INT32_MIN, INT32_MAX, "an integer",
                 versionNumber))
    return false;
  if (versionNumber != 1)
    return v.fail("version", "unsupported version " +
                                 std::to_string(versionNumber) +
                                 " (this runtime reads version 1)");
  m.version = static_cast<int>(versionNumber);
  if (!v.string(root, "", "chip", false, m.chip) ||
      !v.string(root, "", "ptx", false, m.ptx) ||
      !v.string(root, "", "entry", false, m.entry))
    return false;

  const Json *arguments = v.member(root, "", "arguments", true);
  if (!arguments || !v.expectArray(*arguments, "arguments"))
    return false;
  if (arguments->empty())
    return v.fail("arguments", "must not be empty");
  const Json *kernels = v.member(root, "", "kernels", true);
  if (!kernels || !v.expectArray(*kernels, "kernels"))
    return false;
  if (kernels->empty())
    return v.fail("kernels", "must not be empty");

  const size_t numArguments = arguments->size();
  const size_t numKernels = kernels->size();
  m.arguments.assign(numArguments, Argument());
  m.kernels.assign(numKernels, Kernel());

  for (size_t i = 0; i < numArguments; ++i) {
    const Json &entry = (*arguments)[i];
    std::string path = Validator::at("arguments", i);
    Argument &a = m.arguments[i];
    if (!v.expectObject(entry, path) ||
        !v.nonEmptyString(entry, path, "name", a.name))
      return false;
    for (size_t j = 0; j < i; ++j)
      if (m.arguments[j].name == a.name)
        return v.fail(Validator::join(path, "name"),
                      "duplicate argument name " + inQuotes(a.name) +
                          " (also arguments[" + std::to_string(j) + "])");
    int role, dtype;
    if (!v.choice(entry, path, "role", {"input", "output", "workspace"},
                  role) ||
        !v.choice(entry, path, "dtype", {"f16", "bf16", "f32"}, dtype))
      return false;
    a.role = static_cast<Role>(role);
    a.dtype = static_cast<DType>(dtype);
    const Json *shape = v.member(entry, path, "shape", true);
    if (!shape || !v.integers(*shape, Validator::join(path, "shape"), 1,
                              INT64_MAX, "a positive integer", 0, 8, a.shape))
      return false;
    uint64_t bytes = dtypeSize(a.dtype);
    for (int64_t extent : a.shape) {
      if (static_cast<uint64_t>(extent) > kMaxBytes / bytes)
        return v.fail(Validator::join(path, "shape"),
                      "the buffer is too large (over 2^48 bytes)");
      bytes *= static_cast<uint64_t>(extent);
    }
  }

  // Workspace metadata, once every argument's role is known.
  for (size_t i = 0; i < numArguments; ++i) {
    const Json &entry = (*arguments)[i];
    std::string path = Validator::at("arguments", i);
    Argument &a = m.arguments[i];
    if (const Json *depends = v.member(entry, path, "depends_on", false)) {
      std::string dependsPath = Validator::join(path, "depends_on");
      if (a.role != Role::Workspace)
        return v.fail(dependsPath, "only a workspace depends on inputs");
      std::vector<int64_t> indices;
      if (!v.integers(*depends, dependsPath, 0, INT32_MAX, "an argument index",
                      0, numArguments, indices))
        return false;
      for (size_t j = 0; j < indices.size(); ++j) {
        if (static_cast<size_t>(indices[j]) >= numArguments ||
            m.arguments[indices[j]].role != Role::Input)
          return v.fail(Validator::at(dependsPath, j),
                        std::to_string(indices[j]) +
                            " is not the index of an input argument");
        a.dependsOn.push_back(static_cast<int>(indices[j]));
      }
    }
    if (const Json *producer = v.member(entry, path, "producer", false)) {
      std::string producerPath = Validator::join(path, "producer");
      if (a.role != Role::Workspace)
        return v.fail(producerPath, "only a workspace has a producer");
      int64_t index;
      if (!v.integer(*producer, producerPath, 0, INT32_MAX, "a kernel index",
                     index))
        return false;
      if (static_cast<size_t>(index) >= numKernels)
        return v.fail(producerPath,
                      std::to_string(index) + " is not a kernel index (" +
                          std::to_string(numKernels) + " kernels)");
      a.producer = static_cast<int>(index);
    }
    if (const Json *count = v.member(entry, path, "producer_count", false)) {
      std::string countPath = Validator::join(path, "producer_count");
      if (a.producer < 0)
        return v.fail(countPath, "needs a producer");
      int64_t value;
      if (!v.integer(*count, countPath, 1, INT32_MAX, "a kernel count", value))
        return false;
      if (static_cast<size_t>(a.producer + value) > numKernels)
        return v.fail(countPath, "kernels " + std::to_string(a.producer) +
                                     " to " +
                                     std::to_string(a.producer + value - 1) +
                                     " are not all kernel indices (" +
                                     std::to_string(numKernels) + " kernels)");
      a.producerCount = static_cast<int>(value);
    }
  }

  for (size_t i = 0; i < numKernels; ++i) {
    const Json &entry = (*kernels)[i];
    std::string path = Validator::at("kernels", i);
    Kernel &k = m.kernels[i];
    if (!v.expectObject(entry, path) ||
        !v.nonEmptyString(entry, path, "name", k.name) ||
        !validateDims(v, entry, path, "grid", k.grid) ||
        !validateDims(v, entry, path, "block", k.block))
      return false;
    if (const Json *shared = v.member(entry, path, "shared_bytes", false)) {
      int64_t bytes;
      if (!v.integer(*shared, Validator::join(path, "shared_bytes"), 0,
                     INT32_MAX, "a non-negative integer", bytes))
        return false;
      k.sharedBytes = static_cast<unsigned>(bytes);
    }
    const Json *args = v.member(entry, path, "arguments", true);
    std::vector<int64_t> indices;
    if (!args || !v.integers(*args, Validator::join(path, "arguments"), 0,
                             INT32_MAX, "an argument index", 0, 4096, indices))
      return false;
    for (size_t j = 0; j < indices.size(); ++j) {
      if (static_cast<size_t>(indices[j]) >= numArguments)
        return v.fail(Validator::at(Validator::join(path, "arguments"), j),
                      std::to_string(indices[j]) +
                          " is not an argument index (" +
                          std::to_string(numArguments) + " arguments)");
      k.arguments.push_back(static_cast<int>(indices[j]));
    }
    if (const Json *writes = v.member(entry, path, "writes", false)) {
      std::vector<int64_t> positions;
      std::string writesPath = Validator::join(path, "writes");
      if (!v.integers(*writes, writesPath, 0, INT32_MAX, "an operand position",
                      0, 4096, positions))
        return false;
      for (size_t j = 0; j < positions.size(); ++j) {
        std::string at = Validator::at(writesPath, j);
        int position = static_cast<int>(positions[j]);
        if (static_cast<size_t>(position) >= k.arguments.size())
          return v.fail(
              at, std::to_string(position) + " is not an operand position (" +
                      std::to_string(k.arguments.size()) + " arguments)");
        if (std::find(k.writes.begin(), k.writes.end(), position) !=
            k.writes.end())
          return v.fail(at, std::to_string(position) + " is listed twice");
        k.writes.push_back(position);
      }
    }
  }

  // Consistency between arguments and kernels.
  for (size_t i = 0; i < numArguments; ++i) {
    const Argument &a = m.arguments[i];
    std::string path = Validator::at("arguments", i);
    for (int kernel = a.producer; a.isWrittenBy(kernel); ++kernel) {
      const Kernel &k = m.kernels[kernel];
      bool takes = false;
      for (int index : k.arguments)
        takes |= static_cast<size_t>(index) == i;
      if (!takes)
        return v.fail(Validator::join(path, "producer"),
                      "kernel " + std::to_string(kernel) + " (" + k.name +
                          ") does not take this workspace");
    }
    if (a.role == Role::Output) {
      bool used = false;
      for (const Kernel &k : m.kernels)
        for (int index : k.arguments)
          used |= static_cast<size_t>(index) == i;
      if (!used)
        return v.fail(path, "output " + inQuotes(a.name) +
                                " is not passed to any kernel");
    }
  }

  if (const Json *exchanges = v.member(root, "", "exchanges", false))
    if (!validateExchanges(v, *exchanges, m))
      return false;
  const Json *shard = v.member(root, "", "shard", !m.exchanges.empty());
  if (!m.exchanges.empty() && !shard)
    return false;
  if (shard) {
    if (!v.expectObject(*shard, "shard"))
      return false;
    const char *names[3] = {"rank", "ranks", "row_length"};
    int64_t *fields[3] = {&m.shardRank, &m.shardRanks, &m.shardRowLength};
    for (int f = 0; f < 3; ++f) {
      const Json *value = v.member(*shard, "shard", names[f], true);
      if (!value ||
          !v.integer(*value, Validator::join("shard", names[f]), f == 0 ? 0 : 2,
                     INT32_MAX, f == 0 ? "a rank" : "an integer of at least 2",
                     *fields[f]))
        return false;
    }
    if (m.shardRank >= m.shardRanks || m.shardRowLength % m.shardRanks)
      return v.fail("shard", "rank must be below ranks, and ranks must "
                             "divide row_length");
    for (const Exchange &e : m.exchanges)
      if (e.ranks != m.shardRanks)
        return v.fail("exchanges", "every exchange must run over the shard's "
                                   "ranks");
  }
  if (const Json *convolutions = v.member(root, "", "convolutions", false))
    return validateConvolutions(v, *convolutions, m);
  return true;
}

} // namespace

bool Manifest::parse(const char *text, size_t length, Manifest &manifest,
                     std::string &error) {
  SyntaxChecker checker;
  if (!Json::sax_parse(text, text + length, &checker,
                       nlohmann::detail::input_format_t::json,
                       /*strict=*/true)) {
    error = "invalid manifest: not valid JSON: " + checker.error;
    return false;
  }
  Json root = Json::parse(text, text + length, /*cb=*/nullptr,
                          /*allow_exceptions=*/false);
  Manifest result;
  if (!validate(root, result, error))
    return false;
  manifest = std::move(result);
  return true;
}

bool Manifest::read(const std::string &path, Manifest &manifest,
                    std::string &error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = "cannot read the manifest '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  std::string text = buffer.str();
  Manifest result;
  if (!parse(text.data(), text.size(), result, error)) {
    error = path + ": " + error;
    return false;
  }
  result.path = path;
  manifest = std::move(result);
  return true;
}

} // namespace runtime
} // namespace fftconv
