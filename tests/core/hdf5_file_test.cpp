#include "core/hdf5_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace hps::h5 {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Writes a dataset of any element type straight through the C API, for the readers' type
// conversions.
template <typename T>
void write_raw(const Group& group, const std::string& name, hid_t type,
               const std::vector<hsize_t>& dims, const std::vector<T>& values) {
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  ASSERT_GE(space, 0);
  const hid_t dataset =
      H5Dcreate2(group.id(), name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(dataset, 0);
  EXPECT_GE(H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
  H5Dclose(dataset);
  H5Sclose(space);
}

TEST(Hdf5File, AttributesRoundTrip) {
  testing::TempDir dir;
  const std::string path = dir.file("a.h5");
  {
    File file = File::create(path);
    Group root = file.root();
    root.write_attribute("pi", 3.141592653589793);
    root.write_attribute("tiny", std::numeric_limits<double>::denorm_min());
    root.write_attribute("big", std::numeric_limits<int64_t>::max());
    root.write_attribute("small", std::numeric_limits<int64_t>::min());
    root.write_attribute("three", 3);  // int, stored as int64
    root.write_attribute("name", "relu");
    root.write_attribute("utf8", std::string("h\xc3\xa9llo \xe2\x9c\x93"));
    root.write_attribute("empty", std::string());
    root.write_attribute("ints", std::vector<int64_t>{4, -5, 6});
    root.write_attribute("no_ints", std::vector<int64_t>{});
    root.write_attribute("doubles", std::vector<double>{0.1, -2.5});
  }
  const File file = File::open(path);
  const Group root = file.root();
  EXPECT_EQ(root.read_attribute<double>("pi"), 3.141592653589793);
  EXPECT_EQ(root.read_attribute<double>("tiny"), std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(root.read_attribute<int64_t>("big"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(root.read_attribute<int64_t>("small"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(root.read_attribute<int64_t>("three"), 3);
  EXPECT_EQ(root.read_attribute<double>("three"), 3.0);  // integers read as numbers too
  EXPECT_EQ(root.read_attribute<std::string>("name"), "relu");
  EXPECT_EQ(root.read_attribute<std::string>("utf8"), "h\xc3\xa9llo \xe2\x9c\x93");
  EXPECT_EQ(root.read_attribute<std::string>("empty"), "");
  EXPECT_THAT(root.read_attribute<std::vector<int64_t>>("ints"), ElementsAre(4, -5, 6));
  EXPECT_TRUE(root.read_attribute<std::vector<int64_t>>("no_ints").empty());
  EXPECT_THAT(root.read_attribute<std::vector<double>>("doubles"), ElementsAre(0.1, -2.5));
  EXPECT_TRUE(root.has_attribute("pi"));
  EXPECT_FALSE(root.has_attribute("e"));
}

TEST(Hdf5File, ReadsAttributesWrittenByH5py) {
  if (std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with h5py and numpy is not available";
  }
  testing::TempDir dir;
  const std::string path = dir.file("py.h5");
  const std::string script = dir.file("write.py");
  testing::write_text(script,
                      "import sys, h5py, numpy as np\n"
                      "with h5py.File(sys.argv[1], 'w') as f:\n"
                      "    g = f.create_group('g')\n"
                      "    g.attrs['name'] = 'h\\u00e9llo'\n"
                      "    g.attrs['count'] = np.int32(7)\n"
                      "    g.attrs['rate'] = np.float32(0.5)\n"
                      "    g.attrs['sizes'] = np.array([3, 4], dtype=np.uint16)\n"
                      "    g.attrs['fixed'] = np.bytes_(b'abc')\n"
                      "    g['m'] = np.arange(6, dtype=np.float64).reshape(2, 3)\n");
  ASSERT_EQ(std::system(("/usr/bin/python3 '" + script + "' '" + path + "'").c_str()), 0);

  const File file = File::open(path);
  const Group g = file.root().open_group("g");
  EXPECT_EQ(g.read_attribute<std::string>("name"), "h\xc3\xa9llo");
  EXPECT_EQ(g.read_attribute<int64_t>("count"), 7);
  EXPECT_EQ(g.read_attribute<double>("rate"), 0.5);
  EXPECT_THAT(g.read_attribute<std::vector<int64_t>>("sizes"), ElementsAre(3, 4));
  EXPECT_EQ(g.read_attribute<std::string>("fixed"), "abc");
  RowMajorMatrix expected(2, 3);
  expected << 0, 1, 2, 3, 4, 5;
  EXPECT_EQ(g.read_matrix("m"), expected);
}

TEST(Hdf5File, WritingAnAttributeReplacesIt) {
  testing::TempDir dir;
  File file = File::create(dir.file("a.h5"));
  Group root = file.root();
  root.write_attribute("status", int64_t{1});
  root.write_attribute("status", "done");
  EXPECT_EQ(root.read_attribute<std::string>("status"), "done");
}

TEST(Hdf5File, ReadsFixedLengthStringAttributes) {
  testing::TempDir dir;
  File file = File::create(dir.file("a.h5"));
  Group root = file.root();
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, 8);
  H5Tset_strpad(type, H5T_STR_NULLPAD);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attribute = H5Acreate2(root.id(), "fixed", type, space, H5P_DEFAULT, H5P_DEFAULT);
  const char text[8] = {'t', 'a', 'n', 'h'};
  ASSERT_GE(H5Awrite(attribute, type, text), 0);
  H5Aclose(attribute);
  H5Sclose(space);
  H5Tclose(type);
  EXPECT_EQ(root.read_attribute<std::string>("fixed"), "tanh");
}

TEST(Hdf5File, AttributeErrorsNameTheObject) {
  testing::TempDir dir;
  const std::string path = dir.file("a.h5");
  File file = File::create(path);
  Group group = file.root().create_group("model");
  group.write_attribute("activation", "relu");
  group.write_attribute("rate", 0.5);

  try {
    group.read_attribute<int64_t>("missing");
    FAIL() << "expected h5::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ":/model"));
    EXPECT_THAT(e.what(), HasSubstr("'missing'"));
  }
  try {
    group.read_attribute<double>("activation");
    FAIL() << "expected h5::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ":/model: attribute 'activation' holds string"));
  }
  EXPECT_THROW(group.read_attribute<int64_t>("rate"), Error);  // a float is not an integer
  EXPECT_THROW(group.read_attribute<std::string>("rate"), Error);
}

TEST(Hdf5File, AttributesLargerThanAnObjectHeaderAreWritten) {
  testing::TempDir dir;
  const std::vector<int64_t> widths(9000, 1);  // 72 KB; an object header holds 64 KB
  const std::string text(100000, 'x');
  const std::string path = dir.file("large.h5");
  const std::string truncated = dir.file("truncated.h5");
  {
    File file = File::create(path);
    Group root = file.root();
    root.write_attribute("config", text);
    Group g = root.create_group("trials/0");
    g.write_attribute("hidden", widths);
    g.write_attribute("hidden", widths);  // replacing one works too
    File other = File::create_truncate(truncated);
    other.root().write_attribute("hidden", widths);
  }
  const File file = File::open(path);
  EXPECT_EQ(file.root().read_attribute<std::string>("config"), text);
  EXPECT_EQ(file.root().open_group("trials/0").read_attribute<std::vector<int64_t>>("hidden"),
            widths);
  EXPECT_EQ(File::open(truncated).root().read_attribute<std::vector<int64_t>>("hidden"), widths);
  if (std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with h5py is not available";
  }
  const testing::CommandResult py = testing::run_command(
      "/usr/bin/python3 -c \"import sys, h5py; f = h5py.File(sys.argv[1], 'r'); "
      "print(len(f.attrs['config']), len(f['trials/0'].attrs['hidden']))\" '" +
      path + "'");
  EXPECT_EQ(py.exit_code, 0) << py.output;
  EXPECT_EQ(py.output, "100000 9000\n");
}

// Writes a file through the C API with HDF5's defaults, as hpsearch did before its groups
// tracked attribute order: version-1 object headers carry no checksum, so a damaged byte in
// an attribute reaches the readers. `write` gets the root group.
template <typename Write>
void write_unchecksummed(const std::string& path, Write write) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  write(file);
  H5Fclose(file);
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// `bytes` with the byte `offset` after the first `pattern` after `name` set to `value`.
std::string damaged(std::string bytes, const std::string& name, const std::string& pattern,
                    std::size_t offset, char value) {
  const std::size_t at = bytes.find(pattern, bytes.find(name));
  if (bytes.find(name) == std::string::npos || at == std::string::npos) {
    ADD_FAILURE() << "no '" << name << "' followed by the pattern in the file";
    return bytes;
  }
  bytes[at + offset] = value;
  return bytes;
}

// The reviewer's damage: one byte of the size of a variable-length string's character type.
TEST(Hdf5File, DamagedStringAttributeSizeIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.file("damaged.h5");
  write_unchecksummed(path, [](hid_t root) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute = H5Acreate2(root, "scheduler", type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char* text = "asha";
    EXPECT_GE(H5Awrite(attribute, type, &text), 0);
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
  });
  // After the name comes the type: a variable-length string whose character is a version-1
  // fixed-point type (0x10) of size 1. Its size becomes 0x00010001 bytes; HDF5 alone reads a
  // wrong string from that, and allocates gigabytes for larger sizes.
  const std::string bytes =
      damaged(read_bytes(path), "scheduler", std::string("\x10\0\0\0\x01\0\0\0", 8), 6, '\x01');
  testing::write_bytes(path, bytes);

  const File file = File::open(path);
  try {
    file.root().read_attribute<std::string>("scheduler");
    FAIL() << "expected h5::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path +
                                    ":/: attribute 'scheduler' claims 65537 bytes per "
                                    "character (strings have 1), the file has " +
                                    std::to_string(bytes.size()) + ": damaged file"));
  }

  // Files written now have checksummed object headers: HDF5 itself notices the same damage.
  const std::string current = dir.file("current.h5");
  File::create(current).root().write_attribute("scheduler", "asha");
  testing::write_bytes(current, damaged(read_bytes(current), "scheduler",
                                        std::string("\x10\0\0\0\x01\0\0\0", 8), 6, '\x01'));
  EXPECT_THROW(File::open(current).root().read_attribute<std::string>("scheduler"), Error);
}

// Datasets' object headers carry no checksum even in files written now.
TEST(Hdf5File, DamagedTableLengthIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.file("damaged.h5");
  const TableLayout layout({{"trial", ColumnType::kInt64}, {"status", ColumnType::kString, 16}});
  {
    File file = File::create(path);
    file.root().create_table("summary", layout);
    file.root().append_rows("summary", TableRows(layout, 3));
  }
  // Its dataspace holds the length, 3, then the unlimited maximum; make the length 2^40 + 3.
  const std::string bytes = damaged(read_bytes(path), "summary",
                                    std::string("\x03\0\0\0\0\0\0\0\xff\xff", 10), 5, '\x01');
  testing::write_bytes(path, bytes);

  const File file = File::open(path);
  try {
    file.root().read_table("summary");
    FAIL() << "expected h5::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path +
                                    ":/summary: shape [1099511627779] claims "
                                    "1099511627779 x 24 bytes, the file has " +
                                    std::to_string(bytes.size()) + ": damaged file"));
  }
}

TEST(Hdf5File, MatrixIsStoredRowMajor) {
  testing::TempDir dir;
  File file = File::create(dir.file("m.h5"));
  Group root = file.root();
  RowMajorMatrix m(2, 3);
  m << 1, 2, 3, 4, 5, 6;
  root.write_matrix("m", m);

  const DatasetInfo info = root.dataset_info("m");
  EXPECT_THAT(info.dims, ElementsAre(2u, 3u));
  EXPECT_EQ(info.type_class, H5T_FLOAT);
  std::vector<float> flat(6);
  root.read_rows("m", 2, flat.data());
  EXPECT_THAT(flat, ElementsAre(1, 2, 3, 4, 5, 6));  // h5py sees [[1, 2, 3], [4, 5, 6]]
  EXPECT_EQ(root.read_matrix("m"), m);

  // A column-major matrix converts to the same logical matrix.
  Matrix column_major = m;
  root.write_matrix("c", column_major);
  EXPECT_EQ(root.read_matrix("c"), m);
}

TEST(Hdf5File, VectorsRoundTrip) {
  testing::TempDir dir;
  File file = File::create(dir.file("v.h5"));
  Group root = file.root();
  const std::vector<double> doubles = {0.1, 1e-300, -7.0};
  Vector floats(3);
  floats << 0.1f, -2.0f, 3.5f;
  root.write_vector("d", doubles);
  root.write_vector("f", floats);
  root.write_vector("i", std::vector<int64_t>{1, 2, 3});
  root.write_vector("empty", std::vector<double>{});

  EXPECT_EQ(root.read_vector("d"), doubles);
  EXPECT_EQ(root.dataset_info("f").type_class, H5T_FLOAT);
  std::vector<double> f = root.read_vector("f");
  EXPECT_THAT(f, ElementsAre(static_cast<double>(0.1f), -2.0, 3.5));
  EXPECT_EQ(root.dataset_info("i").type_class, H5T_INTEGER);
  EXPECT_THAT(root.read_vector("i"), ElementsAre(1.0, 2.0, 3.0));
  EXPECT_TRUE(root.read_vector("empty").empty());
  EXPECT_THAT(root.dataset_info("empty").dims, ElementsAre(0u));
}

TEST(Hdf5File, ReadersConvertAnyNumericType) {
  testing::TempDir dir;
  File file = File::create(dir.file("t.h5"));
  Group root = file.root();
  write_raw<int16_t>(root, "i16", H5T_NATIVE_INT16, {2, 2}, {1, -2, 3, 300});
  write_raw<uint8_t>(root, "u8", H5T_NATIVE_UINT8, {3}, {0, 7, 255});
  write_raw<double>(root, "f64", H5T_NATIVE_DOUBLE, {1, 2}, {0.5, -0.25});

  RowMajorMatrix expected(2, 2);
  expected << 1, -2, 3, 300;
  EXPECT_EQ(root.read_matrix("i16"), expected);
  EXPECT_THAT(root.read_vector("u8"), ElementsAre(0.0, 7.0, 255.0));
  EXPECT_EQ(root.read_matrix("f64")(0, 1), -0.25f);
  EXPECT_THROW(root.read_vector("i16"), Error);  // rank 2 is not a vector
  EXPECT_THROW(root.read_matrix("u8"), Error);
}

TEST(Hdf5File, ReadRowsReadsOnlyTheFirstRows) {
  testing::TempDir dir;
  File file = File::create(dir.file("r.h5"));
  Group root = file.root();
  RowMajorMatrix m(4, 2);
  m << 1, 2, 3, 4, 5, 6, 7, 8;
  root.write_matrix("m", m);
  std::vector<double> first(4, -1.0);
  root.read_rows("m", 2, first.data());
  EXPECT_THAT(first, ElementsAre(1, 2, 3, 4));
  root.read_rows("m", 0, first.data());  // nothing to read, nothing written
  EXPECT_THROW(root.read_rows("m", 5, first.data()), Error);
}

TEST(Hdf5File, NonNumericDatasetIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.file("s.h5");
  File file = File::create(path);
  Group root = file.root();
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, 2);
  write_raw<char>(root, "s", type, {2}, {'a', 'b', 'c', 'd'});
  H5Tclose(type);
  EXPECT_EQ(root.dataset_info("s").type_class, H5T_STRING);
  EXPECT_STREQ(root.dataset_info("s").type_name(), "string");
  try {
    root.read_vector("s");
    FAIL() << "expected h5::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ":/s: holds string values"));
  }
}

TEST(Hdf5File, GroupsNestAndList) {
  testing::TempDir dir;
  File file = File::create(dir.file("g.h5"));
  Group root = file.root();
  Group b = root.create_group("a/b");  // parents are created
  EXPECT_EQ(b.path(), "/a/b");
  b.write_vector("values", std::vector<double>{1.0});
  root.create_group("c");
  root.write_vector("d", std::vector<double>{2.0});

  EXPECT_TRUE(root.exists("a"));
  EXPECT_TRUE(root.exists("a/b"));
  EXPECT_TRUE(root.exists("/a/b/values"));
  EXPECT_TRUE(root.exists("/"));
  EXPECT_FALSE(root.exists(""));
  EXPECT_FALSE(root.exists("a/x"));
  EXPECT_FALSE(root.exists("x/y/z"));
  EXPECT_FALSE(root.exists("d/inside"));  // a dataset has no children
  EXPECT_TRUE(root.is_group("a/b"));
  EXPECT_FALSE(root.is_group("d"));
  EXPECT_FALSE(root.is_group("missing"));
  EXPECT_THAT(root.children(), ElementsAre("a", "c", "d"));
  EXPECT_THAT(root.open_group("a").children(), ElementsAre("b"));
  EXPECT_EQ(root.open_group("a").open_group("b").read_vector("values")[0], 1.0);
  EXPECT_THROW(root.create_group("c"), Error);
  EXPECT_THROW(root.write_vector("d", std::vector<double>{3.0}), Error);
}

TEST(Hdf5File, OpenGroupErrorNamesTheObject) {
  testing::TempDir dir;
  const std::string path = dir.file("g.h5");
  File file = File::create(path);
  Group a = file.root().create_group("a");
  try {
    a.open_group("missing");
    FAIL() << "expected h5::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ":/a/missing: cannot open group"));
    EXPECT_THAT(e.what(), HasSubstr("doesn't exist"));  // HDF5's own words
  }
}

TEST(Hdf5File, CreateRefusesAnExistingFile) {
  testing::TempDir dir;
  const std::string path = dir.file("x.h5");
  { File::create(path).root().write_attribute("keep", int64_t{1}); }
  try {
    File::create(path);
    FAIL() << "expected h5::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("cannot create"));
  }
  EXPECT_EQ(File::open(path).root().read_attribute<int64_t>("keep"), 1);  // left untouched
  { File::create_truncate(path); }
  EXPECT_FALSE(File::open(path).root().has_attribute("keep"));
}

TEST(Hdf5File, OpenMissingFileNamesIt) {
  testing::TempDir dir;
  const std::string path = dir.file("missing.h5");
  EXPECT_FALSE(File::is_hdf5(path));
  try {
    File::open(path);
    FAIL() << "expected h5::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ": cannot open HDF5 file"));
    EXPECT_THAT(e.what(), HasSubstr("No such file or directory"));
  }
}

TEST(Hdf5File, OpenNonHdf5FileNamesIt) {
  testing::TempDir dir;
  const std::string path = dir.file("text.h5");
  testing::write_text(path, "just some text, not HDF5\n");
  EXPECT_FALSE(File::is_hdf5(path));
  try {
    File::open(path);
    FAIL() << "expected h5::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ": cannot open HDF5 file"));
    EXPECT_THAT(e.what(), HasSubstr("not an HDF5 file"));
  }
}

TEST(Hdf5File, FailuresPrintNothing) {
  testing::TempDir dir;
  ::testing::internal::CaptureStderr();
  EXPECT_THROW(File::open(dir.file("missing.h5")), Error);
  EXPECT_THROW(File::create(dir.file("new.h5")).root().open_group("x"), Error);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(Hdf5File, GroupKeepsItsFileOpen) {
  testing::TempDir dir;
  const std::string path = dir.file("k.h5");
  Group group = File::create(path).root().create_group("g");
  group.write_attribute("x", 1.5);
  EXPECT_EQ(group.read_attribute<double>("x"), 1.5);
  EXPECT_EQ(group.file_path(), path);
}

TEST(Hdf5File, NoIdentifierOutlivesItsOwner) {
  const ssize_t before = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  testing::TempDir dir;
  const std::string path = dir.file("ids.h5");
  {
    File file = File::create(path);
    Group group = file.root().create_group("a/b");
    group.write_attribute("s", "text");
    group.write_attribute("v", std::vector<double>{1.0, 2.0});
    group.write_matrix("m", RowMajorMatrix::Ones(2, 2));
    EXPECT_THROW(group.read_attribute<double>("s"), Error);
    EXPECT_THROW(group.read_matrix("missing"), Error);
    EXPECT_THROW(group.read_vector("m"), Error);
    EXPECT_EQ(group.read_attribute<std::string>("s"), "text");
    EXPECT_TRUE(file.root().exists("a/b/m"));
  }
  EXPECT_EQ(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), before);
}

TEST(Hdf5File, HandleIsMoveOnly) {
  static_assert(!std::is_copy_constructible_v<Handle>);
  static_assert(!std::is_copy_assignable_v<Handle>);
  static_assert(!std::is_copy_constructible_v<Group>);
  static_assert(!std::is_copy_constructible_v<File>);
  Handle a(H5Screate(H5S_SCALAR), H5Sclose);
  ASSERT_TRUE(a.valid());
  const hid_t id = a.id();
  Handle b = std::move(a);
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the point of the test
  EXPECT_EQ(b.id(), id);
  b.reset();
  EXPECT_FALSE(b.valid());
  EXPECT_LE(H5Iis_valid(id), 0);  // closed exactly once
}

TableLayout sample_layout() {
  return TableLayout({{"id", ColumnType::kInt64},
                      {"name", ColumnType::kString, 5},
                      {"score", ColumnType::kFloat64}});
}

bool have_h5py() { return std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") == 0; }

TEST(Hdf5Table, LayoutPacksColumnsInOrder) {
  const TableLayout layout = sample_layout();
  EXPECT_EQ(layout.row_size(), 8u + 5u + 8u);
  EXPECT_EQ(layout.offset(0), 0u);
  EXPECT_EQ(layout.offset(1), 8u);
  EXPECT_EQ(layout.offset(2), 13u);  // packed: numbers may sit unaligned
  EXPECT_EQ(layout.find("score"), 2u);
  EXPECT_FALSE(layout.find("missing").has_value());
  EXPECT_THROW(layout.index("missing"), std::invalid_argument);
  EXPECT_THROW(TableLayout({{"a", ColumnType::kInt64}, {"a", ColumnType::kFloat64}}),
               std::invalid_argument);
  EXPECT_THROW(TableLayout({{"", ColumnType::kInt64}}), std::invalid_argument);
  EXPECT_THROW(TableLayout({{"s", ColumnType::kString, 0}}), std::invalid_argument);
}

TEST(Hdf5Table, RowsCheckNamesTypesAndLengths) {
  TableRows rows(sample_layout(), 1);
  rows.set(0, "id", int64_t{-7});
  rows.set(0, "name", "adam5");  // exactly the column's length: no terminator
  rows.set(0, "score", 0.25);
  EXPECT_EQ(rows.get_int64(0, "id"), -7);
  EXPECT_EQ(rows.get_string(0, "name"), "adam5");
  EXPECT_EQ(rows.get_double(0, "score"), 0.25);
  EXPECT_EQ(rows.get_double(0, "id"), -7.0);  // integers read as numbers too
  rows.set(0, "name", "sgd");                 // a shorter value clears the rest
  EXPECT_EQ(rows.get_string(0, "name"), "sgd");
  EXPECT_THROW(rows.set(0, "name", "toolong"), std::invalid_argument);
  EXPECT_THROW(rows.set(0, "id", 1.5), std::invalid_argument);
  EXPECT_THROW(rows.get_int64(0, "score"), std::invalid_argument);
  EXPECT_THROW(rows.get_int64(1, "id"), std::invalid_argument);
  EXPECT_THROW(rows.set(0, "nope", int64_t{1}), std::invalid_argument);
}

TEST(Hdf5Table, AppendedRowsReadBack) {
  testing::TempDir dir;
  File file = File::create(dir.file("t.h5"));
  Group root = file.root();
  root.create_table("log/table", sample_layout(), 2);  // parents are created
  EXPECT_EQ(root.read_table("log/table").size(), 0u);
  for (int64_t i = 0; i < 5; ++i) {  // crosses chunk boundaries
    TableRows row(sample_layout(), 1);
    row.set(0, "id", i);
    row.set(0, "name", std::string(static_cast<std::size_t>(i), 'x'));
    row.set(0, "score", 0.5 * static_cast<double>(i));
    root.append_rows("log/table", row);
  }
  TableRows two(sample_layout(), 2);
  two.set(1, "id", int64_t{99});
  root.append_rows("log/table", two);
  root.append_rows("log/table", TableRows(sample_layout()));  // nothing to add

  const TableRows rows = root.read_table("log/table");
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows.layout(), sample_layout());
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(rows.get_int64(i, "id"), static_cast<int64_t>(i));
    EXPECT_EQ(rows.get_string(i, "name"), std::string(i, 'x'));
    EXPECT_EQ(rows.get_double(i, "score"), 0.5 * static_cast<double>(i));
  }
  EXPECT_EQ(rows.get_int64(5, "id"), 0);
  EXPECT_EQ(rows.get_string(5, "name"), "");
  EXPECT_EQ(rows.get_int64(6, "id"), 99);
  const DatasetInfo info = root.dataset_info("log/table");
  EXPECT_EQ(info.type_class, H5T_COMPOUND);
  EXPECT_THAT(info.dims, ElementsAre(7u));
}

TEST(Hdf5Table, AppendRefusesOtherColumns) {
  testing::TempDir dir;
  const std::string path = dir.file("t.h5");
  File file = File::create(path);
  Group root = file.root();
  root.create_table("t", sample_layout());
  const TableRows other(TableLayout({{"id", ColumnType::kInt64}}), 1);
  try {
    root.append_rows("t", other);
    FAIL() << "expected h5::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ":/t: cannot append rows with columns (id int64)"));
    EXPECT_THAT(e.what(), HasSubstr("(id int64, name string[5], score float64)"));
  }
  EXPECT_EQ(root.read_table("t").size(), 0u);
  EXPECT_THROW(root.create_table("t", sample_layout()), Error);  // exists
  root.write_vector("v", std::vector<double>{1.0});
  try {
    root.read_table("v");
    FAIL() << "expected h5::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ":/v: holds float values, expected a table"));
  }
}

TEST(Hdf5Table, H5pyReadsTablesAndWritesOnesWeRead) {
  if (!have_h5py()) GTEST_SKIP() << "/usr/bin/python3 with h5py is not available";
  testing::TempDir dir;
  const std::string ours = dir.file("ours.h5");
  const std::string theirs = dir.file("theirs.h5");
  {
    File file = File::create(ours);
    Group root = file.root();
    root.create_table("t", sample_layout());
    TableRows rows(sample_layout(), 2);
    rows.set(0, "id", int64_t{3});
    rows.set(0, "name", "relu");
    rows.set(0, "score", 1.5);
    rows.set(1, "name", "tanh5");
    root.append_rows("t", rows);
  }
  const std::string script = dir.file("check.py");
  testing::write_text(script,
                      "import sys, h5py, numpy as np\n"
                      "with h5py.File(sys.argv[1], 'r') as f:\n"
                      "    t = f['t']\n"
                      "    assert t.dtype.names == ('id', 'name', 'score'), t.dtype\n"
                      "    assert t.shape == (2,) and t.maxshape == (None,), t.maxshape\n"
                      "    assert t[0]['id'] == 3 and t[0]['score'] == 1.5\n"
                      "    assert t['name'].tolist() == [b'relu', b'tanh5'], t['name']\n"
                      "dt = np.dtype([('n', '<i4'), ('x', '<f4'), ('s', 'S3')])\n"
                      "with h5py.File(sys.argv[2], 'w') as f:\n"
                      "    f['t'] = np.array([(1, 0.5, b'ab'), (-2, 2.0, b'xyz')], dtype=dt)\n");
  ASSERT_EQ(std::system(("/usr/bin/python3 " + script + " " + ours + " " + theirs).c_str()), 0);

  const TableRows rows = File::open(theirs).root().read_table("t");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.layout().columns()[0].type, ColumnType::kInt64);    // int32 widens
  EXPECT_EQ(rows.layout().columns()[1].type, ColumnType::kFloat64);  // float32 widens
  EXPECT_EQ(rows.layout().columns()[2].string_size, 3u);
  EXPECT_EQ(rows.get_int64(1, "n"), -2);
  EXPECT_EQ(rows.get_double(0, "x"), 0.5);
  EXPECT_EQ(rows.get_string(0, "s"), "ab");
  EXPECT_EQ(rows.get_string(1, "s"), "xyz");
}

TEST(Hdf5Links, SoftLinksCanBeCreatedReadAndDeleted) {
  testing::TempDir dir;
  const std::string path = dir.file("l.h5");
  File file = File::create(path);
  Group root = file.root();
  root.create_group("trials/3").write_attribute("x", int64_t{3});
  root.create_soft_link("best", "/trials/3");
  EXPECT_TRUE(root.has_link("best"));
  EXPECT_EQ(root.soft_link_target("best"), "/trials/3");
  EXPECT_EQ(root.open_group("best").read_attribute<int64_t>("x"), 3);
  EXPECT_FALSE(root.soft_link_target("trials").has_value());  // a hard link
  EXPECT_THROW(root.create_soft_link("best", "/trials/4"), Error);

  // A dangling link is a link, but names no object.
  root.create_soft_link("links/dangling", "/nowhere");
  EXPECT_TRUE(root.has_link("links/dangling"));
  EXPECT_FALSE(root.exists("links/dangling"));
  EXPECT_FALSE(root.has_link("missing/child"));
  EXPECT_FALSE(root.has_link("trials/7"));

  root.delete_link("best");
  EXPECT_FALSE(root.has_link("best"));
  EXPECT_TRUE(root.exists("trials/3"));  // the target stays
  root.delete_link("trials/3");
  EXPECT_FALSE(root.exists("trials/3"));
  try {
    root.delete_link("best");
    FAIL() << "expected h5::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ":/best: cannot delete link"));
  }
  EXPECT_THROW(root.soft_link_target("best"), Error);
}

TEST(Hdf5File, UnlockedWriterCanBeReadByAnotherProcess) {
  if (!have_h5py()) GTEST_SKIP() << "/usr/bin/python3 with h5py is not available";
  testing::TempDir dir;
  const std::string locked = dir.file("locked.h5");
  const std::string unlocked = dir.file("unlocked.h5");
  const std::string script = dir.file("read.py");
  testing::write_text(script,
                      "import sys, h5py\n"
                      "with h5py.File(sys.argv[1], 'r') as f:\n"
                      "    assert f.attrs['n'] == 1\n");
  auto read_elsewhere = [&](const std::string& path) {
    return std::system(("/usr/bin/python3 " + script + " " + path + " 2>/dev/null").c_str());
  };
  File a = File::create(locked);
  a.root().write_attribute("n", int64_t{1});
  a.flush();
  File b = File::create(unlocked, FileLocking::kOff);
  b.root().write_attribute("n", int64_t{1});
  b.flush();
  EXPECT_NE(read_elsewhere(locked), 0);  // HDF5 1.10's exclusive lock keeps readers out
  EXPECT_EQ(read_elsewhere(unlocked), 0);
}
}  // namespace
}  // namespace hps::h5
