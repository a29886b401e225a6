//===- Json.cpp - A small JSON reader for launch manifests ----------------===//

#include "Json.h"

#include <cstdlib>

namespace fftconv {
namespace runtime {
namespace json {

const Value *Value::get(const std::string &key) const {
  for (const auto &member : members)
    if (member.first == key)
      return &member.second;
  return nullptr;
}

const char *kindName(Value::Kind kind) {
  switch (kind) {
  case Value::Null:
    return "null";
  case Value::Bool:
    return "a boolean";
  case Value::Number:
    return "a number";
  case Value::String:
    return "a string";
  case Value::Array:
    return "an array";
  case Value::Object:
    return "an object";
  }
  return "a value";
}

namespace {

constexpr int kMaxDepth = 128;

class Parser {
public:
  Parser(const char *text, size_t length)
      : text_(text), end_(text + length), pos_(text) {}

  bool parseDocument(Value &result, std::string &out) {
    skipSpace();
    if (!parseValue(result, 0))
      return fail(out);
    skipSpace();
    if (pos_ != end_) {
      error("unexpected content after the JSON value");
      return fail(out);
    }
    return true;
  }

private:
  bool fail(std::string &out) {
    // Line and column (1-based, in bytes) of the parser's position.
    int line = 1, column = 1;
    for (const char *p = text_; p < errorPos_ && p < end_; ++p) {
      if (*p == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    out = "line " + std::to_string(line) + ", column " +
          std::to_string(column) + ": " + message_;
    return false;
  }

  bool error(const std::string &message) {
    message_ = message;
    errorPos_ = pos_;
    return false;
  }

  void skipSpace() {
    while (pos_ != end_ &&
           (*pos_ == ' ' || *pos_ == '\t' || *pos_ == '\n' || *pos_ == '\r'))
      ++pos_;
  }

  static std::string describe(char c) {
    if (c >= 0x20 && c < 0x7f)
      return std::string("'") + c + "'";
    return "byte " + std::to_string(static_cast<unsigned char>(c));
  }

  bool parseValue(Value &value, int depth) {
    if (depth > kMaxDepth)
      return error("nesting deeper than " + std::to_string(kMaxDepth));
    if (pos_ == end_)
      return error("expected a JSON value, found the end of the text");
    switch (*pos_) {
    case '{':
      return parseObject(value, depth);
    case '[':
      return parseArray(value, depth);
    case '"':
      value.kind = Value::String;
      return parseString(value.string);
    case 't':
      value.kind = Value::Bool;
      value.boolean = true;
      return parseLiteral("true");
    case 'f':
      value.kind = Value::Bool;
      value.boolean = false;
      return parseLiteral("false");
    case 'n':
      value.kind = Value::Null;
      return parseLiteral("null");
    default:
      if (*pos_ == '-' || (*pos_ >= '0' && *pos_ <= '9'))
        return parseNumber(value);
      return error("expected a JSON value, found " + describe(*pos_));
    }
  }

  bool parseLiteral(const char *word) {
    const char *start = pos_;
    for (const char *w = word; *w; ++w, ++pos_) {
      if (pos_ == end_ || *pos_ != *w) {
        pos_ = start;
        return error(std::string("invalid literal (expected '") + word + "')");
      }
    }
    return true;
  }

  static bool isDigit(char c) { return c >= '0' && c <= '9'; }

  bool parseNumber(Value &value) {
    const char *start = pos_;
    bool integer = true;
    if (*pos_ == '-')
      ++pos_;
    if (pos_ == end_ || !isDigit(*pos_))
      return error("invalid number: expected a digit");
    if (*pos_ == '0') {
      ++pos_;
      if (pos_ != end_ && isDigit(*pos_))
        return error("invalid number: leading zero");
    } else {
      while (pos_ != end_ && isDigit(*pos_))
        ++pos_;
    }
    if (pos_ != end_ && *pos_ == '.') {
      integer = false;
      ++pos_;
      if (pos_ == end_ || !isDigit(*pos_))
        return error("invalid number: expected a digit after '.'");
      while (pos_ != end_ && isDigit(*pos_))
        ++pos_;
    }
    if (pos_ != end_ && (*pos_ == 'e' || *pos_ == 'E')) {
      integer = false;
      ++pos_;
      if (pos_ != end_ && (*pos_ == '+' || *pos_ == '-'))
        ++pos_;
      if (pos_ == end_ || !isDigit(*pos_))
        return error("invalid number: expected a digit in the exponent");
      while (pos_ != end_ && isDigit(*pos_))
        ++pos_;
    }
    std::string spelling(start, pos_);
    value.kind = Value::Number;
    value.number = std::strtod(spelling.c_str(), nullptr);
    value.isInteger = false;
    if (integer) {
      // Exact 64-bit value, or not an integer if it does not fit.
      bool negative = spelling[0] == '-';
      uint64_t magnitude = 0;
      bool overflow = false;
      for (size_t i = negative ? 1 : 0; i < spelling.size(); ++i) {
        uint64_t digit = static_cast<uint64_t>(spelling[i] - '0');
        if (magnitude > (UINT64_MAX - digit) / 10) {
          overflow = true;
          break;
        }
        magnitude = magnitude * 10 + digit;
      }
      uint64_t limit = negative ? uint64_t(INT64_MAX) + 1 : uint64_t(INT64_MAX);
      if (!overflow && magnitude <= limit) {
        value.isInteger = true;
        value.integer =
            negative ? static_cast<int64_t>(0 - magnitude) // two's complement
                     : static_cast<int64_t>(magnitude);
      }
    }
    return true;
  }

  static int hexValue(char c) {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  }

  bool parseHex4(unsigned &code) {
    code = 0;
    for (int i = 0; i < 4; ++i) {
      if (pos_ == end_ || hexValue(*pos_) < 0)
        return error("invalid \\u escape: expected 4 hexadecimal digits");
      code = code * 16 + static_cast<unsigned>(hexValue(*pos_));
      ++pos_;
    }
    return true;
  }

  static void appendUtf8(std::string &out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  bool parseString(std::string &out) {
    ++pos_; // the opening quote
    out.clear();
    while (true) {
      if (pos_ == end_)
        return error("unterminated string");
      char c = *pos_;
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        return error("control character in a string (escape it)");
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ == end_)
        return error("unterminated string");
      char escape = *pos_++;
      switch (escape) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        unsigned code;
        if (!parseHex4(code))
          return false;
        if (code >= 0xD800 && code < 0xDC00) {
          // A high surrogate must be followed by an escaped low surrogate.
          unsigned low;
          if (end_ - pos_ < 2 || pos_[0] != '\\' || pos_[1] != 'u')
            return error("unpaired UTF-16 surrogate in \\u escape");
          pos_ += 2;
          if (!parseHex4(low))
            return false;
          if (low < 0xDC00 || low >= 0xE000)
            return error("unpaired UTF-16 surrogate in \\u escape");
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        } else if (code >= 0xDC00 && code < 0xE000) {
          return error("unpaired UTF-16 surrogate in \\u escape");
        }
        appendUtf8(out, code);
        break;
      }
      default:
        --pos_;
        return error("invalid escape \\" + std::string(1, escape));
      }
    }
  }

  bool parseArray(Value &value, int depth) {
    value.kind = Value::Array;
    ++pos_; // '['
    skipSpace();
    if (pos_ != end_ && *pos_ == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      skipSpace();
      value.elements.emplace_back();
      if (!parseValue(value.elements.back(), depth + 1))
        return false;
      skipSpace();
      if (pos_ == end_)
        return error("unterminated array (expected ',' or ']')");
      if (*pos_ == ',') {
        ++pos_;
        continue;
      }
      if (*pos_ == ']') {
        ++pos_;
        return true;
      }
      return error("expected ',' or ']' in an array, found " + describe(*pos_));
    }
  }

  bool parseObject(Value &value, int depth) {
    value.kind = Value::Object;
    ++pos_; // '{'
    skipSpace();
    if (pos_ != end_ && *pos_ == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skipSpace();
      if (pos_ == end_ || *pos_ != '"')
        return error("expected a string key in an object");
      const char *keyPos = pos_;
      std::string key;
      if (!parseString(key))
        return false;
      if (value.get(key)) {
        pos_ = keyPos;
        return error("duplicate key \"" + key + "\"");
      }
      skipSpace();
      if (pos_ == end_ || *pos_ != ':')
        return error("expected ':' after an object key");
      ++pos_;
      skipSpace();
      value.members.emplace_back(key, Value());
      if (!parseValue(value.members.back().second, depth + 1))
        return false;
      skipSpace();
      if (pos_ == end_)
        return error("unterminated object (expected ',' or '}')");
      if (*pos_ == ',') {
        ++pos_;
        continue;
      }
      if (*pos_ == '}') {
        ++pos_;
        return true;
      }
      return error("expected ',' or '}' in an object, found " +
                   describe(*pos_));
    }
  }

  const char *text_;
  const char *end_;
  const char *pos_;
  const char *errorPos_ = nullptr;
  std::string message_;
};

} // namespace

bool parse(const char *text, size_t length, Value &result, std::string &error) {
  result = Value();
  Parser parser(text, length);
  return parser.parseDocument(result, error);
}

} // namespace json
} // namespace runtime
} // namespace fftconv
