// bytes.h — flat bytes for the step's gather (internal to core/src/runtime/spmd/).
//
// Every rank runs the same binary (one mpirun line; docs/distributed.md asks the same
// build on every host), so a trivially copyable struct — a TraceEvent, a MemorySample —
// crosses as its own bytes: same layout, same endianness on every rank.
#pragma once

#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "pipelab/error.h"

namespace pipelab::spmd {

/// Appends values to a byte vector.
class ByteWriter {
 public:
  /// One trivially copyable value.
  template <typename T>
  void value(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>, "only plain structs cross as bytes");
    const char* p = reinterpret_cast<const char*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  /// A length, then the values.
  template <typename T>
  void values(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>, "only plain structs cross as bytes");
    value(static_cast<std::uint64_t>(v.size()));
    const char* p = reinterpret_cast<const char*>(v.data());
    bytes_.insert(bytes_.end(), p, p + sizeof(T) * v.size());
  }
  /// A length, then the characters.
  void text(const std::string& s) { values(std::vector<char>(s.begin(), s.end())); }
  /// What was written.
  std::vector<char>& bytes() { return bytes_; }

 private:
  std::vector<char> bytes_;
};

/// Reads back what a ByteWriter wrote, in the same order; throws pipelab::Error past the end.
class ByteReader {
 public:
  /// Reads from `bytes`, which must outlive the reader.
  explicit ByteReader(const std::vector<char>& bytes) : bytes_(bytes) {}
  /// One value.
  template <typename T>
  T value() {
    T v;
    std::memcpy(&v, take(sizeof(T)), sizeof(T));
    return v;
  }
  /// A length, then the values.
  template <typename T>
  std::vector<T> values() {
    const auto n = value<std::uint64_t>();
    std::vector<T> v(n);
    if (n > 0) std::memcpy(v.data(), take(sizeof(T) * n), sizeof(T) * n);
    return v;
  }
  /// A length, then the characters.
  std::string text() {
    const std::vector<char> c = values<char>();
    return std::string(c.begin(), c.end());
  }

 private:
  const char* take(std::size_t n) {
    if (n > bytes_.size() - at_)
      PIPELAB_THROW("a rank's step data ends early (" + std::to_string(bytes_.size()) + " bytes)",
                    "every rank must run the same pipelab binary: one build, one mpirun line");
    const char* p = bytes_.data() + at_;
    at_ += n;
    return p;
  }
  const std::vector<char>& bytes_;
  std::size_t at_ = 0;
};

}  // namespace pipelab::spmd
