//===- Json.h - A small JSON reader for launch manifests --------*- C++ -*-===//
//
// Reads RFC 8259 JSON into a tree of values: enough for the manifest, with
// errors that give a line and column. No exceptions (the runtime is built
// with -fno-exceptions inside the compiler's build).
//
// Internal to lib/Runtime: not installed.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_RUNTIME_JSON_H
#define FFTCONV_RUNTIME_JSON_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fftconv {
namespace runtime {
namespace json {

struct Value {
  enum Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Null;
  bool boolean = false;
  double number = 0;
  /// Numbers written without fraction or exponent that fit in 64 bits.
  bool isInteger = false;
  int64_t integer = 0;
  std::string string;
  std::vector<Value> elements;                        // Array
  std::vector<std::pair<std::string, Value>> members; // Object, in order

  /// The member named `key` of an object, or null.
  const Value *get(const std::string &key) const;
};

/// The name of a kind for messages ("an object", "a string", ...).
const char *kindName(Value::Kind kind);

/// Parses `text`; on failure returns false with `error` set to
/// "line L, column C: <what>".
bool parse(const char *text, size_t length, Value &result, std::string &error);

} // namespace json
} // namespace runtime
} // namespace fftconv

#endif // FFTCONV_RUNTIME_JSON_H
