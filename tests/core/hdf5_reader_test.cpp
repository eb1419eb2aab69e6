#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "core/data_loader.hpp"
#include "core/hdf5_file.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using ::testing::HasSubstr;

// Writes a dataset of any element type straight through the C API (the wrapper writes only
// float32, float64 and int64), as files from other tools would hold.
template <typename T>
void write_raw(const h5::Group& group, const std::string& name, hid_t type,
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

bool have_h5py() {
  return std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") == 0;
}

// Runs the Python `script` (h5py and numpy at hand) from a file in `dir` with the shell words
// `args`; its exit status.
int run_h5py(const testing::TempDir& dir, const std::string& script, const std::string& args) {
  testing::write_text(dir.file("write.py"), script);
  return std::system(("/usr/bin/python3 '" + dir.file("write.py") + "' " + args).c_str());
}

// Features as float32 [samples, features], the layout numpy writes.
void write_features(h5::Group& group, const std::string& name, const Matrix& x) {
  group.write_matrix(name, RowMajorMatrix(x.transpose()));
}

// The error message load_hdf5 throws for these arguments.
std::string load_error(const std::string& path, const std::string& features = "features",
                       const std::string& labels = "labels", Task task = Task::kClassification,
                       int num_classes = 0) {
  try {
    load_hdf5(path, features, labels, task, num_classes);
  } catch (const DataError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected DataError from " << path;
  return "";
}

// A classification file: 12 samples of 3 features, labels 0..2 as int32.
std::string write_blobs_file(const testing::TempDir& dir, const Dataset& data) {
  const std::string path = dir.file("blobs.h5");
  h5::File file = h5::File::create(path);
  h5::Group root = file.root();
  write_features(root, "features", data.x);
  write_raw(root, "labels", H5T_NATIVE_INT32, {static_cast<hsize_t>(data.size())}, data.labels);
  return path;
}

TEST(Hdf5Reader, ReadsClassificationData) {
  testing::TempDir dir;
  const Dataset blobs = testing::make_blobs(12, 3, 3, 7);
  const std::string path = write_blobs_file(dir, blobs);

  const Dataset d = load_hdf5(path, "features", "/labels", Task::kClassification, 0);
  EXPECT_EQ(d.task, Task::kClassification);
  EXPECT_EQ(d.size(), 12);
  EXPECT_EQ(d.num_features(), 3);
  EXPECT_EQ(d.x, blobs.x);  // one sample per column
  EXPECT_EQ(d.labels, blobs.labels);
  EXPECT_EQ(d.num_classes, 3);  // inferred as max + 1
  EXPECT_EQ(d.source, path);
}

TEST(Hdf5Reader, ConvertsAnyNumericTypeAndNestedNames) {
  testing::TempDir dir;
  const std::string path = dir.file("u8.h5");
  {
    h5::File file = h5::File::create(path);
    h5::Group data = file.root().create_group("data");
    // 2 samples x 3 features of uint8 pixels, float64 labels.
    write_raw<uint8_t>(data, "pixels", H5T_NATIVE_UINT8, {2, 3}, {0, 128, 255, 1, 2, 3});
    data.write_vector("classes", std::vector<double>{1.0, 0.0});
  }
  const Dataset d = load_hdf5(path, "/data/pixels", "data/classes", Task::kClassification, 4);
  Matrix expected(3, 2);
  expected << 0, 1, 128, 2, 255, 3;
  EXPECT_EQ(d.x, expected);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(d.num_classes, 4);
}

// A compressed dataset whose chunks were never written claims what it likes in a file of a
// few kilobytes: 50,000 x 50,000 floats had the reader allocate 10 GB, then fail with
// std::bad_alloc naming no file.
TEST(Hdf5Reader, ACompressedDatasetWithUnwrittenChunksIsRefusedBeforeAllocating) {
  testing::TempDir dir;
  const std::string path = dir.file("unwritten.h5");
  {
    h5::File file = h5::File::create(path);
    const std::vector<hsize_t> dims = {50000, 50000}, chunk = {1000, 1000};
    const hid_t space = H5Screate_simple(2, dims.data(), nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    ASSERT_GE(H5Pset_chunk(dcpl, 2, chunk.data()), 0);
    ASSERT_GE(H5Pset_deflate(dcpl, 4), 0);
    const hid_t dataset = H5Dcreate2(file.root().id(), "features", H5T_NATIVE_FLOAT, space,
                                     H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ASSERT_GE(dataset, 0);
    H5Dclose(dataset);
    H5Pclose(dcpl);
    H5Sclose(space);
    write_raw(file.root(), "labels", H5T_NATIVE_INT32, {50000}, std::vector<int32_t>(50000, 1));
  }
  EXPECT_EQ(load_error(path), path +
                                  ":/features: shape [50000, 50000] in 2500 compressed chunks, of "
                                  "which 0 are written (the rest would read as fill values): an "
                                  "unfinished or damaged file");
}

// A virtual dataset keeps its values in other files, so the size of its own file says nothing
// of them: one assembled from two shards used to be refused as "damaged".
TEST(Hdf5Reader, ReadsAVirtualDatasetAssembledFromOtherFiles) {
  if (!have_h5py()) GTEST_SKIP() << "/usr/bin/python3 with h5py and numpy is not available";
  testing::TempDir dir;
  const std::string path = dir.file("virtual.h5");
  ASSERT_EQ(run_h5py(dir,
                     "import os, sys, h5py, numpy as np\n"
                     "os.chdir(os.path.dirname(sys.argv[1]))\n"
                     "layout = h5py.VirtualLayout(shape=(20000, 5), dtype='f4')\n"
                     "for k in range(2):\n"
                     "    with h5py.File(f'shard{k}.h5', 'w') as f:\n"
                     "        f['x'] = np.full((10000, 5), k, dtype='f4')\n"
                     "    layout[k * 10000:(k + 1) * 10000] = h5py.VirtualSource(f'shard{k}.h5', "
                     "'x', shape=(10000, 5))\n"
                     "with h5py.File(sys.argv[1], 'w') as f:\n"
                     "    f.create_virtual_dataset('features', layout)\n"
                     "    f['labels'] = np.arange(20000) % 2\n",
                     "'" + path + "'"),
            0);
  const Dataset d = load_hdf5(path, "features", "labels", Task::kClassification, 0);
  ASSERT_EQ(d.size(), 20000);
  EXPECT_EQ(d.x(0, 9999), 0.0f);
  EXPECT_EQ(d.x(4, 10000), 1.0f);
}

// Labels of shape (samples, 0) hold no target: a data error naming the dataset (it was an
// internal error, exit 1).
TEST(Hdf5Reader, LabelsWithNoColumnAreNamed) {
  testing::TempDir dir;
  const std::string path = dir.file("empty_labels.h5");
  {
    h5::File file = h5::File::create(path);
    h5::Group root = file.root();
    write_features(root, "features", Matrix::Ones(2, 4));
    const std::vector<hsize_t> dims = {4, 0};
    const hid_t space = H5Screate_simple(2, dims.data(), nullptr);
    const hid_t dataset = H5Dcreate2(root.id(), "labels", H5T_NATIVE_INT32, space, H5P_DEFAULT,
                                     H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(dataset, 0);
    H5Dclose(dataset);
    H5Sclose(space);
  }
  EXPECT_EQ(load_error(path),
            path + ": dataset '/labels' has shape [4, 0]: no label or target per sample");
}

// A dataset stored in an external file is read from it; HDF5 reads zeros past the end of a
// short one, so that is refused as damaged rather than trained on.
TEST(Hdf5Reader, ReadsAnExternalDatasetAndRefusesAShortExternalFile) {
  if (!have_h5py()) GTEST_SKIP() << "/usr/bin/python3 with h5py and numpy is not available";
  testing::TempDir dir;
  const std::string path = dir.file("external.h5");
  const std::string raw = dir.file("features.bin");
  ASSERT_EQ(run_h5py(dir,
                     "import sys, h5py, numpy as np\n"
                     "raw = sys.argv[2]\n"
                     "np.arange(200 * 5, dtype='<f4').tofile(raw)\n"
                     "with h5py.File(sys.argv[1], 'w') as f:\n"
                     "    f.create_dataset('features', shape=(200, 5), dtype='<f4', "
                     "external=[(raw, 0, 4000)])\n"
                     "    f['labels'] = np.arange(200) % 2\n",
                     "'" + path + "' '" + raw + "'"),
            0);
  const Dataset d = load_hdf5(path, "features", "labels", Task::kClassification, 0);
  ASSERT_EQ(d.size(), 200);
  EXPECT_EQ(d.x(4, 199), 999.0f);
  std::filesystem::resize_file(raw, 100);
  EXPECT_EQ(load_error(path), path + ":/features: its external file '" + raw +
                                  "' holds 100 bytes, the dataset keeps 4000 there from byte 0: "
                                  "a short or damaged file");
}

TEST(Hdf5Reader, ReadsAFileWrittenByH5py) {
  if (!have_h5py()) GTEST_SKIP() << "/usr/bin/python3 with h5py and numpy is not available";
  testing::TempDir dir;
  const std::string path = dir.file("py.h5");
  // numpy's defaults: float64 features, int64 labels.
  ASSERT_EQ(run_h5py(dir,
                     "import sys, h5py, numpy as np\n"
                     "with h5py.File(sys.argv[1], 'w') as f:\n"
                     "    f['X'] = np.arange(12, dtype=np.float64).reshape(4, 3) / 4\n"
                     "    f['y'] = np.array([0, 2, 1, 2])\n",
                     "'" + path + "'"),
            0);

  const Dataset d = load_hdf5(path, "X", "y", Task::kClassification, 0);
  ASSERT_EQ(d.size(), 4);
  ASSERT_EQ(d.num_features(), 3);
  EXPECT_EQ(d.x(2, 1), 5.0f / 4);  // sample 1, feature 2 is X[1, 2]
  EXPECT_EQ(d.labels, (std::vector<int32_t>{0, 2, 1, 2}));
  EXPECT_EQ(d.num_classes, 3);
}

TEST(Hdf5Reader, ReadsRegressionData) {
  testing::TempDir dir;
  const Dataset reg = testing::make_regression(20, 2, 3);
  const std::string path = dir.file("reg.h5");
  {
    h5::File file = h5::File::create(path);
    h5::Group root = file.root();
    write_features(root, "x", reg.x);
    root.write_vector("y", Vector(reg.y.row(0).transpose()));
    // Two outputs per sample: samples x outputs.
    Matrix two(2, reg.size());
    two.row(0) = reg.y.row(0);
    two.row(1) = -reg.y.row(0);
    root.write_matrix("y2", RowMajorMatrix(two.transpose()));
  }
  const Dataset one = load_hdf5(path, "x", "y", Task::kRegression, 0);
  EXPECT_EQ(one.task, Task::kRegression);
  EXPECT_EQ(one.x, reg.x);
  EXPECT_EQ(one.y, reg.y);
  EXPECT_EQ(one.num_outputs(), 1);

  const Dataset two = load_hdf5(path, "x", "y2", Task::kRegression, 0);
  ASSERT_EQ(two.y.rows(), 2);
  EXPECT_EQ(two.y.row(0), reg.y.row(0));
  EXPECT_EQ(two.y.row(1), -reg.y.row(0));
}

TEST(Hdf5Reader, MaxSamplesKeepsTheFirstSamples) {
  testing::TempDir dir;
  const Dataset blobs = testing::make_blobs(30, 4, 3, 11);
  const std::string path = write_blobs_file(dir, blobs);

  const Dataset d = load_hdf5(path, "features", "labels", Task::kClassification, 3, 10);
  ASSERT_EQ(d.size(), 10);
  EXPECT_EQ(d.x, blobs.x.leftCols(10));
  EXPECT_EQ(d.labels, std::vector<int32_t>(blobs.labels.begin(), blobs.labels.begin() + 10));
  EXPECT_EQ(load_hdf5(path, "features", "labels", Task::kClassification, 3, 100).size(), 30);

  DataSource source;
  source.format = DataFormat::kHdf5;
  source.path = path;
  source.features_dataset = "features";
  source.labels_dataset = "labels";
  source.max_samples = 5;
  EXPECT_EQ(load_dataset(source, Task::kClassification, 3).size(), 5);
}

TEST(Hdf5Reader, MissingFileIsNamed) {
  testing::TempDir dir;
  const std::string path = dir.file("nothere.h5");
  EXPECT_EQ(load_error(path), path + ": no such file");
}

TEST(Hdf5Reader, NonHdf5FileIsNamed) {
  testing::TempDir dir;
  const std::string path = dir.file("data.csv");
  testing::write_text(path, "a,b,label\n1,2,0\n");
  EXPECT_EQ(load_error(path), path + ": not an HDF5 file");
}

TEST(Hdf5Reader, MissingDatasetListsWhatIsThere) {
  testing::TempDir dir;
  const std::string path = write_blobs_file(dir, testing::make_blobs(6, 2, 2, 1));
  EXPECT_EQ(load_error(path, "x"), path + ": no dataset '/x' (found: /features, /labels)");
  EXPECT_EQ(load_error(path, "features", "/y/z"),
            path + ": no dataset '/y/z' (found: /features, /labels)");
}

TEST(Hdf5Reader, WrongRankIsNamed) {
  testing::TempDir dir;
  const std::string path = dir.file("rank.h5");
  {
    h5::File file = h5::File::create(path);
    h5::Group root = file.root();
    root.write_vector("flat", std::vector<double>{1, 2, 3, 4});
    root.write_vector("labels", std::vector<double>{0, 1, 0, 1});
    write_raw<float>(root, "cube", H5T_NATIVE_FLOAT, {4, 1, 1, 1}, {0, 0, 0, 0});
    write_features(root, "features", Matrix::Zero(2, 4));
  }
  const std::string flat = load_error(path, "flat");
  EXPECT_THAT(flat, HasSubstr(path + ": dataset '/flat' has shape [4] (rank 1)"));
  EXPECT_THAT(flat, HasSubstr("expected rank 2"));
  EXPECT_THAT(load_error(path, "features", "cube", Task::kRegression),
              HasSubstr(path + ": dataset '/cube' has shape [4, 1, 1, 1] (rank 4)"));
}

TEST(Hdf5Reader, NonNumericDatasetIsNamed) {
  testing::TempDir dir;
  const std::string path = dir.file("strings.h5");
  {
    h5::File file = h5::File::create(path);
    h5::Group root = file.root();
    write_features(root, "features", Matrix::Zero(2, 2));
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, 3);
    write_raw<char>(root, "labels", type, {2}, {'c', 'a', 't', 'd', 'o', 'g'});
    H5Tclose(type);
  }
  EXPECT_EQ(load_error(path),
            path + ": dataset '/labels' holds string values, expected numbers (integer or float)");
}

TEST(Hdf5Reader, LengthMismatchIsNamedEvenWithMaxSamples) {
  testing::TempDir dir;
  const std::string path = dir.file("mismatch.h5");
  {
    h5::File file = h5::File::create(path);
    h5::Group root = file.root();
    write_features(root, "features", Matrix::Zero(2, 5));
    root.write_vector("labels", std::vector<double>{0, 1, 0, 1});
  }
  EXPECT_THAT(load_error(path), HasSubstr(path + ": features and labels of different lengths"));
  try {
    load_hdf5(path, "features", "labels", Task::kClassification, 0, 3);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("5 samples in '/features', 4 in '/labels'"));
  }
}

TEST(Hdf5Reader, NanFeatureIsNamed) {
  testing::TempDir dir;
  Dataset blobs = testing::make_blobs(6, 2, 2, 5);
  blobs.x(1, 4) = std::numeric_limits<float>::quiet_NaN();
  const std::string path = write_blobs_file(dir, blobs);
  const std::string message = load_error(path);
  EXPECT_THAT(message, HasSubstr(path + ": "));
  EXPECT_THAT(message, HasSubstr("feature 1 of sample 4 is NaN"));
}

TEST(Hdf5Reader, LabelOutsideClassRangeIsNamed) {
  testing::TempDir dir;
  const std::string path = write_blobs_file(dir, testing::make_blobs(6, 2, 3, 5));
  const std::string message = load_error(path, "features", "labels", Task::kClassification, 2);
  EXPECT_THAT(message, HasSubstr(path + ": "));
  EXPECT_THAT(message, HasSubstr("label 2 at sample 2 is outside the class range [0, 2)"));
}

TEST(Hdf5Reader, GroupInsteadOfDatasetIsNamed) {
  testing::TempDir dir;
  const std::string path = dir.file("group.h5");
  {
    h5::File file = h5::File::create(path);
    h5::Group root = file.root();
    root.create_group("features").write_vector("inside", std::vector<double>{1});
    root.write_vector("labels", std::vector<double>{0});
  }
  EXPECT_EQ(load_error(path),
            path + ": '/features' is a group, not a dataset (found: /features/inside, /labels)");
}

}  // namespace
}  // namespace hps
