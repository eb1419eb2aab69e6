#pragma once
// Byte-level packing for the coordinator's wire messages: values are appended in a fixed
// order by ByteWriter and read back in the same order by ByteReader, which checks every read
// against the buffer so a truncated or corrupt message is an error, never a wild read.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "core/types.hpp"

namespace hps {

/// A message that cannot be decoded.
class WireError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ByteWriter {
 public:
  template <typename T>
  void put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const char*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  template <typename T>
  void put_vector(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    put<uint64_t>(v.size());
    put_raw(v.data(), v.size() * sizeof(T));
  }
  void put_floats(const float* data, Index n) {
    put<uint64_t>(static_cast<uint64_t>(n));
    put_raw(data, static_cast<size_t>(n) * sizeof(float));
  }
  void put_matrix(const Matrix& m) {
    put<int64_t>(m.rows());
    put<int64_t>(m.cols());
    put_raw(m.data(), static_cast<size_t>(m.size()) * sizeof(float));
  }
  std::vector<char>& bytes() { return bytes_; }

 private:
  void put_raw(const void* data, size_t n) {
    const auto* p = static_cast<const char*>(data);
    bytes_.insert(bytes_.end(), p, p + n);
  }
  std::vector<char> bytes_;
};

class ByteReader {
 public:
  ByteReader(const char* data, size_t size) : data_(data), size_(size) {}
  explicit ByteReader(const std::vector<char>& bytes) : ByteReader(bytes.data(), bytes.size()) {}

  template <typename T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
    return value;
  }
  std::string get_string() {
    const auto n = get<uint64_t>();
    const char* p = take(n);
    return std::string(p, n);
  }
  template <typename T>
  std::vector<T> get_vector() {
    const auto n = get<uint64_t>();
    if (n > (size_ - pos_) / sizeof(T)) throw WireError("message truncated");
    std::vector<T> v(n);
    std::memcpy(v.data(), take(n * sizeof(T)), n * sizeof(T));
    return v;
  }
  /// Reads a float array written by put_floats.
  Vector get_floats() {
    const auto n = get<uint64_t>();
    if (n > (size_ - pos_) / sizeof(float)) throw WireError("message truncated");
    Vector out(static_cast<Index>(n));
    std::memcpy(out.data(), take(n * sizeof(float)), n * sizeof(float));
    return out;
  }
  Matrix get_matrix() {
    const auto rows = get<int64_t>();
    const auto cols = get<int64_t>();
    if (rows < 0 || cols < 0 ||
        (rows > 0 && static_cast<uint64_t>(cols) > (size_ - pos_) / sizeof(float) / rows))
      throw WireError("message truncated");
    Matrix out(rows, cols);
    std::memcpy(out.data(), take(static_cast<size_t>(out.size()) * sizeof(float)),
                static_cast<size_t>(out.size()) * sizeof(float));
    return out;
  }
  bool done() const { return pos_ == size_; }

 private:
  const char* take(size_t n) {
    if (n > size_ - pos_) throw WireError("message truncated");
    const char* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace hps
