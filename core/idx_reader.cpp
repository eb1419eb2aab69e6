// IDX (MNIST format) reader. zlib reads gzipped and plain files alike, so one code path serves
// both. Data are read in large chunks straight into the feature matrix: an IDX images file is
// row-major samples x features, which is exactly the column-major features x samples layout.
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/data_loader.hpp"
#include "core/dataset_checks.hpp"

namespace hps {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw DataError(path + ": " + problem);
}

std::string hex_byte(unsigned value) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%02X", value & 0xFFu);
  return buf;
}

/// The IDX element types, named by their type byte.
enum class IdxType : uint8_t {
  kUByte = 0x08,
  kSByte = 0x09,
  kShort = 0x0B,
  kInt = 0x0C,
  kFloat = 0x0D,
  kDouble = 0x0E
};

size_t element_size(IdxType type) {
  switch (type) {
    case IdxType::kUByte:
    case IdxType::kSByte:
      return 1;
    case IdxType::kShort:
      return 2;
    case IdxType::kInt:
    case IdxType::kFloat:
      return 4;
    case IdxType::kDouble:
      return 8;
  }
  return 0;
}

bool is_known_type(uint8_t byte) {
  return byte == 0x08 || byte == 0x09 || byte == 0x0B || byte == 0x0C || byte == 0x0D ||
         byte == 0x0E;
}

uint32_t big_endian_u32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

uint64_t big_endian_u64(const unsigned char* p) {
  return (uint64_t{big_endian_u32(p)} << 32) | big_endian_u32(p + 4);
}

/// Decodes `count` big-endian elements of `type` from `src` into `dst`.
template <typename Out>
void decode(IdxType type, const unsigned char* src, size_t count, Out* dst) {
  switch (type) {
    case IdxType::kUByte:
      for (size_t k = 0; k < count; ++k) dst[k] = static_cast<Out>(src[k]);
      return;
    case IdxType::kSByte:
      for (size_t k = 0; k < count; ++k) dst[k] = static_cast<Out>(static_cast<int8_t>(src[k]));
      return;
    case IdxType::kShort:
      for (size_t k = 0; k < count; ++k) {
        const auto bits = static_cast<uint16_t>((src[2 * k] << 8) | src[2 * k + 1]);
        dst[k] = static_cast<Out>(static_cast<int16_t>(bits));
      }
      return;
    case IdxType::kInt:
      for (size_t k = 0; k < count; ++k)
        dst[k] = static_cast<Out>(static_cast<int32_t>(big_endian_u32(src + 4 * k)));
      return;
    case IdxType::kFloat:
      for (size_t k = 0; k < count; ++k) {
        const uint32_t bits = big_endian_u32(src + 4 * k);
        float value;
        std::memcpy(&value, &bits, sizeof(value));
        dst[k] = static_cast<Out>(value);
      }
      return;
    case IdxType::kDouble:
      for (size_t k = 0; k < count; ++k) {
        const uint64_t bits = big_endian_u64(src + 8 * k);
        double value;
        std::memcpy(&value, &bits, sizeof(value));
        dst[k] = static_cast<Out>(value);
      }
      return;
  }
}

/// One open IDX file, gzipped or plain, with its header parsed.
class IdxFile {
 public:
  explicit IdxFile(const std::string& path) : path_(path) {
    require_regular_file(path, "an IDX file");
    errno = 0;
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_) {
      if (errno == ENOENT) fail(path, "no such file");
      fail(path, std::string("cannot open (") +
                     (errno != 0 ? std::strerror(errno) : "out of memory") + ")");
    }
    // A large buffer cuts the number of read() calls when inflating; must precede any read.
    gzbuffer(file_.get(), 1 << 18);
    read_header();
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0) file_bytes_ = static_cast<uint64_t>(info.st_size);
  }

  /// Fails unless the file can hold the first `samples` samples the header declares, before
  /// memory is set aside for them: a header claiming 2^27 samples in a 38-byte file took a
  /// gigabyte before "truncated". A plain file is measured exactly; a gzip one by deflate's
  /// largest ratio, 1032 to 1, which no real file of images comes near.
  void check_size(uint64_t samples) {
    const uint64_t data_bytes = samples * sample_elements_ * element_size(type_);
    const uint64_t header_bytes = 4 + 4 * uint64_t{dims_.size()};
    if (gzdirect(file_.get()) != 0) {
      if (header_bytes + data_bytes > file_bytes_)
        fail(path_,
             "truncated: expected " + std::to_string(data_bytes) + " bytes of data, found " +
                 std::to_string(file_bytes_ > header_bytes ? file_bytes_ - header_bytes : 0));
    } else if (data_bytes / kDeflateMaxRatio > file_bytes_) {
      fail(path_, "truncated: expected " + std::to_string(data_bytes) + " bytes of data (" +
                      shape() + "), more than a gzip file of " + std::to_string(file_bytes_) +
                      " bytes can hold");
    }
  }

  const std::string& path() const { return path_; }
  IdxType type() const { return type_; }
  const std::vector<uint64_t>& dims() const { return dims_; }
  uint64_t samples() const { return dims_[0]; }
  /// Elements per sample: the product of all dimensions but the first.
  uint64_t sample_elements() const { return sample_elements_; }

  /// "60000 x 28 x 28"
  std::string shape() const {
    std::string text;
    for (size_t d = 0; d < dims_.size(); ++d)
      text += (d == 0 ? "" : " x ") + std::to_string(dims_[d]);
    return text;
  }

  /// Reads the first `samples` samples, decoding them into `dst`
  /// (samples * sample_elements() values), in large chunks through one reusable buffer.
  template <typename Out>
  void read_samples(uint64_t samples, Out* dst) {
    const size_t size = element_size(type_);
    const uint64_t total_elements = samples * sample_elements_;
    const uint64_t expected_bytes = total_elements * size;
    constexpr size_t kChunkBytes = size_t{1} << 22;
    const size_t chunk_elements = kChunkBytes / size;
    std::vector<unsigned char> buffer(
        static_cast<size_t>(std::min<uint64_t>(expected_bytes, chunk_elements * size)));
    uint64_t done = 0;
    while (done < total_elements) {
      const auto want =
          static_cast<size_t>(std::min<uint64_t>(chunk_elements, total_elements - done));
      const size_t got = read(buffer.data(), want * size);
      const size_t whole = got / size;
      decode(type_, buffer.data(), whole, dst + done);
      if (got < want * size) {
        const uint64_t found = done * size + got;
        fail(path_, "truncated: expected " + std::to_string(expected_bytes) +
                        " bytes of data, found " + std::to_string(found) + stream_end_note());
      }
      done += want;
    }
  }

  /// Fails if data follow the last sample the header declares (a sign of a wrong header).
  void expect_end() {
    unsigned char extra;
    if (read(&extra, 1) != 0)
      fail(path_, "more data than the header declares (" + shape() + " of " +
                      std::to_string(element_size(type_)) + "-byte values)");
  }

 private:
  struct Closer {
    void operator()(gzFile file) const { gzclose(file); }
  };

  void read_header() {
    unsigned char magic[4];
    const size_t got = read(magic, sizeof(magic));
    if (got == 0) fail(path_, "empty file");
    if (got < sizeof(magic))
      fail(path_, "not an IDX file (only " + std::to_string(got) + " bytes long)");
    if (magic[0] != 0 || magic[1] != 0) {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "0x%02X%02X%02X%02X", magic[0], magic[1], magic[2], magic[3]);
      fail(path_, std::string("not an IDX file (bad magic bytes ") + buf + ")");
    }
    if (!is_known_type(magic[2]))
      fail(path_, "unsupported IDX data type " + hex_byte(magic[2]) +
                      " (supported: 0x08 ubyte, 0x09 sbyte, 0x0B short, 0x0C int, 0x0D float, "
                      "0x0E double)");
    type_ = static_cast<IdxType>(magic[2]);
    const unsigned rank = magic[3];
    if (rank == 0) fail(path_, "IDX rank 0: the file holds no samples");

    std::vector<unsigned char> raw(4 * size_t{rank});
    const size_t dims_got = read(raw.data(), raw.size());
    if (dims_got < raw.size())
      fail(path_, "truncated header: rank " + std::to_string(rank) + " needs " +
                      std::to_string(raw.size()) + " bytes of dimensions, found " +
                      std::to_string(dims_got));
    dims_.resize(rank);
    for (unsigned d = 0; d < rank; ++d) dims_[d] = big_endian_u32(raw.data() + 4 * d);

    // Bound every product so sizes below cannot overflow; 2^40 values is far beyond memory.
    constexpr uint64_t kMaxElements = uint64_t{1} << 40;
    sample_elements_ = 1;
    for (unsigned d = 1; d < rank; ++d) {
      sample_elements_ *= dims_[d];
      if (sample_elements_ > kMaxElements) fail(path_, "implausible dimensions " + shape());
    }
    if (sample_elements_ > 0 && dims_[0] > kMaxElements / sample_elements_)
      fail(path_, "implausible dimensions " + shape());
  }

  /// Reads up to `bytes` bytes; fewer only at the end of the data.
  size_t read(unsigned char* dst, size_t bytes) {
    constexpr size_t kMaxRead = size_t{1} << 30;  // gzread takes an unsigned int
    size_t total = 0;
    while (total < bytes) {
      const auto want = static_cast<unsigned>(std::min(kMaxRead, bytes - total));
      const int got = gzread(file_.get(), dst + total, want);
      if (got < 0) fail(path_, "read error (" + zlib_error() + ")");
      total += static_cast<size_t>(got);
      if (static_cast<unsigned>(got) < want) break;
    }
    return total;
  }

  std::string zlib_error() {
    int code = Z_OK;
    const char* message = gzerror(file_.get(), &code);
    if (code == Z_ERRNO) return std::strerror(errno);
    // zlib prefixes its message with the path, which our own message already names.
    std::string text = message != nullptr ? message : "unknown zlib error";
    const std::string prefix = path_ + ": ";
    if (text.compare(0, prefix.size(), prefix) == 0) text.erase(0, prefix.size());
    return text;
  }

  /// Says whether a short read was a gzip stream cut off mid-way rather than a short file.
  std::string stream_end_note() {
    int code = Z_OK;
    gzerror(file_.get(), &code);
    return code == Z_BUF_ERROR ? " (the gzip stream ends early)" : "";
  }

  static constexpr uint64_t kDeflateMaxRatio = 1032;

  std::string path_;
  uint64_t file_bytes_ = 0;
  std::unique_ptr<std::remove_pointer_t<gzFile>, Closer> file_;
  IdxType type_ = IdxType::kUByte;
  std::vector<uint64_t> dims_;
  uint64_t sample_elements_ = 0;
};

}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path, Task task,
                 int num_classes, Index max_samples) {
  if (max_samples < 0)
    throw std::invalid_argument("load_idx(): max_samples must be >= 0, got " +
                                std::to_string(max_samples));
  const std::string source = images_path + " + " + labels_path;
  IdxFile images(images_path);
  IdxFile labels(labels_path);
  if (images.dims().size() < 2)
    fail(images_path,
         "images must have rank >= 2 (samples x features...), found rank 1 (dimensions " +
             images.shape() + "); are the images and labels files swapped?");
  if (labels.dims().size() != 1)
    fail(labels_path, "labels must be a rank-1 IDX file (one label per sample), found rank " +
                          std::to_string(labels.dims().size()) + " (dimensions " + labels.shape() +
                          ")");
  if (images.sample_elements() == 0)
    fail(images_path, "samples have no features (dimensions " + images.shape() + ")");
  if (images.samples() != labels.samples())
    fail(source, "features and labels of different lengths: " + std::to_string(images.samples()) +
                     " images, " + std::to_string(labels.samples()) + " labels");

  uint64_t keep = images.samples();
  if (max_samples > 0) keep = std::min(keep, static_cast<uint64_t>(max_samples));

  images.check_size(keep);
  labels.check_size(keep);
  Matrix x;
  std::vector<double> targets;
  try {
    x.resize(static_cast<Index>(images.sample_elements()), static_cast<Index>(keep));
    targets.resize(static_cast<size_t>(keep));
  } catch (const std::bad_alloc&) {
    fail(source, "cannot allocate memory for " + std::to_string(keep) + " samples of " +
                     std::to_string(images.sample_elements()) + " features");
  }
  images.read_samples(keep, x.data());
  labels.read_samples(keep, targets.data());
  if (keep == images.samples()) {
    images.expect_end();
    labels.expect_end();
  }
  return make_checked_dataset(std::move(x), targets, 1, task, num_classes, source);
}

}  // namespace hps
