// Result<T> for the control path (config, CLI): a value or an error with a source position.
// GCC 12 / Clang 14 have no usable std::expected in C++20, hence this small type.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace vs {

struct Error {
  std::string message;
  uint32_t line = 0;      // 1-based; 0 = no position
  uint32_t column = 0;    // 1-based; 0 = no position
  std::string file = {};  // the file the position is in, when not the one the caller read (an include)
  /// "FILE:LINE:COL: message" (or "FILE: message" without a position); `file` if this error names
  /// none of its own.
  std::string format(const std::string& file_read) const {
    const std::string& f = file.empty() ? file_read : file;
    if (line == 0) return f + ": " + message;
    return f + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
  }
};

template <class T>
class Result {
public:
  Result(T v) : v_(std::move(v)) {}      // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}  // NOLINT
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

private:
  std::variant<T, Error> v_;
};

}  // namespace vs
