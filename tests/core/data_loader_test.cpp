#include "core/data_loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/dataset_checks.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;
using testing::write_bytes;
using testing::write_text;

const std::string kFashionDir = "/usr/share/datasets/fashion-mnist";

/// The message of the DataError that `load` throws; records a failure if it throws none.
template <typename Load>
std::string data_error(Load load) {
  try {
    load();
  } catch (const DataError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a DataError";
  return "";
}

void append_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
}

/// An IDX header: two zero bytes, the type byte, the rank, then each dimension big-endian.
std::string idx_header(uint8_t type, const std::vector<uint32_t>& dims) {
  std::string out;
  out += '\0';
  out += '\0';
  out += static_cast<char>(type);
  out += static_cast<char>(dims.size());
  for (uint32_t d : dims) append_u32(out, d);
  return out;
}

std::string ubytes(const std::vector<int>& values) {
  std::string out;
  for (int v : values) out += static_cast<char>(static_cast<uint8_t>(v));
  return out;
}

std::string big_endian_floats(const std::vector<float>& values) {
  std::string out;
  for (float v : values) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    append_u32(out, bits);
  }
  return out;
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(file), Z_OK);
}

/// Three 2x2 images, labels 2, 0, 1.
struct SmallIdx {
  std::string images =
      idx_header(0x08, {3, 2, 2}) + ubytes({0, 1, 2, 3, 10, 11, 12, 13, 255, 254, 253, 252});
  std::string labels = idx_header(0x08, {3}) + ubytes({2, 0, 1});
};

void expect_small_idx(const Dataset& d) {
  ASSERT_EQ(d.num_features(), 4);
  ASSERT_EQ(d.size(), 3);
  EXPECT_EQ(d.task, Task::kClassification);
  // One column per sample; the image's row-major pixels run down the column.
  EXPECT_FLOAT_EQ(d.x(0, 0), 0.0f);
  EXPECT_FLOAT_EQ(d.x(3, 0), 3.0f);
  EXPECT_FLOAT_EQ(d.x(1, 1), 11.0f);
  EXPECT_FLOAT_EQ(d.x(0, 2), 255.0f);
  EXPECT_FLOAT_EQ(d.x(3, 2), 252.0f);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{2, 0, 1}));
  EXPECT_EQ(d.y.size(), 0);
}

TEST(LoadIdx, ReadsPlainFiles) {
  TempDir dir;
  SmallIdx idx;
  write_bytes(dir.file("images.idx"), idx.images);
  write_bytes(dir.file("labels.idx"), idx.labels);
  const Dataset d =
      load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 0);
  expect_small_idx(d);
  EXPECT_EQ(d.num_classes, 3);  // inferred as max label + 1
  EXPECT_THAT(d.source, HasSubstr("images.idx"));
}

TEST(LoadIdx, ReadsGzippedFiles) {
  TempDir dir;
  SmallIdx idx;
  write_gz(dir.file("images.idx.gz"), idx.images);
  write_gz(dir.file("labels.idx.gz"), idx.labels);
  const Dataset d =
      load_idx(dir.file("images.idx.gz"), dir.file("labels.idx.gz"), Task::kClassification, 10);
  expect_small_idx(d);
  EXPECT_EQ(d.num_classes, 10);
}

TEST(LoadIdx, MaxSamplesKeepsTheFirstSamples) {
  TempDir dir;
  SmallIdx idx;
  write_gz(dir.file("images.gz"), idx.images);
  write_gz(dir.file("labels.gz"), idx.labels);
  const Dataset d =
      load_idx(dir.file("images.gz"), dir.file("labels.gz"), Task::kClassification, 10, 2);
  ASSERT_EQ(d.size(), 2);
  EXPECT_FLOAT_EQ(d.x(3, 1), 13.0f);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{2, 0}));

  const Dataset all =
      load_idx(dir.file("images.gz"), dir.file("labels.gz"), Task::kClassification, 10, 50);
  EXPECT_EQ(all.size(), 3);
}

TEST(LoadIdx, MaxSamplesReadsOnlyWhatItNeeds) {
  TempDir dir;
  SmallIdx idx;
  // The third image is cut short; the first two are all that is asked for.
  write_bytes(dir.file("images.idx"), idx.images.substr(0, idx.images.size() - 3));
  write_bytes(dir.file("labels.idx"), idx.labels);
  const Dataset d =
      load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 0, 2);
  EXPECT_EQ(d.size(), 2);
}

TEST(LoadIdx, DecodesEveryElementType) {
  TempDir dir;
  std::string shorts;
  for (int16_t v : {int16_t{-2}, int16_t{300}}) {
    shorts += static_cast<char>((static_cast<uint16_t>(v) >> 8) & 0xFF);
    shorts += static_cast<char>(static_cast<uint16_t>(v) & 0xFF);
  }
  std::string ints;
  append_u32(ints, static_cast<uint32_t>(-70000));
  append_u32(ints, 5);
  std::string doubles;
  for (double v : {-0.25, 1e6}) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    append_u32(doubles, static_cast<uint32_t>(bits >> 32));
    append_u32(doubles, static_cast<uint32_t>(bits));
  }
  const std::vector<std::pair<uint8_t, std::string>> cases = {
      {0x09, ubytes({-2, 127})},
      {0x0B, shorts},
      {0x0C, ints},
      {0x0D, big_endian_floats({-1.5f, 3.25f})},
      {0x0E, doubles}};
  const std::vector<std::pair<float, float>> expected = {
      {-2.0f, 127.0f}, {-2.0f, 300.0f}, {-70000.0f, 5.0f}, {-1.5f, 3.25f}, {-0.25f, 1e6f}};
  write_bytes(dir.file("labels.idx"), idx_header(0x08, {2}) + ubytes({0, 1}));
  for (size_t k = 0; k < cases.size(); ++k) {
    const std::string path = dir.file("images" + std::to_string(k) + ".idx");
    write_bytes(path, idx_header(cases[k].first, {2, 1}) + cases[k].second);
    const Dataset d = load_idx(path, dir.file("labels.idx"), Task::kClassification, 2);
    ASSERT_EQ(d.x.rows(), 1);
    ASSERT_EQ(d.x.cols(), 2);
    EXPECT_FLOAT_EQ(d.x(0, 0), expected[k].first) << "type " << int{cases[k].first};
    EXPECT_FLOAT_EQ(d.x(0, 1), expected[k].second) << "type " << int{cases[k].first};
  }
}

TEST(LoadIdx, RegressionTargetsFromFloatLabels) {
  TempDir dir;
  write_bytes(dir.file("x.idx"), idx_header(0x08, {3, 1}) + ubytes({1, 2, 3}));
  write_bytes(dir.file("y.idx"), idx_header(0x0D, {3}) + big_endian_floats({0.5f, -1.0f, 2.5f}));
  const Dataset d = load_idx(dir.file("x.idx"), dir.file("y.idx"), Task::kRegression, 0);
  ASSERT_EQ(d.y.rows(), 1);
  ASSERT_EQ(d.y.cols(), 3);
  EXPECT_FLOAT_EQ(d.y(0, 2), 2.5f);
  EXPECT_TRUE(d.labels.empty());
  EXPECT_EQ(d.num_outputs(), 1);
}

TEST(LoadIdx, MissingFile) {
  TempDir dir;
  SmallIdx idx;
  write_bytes(dir.file("labels.idx"), idx.labels);
  const std::string message = data_error(
      [&] { load_idx(dir.file("nope.idx"), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("nope.idx"));
  EXPECT_THAT(message, HasSubstr("no such file"));
}

TEST(LoadIdx, DirectoryInsteadOfFile) {
  TempDir dir;
  SmallIdx idx;
  write_bytes(dir.file("labels.idx"), idx.labels);
  const std::string message =
      data_error([&] { load_idx(dir.path(), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr(dir.path()));
  EXPECT_THAT(message, HasSubstr("is a directory"));
}

// A pipe would block the reader until something wrote to it; a device is no data file either.
// Each reader refuses them before opening, so these calls return at once.
TEST(LoadData, PipesAndDevicesAreRefusedWithoutReading) {
  TempDir dir;
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  SmallIdx idx;
  write_bytes(dir.file("labels.idx"), idx.labels);
  for (const std::string& path : {fifo, std::string("/dev/zero")}) {
    EXPECT_THAT(data_error([&] { load_csv(path, "label", Task::kClassification, 0); }),
                HasSubstr(path + ": is not a regular file (a pipe, device or socket), not a CSV "
                                 "file"));
    EXPECT_THAT(
        data_error([&] { load_idx(path, dir.file("labels.idx"), Task::kClassification, 0); }),
        HasSubstr(path + ": is not a regular file (a pipe, device or socket), not an IDX file"));
    EXPECT_THAT(
        data_error([&] { load_hdf5(path, "x", "y", Task::kClassification, 0); }),
        HasSubstr(path + ": is not a regular file (a pipe, device or socket), not an HDF5 file"));
  }
}

TEST(LoadIdx, BadMagicBytes) {
  TempDir dir;
  SmallIdx idx;
  write_text(dir.file("images.csv"), "x1,x2,label\n1,2,0\n");
  write_bytes(dir.file("labels.idx"), idx.labels);
  const std::string message = data_error(
      [&] { load_idx(dir.file("images.csv"), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("images.csv"));
  EXPECT_THAT(message, HasSubstr("not an IDX file (bad magic bytes 0x78312C78)"));
}

TEST(LoadIdx, UnsupportedType) {
  TempDir dir;
  SmallIdx idx;
  write_bytes(dir.file("images.idx"), idx_header(0x07, {3, 4}) + std::string(12, '\0'));
  write_bytes(dir.file("labels.idx"), idx.labels);
  const std::string message = data_error(
      [&] { load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("images.idx"));
  EXPECT_THAT(message, HasSubstr("unsupported IDX data type 0x07"));
}

TEST(LoadIdx, EmptyFile) {
  TempDir dir;
  SmallIdx idx;
  write_bytes(dir.file("images.idx"), "");
  write_bytes(dir.file("labels.idx"), idx.labels);
  const std::string message = data_error(
      [&] { load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("images.idx: empty file"));
}

TEST(LoadIdx, TruncatedHeader) {
  TempDir dir;
  SmallIdx idx;
  write_bytes(dir.file("images.idx"), idx.images.substr(0, 9));
  write_bytes(dir.file("labels.idx"), idx.labels);
  const std::string message = data_error(
      [&] { load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("images.idx"));
  EXPECT_THAT(message, HasSubstr("truncated header: rank 3 needs 12 bytes of dimensions, found 5"));
}

TEST(LoadIdx, TruncatedData) {
  TempDir dir;
  SmallIdx idx;
  write_bytes(dir.file("images.idx"), idx.images.substr(0, idx.images.size() - 3));
  write_bytes(dir.file("labels.idx"), idx.labels);
  const std::string message = data_error(
      [&] { load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("images.idx"));
  EXPECT_THAT(message, HasSubstr("truncated: expected 12 bytes of data, found 9"));
}

TEST(LoadIdx, TruncatedGzipStream) {
  TempDir dir;
  SmallIdx idx;
  const std::string images = idx_header(0x08, {1000, 10}) + std::string(10000, '\x07');
  write_gz(dir.file("whole.gz"), images);
  std::string compressed;
  {
    std::ifstream in(dir.file("whole.gz"), std::ios::binary);
    compressed.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  write_bytes(dir.file("images.gz"), compressed.substr(0, compressed.size() - 12));
  write_bytes(dir.file("labels.idx"), idx_header(0x08, {1000}) + std::string(1000, '\0'));
  const std::string message = data_error(
      [&] { load_idx(dir.file("images.gz"), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("images.gz"));
  EXPECT_THAT(message, HasSubstr("truncated: expected 10000 bytes of data"));
}

// A header that claims far more samples than the file holds is refused before memory is set
// aside for them: 2^27 one-byte samples in a few dozen bytes took a gigabyte before.
TEST(LoadIdx, AHeaderClaimingMoreThanTheFileCanHoldIsRefusedBeforeAllocating) {
  TempDir dir;
  const uint32_t claimed = uint32_t{1} << 30;
  const std::string images = idx_header(0x08, {claimed, 784}) + std::string(100, '\x01');
  const std::string labels = idx_header(0x08, {claimed}) + std::string(100, '\x01');
  write_gz(dir.file("images.gz"), images);
  write_gz(dir.file("labels.gz"), labels);
  write_bytes(dir.file("images.idx"), images);
  write_bytes(dir.file("labels.idx"), labels);
  const std::string gz = data_error(
      [&] { load_idx(dir.file("images.gz"), dir.file("labels.gz"), Task::kClassification, 0); });
  EXPECT_THAT(gz, AllOf(HasSubstr("images.gz: truncated: expected 841813590016 bytes of data "
                                  "(1073741824 x 784), more than a gzip file of "),
                        HasSubstr(" bytes can hold")));
  const std::string plain = data_error(
      [&] { load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(plain, HasSubstr("images.idx: truncated: expected 841813590016 bytes of data, "
                               "found 100"));
}

TEST(LoadIdx, DataAfterTheDeclaredSamples) {
  TempDir dir;
  SmallIdx idx;
  write_bytes(dir.file("images.idx"), idx.images + "\x01");
  write_bytes(dir.file("labels.idx"), idx.labels);
  const std::string message = data_error(
      [&] { load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("images.idx"));
  EXPECT_THAT(message, HasSubstr("more data than the header declares (3 x 2 x 2"));
}

TEST(LoadIdx, ImageAndLabelCountsDiffer) {
  TempDir dir;
  write_bytes(dir.file("images.idx"), idx_header(0x08, {100, 2}) + std::string(200, '\1'));
  write_bytes(dir.file("labels.idx"), idx_header(0x08, {99}) + std::string(99, '\1'));
  const std::string message = data_error([&] {
    load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 0, 10);
  });
  EXPECT_THAT(message, HasSubstr("images.idx"));
  EXPECT_THAT(message, HasSubstr("labels.idx"));
  EXPECT_THAT(message,
              HasSubstr("features and labels of different lengths: 100 images, 99 labels"));
}

TEST(LoadIdx, LabelsMustHaveRankOne) {
  TempDir dir;
  SmallIdx idx;
  write_bytes(dir.file("images.idx"), idx.images);
  write_bytes(dir.file("labels.idx"), idx.images);
  const std::string message = data_error(
      [&] { load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("labels.idx"));
  EXPECT_THAT(message, HasSubstr("labels must be a rank-1 IDX file"));
}

TEST(LoadIdx, SwappedFilesAreNamed) {
  TempDir dir;
  SmallIdx idx;
  write_bytes(dir.file("images.idx"), idx.images);
  write_bytes(dir.file("labels.idx"), idx.labels);
  const std::string message = data_error(
      [&] { load_idx(dir.file("labels.idx"), dir.file("images.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("labels.idx"));
  EXPECT_THAT(message, HasSubstr("swapped"));
}

TEST(LoadIdx, LabelOutsideClassRange) {
  TempDir dir;
  SmallIdx idx;
  write_bytes(dir.file("images.idx"), idx.images);
  write_bytes(dir.file("labels.idx"), idx_header(0x08, {3}) + ubytes({1, 12, 0}));
  const std::string message = data_error(
      [&] { load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 10); });
  EXPECT_THAT(message, HasSubstr("labels.idx"));
  EXPECT_THAT(message, HasSubstr("label 12 at sample 1 is outside the class range [0, 10)"));
}

TEST(LoadIdx, NegativeLabel) {
  TempDir dir;
  SmallIdx idx;
  write_bytes(dir.file("images.idx"), idx.images);
  write_bytes(dir.file("labels.idx"), idx_header(0x09, {3}) + ubytes({1, 0, -1}));
  const std::string message = data_error(
      [&] { load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("labels.idx"));
  EXPECT_THAT(message, HasSubstr("label -1 at sample 2 is negative"));
}

TEST(LoadIdx, NonIntegerLabel) {
  TempDir dir;
  SmallIdx idx;
  write_bytes(dir.file("images.idx"), idx.images);
  write_bytes(dir.file("labels.idx"), idx_header(0x0D, {3}) + big_endian_floats({1, 2.5f, 0}));
  const std::string message = data_error(
      [&] { load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("labels.idx"));
  EXPECT_THAT(message, HasSubstr("label 2.5 at sample 1 is not an integer class index"));
}

TEST(LoadIdx, NanFeature) {
  TempDir dir;
  SmallIdx idx;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  write_bytes(dir.file("images.idx"),
              idx_header(0x0D, {3, 2}) + big_endian_floats({0, 1, 2, 3, nan, 5}));
  write_bytes(dir.file("labels.idx"), idx.labels);
  const std::string message = data_error(
      [&] { load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("images.idx"));
  EXPECT_THAT(message, HasSubstr("feature 0 of sample 2 is NaN"));
}

TEST(LoadIdx, NoSamples) {
  TempDir dir;
  write_bytes(dir.file("images.idx"), idx_header(0x08, {0, 4}));
  write_bytes(dir.file("labels.idx"), idx_header(0x08, {0}));
  const std::string message = data_error(
      [&] { load_idx(dir.file("images.idx"), dir.file("labels.idx"), Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("images.idx"));
  EXPECT_THAT(message, HasSubstr("no samples"));
}

bool have_fashion_mnist() {
  return std::filesystem::exists(kFashionDir + "/train-images-idx3-ubyte.gz") &&
         std::filesystem::exists(kFashionDir + "/train-labels-idx1-ubyte.gz");
}

TEST(LoadIdx, FashionMnistFirstHundred) {
  if (!have_fashion_mnist())
    GTEST_SKIP() << "Fashion-MNIST not found in " << kFashionDir
                 << " (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz)";
  const Dataset d =
      load_idx(kFashionDir + "/train-images-idx3-ubyte.gz",
               kFashionDir + "/train-labels-idx1-ubyte.gz", Task::kClassification, 10, 100);
  ASSERT_EQ(d.num_features(), 784);
  ASSERT_EQ(d.size(), 100);
  EXPECT_GE(d.x.minCoeff(), 0.0f);
  EXPECT_LE(d.x.maxCoeff(), 255.0f);
  EXPECT_GT(d.x.maxCoeff(), 0.0f);
  ASSERT_EQ(d.labels.size(), 100u);
  for (int32_t label : d.labels) {
    EXPECT_GE(label, 0);
    EXPECT_LT(label, 10);
  }
  EXPECT_EQ(d.num_classes, 10);
}

TEST(LoadIdx, FashionMnistWholeTrainingSet) {
  if (!have_fashion_mnist())
    GTEST_SKIP() << "Fashion-MNIST not found in " << kFashionDir
                 << " (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz)";
  const Dataset d = load_idx(kFashionDir + "/train-images-idx3-ubyte.gz",
                             kFashionDir + "/train-labels-idx1-ubyte.gz", Task::kClassification, 0);
  ASSERT_EQ(d.num_features(), 784);
  ASSERT_EQ(d.size(), 60000);
  EXPECT_EQ(d.num_classes, 10);
  std::vector<int> counts(10, 0);
  for (int32_t label : d.labels) ++counts[static_cast<size_t>(label)];
  for (int count : counts) EXPECT_EQ(count, 6000);  // Fashion-MNIST is balanced
}

TEST(LoadCsv, Classification) {
  TempDir dir;
  // CRLF line ends, the label column in the middle, blank lines at the end.
  write_text(dir.file("data.csv"), "x1,label,x2\r\n0.5,1,-2\r\n1.5e1, 0 ,3\r\n+4,2,.25\r\n\r\n\n");
  const Dataset d = load_csv(dir.file("data.csv"), "label", Task::kClassification, 0);
  ASSERT_EQ(d.num_features(), 2);
  ASSERT_EQ(d.size(), 3);
  EXPECT_FLOAT_EQ(d.x(0, 0), 0.5f);
  EXPECT_FLOAT_EQ(d.x(1, 0), -2.0f);
  EXPECT_FLOAT_EQ(d.x(0, 1), 15.0f);
  EXPECT_FLOAT_EQ(d.x(0, 2), 4.0f);
  EXPECT_FLOAT_EQ(d.x(1, 2), 0.25f);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{1, 0, 2}));
  EXPECT_EQ(d.num_classes, 3);
  EXPECT_EQ(d.source, dir.file("data.csv"));
}

TEST(LoadCsv, Regression) {
  TempDir dir;
  write_text(dir.file("data.csv"), "a,b,target\n1,2,0.5\n3,4,-7.25\n");
  const Dataset d = load_csv(dir.file("data.csv"), "target", Task::kRegression, 0);
  ASSERT_EQ(d.size(), 2);
  ASSERT_EQ(d.y.rows(), 1);
  ASSERT_EQ(d.y.cols(), 2);
  EXPECT_FLOAT_EQ(d.y(0, 0), 0.5f);
  EXPECT_FLOAT_EQ(d.y(0, 1), -7.25f);
  EXPECT_FLOAT_EQ(d.x(1, 1), 4.0f);
  EXPECT_TRUE(d.labels.empty());
}

TEST(LoadCsv, MaxSamples) {
  TempDir dir;
  // The bad third row is never reached.
  write_text(dir.file("data.csv"), "a,y\n1,0\n2,1\nbad,0\n");
  const Dataset d = load_csv(dir.file("data.csv"), "y", Task::kClassification, 2, 2);
  EXPECT_EQ(d.size(), 2);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{0, 1}));
}

TEST(LoadCsv, QuotedFields) {
  TempDir dir;
  write_text(dir.file("data.csv"), "\"width, cm\",\"say \"\"hi\"\"\",y\n\"1.5\",2,1\n");
  const Dataset d = load_csv(dir.file("data.csv"), "y", Task::kClassification, 2);
  ASSERT_EQ(d.size(), 1);
  EXPECT_FLOAT_EQ(d.x(0, 0), 1.5f);
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "width", Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("'width, cm', 'say \"hi\"', 'y'"));
}

TEST(LoadCsv, ByteOrderMark) {
  TempDir dir;
  write_text(dir.file("data.csv"), "\xEF\xBB\xBFy,x\n1,2\n");
  const Dataset d = load_csv(dir.file("data.csv"), "y", Task::kClassification, 2);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{1}));
}

TEST(LoadCsv, MissingFile) {
  TempDir dir;
  const std::string message =
      data_error([&] { load_csv(dir.file("nope.csv"), "y", Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("nope.csv"));
  EXPECT_THAT(message, HasSubstr("no such file"));
}

TEST(LoadCsv, EmptyFile) {
  TempDir dir;
  write_text(dir.file("data.csv"), "\n\r\n  \n");
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("data.csv: empty file"));
}

TEST(LoadCsv, HeaderOnly) {
  TempDir dir;
  write_text(dir.file("data.csv"), "x,y\n");
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("data.csv: no samples"));
}

TEST(LoadCsv, RaggedRow) {
  TempDir dir;
  write_text(dir.file("data.csv"), "a,b,c,y\n1,2,3,0\n\n1,2,3,1\n1,2,3\n");
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("data.csv"));
  EXPECT_THAT(message, HasSubstr("line 5 has 3 fields, header has 4"));
}

TEST(LoadCsv, NonNumericField) {
  TempDir dir;
  write_text(dir.file("data.csv"), "x1,x2,y\n1,2,0\n1,2,0\n1,2,0\n1,2,0\n1,2,0\n1,abc,0\n");
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("data.csv"));
  EXPECT_THAT(message, HasSubstr("line 7, column 'x2': 'abc' is not a number"));
}

// A NUL byte quoted in a message would end what() there, cutting off the rest.
TEST(LoadCsv, NulByteInAFieldIsShownNotCutShort) {
  TempDir dir;
  write_text(dir.file("data.csv"), std::string("x1,x2,y\n1,3\0x,0\n", 16));
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("line 2, column 'x2': '3\\x00x' is not a number"));
}

// What is not CSV text is named before its bytes reach a message as column names.
TEST(LoadCsv, RefusesGzipHdf5AndClassicMacLineEndsByName) {
  TempDir dir;
  write_gz(dir.file("data.csv.gz"), "x1,x2,y\n1,2,0\n3,4,1\n");
  EXPECT_EQ(
      data_error([&] { load_csv(dir.file("data.csv.gz"), "y", Task::kClassification, 0); }),
      dir.file("data.csv.gz") + ": gzip-compressed, not CSV text: decompress it first (gunzip)");
  write_text(dir.file("data.h5"), std::string("\x89HDF\r\n\x1a\n", 8) + "rest");
  EXPECT_THAT(data_error([&] { load_csv(dir.file("data.h5"), "y", Task::kClassification, 0); }),
              HasSubstr("an HDF5 file, not CSV text (for HDF5 data use format: hdf5)"));
  write_text(dir.file("binary.csv"), std::string("x1\x02\x03,y\n1,0\n"));
  EXPECT_THAT(data_error([&] { load_csv(dir.file("binary.csv"), "y", Task::kClassification, 0); }),
              HasSubstr("not CSV text: byte 2 is the control character 0x02"));
  write_text(dir.file("mac.csv"), "x1,x2,y\r1,2,0\r3,4,1\r");
  EXPECT_THAT(data_error([&] { load_csv(dir.file("mac.csv"), "y", Task::kClassification, 0); }),
              HasSubstr("its lines end in CR alone (classic Mac line ends)"));
  write_text(dir.file("spans.csv"), "x1,x2,y\n\"1\n2\",3,0\n");
  EXPECT_THAT(data_error([&] { load_csv(dir.file("spans.csv"), "y", Task::kClassification, 0); }),
              HasSubstr("line 2: unterminated quoted field (a quoted field cannot span lines "
                        "here)"));
}

// A header of thousands of columns is not listed whole in a message.
TEST(LoadCsv, AMissingLabelListsAtMostTwentyColumns) {
  TempDir dir;
  std::string header, row;
  for (int c = 0; c < 30; ++c) {
    header += (c ? ",c" : "c") + std::to_string(c);
    row += c ? ",1" : "1";
  }
  write_text(dir.file("wide.csv"), header + "\n" + row + "\n");
  const std::string message =
      data_error([&] { load_csv(dir.file("wide.csv"), "y", Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("'c18', 'c19', ... (30 in all)"));
  EXPECT_THAT(message, Not(HasSubstr("'c20'")));
}

// predict reads features alone: the label column of new data, often blank, is left unread.
TEST(LoadCsvFeatures, LeavesTheLabelColumnUnread) {
  TempDir dir;
  write_text(dir.file("new.csv"), "x1,y,x2\n1,,2\n3,?,4\n");
  std::vector<std::string> names;
  const Matrix x = load_csv_features(dir.file("new.csv"), "y", &names);
  EXPECT_EQ(names, (std::vector<std::string>{"x1", "x2"}));
  ASSERT_EQ(x.cols(), 2);
  EXPECT_EQ(x(1, 1), 4.0f);
}

TEST(LoadCsv, EmptyField) {
  TempDir dir;
  write_text(dir.file("data.csv"), "x1,x2,y\n1,,0\n");
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("data.csv"));
  EXPECT_THAT(message, HasSubstr("line 2, column 'x2': empty field"));
}

TEST(LoadCsv, NanAndInfinityAreRejected) {
  TempDir dir;
  for (const std::string text : {"nan", "NaN", "inf", "-Infinity"}) {
    write_text(dir.file("data.csv"), "x1,x2,y\n1,2,0\n3," + text + ",1\n");
    const std::string message =
        data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); });
    EXPECT_THAT(message, HasSubstr("data.csv"));
    EXPECT_THAT(message, HasSubstr("line 3, column 'x2': '" + text + "' is not a finite number"));
  }
  write_text(dir.file("data.csv"), "x1,y\n1,nan\n");
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kRegression, 0); });
  EXPECT_THAT(message, HasSubstr("line 2, column 'y': 'nan' is not a finite number"));
}

TEST(LoadCsv, FeatureOutsideFloatRange) {
  TempDir dir;
  write_text(dir.file("data.csv"), "x1,y\n1e39,0\n");
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("data.csv"));
  EXPECT_THAT(message, HasSubstr("line 2, column 'x1': '1e39' is out of the 32-bit float range"));
}

TEST(LoadCsv, NumbersTooSmallForADoubleReadAsZero) {
  TempDir dir;
  const std::string tiny = "0." + std::string(400, '0') + "7";
  write_text(dir.file("data.csv"),
             "x1,x2,x3,y\n1e-400,-2.5e-99999999999999999999," + tiny + ",0\n1e-320,3,4,1\n");
  const Dataset d = load_csv(dir.file("data.csv"), "y", Task::kClassification, 0);
  ASSERT_EQ(d.size(), 2);
  EXPECT_EQ(d.x(0, 0), 0.0f);
  EXPECT_EQ(d.x(1, 0), 0.0f);
  EXPECT_TRUE(std::signbit(d.x(1, 0)));
  EXPECT_EQ(d.x(2, 0), 0.0f);
  EXPECT_EQ(d.x(0, 1), 0.0f);  // a double subnormal, zero as a float
  // Too large stays an error, however it is written.
  for (const std::string& big : {std::string("1e400"), std::string("-1e99999999999999999999"),
                                 "1" + std::string(400, '0'), std::string("0.00001e400")}) {
    write_text(dir.file("data.csv"), "x1,y\n1,0\n" + big + ",1\n");
    const std::string message =
        data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); });
    EXPECT_THAT(message, HasSubstr("line 3, column 'x1': '" + big + "' is out of range"));
  }
}

TEST(LoadCsv, QuotedNumbersMayHaveSpaces) {
  TempDir dir;
  write_text(dir.file("data.csv"), "x1,x2,y\n\" 1.5\",\"-2 \",\" 1 \"\n\"  \",3,0\n");
  const Dataset d = load_csv(dir.file("data.csv"), "y", Task::kClassification, 2, 1);
  ASSERT_EQ(d.size(), 1);
  EXPECT_FLOAT_EQ(d.x(0, 0), 1.5f);
  EXPECT_FLOAT_EQ(d.x(1, 0), -2.0f);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{1}));
  // Spaces alone are still a missing value.
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 2); });
  EXPECT_THAT(message, HasSubstr("line 3, column 'x1': empty field"));
}

TEST(LoadCsv, LabelColumnAbsent) {
  TempDir dir;
  write_text(dir.file("data.csv"), "x1,x2,class\n1,2,0\n");
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "label", Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("data.csv"));
  EXPECT_THAT(message, HasSubstr("no column named 'label' in the header (line 1)"));
  EXPECT_THAT(message, HasSubstr("columns are 'x1', 'x2', 'class'"));
}

TEST(LoadCsv, NonIntegerClassLabel) {
  TempDir dir;
  write_text(dir.file("data.csv"), "x,y\n1,0\n2,1\n3,2.5\n");
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("data.csv"));
  EXPECT_THAT(message, HasSubstr("line 4, column 'y': label 2.5 is not an integer class index"));
}

TEST(LoadCsv, ClassLabelOutOfRange) {
  TempDir dir;
  write_text(dir.file("data.csv"), "x,y\n1,0\n2,12\n");
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 10); });
  EXPECT_THAT(message, HasSubstr("data.csv"));
  EXPECT_THAT(message,
              HasSubstr("line 3, column 'y': label 12 is outside the class range [0, 10)"));
  // With the class count inferred, a label past the largest class index names its line too.
  write_text(dir.file("big.csv"), "x,y\n1,0\n\n2,200000\n");
  EXPECT_THAT(data_error([&] { load_csv(dir.file("big.csv"), "y", Task::kClassification, 0); }),
              HasSubstr("line 4, column 'y': label 200000 is larger than 99999, the largest "
                        "class index"));
}

TEST(LoadCsv, UnterminatedQuote) {
  TempDir dir;
  write_text(dir.file("data.csv"), "x,y\n\"1,0\n");
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("data.csv"));
  EXPECT_THAT(message, HasSubstr("line 2: unterminated quoted field"));
}

TEST(LoadCsv, OnlyTheLabelColumn) {
  TempDir dir;
  write_text(dir.file("data.csv"), "y\n1\n");
  const std::string message =
      data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); });
  EXPECT_THAT(message, HasSubstr("data.csv"));
  EXPECT_THAT(message, HasSubstr("no feature columns"));
}

TEST(LoadCsv, RepeatedColumnNameIsAnError) {
  TempDir dir;
  // Columns are matched by name, so a repeated one would be matched arbitrarily.
  write_text(dir.file("data.csv"), "a,a,c,d,y\n1,2,3,4,0\n5,6,7,8,1\n");
  const std::string repeated = dir.file("data.csv") +
                               ": line 1: column name 'a' appears more than once in the header "
                               "(columns 1 and 2)";
  EXPECT_EQ(data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); }),
            repeated);
  EXPECT_EQ(data_error([&] { load_csv_features(dir.file("data.csv"), "y"); }), repeated);

  write_text(dir.file("data.csv"), "\nx,y,x,z,x\n1,0,2,3,4\n");
  EXPECT_EQ(data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); }),
            dir.file("data.csv") +
                ": line 2: column name 'x' appears more than once in the header (columns 1, 3 "
                "and 5)");
  write_text(dir.file("data.csv"), "x,y,y\n1,0,1\n");
  EXPECT_THAT(data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); }),
              HasSubstr("column name 'y' appears more than once in the header (columns 2 and 3)"));
}

TEST(LoadCsv, EmptyColumnNameIsAnError) {
  TempDir dir;
  write_text(dir.file("data.csv"), "a,,c,d,y\n1,2,3,4,0\n5,6,7,8,1\n");
  const std::string empty = dir.file("data.csv") + ": line 1: column 2 of the header has no name";
  EXPECT_EQ(data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); }),
            empty);
  EXPECT_EQ(data_error([&] { load_csv_features(dir.file("data.csv"), ""); }), empty);
  write_text(dir.file("data.csv"), "a,\"\",y\n1,2,0\n");
  EXPECT_THAT(data_error([&] { load_csv(dir.file("data.csv"), "y", Task::kClassification, 0); }),
              HasSubstr("column 2 of the header has no name"));
}

TEST(AlignFeatures, RepeatedTrainingNameIsAnError) {
  // A model stored before CSV readers refused repeated names may carry them; matching
  // 'a', 'b', 'c', 'd' against them would otherwise report 'a' missing and 'b' extra.
  Matrix x = Matrix::Zero(4, 1);
  EXPECT_EQ(data_error([&] {
              align_features(x, {"a", "b", "c", "d"}, {"a", "a", "c", "d"}, "p");
            }),
            "p: the training data's feature columns 1 and 2 are both named 'a', so columns cannot "
            "be matched by name; rename one and train again");
}

TEST(LoadDataset, DispatchesOnFormat) {
  TempDir dir;
  SmallIdx idx;
  write_bytes(dir.file("images.idx"), idx.images);
  write_bytes(dir.file("labels.idx"), idx.labels);
  write_text(dir.file("data.csv"), "x,y\n1,0\n2,1\n3,0\n");

  DataSource idx_source;
  idx_source.format = DataFormat::kIdx;
  idx_source.images = dir.file("images.idx");
  idx_source.labels = dir.file("labels.idx");
  idx_source.max_samples = 2;
  EXPECT_EQ(load_dataset(idx_source, Task::kClassification, 10).size(), 2);

  DataSource csv_source;
  csv_source.format = DataFormat::kCsv;
  csv_source.path = dir.file("data.csv");
  csv_source.label_column = "y";
  const Dataset d = load_dataset(csv_source, Task::kRegression, 0);
  EXPECT_EQ(d.size(), 3);
  EXPECT_EQ(d.y.rows(), 1);

  csv_source.path.clear();
  EXPECT_THAT(data_error([&] { load_dataset(csv_source, Task::kRegression, 0); }),
              HasSubstr("needs a path"));
}

TEST(MakeCheckedDataset, InfersClassCount) {
  Matrix x = Matrix::Ones(2, 3);
  const Dataset d = make_checked_dataset(x, {0, 4, 1}, 1, Task::kClassification, 0, "src");
  EXPECT_EQ(d.num_classes, 5);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{0, 4, 1}));
  EXPECT_EQ(d.source, "src");
}

TEST(MakeCheckedDataset, InferredSingleClassIsAnError) {
  // All labels 0 would train a one-output softmax to a loss of exactly 0 and "accuracy" 1.
  const std::string message = data_error([&] {
    make_checked_dataset(Matrix::Ones(2, 3), {0, 0, 0}, 1, Task::kClassification, 0, "src");
  });
  EXPECT_EQ(message,
            "src: all 3 labels are 0: classification needs at least 2 classes (check the label "
            "column, and max_samples if the file is sorted by label)");
  // Whatever the one label is: all 1 would otherwise infer 2 classes.
  EXPECT_EQ(
      data_error([&] {
        make_checked_dataset(Matrix::Ones(2, 3), {1, 1, 1}, 1, Task::kClassification, 0, "src");
      }),
      "src: all 3 labels are 1: classification needs at least 2 classes (check the label "
      "column, and max_samples if the file is sorted by label)");
  // A given class count keeps a one-class slice valid (a test set may hold one class).
  EXPECT_EQ(make_checked_dataset(Matrix::Ones(2, 3), {0, 0, 0}, 1, Task::kClassification, 3, "src")
                .num_classes,
            3);
}

TEST(MakeCheckedDataset, LabelLargerThanAnyClassCount) {
  // An id or year column taken for the label would otherwise size the output layer.
  const std::string message = data_error([&] {
    make_checked_dataset(Matrix::Ones(2, 2), {0, 123456}, 1, Task::kClassification, 0, "src");
  });
  EXPECT_EQ(message,
            "src: label 123456 at sample 1 is larger than 99999, the largest class index (at "
            "most 100000 classes); is the label column the class index?");
  EXPECT_EQ(make_checked_dataset(Matrix::Ones(2, 2), {0, 99999}, 1, Task::kClassification, 0, "src")
                .num_classes,
            100000);
}

TEST(MakeCheckedDataset, RegressionTargetsSampleAfterSample) {
  Matrix x = Matrix::Zero(1, 2);
  const Dataset d = make_checked_dataset(x, {1, 2, 3, 4}, 2, Task::kRegression, 0, "src");
  ASSERT_EQ(d.y.rows(), 2);
  ASSERT_EQ(d.y.cols(), 2);
  EXPECT_FLOAT_EQ(d.y(1, 0), 2.0f);
  EXPECT_FLOAT_EQ(d.y(0, 1), 3.0f);
}

TEST(MakeCheckedDataset, LabelOutsideClassRange) {
  std::vector<double> labels(8, 1.0);
  labels[5] = 12;
  const std::string message = data_error([&] {
    make_checked_dataset(Matrix::Zero(2, 8), labels, 1, Task::kClassification, 10, "src");
  });
  EXPECT_EQ(message, "src: label 12 at sample 5 is outside the class range [0, 10)");
}

TEST(MakeCheckedDataset, NonIntegerLabel) {
  std::vector<double> labels(8, 1.0);
  labels[3] = 2.5;
  const std::string message = data_error([&] {
    make_checked_dataset(Matrix::Zero(2, 8), labels, 1, Task::kClassification, 10, "src");
  });
  EXPECT_EQ(message, "src: label 2.5 at sample 3 is not an integer class index");
}

TEST(MakeCheckedDataset, NonFiniteFeature) {
  Matrix x = Matrix::Zero(5, 8);
  x(3, 7) = std::numeric_limits<float>::quiet_NaN();
  const std::vector<double> labels(8, 0.0);
  EXPECT_EQ(data_error([&] { make_checked_dataset(x, labels, 1, Task::kClassification, 2, "s"); }),
            "s: feature 3 of sample 7 is NaN");
  x(3, 7) = 0;
  x(1, 2) = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(data_error([&] { make_checked_dataset(x, labels, 1, Task::kClassification, 2, "s"); }),
            "s: feature 1 of sample 2 is infinite (or past the 32-bit float range, 3.4e38)");
}

TEST(MakeCheckedDataset, NonFiniteTarget) {
  std::vector<double> targets(4, 0.0);
  targets[1] = std::nan("");
  EXPECT_EQ(data_error([&] {
              make_checked_dataset(Matrix::Zero(1, 4), targets, 1, Task::kRegression, 0, "s");
            }),
            "s: target of sample 1 is NaN");
  EXPECT_EQ(data_error([&] {
              make_checked_dataset(Matrix::Zero(1, 2), targets, 2, Task::kRegression, 0, "s");
            }),
            "s: target 1 of sample 0 is NaN");
  EXPECT_EQ(data_error([&] {
              make_checked_dataset(Matrix::Zero(1, 4), targets, 1, Task::kClassification, 0, "s");
            }),
            "s: label at sample 1 is NaN");
}

TEST(MakeCheckedDataset, LengthsDiffer) {
  const std::string message = data_error([&] {
    make_checked_dataset(Matrix::Zero(2, 4), {0, 1, 0}, 1, Task::kClassification, 2, "src");
  });
  EXPECT_EQ(message,
            "src: features and labels of different lengths: 4 samples of features, 3 labels");
}

TEST(MakeCheckedDataset, NoSamples) {
  const std::string message = data_error(
      [&] { make_checked_dataset(Matrix::Zero(2, 0), {}, 1, Task::kClassification, 2, "src"); });
  EXPECT_EQ(message, "src: no samples");
}

}  // namespace
}  // namespace hps
