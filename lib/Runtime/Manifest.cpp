//===- Manifest.cpp - Parse and validate launch manifests -----------------===//
//
// The rules (docs/gpu-manifest.md, docs/runtime.md) are the same as those of
// python/fftconv/runtime.py, with the same messages: "invalid manifest:
// <field path>: <what is wrong>".
//
//===----------------------------------------------------------------------===//

#include "fftconv-runtime/Runtime.h"

#include "Json.h"

#include <cstdio>

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

std::vector<int> Manifest::bufferArguments() const {
  std::vector<int> result;
  for (size_t i = 0; i < arguments.size(); ++i)
    if (arguments[i].role != Role::Workspace)
      result.push_back(static_cast<int>(i));
  return result;
}

namespace {

using json::Value;

// Largest buffer accepted (bytes): 2^48, far above any device's memory, and
// low enough that no product of extents overflows on the way.
constexpr uint64_t kMaxBytes = uint64_t(1) << 48;

std::string quoted(const std::string &text) { return "\"" + text + "\""; }

// A short rendering of a value for messages.
std::string show(const Value &value) {
  switch (value.kind) {
  case Value::String:
    return quoted(value.string);
  case Value::Number: {
    if (value.isInteger)
      return std::to_string(value.integer);
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "%g", value.number);
    return buffer;
  }
  case Value::Bool:
    return value.boolean ? "true" : "false";
  case Value::Null:
    return "null";
  case Value::Array:
    return "an array";
  case Value::Object:
    return "an object";
  }
  return "a value";
}

class Validator {
public:
  explicit Validator(std::string &error) : error_(error) {}

  bool fail(const std::string &path, const std::string &what) {
    error_ = "invalid manifest: " + (path.empty() ? what : path + ": " + what);
    return false;
  }

  // The member `key` of `object`, which must exist (or be optional).
  const Value *member(const Value &object, const std::string &path,
                      const std::string &key, bool required) {
    const Value *value = object.get(key);
    if (!value && required)
      fail(join(path, key), "required field is missing");
    return value;
  }

  static std::string join(const std::string &path, const std::string &key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string at(const std::string &path, size_t index) {
    return path + "[" + std::to_string(index) + "]";
  }

  bool expectKind(const Value &value, Value::Kind kind,
                  const std::string &path) {
    if (value.kind == kind)
      return true;
    return fail(path, std::string("expected ") + json::kindName(kind) +
                          ", got " + show(value));
  }

  // An integer in [low, high].
  bool integer(const Value &value, const std::string &path, int64_t low,
               int64_t high, const char *what, int64_t &result) {
    if (value.kind != Value::Number || !value.isInteger ||
        value.integer < low || value.integer > high)
      return fail(path,
                  std::string("expected ") + what + ", got " + show(value));
    result = value.integer;
    return true;
  }

  bool string(const Value &object, const std::string &path,
              const std::string &key, bool required, std::string &result) {
    const Value *value = member(object, path, key, required);
    if (!value)
      return !required;
    if (!expectKind(*value, Value::String, join(path, key)))
      return false;
    result = value->string;
    return true;
  }

  bool nonEmptyString(const Value &object, const std::string &path,
                      const std::string &key, std::string &result) {
    if (!string(object, path, key, true, result))
      return false;
    if (result.empty())
      return fail(join(path, key), "must not be empty");
    return true;
  }

  // A string that must be one of `choices`; returns its index.
  bool choice(const Value &object, const std::string &path,
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
      list += (i ? ", " : "") + quoted(choices[i]);
    return fail(join(path, key),
                "expected one of " + list + ", got " + quoted(text));
  }

  // An array of integers in [low, high], of length in [minLength, maxLength].
  bool integers(const Value &value, const std::string &path, int64_t low,
                int64_t high, const char *what, size_t minLength,
                size_t maxLength, std::vector<int64_t> &result) {
    if (!expectKind(value, Value::Array, path))
      return false;
    if (value.elements.size() < minLength ||
        value.elements.size() > maxLength) {
      std::string count =
          minLength == maxLength
              ? std::to_string(minLength)
              : std::to_string(minLength) + " to " + std::to_string(maxLength);
      return fail(path, "expected " + count + " entries, got " +
                            std::to_string(value.elements.size()));
    }
    result.clear();
    for (size_t i = 0; i < value.elements.size(); ++i) {
      int64_t entry;
      if (!integer(value.elements[i], at(path, i), low, high, what, entry))
        return false;
      result.push_back(entry);
    }
    return true;
  }

private:
  std::string &error_;
};

bool validateDims(Validator &v, const Value &kernel, const std::string &path,
                  const char *key, unsigned (&dims)[3]) {
  const Value *value = v.member(kernel, path, key, true);
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

bool validate(const Value &root, Manifest &m, std::string &error) {
  Validator v(error);
  if (root.kind != Value::Object)
    return v.fail("", std::string("expected a JSON object at the top level, "
                                  "got ") +
                          json::kindName(root.kind));
  if (!v.string(root, "", "format", true, m.format))
    return false;
  if (m.format != "fftconv-manifest")
    return v.fail("format",
                  "expected \"fftconv-manifest\", got " + quoted(m.format));
  const Value *version = v.member(root, "", "version", true);
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

  const Value *arguments = v.member(root, "", "arguments", true);
  if (!arguments || !v.expectKind(*arguments, Value::Array, "arguments"))
    return false;
  if (arguments->elements.empty())
    return v.fail("arguments", "must not be empty");
  const Value *kernels = v.member(root, "", "kernels", true);
  if (!kernels || !v.expectKind(*kernels, Value::Array, "kernels"))
    return false;
  if (kernels->elements.empty())
    return v.fail("kernels", "must not be empty");

  const size_t numArguments = arguments->elements.size();
  const size_t numKernels = kernels->elements.size();
  m.arguments.assign(numArguments, Argument());
  m.kernels.assign(numKernels, Kernel());

  for (size_t i = 0; i < numArguments; ++i) {
    const Value &entry = arguments->elements[i];
    std::string path = Validator::at("arguments", i);
    Argument &a = m.arguments[i];
    if (!v.expectKind(entry, Value::Object, path) ||
        !v.nonEmptyString(entry, path, "name", a.name))
      return false;
    for (size_t j = 0; j < i; ++j)
      if (m.arguments[j].name == a.name)
        return v.fail(Validator::join(path, "name"),
                      "duplicate argument name " + quoted(a.name) +
                          " (also arguments[" + std::to_string(j) + "])");
    int role, dtype;
    if (!v.choice(entry, path, "role", {"input", "output", "workspace"},
                  role) ||
        !v.choice(entry, path, "dtype", {"f16", "bf16", "f32"}, dtype))
      return false;
    a.role = static_cast<Role>(role);
    a.dtype = static_cast<DType>(dtype);
    const Value *shape = v.member(entry, path, "shape", true);
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
    const Value &entry = arguments->elements[i];
    std::string path = Validator::at("arguments", i);
    Argument &a = m.arguments[i];
    if (const Value *depends = entry.get("depends_on")) {
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
    if (const Value *producer = entry.get("producer")) {
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
  }

  for (size_t i = 0; i < numKernels; ++i) {
    const Value &entry = kernels->elements[i];
    std::string path = Validator::at("kernels", i);
    Kernel &k = m.kernels[i];
    if (!v.expectKind(entry, Value::Object, path) ||
        !v.nonEmptyString(entry, path, "name", k.name) ||
        !validateDims(v, entry, path, "grid", k.grid) ||
        !validateDims(v, entry, path, "block", k.block))
      return false;
    if (const Value *shared = entry.get("shared_bytes")) {
      int64_t bytes;
      if (!v.integer(*shared, Validator::join(path, "shared_bytes"), 0,
                     INT32_MAX, "a non-negative integer", bytes))
        return false;
      k.sharedBytes = static_cast<unsigned>(bytes);
    }
    const Value *args = v.member(entry, path, "arguments", true);
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
  }

  // Consistency between arguments and kernels.
  for (size_t i = 0; i < numArguments; ++i) {
    const Argument &a = m.arguments[i];
    std::string path = Validator::at("arguments", i);
    if (a.producer >= 0) {
      const Kernel &k = m.kernels[a.producer];
      bool takes = false;
      for (int index : k.arguments)
        takes |= static_cast<size_t>(index) == i;
      if (!takes)
        return v.fail(Validator::join(path, "producer"),
                      "kernel " + std::to_string(a.producer) + " (" + k.name +
                          ") does not take this workspace");
    }
    if (a.role == Role::Output) {
      bool used = false;
      for (const Kernel &k : m.kernels)
        for (int index : k.arguments)
          used |= static_cast<size_t>(index) == i;
      if (!used)
        return v.fail(path, "output " + quoted(a.name) +
                                " is not passed to any kernel");
    }
  }
  return true;
}

} // namespace

bool Manifest::parse(const char *text, size_t length, Manifest &manifest,
                     std::string &error) {
  json::Value root;
  std::string jsonError;
  if (!json::parse(text, length, root, jsonError)) {
    error = "invalid manifest: not valid JSON: " + jsonError;
    return false;
  }
  Manifest result;
  if (!validate(root, result, error))
    return false;
  manifest = std::move(result);
  return true;
}

} // namespace runtime
} // namespace fftconv
