#include "worker/train_job.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/hdf5_file.hpp"
#include "core/model_io.hpp"
#include "core/output_path.hpp"
#include "core/rng.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using hps::testing::TempDir;
using hps::testing::write_text;
using ::testing::HasSubstr;

// A CSV classification problem: 3 classes separated along the features.
std::string write_csv(const TempDir& dir, const std::string& name, int rows, uint64_t seed) {
  Rng rng(seed);
  std::ostringstream csv;
  csv << "a,b,c,label\n";
  for (int i = 0; i < rows; ++i) {
    const int label = i % 3;
    csv << label * 2.0 + rng.normal() * 0.5 << "," << rng.normal() << ","
        << -label + rng.normal() * 0.5 << "," << label << "\n";
  }
  const std::string path = dir.file(name);
  write_text(path, csv.str());
  return path;
}

std::string config_text(bool with_test) {
  std::string text = R"(seed: 5
data:
  task: classification
  validation_fraction: 0.2
  train: {format: csv, path: train.csv, label_column: label}
)";
  if (with_test) text += "  test: {format: csv, path: test.csv, label_column: label}\n";
  text += R"(model: {hidden: [16], dropout: 0.1}
training: {optimizer: adam, learning_rate: 0.01, batch_size: 16, max_epochs: 15}
early_stopping: {patience: 3}
)";
  return text;
}

TrainConfig make_config(const TempDir& dir, bool with_test = true) {
  write_csv(dir, "train.csv", 300, 1);
  write_csv(dir, "test.csv", 90, 2);
  write_text(dir.file("run.yaml"), config_text(with_test));
  return load_train_config(dir.file("run.yaml"));
}

TEST(TrainJob, WritesModelHistoryAndMetricsThatReadBack) {
  TempDir dir;
  const TrainConfig config = make_config(dir);
  const TrainJobResult r = run_train_job(config, dir.file("out.h5"), false);
  ASSERT_TRUE(r.test.has_value());
  EXPECT_GT(r.test->metric, 0.8);
  EXPECT_EQ(r.train_samples + r.validation_samples, 300);

  h5::File file = h5::File::open(dir.file("out.h5"));
  h5::Group root = file.root();
  EXPECT_EQ(root.read_attribute<std::string>("config"), config.text);
  EXPECT_EQ(root.read_attribute<std::string>("status"), to_string(r.training.status));
  const StoredModel stored = read_model(root.open_group("model"));
  EXPECT_TRUE(stored.model.parameters() == r.training.model.parameters());
  const History history = read_history(root.open_group("history"));
  ASSERT_EQ(history.epochs.size(), r.training.history.epochs.size());
  EXPECT_DOUBLE_EQ(root.open_group("metrics").read_attribute<double>("test_accuracy"),
                   r.test->metric);
  // Nothing temporary is left next to the output.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 5);  // train.csv, test.csv, run.yaml, out.h5, and out.h5.lock (it stays)
}

// Diverged before an epoch ended with finite weights: nothing to score. The starting weights'
// scores were written to /metrics before, and read as the run's result.
TEST(TrainJob, ADivergedRunWithNoFiniteEpochScoresNothing) {
  TempDir dir;
  make_config(dir);
  std::string text = config_text(true);
  text.replace(text.find("optimizer: adam, learning_rate: 0.01"),
               std::string("optimizer: adam, learning_rate: 0.01").size(),
               "optimizer: sgd, learning_rate: 1.0e+30");
  write_text(dir.file("run.yaml"), text);
  const TrainJobResult r =
      run_train_job(load_train_config(dir.file("run.yaml")), dir.file("out.h5"), false);
  ASSERT_EQ(r.training.status, TrialStatus::kDiverged);
  ASSERT_EQ(r.training.best_epoch, -1);
  EXPECT_TRUE(std::isnan(r.validation.loss));
  ASSERT_TRUE(r.test.has_value());
  EXPECT_TRUE(std::isnan(r.test->metric));
  h5::File file = h5::File::open(dir.file("out.h5"));
  const h5::Group metrics = file.root().open_group("metrics");
  for (const char* name : {"val_loss", "val_accuracy", "test_loss", "test_accuracy"})
    EXPECT_TRUE(std::isnan(metrics.read_attribute<double>(name))) << name;
  EXPECT_EQ(metrics.read_attribute<int64_t>("test_samples"), 90);
}

TEST(TrainJob, StoredModelReproducesValidationScore) {
  TempDir dir;
  const TrainConfig config = make_config(dir, false);
  const TrainJobResult r = run_train_job(config, dir.file("out.h5"), false);
  h5::File file = h5::File::open(dir.file("out.h5"));
  const StoredModel stored = read_model(file.root().open_group("model"));
  // Re-prepare the data exactly as the job did and score the stored model on it.
  const PreparedData data = prepare_data(config.data, derive_seed(config.seed, SeedStream::kSplit));
  EXPECT_DOUBLE_EQ(evaluate(stored.model, data.validation).loss, r.validation.loss);
  EXPECT_TRUE(stored.scaler.offset == data.scaler.offset);
}

TEST(TrainJob, SameConfigGivesBitIdenticalResults) {
  TempDir dir;
  const TrainConfig config = make_config(dir);
  const TrainJobResult a = run_train_job(config, dir.file("a.h5"), false);
  const TrainJobResult b = run_train_job(config, dir.file("b.h5"), false);
  EXPECT_TRUE(a.training.model.parameters() == b.training.model.parameters());
  EXPECT_EQ(a.validation.loss, b.validation.loss);
}

TEST(TrainJob, RefusesToOverwriteBeforeTraining) {
  TempDir dir;
  const TrainConfig config = make_config(dir);
  write_text(dir.file("out.h5"), "precious");
  try {
    run_train_job(config, dir.file("out.h5"), false);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_THAT(e.what(), HasSubstr("already exists; pass --force"));
  }
  std::ifstream in(dir.file("out.h5"));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "precious");
  EXPECT_NO_THROW(run_train_job(config, dir.file("out.h5"), true));
}

// With overwrite the job once replaced its own config or test data, and a file a search was
// writing: it now refuses all three before training, as a search does.
TEST(TrainJob, NeverReplacesItsInputsOrAnOutputAnotherCommandHolds) {
  TempDir dir;
  const TrainConfig config = make_config(dir);
  const std::string text = config_text(true);
  const auto error_of = [&](const std::string& out) -> std::string {
    try {
      run_train_job(config, out, true);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_THAT(error_of(dir.file("run.yaml")), HasSubstr("is the config file"));
  EXPECT_THAT(error_of(dir.file("test.csv")),
              HasSubstr("is the test data '" + dir.file("test.csv") + "' named at data.test.path"));
  write_text(dir.file("busy.h5"), "a search writes this");
  {
    const OutputLock search(dir.file("busy.h5"));
    EXPECT_THAT(error_of(dir.file("busy.h5")), HasSubstr("is being written by another"));
  }
  const auto content = [&](const std::string& name) {
    std::ifstream in(dir.file(name));
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(content("run.yaml"), text);
  EXPECT_EQ(content("busy.h5"), "a search writes this");
  EXPECT_EQ(error_of(dir.file("busy.h5")), "");  // once the holder lets go
}

TEST(TrainJob, MissingOutputDirectoryIsAnError) {
  TempDir dir;
  const TrainConfig config = make_config(dir);
  try {
    run_train_job(config, dir.file("nowhere/out.h5"), false);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_THAT(e.what(), HasSubstr("does not exist"));
    EXPECT_THAT(e.what(), HasSubstr("nowhere"));
  }
}

}  // namespace
}  // namespace hps
