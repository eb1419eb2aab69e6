#include "core/hdf5_file.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
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

OpenAttribute open_attribute(const Group& group, const std::string& name) {
  auto what = [&] { return group.describe() + ": cannot open attribute '" + name + "'"; };
  OpenAttribute a;
  a.attribute = Handle(check(H5Aopen(group.id(), name.c_str(), H5P_DEFAULT), what), H5Aclose);
  a.type = Handle(check(H5Aget_type(a.attribute.id()), what), H5Tclose);
  a.type_class = check(H5Tget_class(a.type.id()), what);
  Handle space(check(H5Aget_space(a.attribute.id()), what), H5Sclose);
  a.points = check(H5Sget_simple_extent_npoints(space.id()), what);
  a.rank = check(H5Sget_simple_extent_ndims(space.id()), what);
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

}  // namespace

const char* DatasetInfo::type_name() const { return class_name(type_class); }

std::string DatasetInfo::dims_string() const { return join_dims(dims); }

// ---- File

File File::create(const std::string& path) {
  silence_error_printing();
  const hid_t id = check(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT), [&] {
    return path + ": cannot create HDF5 file (it must not exist yet)";
  });
  return File(Handle(id, H5Fclose), path);
}

File File::create_truncate(const std::string& path) {
  silence_error_printing();
  const hid_t id = check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                         [&] { return path + ": cannot create HDF5 file"; });
  return File(Handle(id, H5Fclose), path);
}

File File::open(const std::string& path, bool writable) {
  silence_error_printing();
  const hid_t id =
      check(H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT),
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
  const hid_t id =
      check(H5Gcreate2(handle_.id(), name.c_str(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT), what);
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
  const std::size_t size = H5Tget_size(a.type.id());
  if (size == 0) fail(what());
  std::string buffer(size, '\0');
  if (size > 0) check(H5Aread(a.attribute.id(), a.type.id(), buffer.data()), what);
  // Fixed-length strings are NUL-terminated, NUL-padded or space-padded.
  buffer.resize(std::min(buffer.find('\0'), buffer.size()));
  if (check(H5Tget_strpad(a.type.id()), what) == H5T_STR_SPACEPAD) {
    buffer.erase(buffer.find_last_not_of(' ') + 1);
  }
  return buffer;
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
