#include "core/hdf5_file.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

namespace hps::h5 {
namespace {

// HDF5 prints its error stack to stderr on every failure unless told not to. The setting
// belongs to the calling thread in thread-safe builds, hence thread_local.
void silence_error_printing() {
  thread_local const bool silenced = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)silenced;
}

struct Innermost {
  bool found = false;
  std::string description;
  hid_t minor = H5I_INVALID_HID;
};

// H5E_WALK_UPWARD starts at the innermost entry, where the problem was detected.
herr_t record_innermost(unsigned n, const H5E_error2_t* entry, void* data) {
  if (n != 0) return 0;
  auto* innermost = static_cast<Innermost*>(data);
  try {
    innermost->description = entry->desc != nullptr ? entry->desc : "";
  } catch (...) {
    return -1;  // no exception may cross the C library
  }
  innermost->minor = entry->min_num;
  innermost->found = true;
  return 0;
}

// The innermost description of the current error stack, with its minor message when that
// adds something ("file signature not found (not an HDF5 file)").
std::string error_stack_detail() {
  Innermost innermost;
  if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, record_innermost, &innermost) < 0 ||
      !innermost.found) {
    return "";
  }
  std::string detail = innermost.description;
  char minor[256] = {};
  H5E_type_t type;
  if (H5Eget_msg(innermost.minor, &type, minor, sizeof minor) > 0) {
    std::string text = minor;
    if (!text.empty())
      text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    if (detail.empty()) {
      detail = text;
    } else if (!text.empty() && detail.find(text) == std::string::npos) {
      detail += " (" + text + ")";
    }
  }
  return detail;
}

[[noreturn]] void fail(const std::string& what) {
  const std::string detail = error_stack_detail();
  H5Eclear2(H5E_DEFAULT);
  throw Error(detail.empty() ? what : what + ": " + detail);
}

// The one place every HDF5 call result goes through: a negative hid_t, herr_t, htri_t or
// ssize_t (or enumerator) means failure. `what` builds the message only when it is needed.
template <typename T, typename What>
T check(T result, What&& what) {
  static_assert(!std::is_unsigned_v<T>, "unsigned results (size_t) signal failure otherwise");
  if (result < 0) fail(what());
  return result;
}

std::string join_dims(const std::vector<hsize_t>& dims) {
  std::string text = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(dims[i]);
  }
  return text + "]";
}

hsize_t product(const std::vector<hsize_t>& dims) {
  hsize_t n = 1;
  for (hsize_t d : dims) n *= d;
  return n;
}

// Splits "a/b/c" or "/a/b" into its non-empty components.
std::vector<std::string> split_path(const std::string& name) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t end = std::min(name.find('/', start), name.size());
    if (end > start) parts.push_back(name.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

Handle scalar_space() {
  return Handle(check(H5Screate(H5S_SCALAR), [] { return std::string("cannot create dataspace"); }),
                H5Sclose);
}

Handle simple_space(const std::vector<hsize_t>& dims) {
  return Handle(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                      [&] { return "cannot create dataspace " + join_dims(dims); }),
                H5Sclose);
}

Handle utf8_string_type() {
  auto what = [] { return std::string("cannot create string type"); };
  Handle type(check(H5Tcopy(H5T_C_S1), what), H5Tclose);
  check(H5Tset_size(type.id(), H5T_VARIABLE), what);
  check(H5Tset_cset(type.id(), H5T_CSET_UTF8), what);
  return type;
}

// An open attribute with what readers need to know about it.
struct OpenAttribute {
  Handle attribute;
  Handle type;
  H5T_class_t type_class = H5T_NO_CLASS;
  hssize_t points = 0;
  int rank = 0;
};

// The size in bytes of the file `object` lives in.
hsize_t file_size_of(hid_t object, const std::string& what_text) {
  auto what = [&] { return what_text; };
  const Handle file(check(H5Iget_file_id(object), what), H5Fclose);
  hsize_t size = 0;
  check(H5Fget_filesize(file.id(), &size), what);
  return size;
}

// Throws unless `count` values of `size` bytes fit in the file `object` lives in. Attribute
// values and unfiltered datasets are stored whole in the file, so anything larger is a size
// field damaged on disk, which would otherwise have the reader allocate (and HDF5 fill)
// gigabytes. `subject` starts the message: "<file>:<object>: attribute 'x'".
void check_fits_in_file(hid_t object, const std::string& subject, hsize_t count, hsize_t size) {
  const hsize_t file_size = file_size_of(object, subject + ": cannot find the file's size");
  if (size == 0 || count <= file_size / size) return;
  const std::string claimed =
      count == 1 ? std::to_string(size) : std::to_string(count) + " x " + std::to_string(size);
  throw Error(subject + " claims " + claimed + " bytes, the file has " + std::to_string(file_size) +
              ": damaged file");
}

OpenAttribute open_attribute(const Group& group, const std::string& name) {
  auto what = [&] { return group.describe() + ": cannot open attribute '" + name + "'"; };
  OpenAttribute a;
  a.attribute = Handle(check(H5Aopen(group.id(), name.c_str(), H5P_DEFAULT), what), H5Aclose);
  a.type = Handle(check(H5Aget_type(a.attribute.id()), what), H5Tclose);
  a.type_class = check(H5Tget_class(a.type.id()), what);
  Handle space(check(H5Aget_space(a.attribute.id()), what), H5Sclose);
  a.points = check(H5Sget_simple_extent_npoints(space.id()), what);
  a.rank = check(H5Sget_simple_extent_ndims(space.id()), what);
  // A variable-length string's size is that of a pointer; its characters' is checked on read.
  if (check(H5Tis_variable_str(a.type.id()), what) == 0) {
    const std::size_t size = H5Tget_size(a.type.id());
    if (size == 0) fail(what());
    check_fits_in_file(a.attribute.id(), group.describe() + ": attribute '" + name + "'",
                       static_cast<hsize_t>(a.points), size);
  }
  return a;
}

const char* class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "float";
    case H5T_TIME:
      return "time";
    case H5T_STRING:
      return "string";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_COMPOUND:
      return "compound";
    case H5T_REFERENCE:
      return "reference";
    case H5T_ENUM:
      return "enum";
    case H5T_VLEN:
      return "variable-length";
    case H5T_ARRAY:
      return "array";
    default:
      return "unknown";
  }
}

// Checks that attribute `name` holds `expected` (numeric: integer or float) with a number of
// elements `scalar` (exactly one) or any (a rank 0 or 1 array).
void expect_attribute(const Group& group, const std::string& name, const OpenAttribute& a,
                      bool integer_only, bool scalar) {
  const bool numeric = a.type_class == H5T_INTEGER || a.type_class == H5T_FLOAT;
  const bool ok_class = integer_only ? a.type_class == H5T_INTEGER : numeric;
  if (!ok_class) {
    throw Error(group.describe() + ": attribute '" + name + "' holds " + class_name(a.type_class) +
                " values, expected " + (integer_only ? "integers" : "numbers"));
  }
  if (scalar && a.points != 1) {
    throw Error(group.describe() + ": attribute '" + name + "' holds " + std::to_string(a.points) +
                " values, expected one");
  }
  if (!scalar && a.rank > 1) {
    throw Error(group.describe() + ": attribute '" + name + "' has " + std::to_string(a.rank) +
                " dimensions, expected 1");
  }
}

template <typename T>
T read_scalar_attribute(const Group& group, const std::string& name, hid_t memory_type,
                        bool integer_only) {
  const OpenAttribute a = open_attribute(group, name);
  expect_attribute(group, name, a, integer_only, true);
  T value{};
  check(H5Aread(a.attribute.id(), memory_type, &value),
        [&] { return group.describe() + ": cannot read attribute '" + name + "'"; });
  return value;
}

template <typename T>
std::vector<T> read_vector_attribute(const Group& group, const std::string& name, hid_t memory_type,
                                     bool integer_only) {
  const OpenAttribute a = open_attribute(group, name);
  expect_attribute(group, name, a, integer_only, false);
  std::vector<T> values(static_cast<std::size_t>(a.points));
  if (!values.empty()) {
    check(H5Aread(a.attribute.id(), memory_type, values.data()),
          [&] { return group.describe() + ": cannot read attribute '" + name + "'"; });
  }
  return values;
}

void write_attribute_raw(Group& group, const std::string& name, hid_t file_type, hid_t memory_type,
                         const Handle& space, const void* data) {
  auto what = [&] { return group.describe() + ": cannot write attribute '" + name + "'"; };
  if (group.has_attribute(name)) check(H5Adelete(group.id(), name.c_str()), what);
  Handle attribute(
      check(H5Acreate2(group.id(), name.c_str(), file_type, space.id(), H5P_DEFAULT, H5P_DEFAULT),
            what),
      H5Aclose);
  check(H5Awrite(attribute.id(), memory_type, data), what);
}

Handle link_creation_with_parents(const std::string& what_text) {
  auto what = [&] { return what_text; };
  Handle lcpl(check(H5Pcreate(H5P_LINK_CREATE), what), H5Pclose);
  check(H5Pset_create_intermediate_group(lcpl.id(), 1), what);
  return lcpl;
}

void write_dataset(Group& group, const std::string& name, hid_t file_type, hid_t memory_type,
                   const std::vector<hsize_t>& dims, const void* data) {
  auto what = [&] { return group.describe(name) + ": cannot write dataset"; };
  const Handle space = simple_space(dims);
  const Handle lcpl = link_creation_with_parents(what());
  Handle dataset(check(H5Dcreate2(group.id(), name.c_str(), file_type, space.id(), lcpl.id(),
                                  H5P_DEFAULT, H5P_DEFAULT),
                       what),
                 H5Dclose);
  // A zero-sized dataset has nothing to write, and HDF5 rejects a null buffer.
  if (product(dims) > 0) {
    check(H5Dwrite(dataset.id(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), what);
  }
}

// Whether existing object `name` is a group.
bool object_is_group(const Group& group, const std::string& name) {
  auto what = [&] { return group.describe(name) + ": cannot open object"; };
  const Handle object(check(H5Oopen(group.id(), name.c_str(), H5P_DEFAULT), what), H5Oclose);
  return check(H5Iget_type(object.id()), what) == H5I_GROUP;
}

// Fixed-length, NUL-padded string of `size` bytes in character set `cset`.
Handle fixed_string_type(std::size_t size, H5T_cset_t cset, const std::string& what_text) {
  auto what = [&] { return what_text; };
  Handle type(check(H5Tcopy(H5T_C_S1), what), H5Tclose);
  check(H5Tset_size(type.id(), size), what);
  check(H5Tset_strpad(type.id(), H5T_STR_NULLPAD), what);
  check(H5Tset_cset(type.id(), cset), what);
  return type;
}

// The compound type of `layout`: explicit little-endian members for the file, native ones for
// memory. Strings take the character set in `csets` (one per column; empty: all ASCII), since
// HDF5 does not convert between ASCII and UTF-8.
Handle compound_type(const TableLayout& layout, bool file, const std::vector<H5T_cset_t>& csets,
                     const std::string& what_text) {
  auto what = [&] { return what_text; };
  Handle type(check(H5Tcreate(H5T_COMPOUND, layout.row_size()), what), H5Tclose);
  for (std::size_t i = 0; i < layout.columns().size(); ++i) {
    const Column& column = layout.columns()[i];
    Handle string_type;
    hid_t member = H5I_INVALID_HID;
    switch (column.type) {
      case ColumnType::kInt64:
        member = file ? H5T_STD_I64LE : H5T_NATIVE_INT64;
        break;
      case ColumnType::kFloat64:
        member = file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE;
        break;
      case ColumnType::kString:
        string_type = fixed_string_type(column.string_size,
                                        csets.empty() ? H5T_CSET_ASCII : csets[i], what_text);
        member = string_type.id();
        break;
    }
    check(H5Tinsert(type.id(), column.name.c_str(), layout.offset(i), member), what);
  }
  return type;
}

std::string column_list(const TableLayout& layout) {
  std::string text;
  for (const Column& column : layout.columns()) {
    text += text.empty() ? "" : ", ";
    text += column.name;
    switch (column.type) {
      case ColumnType::kInt64:
        text += " int64";
        break;
      case ColumnType::kFloat64:
        text += " float64";
        break;
      case ColumnType::kString:
        text += " string[" + std::to_string(column.string_size) + "]";
        break;
    }
  }
  return "(" + text + ")";
}

// check_fits_in_file() for the values of `dataset`, of `size` bytes each, where they are in
// this file: a virtual dataset or one in external files keeps them elsewhere. A compressed
// dataset may hold more than the file does; it is checked to have every chunk written instead,
// as one that claims gigabytes in a small file has not (its unwritten chunks would read as
// fill values, after the reader had allocated for all of them).
void check_dataset_fits(const Group& group, const std::string& name, hid_t dataset,
                        const std::vector<hsize_t>& dims, std::size_t size) {
  auto what = [&] { return group.describe(name) + ": cannot open dataset"; };
  const Handle dcpl(check(H5Dget_create_plist(dataset), what), H5Pclose);
  const H5D_layout_t layout = H5Pget_layout(dcpl.id());
  if (layout == H5D_VIRTUAL) return;  // its sources are read, and checked, as datasets
  // External files: HDF5 reads zeros past the end of a short one, so each must hold its part.
  // A relative name is looked up as HDF5 looks it up by default, from the working directory.
  if (const int externals = check(H5Pget_external_count(dcpl.id()), what); externals > 0) {
    for (int i = 0; i < externals; ++i) {
      char file[4096] = {};
      off_t offset = 0;
      hsize_t bytes = 0;
      check(
          H5Pget_external(dcpl.id(), static_cast<unsigned>(i), sizeof file, file, &offset, &bytes),
          what);
      struct stat info {};
      if (bytes == H5F_UNLIMITED || ::stat(file, &info) != 0) continue;  // HDF5 names a missing one
      const auto needed = static_cast<hsize_t>(offset) + bytes;
      if (static_cast<hsize_t>(info.st_size) < needed)
        throw Error(group.describe(name) + ": its external file '" + file + "' holds " +
                    std::to_string(info.st_size) + " bytes, the dataset keeps " +
                    std::to_string(bytes) + " there from byte " + std::to_string(offset) +
                    ": a short or damaged file");
    }
    return;
  }
  // Saturating, so that a damaged shape cannot overflow the products.
  const hsize_t most = std::numeric_limits<hsize_t>::max();
  const auto times = [most](hsize_t a, hsize_t b) { return b != 0 && a > most / b ? most : a * b; };
  if (check(H5Pget_nfilters(dcpl.id()), what) > 0) {
    if (layout != H5D_CHUNKED) return;
    std::vector<hsize_t> chunk(dims.size());
    if (check(H5Pget_chunk(dcpl.id(), static_cast<int>(chunk.size()), chunk.data()), what) !=
        static_cast<int>(chunk.size()))
      return;
    hsize_t chunks = 1;
    for (std::size_t d = 0; d < dims.size(); ++d)
      chunks = times(chunks, chunk[d] == 0 ? 0 : (dims[d] + chunk[d] - 1) / chunk[d]);
    hsize_t written = 0;
    const Handle space(check(H5Dget_space(dataset), what), H5Sclose);
    check(H5Dget_num_chunks(dataset, space.id(), &written), what);
    if (written < chunks)
      throw Error(group.describe(name) + ": shape " + join_dims(dims) + " in " +
                  std::to_string(chunks) + " compressed chunks, of which " +
                  std::to_string(written) +
                  " are written (the rest would read as fill values): an unfinished or damaged "
                  "file");
    return;
  }
  hsize_t count = 1;
  for (const hsize_t d : dims) count = times(count, d);
  check_fits_in_file(dataset, group.describe(name) + ": shape " + join_dims(dims), count, size);
}

// An open table with its layout as the file describes it.
struct OpenTable {
  Handle dataset;
  TableLayout layout;
  std::vector<H5T_cset_t> csets;  // per column; meaningful for strings
  hsize_t rows = 0;
};

OpenTable open_table(const Group& group, const std::string& name) {
  auto what = [&] { return group.describe(name) + ": cannot open table"; };
  OpenTable t;
  t.dataset = Handle(check(H5Dopen2(group.id(), name.c_str(), H5P_DEFAULT), what), H5Dclose);
  const Handle type(check(H5Dget_type(t.dataset.id()), what), H5Tclose);
  const H5T_class_t type_class = check(H5Tget_class(type.id()), what);
  if (type_class != H5T_COMPOUND) {
    throw Error(group.describe(name) + ": holds " + class_name(type_class) +
                " values, expected a table (compound values)");
  }
  const Handle space(check(H5Dget_space(t.dataset.id()), what), H5Sclose);
  if (check(H5Sget_simple_extent_ndims(space.id()), what) != 1) {
    throw Error(group.describe(name) + ": a table must be 1-D");
  }
  check(H5Sget_simple_extent_dims(space.id(), &t.rows, nullptr), what);
  const std::size_t row_size = H5Tget_size(type.id());
  if (row_size == 0) fail(what());
  check_dataset_fits(group, name, t.dataset.id(), {t.rows}, row_size);

  const int members = check(H5Tget_nmembers(type.id()), what);
  std::vector<Column> columns;
  for (int i = 0; i < members; ++i) {
    const auto index = static_cast<unsigned>(i);
    char* raw_name = H5Tget_member_name(type.id(), index);
    if (raw_name == nullptr) fail(what());
    Column column;
    column.name = raw_name;
    H5free_memory(raw_name);
    const Handle member(check(H5Tget_member_type(type.id(), index), what), H5Tclose);
    const H5T_class_t member_class = check(H5Tget_class(member.id()), what);
    H5T_cset_t cset = H5T_CSET_ASCII;
    if (member_class == H5T_INTEGER) {
      column.type = ColumnType::kInt64;
    } else if (member_class == H5T_FLOAT) {
      column.type = ColumnType::kFloat64;
    } else if (member_class == H5T_STRING && check(H5Tis_variable_str(member.id()), what) == 0) {
      column.type = ColumnType::kString;
      column.string_size = H5Tget_size(member.id());
      if (column.string_size == 0) fail(what());
      cset = check(H5Tget_cset(member.id()), what);
    } else {
      throw Error(
          group.describe(name) + ": column '" + column.name + "' holds " +
          (member_class == H5T_STRING ? "variable-length string" : class_name(member_class)) +
          " values, which tables do not support");
    }
    columns.push_back(std::move(column));
    t.csets.push_back(cset);
  }
  t.layout = TableLayout(std::move(columns));
  return t;
}

// Creation properties for a group, the root's included (a file's are a group's too). Tracking
// the attributes' creation order gives the group a version-2 object header, which moves an
// attribute too large for the header (64 KiB: 'hidden' of 9000 layers) into dense storage,
// where any size fits (a non-default phase change alone did not). Up to 64 attributes stay in
// the header: with HDF5's default of 8, every trial group went to dense storage and files
// grew by a third. HDF5 1.8 and later read it (h5py, h5dump).
Handle group_creation(hid_t list_class, const std::string& what_text) {
  auto what = [&] { return what_text; };
  Handle plist(check(H5Pcreate(list_class), what), H5Pclose);
  check(H5Pset_attr_creation_order(plist.id(), H5P_CRT_ORDER_TRACKED), what);
  check(H5Pset_attr_phase_change(plist.id(), 64, 48), what);
  return plist;
}

Handle file_access(FileLocking locking, const std::string& path) {
  auto what = [&] { return path + ": cannot set file access properties"; };
  Handle fapl(check(H5Pcreate(H5P_FILE_ACCESS), what), H5Pclose);
  if (locking == FileLocking::kOff) check(H5Pset_file_locking(fapl.id(), false, true), what);
  return fapl;
}

}  // namespace

const char* DatasetInfo::type_name() const { return class_name(type_class); }

std::string DatasetInfo::dims_string() const { return join_dims(dims); }

// ---- Tables in memory

TableLayout::TableLayout(std::vector<Column> columns) : columns_(std::move(columns)) {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const Column& column = columns_[i];
    if (column.name.empty()) {
      throw std::invalid_argument("h5::TableLayout: column " + std::to_string(i) + " has no name");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (columns_[j].name == column.name) {
        throw std::invalid_argument("h5::TableLayout: column '" + column.name + "' appears twice");
      }
    }
    if (column.type == ColumnType::kString && column.string_size == 0) {
      throw std::invalid_argument("h5::TableLayout: string column '" + column.name +
                                  "' has length 0");
    }
    offsets_.push_back(row_size_);
    row_size_ += column.type == ColumnType::kString ? column.string_size : 8;
  }
}

std::optional<std::size_t> TableLayout::find(const std::string& name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return i;
  }
  return std::nullopt;
}

std::size_t TableLayout::index(const std::string& name) const {
  const std::optional<std::size_t> i = find(name);
  if (!i) throw std::invalid_argument("h5::TableLayout: no column '" + name + "'");
  return *i;
}

bool TableLayout::operator==(const TableLayout& other) const {
  if (columns_.size() != other.columns_.size()) return false;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const Column& a = columns_[i];
    const Column& b = other.columns_[i];
    if (a.name != b.name || a.type != b.type) return false;
    if (a.type == ColumnType::kString && a.string_size != b.string_size) return false;
  }
  return true;
}

TableRows::TableRows(TableLayout layout, std::size_t rows) : layout_(std::move(layout)) {
  resize(rows);
}

void TableRows::resize(std::size_t rows) {
  rows_ = rows;
  bytes_.resize(rows * layout_.row_size(), 0);
}

std::size_t TableRows::locate(std::size_t row, const std::string& column, ColumnType type) const {
  const std::size_t index = layout_.index(column);
  if (row >= rows_) {
    throw std::invalid_argument("h5::TableRows: row " + std::to_string(row) + " of " +
                                std::to_string(rows_));
  }
  if (layout_.columns()[index].type != type) {
    const char* names[] = {"int64", "float64", "string"};
    throw std::invalid_argument("h5::TableRows: column '" + column + "' holds " +
                                names[static_cast<int>(layout_.columns()[index].type)] +
                                " values, not " + names[static_cast<int>(type)]);
  }
  return row * layout_.row_size() + layout_.offset(index);
}

// Rows are packed, so numbers may be unaligned: they are copied byte-wise.
void TableRows::set(std::size_t row, const std::string& column, int64_t value) {
  std::memcpy(bytes_.data() + locate(row, column, ColumnType::kInt64), &value, sizeof value);
}

void TableRows::set(std::size_t row, const std::string& column, double value) {
  std::memcpy(bytes_.data() + locate(row, column, ColumnType::kFloat64), &value, sizeof value);
}

void TableRows::set(std::size_t row, const std::string& column, const std::string& value) {
  const std::size_t start = locate(row, column, ColumnType::kString);
  const std::size_t size = layout_.columns()[layout_.index(column)].string_size;
  if (value.size() > size) {
    throw std::invalid_argument("h5::TableRows: '" + value + "' is longer than column '" + column +
                                "' (" + std::to_string(size) + " bytes)");
  }
  std::fill_n(bytes_.data() + start, size, 0);
  std::memcpy(bytes_.data() + start, value.data(), value.size());
}

int64_t TableRows::get_int64(std::size_t row, const std::string& column) const {
  int64_t value = 0;
  std::memcpy(&value, bytes_.data() + locate(row, column, ColumnType::kInt64), sizeof value);
  return value;
}

double TableRows::get_double(std::size_t row, const std::string& column) const {
  if (layout_.columns()[layout_.index(column)].type == ColumnType::kInt64) {
    return static_cast<double>(get_int64(row, column));
  }
  double value = 0.0;
  std::memcpy(&value, bytes_.data() + locate(row, column, ColumnType::kFloat64), sizeof value);
  return value;
}

std::string TableRows::get_string(std::size_t row, const std::string& column) const {
  const std::size_t start = locate(row, column, ColumnType::kString);
  const std::size_t size = layout_.columns()[layout_.index(column)].string_size;
  const auto* first = reinterpret_cast<const char*>(bytes_.data() + start);
  return std::string(first, std::find(first, first + size, '\0'));
}

// ---- File

File File::create(const std::string& path, FileLocking locking) {
  silence_error_printing();
  auto what = [&] { return path + ": cannot create HDF5 file (it must not exist yet)"; };
  const Handle fapl = file_access(locking, path);
  const Handle fcpl = group_creation(H5P_FILE_CREATE, what());
  const hid_t id = check(H5Fcreate(path.c_str(), H5F_ACC_EXCL, fcpl.id(), fapl.id()), what);
  return File(Handle(id, H5Fclose), path);
}

File File::create_truncate(const std::string& path) {
  silence_error_printing();
  auto what = [&] { return path + ": cannot create HDF5 file"; };
  const Handle fcpl = group_creation(H5P_FILE_CREATE, what());
  const hid_t id = check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.id(), H5P_DEFAULT), what);
  return File(Handle(id, H5Fclose), path);
}

File File::open(const std::string& path, bool writable, FileLocking locking) {
  silence_error_printing();
  const Handle fapl = file_access(locking, path);
  const hid_t id =
      check(H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.id()),
            [&] { return path + ": cannot open HDF5 file" + (writable ? " for writing" : ""); });
  return File(Handle(id, H5Fclose), path);
}

bool File::is_hdf5(const std::string& path) {
  silence_error_printing();
  const htri_t result = H5Fis_hdf5(path.c_str());
  if (result < 0) H5Eclear2(H5E_DEFAULT);
  return result > 0;
}

Group File::root() const {
  const hid_t id = check(H5Gopen2(handle_.id(), "/", H5P_DEFAULT),
                         [&] { return path_ + ":/: cannot open the root group"; });
  return Group(Handle(id, H5Gclose), path_, "/");
}

void File::flush() {
  check(H5Fflush(handle_.id(), H5F_SCOPE_GLOBAL), [&] { return path_ + ": cannot flush"; });
}

// ---- Group: structure

std::string Group::child_path(const std::string& name) const {
  if (name.empty()) return path_;
  if (name.front() == '/') return name;
  return path_ == "/" ? "/" + name : path_ + "/" + name;
}

std::string Group::describe(const std::string& name) const {
  return file_ + ":" + child_path(name);
}

Group Group::create_group(const std::string& name) {
  auto what = [&] { return describe(name) + ": cannot create group"; };
  const Handle lcpl = link_creation_with_parents(what());
  const Handle gcpl = group_creation(H5P_GROUP_CREATE, what());
  const hid_t id =
      check(H5Gcreate2(handle_.id(), name.c_str(), lcpl.id(), gcpl.id(), H5P_DEFAULT), what);
  return Group(Handle(id, H5Gclose), file_, child_path(name));
}

Group Group::open_group(const std::string& name) const {
  const hid_t id = check(H5Gopen2(handle_.id(), name.c_str(), H5P_DEFAULT),
                         [&] { return describe(name) + ": cannot open group"; });
  return Group(Handle(id, H5Gclose), file_, child_path(name));
}

bool Group::exists(const std::string& name) const {
  const std::vector<std::string> parts = split_path(name);
  if (parts.empty()) return !name.empty();  // "/" is the root group, "" names nothing
  std::string prefix = !name.empty() && name.front() == '/' ? "/" : "";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    prefix += parts[i];
    auto what = [&] { return describe(prefix) + ": cannot check whether it exists"; };
    if (check(H5Lexists(handle_.id(), prefix.c_str(), H5P_DEFAULT), what) <= 0) return false;
    // A soft link may dangle; the object behind it must exist too.
    if (check(H5Oexists_by_name(handle_.id(), prefix.c_str(), H5P_DEFAULT), what) <= 0) {
      return false;
    }
    if (i + 1 < parts.size()) {
      if (!object_is_group(*this, prefix)) return false;
      prefix += "/";
    }
  }
  return true;
}

bool Group::is_group(const std::string& name) const {
  return exists(name) && object_is_group(*this, name);
}

std::vector<std::string> Group::children() const {
  auto what = [&] { return describe() + ": cannot list the group"; };
  H5G_info_t info;
  check(H5Gget_info(handle_.id(), &info), what);
  std::vector<std::string> names;
  names.reserve(info.nlinks);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t length = check(H5Lget_name_by_idx(handle_.id(), ".", H5_INDEX_NAME, H5_ITER_INC,
                                                    i, nullptr, 0, H5P_DEFAULT),
                                 what);
    std::string name(static_cast<std::size_t>(length) + 1, '\0');
    check(H5Lget_name_by_idx(handle_.id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(),
                             name.size(), H5P_DEFAULT),
          what);
    name.resize(static_cast<std::size_t>(length));
    names.push_back(std::move(name));
  }
  return names;
}

// ---- Group: attributes

bool Group::has_attribute(const std::string& name) const {
  return check(H5Aexists(handle_.id(), name.c_str()),
               [&] { return describe() + ": cannot check for attribute '" + name + "'"; }) > 0;
}

void Group::delete_attribute(const std::string& name) {
  check(H5Adelete(handle_.id(), name.c_str()),
        [&] { return describe() + ": cannot delete attribute '" + name + "'"; });
}

void Group::write_attribute(const std::string& name, double value) {
  write_attribute_raw(*this, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, scalar_space(), &value);
}

void Group::write_attribute(const std::string& name, int64_t value) {
  write_attribute_raw(*this, name, H5T_STD_I64LE, H5T_NATIVE_INT64, scalar_space(), &value);
}

void Group::write_attribute(const std::string& name, const std::string& value) {
  const Handle type = utf8_string_type();
  const char* text = value.c_str();
  write_attribute_raw(*this, name, type.id(), type.id(), scalar_space(), &text);
}

void Group::write_attribute(const std::string& name, const std::vector<int64_t>& values) {
  const int64_t none = 0;  // HDF5 wants a buffer even for zero elements
  write_attribute_raw(*this, name, H5T_STD_I64LE, H5T_NATIVE_INT64, simple_space({values.size()}),
                      values.empty() ? &none : values.data());
}

void Group::write_attribute(const std::string& name, const std::vector<double>& values) {
  const double none = 0.0;
  write_attribute_raw(*this, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, simple_space({values.size()}),
                      values.empty() ? &none : values.data());
}

template <>
double Group::read_attribute<double>(const std::string& name) const {
  return read_scalar_attribute<double>(*this, name, H5T_NATIVE_DOUBLE, false);
}

template <>
int64_t Group::read_attribute<int64_t>(const std::string& name) const {
  return read_scalar_attribute<int64_t>(*this, name, H5T_NATIVE_INT64, true);
}

template <>
std::vector<int64_t> Group::read_attribute<std::vector<int64_t>>(const std::string& name) const {
  return read_vector_attribute<int64_t>(*this, name, H5T_NATIVE_INT64, true);
}

template <>
std::vector<double> Group::read_attribute<std::vector<double>>(const std::string& name) const {
  return read_vector_attribute<double>(*this, name, H5T_NATIVE_DOUBLE, false);
}

template <>
std::string Group::read_attribute<std::string>(const std::string& name) const {
  const OpenAttribute a = open_attribute(*this, name);
  if (a.type_class != H5T_STRING) {
    throw Error(describe() + ": attribute '" + name + "' holds " + class_name(a.type_class) +
                " values, expected a string");
  }
  if (a.points != 1) {
    throw Error(describe() + ": attribute '" + name + "' holds " + std::to_string(a.points) +
                " strings, expected one");
  }
  auto what = [&] { return describe() + ": cannot read string attribute '" + name + "'"; };
  const htri_t variable = check(H5Tis_variable_str(a.type.id()), what);
  if (variable > 0) {
    // A string's characters are bytes; HDF5 would allocate the stored length times whatever
    // size a damaged type claims for them.
    const Handle character(check(H5Tget_super(a.type.id()), what), H5Tclose);
    const std::size_t character_size = H5Tget_size(character.id());
    if (character_size != 1) {
      throw Error(describe() + ": attribute '" + name + "' claims " +
                  std::to_string(character_size) + " bytes per character (strings have 1), the " +
                  "file has " + std::to_string(file_size_of(a.attribute.id(), what())) +
                  ": damaged file");
    }
    // Read in the file's character set, so that no conversion between ASCII and UTF-8 is asked.
    const H5T_cset_t cset = check(H5Tget_cset(a.type.id()), what);
    Handle memory_type(check(H5Tcopy(H5T_C_S1), what), H5Tclose);
    check(H5Tset_size(memory_type.id(), H5T_VARIABLE), what);
    check(H5Tset_cset(memory_type.id(), cset), what);
    char* text = nullptr;
    check(H5Aread(a.attribute.id(), memory_type.id(), &text), what);
    std::string value = text != nullptr ? text : "";
    H5free_memory(text);
    return value;
  }
  const std::size_t size = H5Tget_size(a.type.id());  // checked by open_attribute()
  std::string buffer(size, '\0');
  if (size > 0) check(H5Aread(a.attribute.id(), a.type.id(), buffer.data()), what);
  // Fixed-length strings are NUL-terminated, NUL-padded or space-padded.
  buffer.resize(std::min(buffer.find('\0'), buffer.size()));
  if (check(H5Tget_strpad(a.type.id()), what) == H5T_STR_SPACEPAD) {
    buffer.erase(buffer.find_last_not_of(' ') + 1);
  }
  return buffer;
}

// ---- Group: links

void Group::create_soft_link(const std::string& name, const std::string& target) {
  auto what = [&] { return describe(name) + ": cannot create soft link to '" + target + "'"; };
  const Handle lcpl = link_creation_with_parents(what());
  check(H5Lcreate_soft(target.c_str(), handle_.id(), name.c_str(), lcpl.id(), H5P_DEFAULT), what);
}

void Group::delete_link(const std::string& name) {
  check(H5Ldelete(handle_.id(), name.c_str(), H5P_DEFAULT),
        [&] { return describe(name) + ": cannot delete link"; });
}

bool Group::has_link(const std::string& name) const {
  const std::vector<std::string> parts = split_path(name);
  if (parts.empty()) return false;  // "" and "/" are not links
  // H5Lexists needs every parent to exist; a missing one means no link.
  if (parts.size() > 1 && !is_group(name.substr(0, name.rfind('/')))) return false;
  return check(H5Lexists(handle_.id(), name.c_str(), H5P_DEFAULT),
               [&] { return describe(name) + ": cannot check whether the link exists"; }) > 0;
}

std::optional<std::string> Group::soft_link_target(const std::string& name) const {
  auto what = [&] { return describe(name) + ": cannot read link"; };
  H5L_info_t info;
  check(H5Lget_info(handle_.id(), name.c_str(), &info, H5P_DEFAULT), what);
  if (info.type != H5L_TYPE_SOFT) return std::nullopt;
  std::string target(info.u.val_size, '\0');  // includes the terminating NUL
  check(H5Lget_val(handle_.id(), name.c_str(), target.data(), target.size(), H5P_DEFAULT), what);
  target.resize(std::strlen(target.c_str()));
  return target;
}

// ---- Group: tables

void Group::create_table(const std::string& name, const TableLayout& layout, hsize_t chunk_rows) {
  auto what = [&] { return describe(name) + ": cannot create table"; };
  const Handle type = compound_type(layout, true, {}, what());
  const hsize_t dims = 0;
  const hsize_t max_dims = H5S_UNLIMITED;
  const Handle space(check(H5Screate_simple(1, &dims, &max_dims), what), H5Sclose);
  const Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), what), H5Pclose);
  check(H5Pset_chunk(dcpl.id(), 1, &chunk_rows), what);
  const Handle lcpl = link_creation_with_parents(what());
  const Handle dataset(check(H5Dcreate2(handle_.id(), name.c_str(), type.id(), space.id(),
                                        lcpl.id(), dcpl.id(), H5P_DEFAULT),
                             what),
                       H5Dclose);
}

void Group::append_rows(const std::string& name, const TableRows& rows) {
  auto what = [&] { return describe(name) + ": cannot append rows"; };
  const OpenTable table = open_table(*this, name);
  if (table.layout != rows.layout()) {
    throw Error(describe(name) + ": cannot append rows with columns " + column_list(rows.layout()) +
                " to a table with columns " + column_list(table.layout));
  }
  if (rows.size() == 0) return;
  const hsize_t start = table.rows;
  const hsize_t count = rows.size();
  const hsize_t total = start + count;
  check(H5Dset_extent(table.dataset.id(), &total), what);
  const Handle file_space(check(H5Dget_space(table.dataset.id()), what), H5Sclose);
  check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, &start, nullptr, &count, nullptr),
        what);
  const Handle memory_space = simple_space({count});
  const Handle memory_type = compound_type(rows.layout(), false, table.csets, what());
  if (H5Dwrite(table.dataset.id(), memory_type.id(), memory_space.id(), file_space.id(),
               H5P_DEFAULT, rows.data()) < 0) {
    // Rows of zeros would pass for written ones; the error is the write's, not this undo's.
    const std::string detail = error_stack_detail();
    H5Eclear2(H5E_DEFAULT);
    H5Dset_extent(table.dataset.id(), &start);
    H5Eclear2(H5E_DEFAULT);
    throw Error(detail.empty() ? what() : what() + ": " + detail);
  }
}

TableRows Group::read_table(const std::string& name) const {
  auto what = [&] { return describe(name) + ": cannot read table"; };
  const OpenTable table = open_table(*this, name);
  TableRows rows(table.layout, static_cast<std::size_t>(table.rows));
  if (table.rows == 0) return rows;
  const Handle memory_type = compound_type(table.layout, false, table.csets, what());
  check(H5Dread(table.dataset.id(), memory_type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()),
        what);
  return rows;
}

// ---- Group: datasets

void Group::write_matrix(const std::string& name, const RowMajorMatrix& m) {
  write_dataset(*this, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                {static_cast<hsize_t>(m.rows()), static_cast<hsize_t>(m.cols())}, m.data());
}

void Group::write_vector(const std::string& name, const std::vector<double>& v) {
  write_dataset(*this, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {v.size()}, v.data());
}

void Group::write_vector(const std::string& name, const std::vector<int64_t>& v) {
  write_dataset(*this, name, H5T_STD_I64LE, H5T_NATIVE_INT64, {v.size()}, v.data());
}

void Group::write_vector(const std::string& name, const Vector& v) {
  write_dataset(*this, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {static_cast<hsize_t>(v.size())},
                v.data());
}

DatasetInfo Group::dataset_info(const std::string& name) const {
  auto what = [&] { return describe(name) + ": cannot open dataset"; };
  const Handle dataset(check(H5Dopen2(handle_.id(), name.c_str(), H5P_DEFAULT), what), H5Dclose);
  const Handle type(check(H5Dget_type(dataset.id()), what), H5Tclose);
  const Handle space(check(H5Dget_space(dataset.id()), what), H5Sclose);
  DatasetInfo info;
  info.type_class = check(H5Tget_class(type.id()), what);
  info.dims.resize(static_cast<std::size_t>(check(H5Sget_simple_extent_ndims(space.id()), what)));
  check(H5Sget_simple_extent_dims(space.id(), info.dims.data(), nullptr), what);
  // Callers allocate for what this reports.
  const std::size_t size = H5Tget_size(type.id());
  if (size == 0) fail(what());
  check_dataset_fits(*this, name, dataset.id(), info.dims, size);
  return info;
}

void Group::read_rows(const std::string& name, hsize_t rows, float* out) const {
  read_rows(name, rows, H5T_NATIVE_FLOAT, out);
}

void Group::read_rows(const std::string& name, hsize_t rows, double* out) const {
  read_rows(name, rows, H5T_NATIVE_DOUBLE, out);
}

void Group::read_rows(const std::string& name, hsize_t rows, hid_t memory_type, void* out) const {
  auto what = [&] { return describe(name) + ": cannot read dataset"; };
  const Handle dataset(check(H5Dopen2(handle_.id(), name.c_str(), H5P_DEFAULT), what), H5Dclose);
  const Handle type(check(H5Dget_type(dataset.id()), what), H5Tclose);
  const H5T_class_t type_class = check(H5Tget_class(type.id()), what);
  if (type_class != H5T_INTEGER && type_class != H5T_FLOAT) {
    throw Error(describe(name) + ": holds " + class_name(type_class) + " values, not numbers");
  }
  const Handle file_space(check(H5Dget_space(dataset.id()), what), H5Sclose);
  std::vector<hsize_t> dims(
      static_cast<std::size_t>(check(H5Sget_simple_extent_ndims(file_space.id()), what)));
  check(H5Sget_simple_extent_dims(file_space.id(), dims.data(), nullptr), what);
  if (dims.empty()) throw Error(describe(name) + ": is a scalar, expected an array");
  if (rows > dims[0]) {
    throw Error(describe(name) + ": asked for " + std::to_string(rows) + " rows of " +
                join_dims(dims));
  }
  std::vector<hsize_t> count = dims;
  count[0] = rows;
  if (product(count) == 0) return;
  const std::vector<hsize_t> start(dims.size(), 0);
  check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                            nullptr),
        what);
  const Handle memory_space = simple_space(count);
  check(H5Dread(dataset.id(), memory_type, memory_space.id(), file_space.id(), H5P_DEFAULT, out),
        what);
}

RowMajorMatrix Group::read_matrix(const std::string& name) const {
  const DatasetInfo info = dataset_info(name);
  if (info.rank() != 2) {
    throw Error(describe(name) + ": has shape " + info.dims_string() + ", expected a matrix");
  }
  RowMajorMatrix m(static_cast<Index>(info.dims[0]), static_cast<Index>(info.dims[1]));
  read_rows(name, info.dims[0], m.data());
  return m;
}

std::vector<double> Group::read_vector(const std::string& name) const {
  const DatasetInfo info = dataset_info(name);
  if (info.rank() != 1) {
    throw Error(describe(name) + ": has shape " + info.dims_string() + ", expected a vector");
  }
  std::vector<double> v(static_cast<std::size_t>(info.dims[0]));
  read_rows(name, info.dims[0], v.data());
  return v;
}

}  // namespace hps::h5
