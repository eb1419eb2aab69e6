#pragma once
// A small RAII layer over the HDF5 C API, in the manner of HighFive: every C call is checked in
// one place, handles close themselves and cannot be copied, and a failed call becomes one
// h5::Error naming the file and object, ending with HDF5's innermost description of what went
// wrong. HDF5's automatic printing of its error stack is switched off (per thread: the Debian
// library is built thread-safe, which keeps that setting per thread) before the first file is
// created or opened, so nothing is ever printed to stderr.
//
// Layout: HDF5 and numpy are row-major, Eigen's default (hps::Matrix) is column-major.
// Matrices go through RowMajorMatrix, so a dataset [rows, cols] holds element (r, c) at
// r * cols + c and h5py sees the same shape and element order as the C++ code.
//
// Files close with HDF5's default "weak" degree: a Group keeps its file open after the File
// object is gone, and the file closes when its last handle does.
//
// Groups (the root included) are created with attribute creation order tracked, which gives
// them HDF5's version-2 object header: an attribute too large for the header (over 64 KiB) then
// goes to dense storage instead of failing; up to 64 others stay in the header. HDF5 1.8 and
// later, h5py and h5dump read such files.
//
// Readers check sizes before they allocate: an attribute's values, or an unfiltered dataset's,
// that claim more bytes than the file has are a damaged size field, refused with an Error
// ("... claims N bytes, the file has M: damaged file") instead of gigabytes allocated.
//
// Tables are 1-D datasets of a compound type (numpy's structured arrays), chunked and
// extendible so rows can be appended one at a time. Their columns are int64, float64 or
// fixed-length strings (NUL-padded ASCII, which h5py returns as `bytes`).
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/types.hpp"

namespace hps::h5 {

/// A failed HDF5 operation, or a file whose contents are not what a reader expects. The
/// message starts with "<file>:<object>" and, for failed calls, ends with HDF5's innermost
/// error description.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Owns one HDF5 identifier and releases it with the close function of its kind (H5Fclose,
/// H5Gclose, H5Dclose, ...). Move-only; an empty handle holds H5I_INVALID_HID.
class Handle {
 public:
  using CloseFn = herr_t (*)(hid_t);

  Handle() = default;
  Handle(hid_t id, CloseFn close) noexcept : id_(id), close_(close) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept
      : id_(std::exchange(other.id_, H5I_INVALID_HID)), close_(other.close_) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      close_ = other.close_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  /// Closes the identifier now. A failure to close cannot be reported from a destructor and
  /// is dropped.
  void reset() noexcept {
    if (id_ >= 0 && close_ != nullptr) close_(id_);
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  CloseFn close_ = nullptr;
};

/// Shape and element class of a dataset, read without reading its values.
struct DatasetInfo {
  std::vector<hsize_t> dims;  ///< one entry per dimension; empty for a scalar dataset
  H5T_class_t type_class = H5T_NO_CLASS;

  int rank() const { return static_cast<int>(dims.size()); }
  bool is_numeric() const { return type_class == H5T_INTEGER || type_class == H5T_FLOAT; }
  /// "integer", "float", "string", "compound", ... for messages.
  const char* type_name() const;
  /// "[3, 4]", for messages.
  std::string dims_string() const;
};

/// Element type of one table column.
enum class ColumnType { kInt64, kFloat64, kString };

/// One table column. `string_size` is the fixed length in bytes of a kString column (a value
/// of exactly that length has no terminating NUL); it is ignored for numbers.
struct Column {
  std::string name;
  ColumnType type = ColumnType::kFloat64;
  std::size_t string_size = 0;
};

/// The columns of a table and where each lives in a row: packed in order, numbers in 8 bytes,
/// strings in their fixed length. The same layout is used in memory and (little-endian) on disk.
class TableLayout {
 public:
  TableLayout() = default;
  /// Throws std::invalid_argument for an empty or repeated name or a zero-length string column.
  explicit TableLayout(std::vector<Column> columns);

  const std::vector<Column>& columns() const { return columns_; }
  /// Bytes per row.
  std::size_t row_size() const { return row_size_; }
  /// Byte offset of column `index` within a row.
  std::size_t offset(std::size_t index) const { return offsets_[index]; }
  /// Index of column `name`, or nullopt.
  std::optional<std::size_t> find(const std::string& name) const;
  /// Index of column `name`; throws std::invalid_argument naming it when there is none.
  std::size_t index(const std::string& name) const;

  bool operator==(const TableLayout& other) const;
  bool operator!=(const TableLayout& other) const { return !(*this == other); }

 private:
  std::vector<Column> columns_;
  std::vector<std::size_t> offsets_;
  std::size_t row_size_ = 0;
};

/// Rows of a table held in memory, read and written by column name. Setters and getters throw
/// std::invalid_argument for an unknown column, a value of the wrong type, a string longer than
/// its column or a row out of range.
class TableRows {
 public:
  TableRows() = default;
  explicit TableRows(TableLayout layout, std::size_t rows = 0);

  const TableLayout& layout() const { return layout_; }
  std::size_t size() const { return rows_; }
  /// New rows hold zeros and empty strings.
  void resize(std::size_t rows);

  void set(std::size_t row, const std::string& column, int64_t value);
  void set(std::size_t row, const std::string& column, double value);
  void set(std::size_t row, const std::string& column, const std::string& value);
  void set(std::size_t row, const std::string& column, const char* value) {
    set(row, column, std::string(value));
  }
  /// An int64 column's value.
  int64_t get_int64(std::size_t row, const std::string& column) const;
  /// A float64 column's value, or an int64 column's converted.
  double get_double(std::size_t row, const std::string& column) const;
  /// A string column's value, up to its first NUL.
  std::string get_string(std::size_t row, const std::string& column) const;

  /// The packed rows, size() * layout().row_size() bytes.
  const unsigned char* data() const { return bytes_.data(); }
  unsigned char* data() { return bytes_.data(); }

 private:
  // Start of `column` in `row`, after checking both and the column's type.
  std::size_t locate(std::size_t row, const std::string& column, ColumnType type) const;

  TableLayout layout_;
  std::size_t rows_ = 0;
  std::vector<unsigned char> bytes_;
};

/// An open HDF5 group. Names may be relative ("layer_0/weight") or absolute ("/features").
///
/// Attributes: scalars are stored as float64 or int64; strings as variable-length UTF-8, which
/// h5py (3.x) returns as `str` (fixed-length strings would come back as `bytes`); vectors as
/// 1-D arrays. Writing an attribute replaces one of the same name. Readers convert between
/// numeric types as HDF5 does, read fixed-length strings too, and throw Error when the stored
/// value has the wrong class (a string read as a number) or the wrong number of elements.
///
/// Datasets: writers create parent groups as needed and fail if the name exists. Readers
/// accept any integer or floating-point type on disk and convert while reading.
class Group {
 public:
  /// Creates group `name` (and missing parents).
  Group create_group(const std::string& name);
  /// Opens existing group `name`.
  Group open_group(const std::string& name) const;
  /// Whether `name` resolves to an object; for "a/b/c" each level is checked, so a missing or
  /// non-group parent gives false rather than an error.
  bool exists(const std::string& name) const;
  /// Whether `name` exists and is a group.
  bool is_group(const std::string& name) const;
  /// Names of the links directly in this group, in name order.
  std::vector<std::string> children() const;

  void write_attribute(const std::string& name, double value);
  void write_attribute(const std::string& name, int64_t value);
  /// Any other integer type, stored as int64 (so that `write_attribute("n", 3)` is not
  /// ambiguous between double and int64_t).
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, int64_t>, int> = 0>
  void write_attribute(const std::string& name, T value) {
    write_attribute(name, static_cast<int64_t>(value));
  }
  /// Stored as a variable-length UTF-8 string; an embedded NUL ends it.
  void write_attribute(const std::string& name, const std::string& value);
  void write_attribute(const std::string& name, const char* value) {
    write_attribute(name, std::string(value));
  }
  void write_attribute(const std::string& name, const std::vector<int64_t>& values);
  void write_attribute(const std::string& name, const std::vector<double>& values);

  bool has_attribute(const std::string& name) const;
  void delete_attribute(const std::string& name);
  /// Reads attribute `name` as T: double, int64_t, std::string, std::vector<int64_t> or
  /// std::vector<double>.
  template <typename T>
  T read_attribute(const std::string& name) const;

  /// Stores `m` as float32 [rows, cols], row-major.
  void write_matrix(const std::string& name, const RowMajorMatrix& m);
  /// Reads a 2-D numeric dataset [rows, cols].
  RowMajorMatrix read_matrix(const std::string& name) const;
  /// Stores `v` as float64 [size].
  void write_vector(const std::string& name, const std::vector<double>& v);
  /// Stores `v` as int64 [size].
  void write_vector(const std::string& name, const std::vector<int64_t>& v);
  /// Stores `v` as float32 [size].
  void write_vector(const std::string& name, const Vector& v);
  /// Reads a 1-D numeric dataset.
  std::vector<double> read_vector(const std::string& name) const;

  /// Creates an empty table `name` (a 1-D compound dataset with unlimited length, stored in
  /// chunks of `chunk_rows` rows).
  void create_table(const std::string& name, const TableLayout& layout, hsize_t chunk_rows = 64);
  /// Appends `rows` to table `name`, whose columns must be exactly `rows.layout()`'s.
  void append_rows(const std::string& name, const TableRows& rows);
  /// Reads every row of 1-D compound dataset `name`. Its layout comes from the file: integer
  /// members read as int64, floating-point members as float64, fixed-length strings as strings
  /// of their size; any other member type is an Error.
  TableRows read_table(const std::string& name) const;

  /// Creates soft link `name` pointing at path `target` (which need not exist yet); fails if
  /// `name` exists. Missing parent groups are created.
  void create_soft_link(const std::string& name, const std::string& target);
  /// Removes link `name` (the object it names is freed when no other link remains; the file
  /// does not shrink, but HDF5 reuses the space for later writes while the file stays open).
  void delete_link(const std::string& name);
  /// Whether link `name` exists, even a soft link whose target does not (unlike exists()).
  bool has_link(const std::string& name) const;
  /// The target path of soft link `name`, or nullopt when `name` is a hard link. Throws when
  /// there is no link `name`.
  std::optional<std::string> soft_link_target(const std::string& name) const;

  /// Shape and element class of dataset `name`.
  DatasetInfo dataset_info(const std::string& name) const;
  /// Reads the first `rows` entries along dimension 0 of numeric dataset `name` (rank >= 1)
  /// into `out`, row-major: rows times the product of the other dimensions values. Only those
  /// rows are read from disk.
  void read_rows(const std::string& name, hsize_t rows, float* out) const;
  void read_rows(const std::string& name, hsize_t rows, double* out) const;

  /// The file this group belongs to, as it was opened.
  const std::string& file_path() const { return file_; }
  /// This group's absolute path in the file ("/" for the root group).
  const std::string& path() const { return path_; }
  /// Absolute path of `name` relative to this group.
  std::string child_path(const std::string& name) const;
  /// "<file>:<absolute path of name>" (the group itself when `name` is empty), the prefix of
  /// every Error about that object.
  std::string describe(const std::string& name = "") const;
  /// The raw identifier, for HDF5 calls this wrapper does not cover.
  hid_t id() const { return handle_.id(); }

 private:
  friend class File;
  Group(Handle handle, std::string file, std::string path)
      : handle_(std::move(handle)), file_(std::move(file)), path_(std::move(path)) {}

  void read_rows(const std::string& name, hsize_t rows, hid_t memory_type, void* out) const;

  Handle handle_;
  std::string file_;
  std::string path_;
};

template <>
double Group::read_attribute<double>(const std::string& name) const;
template <>
int64_t Group::read_attribute<int64_t>(const std::string& name) const;
template <>
std::string Group::read_attribute<std::string>(const std::string& name) const;
template <>
std::vector<int64_t> Group::read_attribute<std::vector<int64_t>>(const std::string& name) const;
template <>
std::vector<double> Group::read_attribute<std::vector<double>>(const std::string& name) const;

/// Whether HDF5 locks the file while it is open. HDF5 1.10 locks a file open for writing
/// exclusively, so that no other process, h5py included, can open it even to read; and a
/// reader's shared lock keeps writers out. A file meant to be read while it is written (a
/// search's results) is created with kOff, and its readers open it with kOff too.
enum class FileLocking { kOn, kOff };

/// An open HDF5 file.
class File {
 public:
  /// Creates a new file; fails if `path` exists.
  static File create(const std::string& path, FileLocking locking = FileLocking::kOn);
  /// Creates a file, replacing any file at `path`.
  static File create_truncate(const std::string& path);
  /// Opens an existing file, read-only unless `writable`.
  static File open(const std::string& path, bool writable = false,
                   FileLocking locking = FileLocking::kOn);
  /// Whether `path` is a readable HDF5 file (false for a missing or unreadable one).
  static bool is_hdf5(const std::string& path);

  /// The root group "/".
  Group root() const;
  /// Writes buffered data to disk.
  void flush();
  const std::string& path() const { return path_; }
  hid_t id() const { return handle_.id(); }

 private:
  File(Handle handle, std::string path) : handle_(std::move(handle)), path_(std::move(path)) {}

  Handle handle_;
  std::string path_;
};

}  // namespace hps::h5
