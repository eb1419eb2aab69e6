// evaluate against the data a search was run on, through the real binary on a result file
// written by `mpirun -np 1 hpsearch run`.
#include "coordinator/model_commands.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "core/hdf5_file.hpp"
#include "core/results_file.hpp"
#include "core/rng.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using hps::testing::CommandResult;
using hps::testing::run_command;
using hps::testing::TempDir;
using hps::testing::write_text;
using ::testing::HasSubstr;
using ::testing::Not;

const char* kSearch = R"(seed: 4
data:
  task: classification
  validation_fraction: 0.25
  train: {format: csv, path: train.csv, label_column: label}
  test: {format: csv, path: test.csv, label_column: label}
model: {hidden: [8]}
training: {optimizer: adam, batch_size: 16, max_epochs: 3}
search:
  strategy: random
  trials: 2
  space:
    learning_rate: {log_uniform: [1.0e-3, 1.0e-2]}
)";

// The header and `n` rows of two features and a label in {0, 1, 2}.
std::vector<std::string> csv_lines(int n, uint64_t seed) {
  Rng rng(seed);
  std::vector<std::string> lines = {"f1,f2,label"};
  for (int i = 0; i < n; ++i) {
    const int label = i % 3;
    std::ostringstream row;
    row << label + 0.5 * rng.normal() << "," << -label + 0.5 * rng.normal() << "," << label;
    lines.push_back(row.str());
  }
  return lines;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  write_text(path, text);
}

class EvaluateResult : public ::testing::Test {
 protected:
  void SetUp() override {
    if (run_command("command -v mpirun").exit_code != 0) GTEST_SKIP() << "mpirun is not installed";
    train_ = csv_lines(80, 1);
    write_lines(dir_.file("train.csv"), train_);
    write_lines(dir_.file("test.csv"), csv_lines(30, 2));
    write_text(dir_.file("search.yaml"), kSearch);
    const CommandResult r = run_command(testing::mpirun_hpsearch(1) + " run " +
                                        dir_.file("search.yaml") + " --out " + result());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    fingerprint_ = ResultsReader(result()).attribute("data_fingerprint");
    ASSERT_EQ(fingerprint_.size(), 16u);
  }

  std::string result() const { return dir_.file("result.h5"); }
  CommandResult evaluate() const {
    return run_command(std::string(HPSEARCH_BINARY) + " evaluate " + result());
  }

  TempDir dir_;
  std::vector<std::string> train_;
  std::string fingerprint_;
};

TEST_F(EvaluateResult, ShuffledTrainingRowsAreRefused) {
  const CommandResult same = evaluate();
  ASSERT_EQ(same.exit_code, 0) << same.output;
  EXPECT_THAT(same.output, HasSubstr("validation (21 samples): "));
  EXPECT_THAT(same.output, HasSubstr("test (30 samples): "));
  EXPECT_THAT(same.output, Not(HasSubstr("note:")));

  // The same rows in another order: another validation split, though every value is the same.
  std::vector<std::string> shuffled = train_;
  std::reverse(shuffled.begin() + 1, shuffled.end());
  write_lines(dir_.file("train.csv"), shuffled);
  const CommandResult r = evaluate();
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("hpsearch: data error: data changed since " + result() +
                                  " was written (fingerprint " + fingerprint_ + " -> "));
  EXPECT_THAT(r.output,
              HasSubstr("): the validation split would not be the one the trial was "
                        "selected on (the fingerprint covers " +
                        dir_.file("train.csv") + " and the test set " + dir_.file("test.csv")));
  EXPECT_THAT(r.output, Not(HasSubstr("validation (")));
}

TEST_F(EvaluateResult, ChangedTestSetIsRefused) {
  write_lines(dir_.file("test.csv"), csv_lines(30, 3));
  const CommandResult r = evaluate();
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("data changed since " + result()));
}

TEST_F(EvaluateResult, FileWithoutFingerprintIsScoredWithANote) {
  {
    const h5::File file = h5::File::open(result(), true, h5::FileLocking::kOff);
    ASSERT_GE(H5Adelete(file.root().id(), "data_fingerprint"), 0);
  }
  const CommandResult r = evaluate();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("note: " + result() +
                                  " records no data fingerprint (written by an older hpsearch)"));
  EXPECT_THAT(r.output, HasSubstr("validation (21 samples): "));
}

// A trial without stored weights: the message gives the reason that applies to it.
TEST(LoadTrial, SaysWhyATrialHasNoWeights) {
  if (run_command("command -v mpirun").exit_code != 0) GTEST_SKIP() << "mpirun is not installed";
  TempDir dir;
  write_lines(dir.file("train.csv"), csv_lines(60, 1));
  const std::string yaml = R"(seed: 4
data:
  task: classification
  train: {format: csv, path: train.csv, label_column: label}
model: {hidden: [8]}
training: {optimizer: sgd, batch_size: 16, max_epochs: 3}
search:
  strategy: grid
  keep_weights: 1
  space:
    learning_rate: [0.01, 0.02, 1.0e+30]
)";
  write_text(dir.file("search.yaml"), yaml);
  const std::string out = dir.file("result.h5");
  const CommandResult r = run_command(testing::mpirun_hpsearch(1) + " run " +
                                      dir.file("search.yaml") + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int64_t unkept = 0;
  {
    const ResultsReader reader(out);
    unkept = reader.has_model(0) ? 1 : 0;
    ASSERT_FALSE(reader.has_model(unkept));
    ASSERT_EQ(reader.summary()[2].status, "diverged");
  }
  const auto evaluate = [&](int64_t trial) {
    return run_command(std::string(HPSEARCH_BINARY) + " evaluate " + out + " --trial " +
                       std::to_string(trial));
  };
  // Weights never kept, as a trial the file does not hold below: exit 2.
  const CommandResult not_kept = evaluate(unkept);
  EXPECT_EQ(not_kept.exit_code, 2);
  EXPECT_THAT(not_kept.output,
              HasSubstr(": trial " + std::to_string(unkept) +
                        " has no stored weights (only the best 1 trials (search.keep_weights) "
                        "keep theirs; hpsearch inspect shows which)"));
  const CommandResult diverged = evaluate(2);
  EXPECT_EQ(diverged.exit_code, 2);
  EXPECT_THAT(diverged.output,
              HasSubstr(": trial 2 has no stored weights (it diverged, so it has none worth "
                        "keeping)"));

  // A trial the file does not hold is a mistake on the command line: exit 2.
  const CommandResult unknown = evaluate(7);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.output, HasSubstr("hpsearch: usage error: " + out +
                                        ": --trial 7: no trial 7 in /summary (hpsearch inspect "
                                        "lists the trials)"));

  // A root attribute that contradicts the config is named, not blamed on /best (which is
  // checked by that attribute).
  const auto set_mode = [&](const char* mode) {
    h5::File file = h5::File::open(out, true, h5::FileLocking::kOff);
    file.root().write_attribute("monitor_mode", mode);
  };
  set_mode("max");
  EXPECT_THAT(run_command(std::string(HPSEARCH_BINARY) + " evaluate " + out).output,
              HasSubstr(out + ": damaged file:\n  " + out +
                        ":/: attribute 'monitor_mode' is 'max', its recorded config says 'min'"));
  set_mode("min");

  // Weights that do not score what the trial recorded, on the same data: said, not hidden.
  const int64_t best = 1 - unkept;
  const std::string model = "trials/" + std::to_string(best) + "/model";
  const CommandResult intact = evaluate(best);
  EXPECT_EQ(intact.exit_code, 0) << intact.output;
  EXPECT_THAT(intact.output, Not(HasSubstr("warning")));
  {
    h5::File file = h5::File::open(out, true, h5::FileLocking::kOff);
    h5::Group layer = file.root().open_group(model + "/layer_1");
    const RowMajorMatrix weight = layer.read_matrix("weight");
    layer.delete_link("weight");
    layer.write_matrix("weight", RowMajorMatrix(weight * 3.0f));
  }
  const CommandResult swapped = evaluate(best);
  EXPECT_EQ(swapped.exit_code, 0) << swapped.output;
  EXPECT_THAT(swapped.output, HasSubstr("warning: the stored weights score validation loss "));
  EXPECT_THAT(swapped.output, HasSubstr("they are not the weights that scored it (a damaged or "
                                        "edited file)"));

  // A model whose task contradicts the search's: its outputs would be misread.
  {
    h5::File file = h5::File::open(out, true, h5::FileLocking::kOff);
    file.root().open_group(model).write_attribute("task", "regression");
  }
  EXPECT_THAT(evaluate(best).output,
              HasSubstr(out + ":/" + model +
                        ": attribute 'task' is regression, the search's config says "
                        "classification: damaged file"));

  // The leader's weights gone: damage, not keep_weights.
  {
    h5::File file = h5::File::open(out, true, h5::FileLocking::kOff);
    file.root().delete_link("trials/" + std::to_string(best) + "/model");
  }
  EXPECT_THAT(evaluate(best).output,
              HasSubstr(": trial " + std::to_string(best) +
                        " has no stored weights (it leads the search (/best), yet the file "
                        "holds none for it: damaged file)"));

  // keep_weights 0 keeps none, the leader's included: that is the reason, not damage.
  std::string none = yaml;
  none.replace(none.find("keep_weights: 1"), 15, "keep_weights: 0");
  write_text(dir.file("none.yaml"), none);
  const std::string bare = dir.file("none.h5");
  ASSERT_EQ(
      run_command(testing::mpirun_hpsearch(1) + " run " + dir.file("none.yaml") + " --out " + bare)
          .exit_code,
      0);
  const CommandResult kept_none = run_command(std::string(HPSEARCH_BINARY) + " evaluate " + bare);
  EXPECT_EQ(kept_none.exit_code, 2);
  EXPECT_THAT(kept_none.output, HasSubstr("has no stored weights (only the best 0 trials "
                                          "(search.keep_weights) keep theirs"));

  // A finished search whose every trial diverged has no best model to give: exit 2, and the
  // message says why rather than "not yet".
  std::string blown = yaml;
  blown.replace(blown.find("[0.01, 0.02, 1.0e+30]"), 21, "[1.0e+30]");
  write_text(dir.file("blown.yaml"), blown);
  const std::string all_diverged = dir.file("blown.h5");
  ASSERT_EQ(run_command(testing::mpirun_hpsearch(1) + " run " + dir.file("blown.yaml") + " --out " +
                        all_diverged)
                .exit_code,
            0);
  const CommandResult no_best =
      run_command(std::string(HPSEARCH_BINARY) + " evaluate " + all_diverged);
  EXPECT_EQ(no_best.exit_code, 2);
  EXPECT_THAT(no_best.output,
              HasSubstr(all_diverged +
                        ": its one finished trial is not ranked (it failed or diverged), so there "
                        "is no best model (/best); hpsearch inspect lists them"));
}

}  // namespace
}  // namespace hps
