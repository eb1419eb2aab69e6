#include "core/data_pipeline.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/config.hpp"
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

// A config's data block for the CSV files in `dir`, parsed as a config file is, so the data
// block knows where each key was written (run.yaml: data on line 1, train on 2, test on 3,
// `more` from 4).
DataConfig classification(const TempDir& dir, const std::string& label_column,
                          const std::string& more = "") {
  const std::string text =
      "data:\n  train: {format: csv, path: train.csv, label_column: " + label_column +
      "}\n  test: {format: csv, path: test.csv, " + "label_column: label}\n" + more;
  return parse_train_config(text, "run.yaml", dir.path()).data;
}

// 20 samples, labels 0 and 1 (and `last` for the last one).
std::string class_csv(int last) {
  std::string text = "a,b,label\n";
  for (int i = 0; i < 20; ++i)
    text += std::to_string(i * 0.5) + "," + std::to_string(i % 3) + "," +
            std::to_string(i == 19 ? last : i % 2) + "\n";
  return text;
}

// Data that contradict a setting: the message also says where the config set it, since the
// setting may be what is wrong.
TEST(PrepareData, DataThatContradictASettingSayWhereTheConfigSetIt) {
  TempDir dir;
  write_text(dir.file("train.csv"), class_csv(1));
  write_text(dir.file("test.csv"), class_csv(1));
  EXPECT_THAT(data_error(classification(dir, "y")),
              HasSubstr("no column named 'y' in the header (line 1); columns are 'a', 'b', "
                        "'label' (data.train.label_column: y at run.yaml:2)"));
  EXPECT_THAT(data_error(classification(dir, "a")),
              HasSubstr("column 'a': label 0.500000 is not an integer class index (data.task is "
                        "classification by default; real-valued targets need task: regression)"));
  EXPECT_THAT(data_error(classification(dir, "a", "  task: classification\n")),
              HasSubstr("(data.task: classification at run.yaml:4)"));

  write_text(dir.file("train.csv"), class_csv(5));
  EXPECT_THAT(data_error(classification(dir, "label", "  num_classes: 2\n")),
              HasSubstr("line 21, column 'label': label 5 is outside the class range [0, 2) "
                        "(data.num_classes: 2 at run.yaml:4)"));
  // Not set, the range is the training labels': the test set's label 5 falls outside it.
  write_text(dir.file("train.csv"), class_csv(1));
  write_text(dir.file("test.csv"), class_csv(5));
  EXPECT_THAT(data_error(classification(dir, "label")),
              HasSubstr(dir.file("test.csv") +
                        ": line 21, column 'label': label 5 is outside the class range [0, 2) "
                        "(data.num_classes is not set: the classes are those of the training "
                        "labels, 0 to 1)"));

  // A data block built in code has no file to point into: the value alone.
  DataConfig built;
  built.num_classes = 2;
  built.train.format = DataFormat::kCsv;
  built.train.path = dir.file("test.csv");
  built.train.label_column = "label";
  EXPECT_THAT(data_error(built), HasSubstr("label 5 is outside the class range [0, 2) "
                                           "(data.num_classes: 2)"));

  // The HDF5 reader's dataset names likewise.
  {
    h5::File file = h5::File::create(dir.file("train.h5"));
    file.root().write_matrix("x", RowMajorMatrix::Zero(4, 2));
  }
  const std::string hdf5 =
      "data:\n  train:\n    format: hdf5\n    path: train.h5\n    features_dataset: features\n"
      "    labels_dataset: labels\n";
  EXPECT_THAT(data_error(parse_train_config(hdf5, "run.yaml", dir.path()).data),
              HasSubstr("no dataset '/features' (found: /x) (data.train.features_dataset: "
                        "features at run.yaml:5)"));

  // A fault of the data alone names no setting.
  write_text(dir.file("train.csv"), "a,b,label\n1,nan,0\n");
  EXPECT_THAT(data_error(classification(dir, "label")), ::testing::Not(HasSubstr("(data.")));
}

}  // namespace
}  // namespace hps
