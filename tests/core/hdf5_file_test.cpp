#include "core/hdf5_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
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

}  // namespace
}  // namespace hps::h5
