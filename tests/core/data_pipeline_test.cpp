#include "core/data_pipeline.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/hdf5_file.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using hps::testing::TempDir;
using hps::testing::write_text;
using ::testing::HasSubstr;

// 40 samples: y = 2a - b, with a and b spread apart so a swap of the columns shows.
std::string regression_csv(bool reversed) {
  std::string text = reversed ? "y,b,a\n" : "a,b,y\n";
  for (int i = 0; i < 40; ++i) {
    const double a = i * 0.25, b = (i % 7) - 3.0, y = 2 * a - b;
    const std::string row =
        reversed ? std::to_string(y) + "," + std::to_string(b) + "," + std::to_string(a)
                 : std::to_string(a) + "," + std::to_string(b) + "," + std::to_string(y);
    text += row + "\n";
  }
  return text;
}

DataConfig csv_regression(const TempDir& dir, const std::string& test_file) {
  DataConfig config;
  config.task = Task::kRegression;
  config.train.format = DataFormat::kCsv;
  config.train.path = dir.file("train.csv");
  config.train.label_column = "y";
  DataSource test = config.train;
  test.path = dir.file(test_file);
  config.test = test;
  return config;
}

std::string data_error(const DataConfig& config) {
  try {
    prepare_data(config, 1);
  } catch (const DataError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a DataError";
  return "";
}

TEST(PrepareData, TestColumnsAreMatchedByName) {
  TempDir dir;
  write_text(dir.file("train.csv"), regression_csv(false));
  write_text(dir.file("test.csv"), regression_csv(false));
  write_text(dir.file("reversed.csv"), regression_csv(true));
  const PreparedData same = prepare_data(csv_regression(dir, "test.csv"), 1);
  const PreparedData reversed = prepare_data(csv_regression(dir, "reversed.csv"), 1);
  ASSERT_TRUE(same.test && reversed.test);
  EXPECT_TRUE(same.test->x == reversed.test->x);
  EXPECT_TRUE(same.test->y == reversed.test->y);
  EXPECT_EQ(reversed.test->feature_names, (std::vector<std::string>{"a", "b"}));
}

TEST(PrepareData, TestColumnsWithOtherNamesAreAnError) {
  TempDir dir;
  write_text(dir.file("train.csv"), regression_csv(false));
  std::string other = regression_csv(false);
  other.replace(0, 1, "c");
  write_text(dir.file("other.csv"), other);
  EXPECT_EQ(data_error(csv_regression(dir, "other.csv")),
            dir.file("other.csv") +
                ": feature columns do not match the training data's ('a', 'b'); missing 'a'; not "
                "in the training data 'c'");
}

// 20 samples of two features, every label `label`.
std::string one_class_csv(int label) {
  std::string text = "a,b,y\n";
  for (int i = 0; i < 20; ++i)
    text += std::to_string(i) + "," + std::to_string(i % 3) + "," + std::to_string(label) + "\n";
  return text;
}

TEST(PrepareData, TrainingDataOfOneClassIsAnErrorWhateverNumClassesSays) {
  TempDir dir;
  write_text(dir.file("train.csv"), one_class_csv(1));
  DataConfig config;
  config.task = Task::kClassification;
  config.train.format = DataFormat::kCsv;
  config.train.path = dir.file("train.csv");
  config.train.label_column = "y";
  for (const int num_classes : {0, 3}) {
    config.num_classes = num_classes;
    EXPECT_EQ(data_error(config),
              dir.file("train.csv") + ": all 20 labels are 1: classification needs at least 2 " +
                  "classes" +
                  (num_classes == 0 ? "" : " to train on, whatever num_classes (3) says") +
                  " (check the label column, and max_samples if the file is sorted by label)")
        << "num_classes " << num_classes;
  }
  // A test set may hold one class.
  std::string two = one_class_csv(1);
  for (int i = 0; i < 20; ++i) two += std::to_string(i) + ",1,2\n";
  write_text(dir.file("train.csv"), two);
  write_text(dir.file("test.csv"), one_class_csv(1));
  DataSource test = config.train;
  test.path = dir.file("test.csv");
  config.test = test;
  EXPECT_EQ(prepare_data(config, 1).test->num_classes, 3);
}

TEST(PrepareData, RegressionTestSetNeedsTheSameNumberOfTargets) {
  TempDir dir;
  write_text(dir.file("train.csv"), regression_csv(false));
  {
    h5::File file = h5::File::create(dir.file("two.h5"));
    h5::Group root = file.root();
    root.write_matrix("x", RowMajorMatrix::Ones(10, 2));
    root.write_matrix("y", RowMajorMatrix::Ones(10, 2));
  }
  DataConfig config = csv_regression(dir, "unused");
  config.test->format = DataFormat::kHdf5;
  config.test->path = dir.file("two.h5");
  config.test->features_dataset = "x";
  config.test->labels_dataset = "y";
  EXPECT_EQ(data_error(config), dir.file("two.h5") +
                                    ": 2 targets per sample, but the training data (" +
                                    dir.file("train.csv") + ") has 1");
}

}  // namespace
}  // namespace hps
