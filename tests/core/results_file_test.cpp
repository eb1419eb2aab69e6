#include "core/results_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "core/model_io.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr Index kFeatures = 3;
constexpr int kClasses = 2;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

bool have_h5py() { return std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") == 0; }

// A search over learning_rate, batch_size, optimizer and hidden, built by hand.
SearchConfig make_config(int64_t keep_weights, Monitor monitor = Monitor::kValLoss) {
  SearchConfig config;
  config.base.data.task = Task::kClassification;
  config.base.early_stopping.monitor = monitor;
  config.base.text = "seed: 7\nsearch:\n  strategy: random\n";
  config.search.strategy = SearchStrategy::kRandom;
  config.search.trials = 12;
  config.search.seed = 7;
  config.search.keep_weights = keep_weights;
  config.search.space = {
      {"learning_rate", ParamForm::kLogUniform, {}, 1e-4, 1e-2, 3},
      {"batch_size", ParamForm::kChoice, {int64_t{32}, int64_t{64}}, 0, 0, 4},
      {"optimizer", ParamForm::kChoice, {std::string("adam"), std::string("sgd")}, 0, 0, 5},
      {"hidden",
       ParamForm::kChoice,
       {std::vector<int64_t>{8, 4}, std::vector<int64_t>{16}},
       0,
       0,
       6},
  };
  return config;
}

Scaler make_scaler() {
  Scaler scaler;
  scaler.kind = ScalingKind::kStandardize;
  scaler.offset = Vector::Constant(kFeatures, 0.5f);
  scaler.factor = Vector::Constant(kFeatures, 2.0f);
  return scaler;
}

// One finished trial: what the coordinator passes to add().
struct Finished {
  TrialAssignment trial;
  std::vector<ParamAssignment> params;
  TrialOutcome outcome;
};

// Trial `id` with validation losses ending at `best_loss` (its best, at epoch 1) and
// accuracy 1 - best_loss; weights all equal to `id` so a stored model shows whose it is.
Finished make_trial(int64_t id, double best_loss, TrialStatus status = TrialStatus::kCompleted,
                    std::vector<int64_t> hidden = {8, 4}) {
  Finished f;
  f.trial.trial_id = id;
  f.trial.seed = 1000 + static_cast<uint64_t>(id);
  f.trial.model.hidden.assign(hidden.begin(), hidden.end());
  f.trial.training.optimizer.kind = OptimizerKind::kAdam;
  f.trial.training.optimizer.learning_rate = 0.001 * static_cast<double>(id + 1);
  f.trial.training.batch_size = 32;
  f.trial.training.max_epochs = 3;
  f.trial.early_stopping.patience = 2;
  f.params = {{"learning_rate", f.trial.training.optimizer.learning_rate},
              {"batch_size", int64_t{32}},
              {"optimizer", std::string("adam")},
              {"hidden", hidden}};

  TrialOutcome& o = f.outcome;
  o.trial_id = id;
  o.rank = static_cast<int32_t>(1 + id % 3);
  o.status = status;
  o.seconds = 1.25 * static_cast<double>(id + 1);
  if (status == TrialStatus::kFailed) {
    o.message = "bad data";
    return f;  // no history, no weights
  }
  o.history.epochs = {{0, 0.9, 0.95, 0.5, best_loss + 0.2, 0.8 - best_loss, 0.1},
                      {1, 0.7, 0.75, 0.6, best_loss, 1.0 - best_loss, 0.1},
                      {2, 0.6, 0.65, 0.7, best_loss + 0.1, 0.9 - best_loss, 0.1}};
  o.best_epoch = 1;
  o.best_value = best_loss;
  if (status == TrialStatus::kDiverged) {
    o.message = "loss became NaN";
    o.history.epochs.back().train_loss = kNaN;
    o.best_value = kNaN;
    return f;
  }
  Mlp model(MlpShape{kFeatures, f.trial.model.hidden, kClasses, Activation::kRelu});
  o.weights = Vector::Constant(model.num_parameters(), static_cast<float>(id));
  return f;
}

ResultsWriter make_writer(const std::string& path, const SearchConfig& config) {
  return ResultsWriter(path, config, 4, make_scaler(), kFeatures, kClasses, kClasses);
}

// Records a trial and publishes at once, so a reader sees it (add() alone publishes when due).
void add(ResultsWriter& writer, const Finished& f) {
  writer.add(f.trial, f.params, f.outcome);
  writer.publish();
}

// Writes a search of `trials` to a new file and closes it with `status`; an empty status leaves
// it "running", as when an error ended the search.
void write_search(const std::string& path, const SearchConfig& config,
                  const std::vector<Finished>& trials, const std::string& status,
                  const std::vector<int64_t>& unfinished = {}) {
  ResultsWriter writer = make_writer(path, config);
  for (const Finished& f : trials) add(writer, f);
  if (!status.empty()) writer.finish(status, 0.01, unfinished);
}

// Ids of the trials whose weights are stored, among 0..n-1.
std::vector<int64_t> models(const std::string& path, int64_t n) {
  const ResultsReader reader(path);
  std::vector<int64_t> ids;
  for (int64_t id = 0; id < n; ++id) {
    if (reader.has_model(id)) ids.push_back(id);
  }
  return ids;
}

TEST(ResultsFile, SummaryRowsReadBackExactly) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  {
    ResultsWriter writer = make_writer(path, make_config(5));
    add(writer, make_trial(0, 0.30));
    add(writer, make_trial(1, 0.25, TrialStatus::kEarlyStopped, {16}));
    add(writer, make_trial(2, 0.0, TrialStatus::kFailed));
    add(writer, make_trial(3, 0.40, TrialStatus::kDiverged));
  }
  const ResultsReader reader(path);
  const std::vector<SummaryRow> rows = reader.summary();
  ASSERT_EQ(rows.size(), 4u);

  const SummaryRow& r0 = rows[0];
  EXPECT_EQ(r0.trial, 0);
  EXPECT_EQ(r0.status, "completed");
  ASSERT_EQ(r0.params.size(), 4u);
  EXPECT_EQ(r0.params[0].first, "learning_rate");
  EXPECT_EQ(std::get<double>(r0.params[0].second), 0.001);
  EXPECT_EQ(r0.params[1].first, "batch_size");
  EXPECT_EQ(std::get<int64_t>(r0.params[1].second), 32);
  EXPECT_EQ(r0.params[2].first, "optimizer");
  EXPECT_EQ(std::get<std::string>(r0.params[2].second), "adam");
  EXPECT_EQ(r0.params[3].first, "hidden");
  EXPECT_THAT(std::get<std::vector<int64_t>>(r0.params[3].second), ElementsAre(8, 4));
  EXPECT_EQ(r0.best_epoch, 1);
  EXPECT_EQ(r0.epochs_run, 3);
  EXPECT_EQ(r0.best_val_loss, 0.30);
  EXPECT_EQ(r0.best_val_metric, 1.0 - 0.30);
  EXPECT_EQ(r0.final_train_loss, 0.6);
  EXPECT_EQ(r0.final_train_metric, 0.7);
  EXPECT_EQ(r0.seconds, 1.25);
  EXPECT_EQ(r0.rank, 1);

  EXPECT_EQ(rows[1].status, "early_stopped");
  EXPECT_THAT(std::get<std::vector<int64_t>>(rows[1].params[3].second), ElementsAre(16));
  EXPECT_EQ(rows[1].best_val_loss, 0.25);

  const SummaryRow& failed = rows[2];
  EXPECT_EQ(failed.status, "failed");
  EXPECT_EQ(failed.best_epoch, -1);
  EXPECT_EQ(failed.epochs_run, 0);
  EXPECT_TRUE(std::isnan(failed.best_val_loss));
  EXPECT_TRUE(std::isnan(failed.final_train_loss));

  EXPECT_EQ(rows[3].status, "diverged");
  EXPECT_TRUE(std::isnan(rows[3].final_train_loss));
  EXPECT_EQ(rows[3].best_val_loss, 0.40);  // the history's best epoch, although it diverged

  EXPECT_EQ(reader.best_trial(), 1);
  EXPECT_TRUE(reader.has_model(0));
  EXPECT_TRUE(reader.has_model(1));
  EXPECT_FALSE(reader.has_model(2));
  EXPECT_FALSE(reader.has_model(3));
}

TEST(ResultsFile, TrialGroupHoldsAttributesHistoryAndModel) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  SearchConfig config = make_config(5);
  config.search.space.push_back({"layers", ParamForm::kChoice, {int64_t{1}, int64_t{2}}, 0, 0, 7});
  Finished f = make_trial(4, 0.2);
  f.params.emplace_back("layers", int64_t{2});
  {
    ResultsWriter writer = make_writer(path, config);
    add(writer, f);
  }
  const ResultsReader reader(path);
  const h5::Group group = reader.trial_group(4);
  EXPECT_EQ(group.read_attribute<int64_t>("trial"), 4);
  EXPECT_EQ(group.read_attribute<std::string>("status"), "completed");
  EXPECT_EQ(group.read_attribute<std::string>("message"), "");
  EXPECT_EQ(group.read_attribute<int64_t>("seed"), 1004);
  EXPECT_EQ(group.read_attribute<int64_t>("rank"), 2);
  EXPECT_EQ(group.read_attribute<double>("seconds"), 6.25);
  EXPECT_EQ(group.read_attribute<int64_t>("best_epoch"), 1);
  EXPECT_EQ(group.read_attribute<double>("best_value"), 0.2);
  EXPECT_EQ(group.read_attribute<double>("learning_rate"), 0.005);
  EXPECT_EQ(group.read_attribute<int64_t>("batch_size"), 32);
  EXPECT_EQ(group.read_attribute<double>("dropout"), 0.0);
  EXPECT_EQ(group.read_attribute<double>("l1"), 0.0);
  EXPECT_EQ(group.read_attribute<double>("l2"), 0.0);
  EXPECT_EQ(group.read_attribute<std::string>("optimizer"), "adam");
  EXPECT_EQ(group.read_attribute<std::string>("activation"), "relu");
  EXPECT_EQ(group.read_attribute<double>("momentum"), 0.9);
  EXPECT_EQ(group.read_attribute<int64_t>("max_epochs"), 3);
  EXPECT_EQ(group.read_attribute<int64_t>("patience"), 2);
  EXPECT_THAT(group.read_attribute<std::vector<int64_t>>("hidden"), ElementsAre(8, 4));
  EXPECT_EQ(group.read_attribute<int64_t>("layers"), 2);  // searched, not in the settings

  const History history = read_history(group.open_group("history"));
  ASSERT_EQ(history.epochs.size(), 3u);
  EXPECT_EQ(history.epochs[1].val_loss, 0.2);

  const StoredModel stored = read_model(group.open_group("model"));
  EXPECT_EQ(stored.model.shape().inputs, kFeatures);
  EXPECT_EQ(stored.model.shape().outputs, kClasses);
  EXPECT_THAT(stored.model.shape().hidden, ElementsAre(8, 4));
  EXPECT_EQ(stored.num_classes, kClasses);
  EXPECT_EQ(stored.scaler.offset, make_scaler().offset);
  EXPECT_EQ(stored.model.parameters(), f.outcome.weights);

  const std::vector<SummaryRow> rows = reader.summary();
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].params.size(), 5u);
  EXPECT_EQ(rows[0].params[4].first, "layers");
  EXPECT_EQ(std::get<int64_t>(rows[0].params[4].second), 2);
}

TEST(ResultsFile, KeepWeightsKeepsOnlyTheTopTrials) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  ResultsWriter writer = make_writer(path, make_config(2));
  add(writer, make_trial(0, 0.50));
  EXPECT_THAT(models(path, 8), ElementsAre(0));
  add(writer, make_trial(1, 0.30));
  EXPECT_THAT(models(path, 8), ElementsAre(0, 1));
  add(writer, make_trial(2, 0.40));  // beats 0, which loses its weights
  EXPECT_THAT(models(path, 8), ElementsAre(1, 2));
  add(writer, make_trial(3, 0.90));  // not in the top 2: never stored
  EXPECT_THAT(models(path, 8), ElementsAre(1, 2));
  add(writer, make_trial(4, 0.0, TrialStatus::kFailed));
  add(writer, make_trial(5, 0.10, TrialStatus::kDiverged));  // a low loss, but diverged
  EXPECT_THAT(models(path, 8), ElementsAre(1, 2));
  add(writer, make_trial(6, 0.10));  // the new leader pushes 2 out
  EXPECT_THAT(models(path, 8), ElementsAre(1, 6));
  add(writer, make_trial(7, 0.30));  // ties with 1: the smaller id ranks first
  EXPECT_THAT(models(path, 8), ElementsAre(1, 6));

  const ResultsReader reader(path);
  EXPECT_EQ(reader.best_trial(), 6);
  EXPECT_EQ(reader.summary().size(), 8u);
  // The dropped trials keep their group and history.
  EXPECT_TRUE(reader.trial_group(0).exists("history/val_loss"));
  EXPECT_EQ(read_model(reader.trial_group(6).open_group("model")).model.parameters()(0), 6.0f);
}

TEST(ResultsFile, BestFollowsTheLeader) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  // Monitoring accuracy: higher is better (auto mode).
  ResultsWriter writer = make_writer(path, make_config(1, Monitor::kValAccuracy));
  EXPECT_EQ(ResultsReader(path).best_trial(), std::nullopt);
  add(writer, make_trial(0, 0.0, TrialStatus::kFailed));
  EXPECT_EQ(ResultsReader(path).best_trial(), std::nullopt);

  auto accuracy_trial = [](int64_t id, double accuracy) {
    Finished f = make_trial(id, 1.0 - accuracy);
    f.outcome.best_value = accuracy;  // what early stopping watched
    return f;
  };
  add(writer, accuracy_trial(1, 0.80));
  EXPECT_EQ(ResultsReader(path).best_trial(), 1);
  add(writer, accuracy_trial(2, 0.70));
  EXPECT_EQ(ResultsReader(path).best_trial(), 1);
  add(writer, accuracy_trial(3, 0.90));
  EXPECT_EQ(ResultsReader(path).best_trial(), 3);
  add(writer, accuracy_trial(4, 0.90));  // a tie keeps the earlier id
  EXPECT_EQ(ResultsReader(path).best_trial(), 3);
  EXPECT_THAT(models(path, 5), ElementsAre(3));

  const ResultsReader reader(path);
  EXPECT_EQ(reader.attribute("monitor"), "val_accuracy");
  EXPECT_EQ(reader.attribute("monitor_mode"), "max");
  const h5::File file = h5::File::open(path, false, h5::FileLocking::kOff);
  EXPECT_EQ(file.root().soft_link_target("best"), "/trials/3");
  EXPECT_EQ(file.root().open_group("best").read_attribute<int64_t>("trial"), 3);
}

// evaluate and predict follow /best, inspect ranks /summary: a /best that /summary contradicts
// is damage, refused rather than letting them name different trials.
TEST(ResultsFile, BestThatTheSummaryContradictsIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  const SearchConfig config = make_config(2);  // val_loss, lower is better
  write_search(path, config,
               {make_trial(0, 0.5), make_trial(1, 0.3), make_trial(2, 0.0, TrialStatus::kFailed),
                make_trial(3, 0.3)},
               "finished");
  EXPECT_EQ(ResultsReader(path).best_trial(), 1);
  const auto pointing_to = [&](int64_t id) -> std::string {
    {
      h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
      file.root().delete_link("best");
      file.root().create_soft_link("best", "/trials/" + std::to_string(id));
    }
    try {
      return std::to_string(*ResultsReader(path).best_trial());
    } catch (const h5::Error& e) {
      return e.what();
    }
  };
  const std::string at = path + ":/best: points to trial ";
  EXPECT_EQ(pointing_to(0),
            at + "0, but /summary gives trial 1 the better val_loss (0.3 against 0.5): damaged "
                 "file");
  EXPECT_EQ(pointing_to(2),
            at + "2, which is failed with val_loss nan in /summary, not a ranked trial: damaged "
                 "file");
  EXPECT_EQ(pointing_to(1), "1");
  EXPECT_EQ(pointing_to(3), "3");  // a tie with the leader is a leader
}

// A /best that names no trial as hpsearch names them, or none at all beside ranked trials, is
// damage too: the message says where, not what a parser threw.
TEST(ResultsFile, BestMissingOrNamingNoTrialIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  write_search(path, make_config(2), {make_trial(0, 0.5), make_trial(1, 0.3)}, "finished");
  const auto best_with = [&](const std::string& target) -> std::string {
    {
      h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
      if (file.root().has_link("best")) file.root().delete_link("best");
      if (!target.empty()) file.root().create_soft_link("best", target);
    }
    try {
      const std::optional<int64_t> best = ResultsReader(path).best_trial();
      return best ? std::to_string(*best) : "none";
    } catch (const h5::Error& e) {
      return e.what();
    }
  };
  for (const std::string target : {"/trials/99999999999999999999", "/trials/01", "/trials/x"})
    EXPECT_EQ(best_with(target), path +
                                     ":/best: expected a soft link to /trials/<id>, found a "
                                     "link to '" +
                                     target + "'");
  EXPECT_EQ(best_with(""), path + ":/best: missing, though /summary ranks trial 0: damaged file");
  EXPECT_EQ(best_with("/trials/1"), "1");
}

TEST(ResultsFile, KeepWeightsAllAndNone) {
  testing::TempDir dir;
  const std::string all = dir.file("all.h5");
  const std::string none = dir.file("none.h5");
  {
    ResultsWriter keep_all = make_writer(all, make_config(-1));
    ResultsWriter keep_none = make_writer(none, make_config(0));
    for (ResultsWriter* writer : {&keep_all, &keep_none}) {
      add(*writer, make_trial(0, 0.5));
      add(*writer, make_trial(1, 0.0, TrialStatus::kFailed));
      add(*writer, make_trial(2, 0.2));
      add(*writer, make_trial(3, 0.9, TrialStatus::kPruned));
    }
  }
  EXPECT_THAT(models(all, 4), ElementsAre(0, 2, 3));
  EXPECT_TRUE(models(none, 4).empty());
  EXPECT_EQ(ResultsReader(all).best_trial(), 2);
  EXPECT_EQ(ResultsReader(none).best_trial(), 2);  // /best names the group even without weights
}

TEST(ResultsFile, RootAttributesAndFinish) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  const SearchConfig config = make_config(3);
  ResultsWriter writer = make_writer(path, config);
  const std::regex iso("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
  {
    const ResultsReader reader(path);
    EXPECT_EQ(reader.attribute("format"), "hpsearch-search");
    EXPECT_EQ(reader.integer_attribute("format_version"), 1);
    EXPECT_EQ(reader.attribute("config"), config.base.text);
    EXPECT_EQ(reader.attribute("strategy"), "random");
    EXPECT_EQ(reader.integer_attribute("seed"), 7);
    EXPECT_EQ(reader.integer_attribute("ranks"), 4);
    EXPECT_EQ(reader.integer_attribute("trials_total"), 12);
    EXPECT_EQ(reader.integer_attribute("keep_weights"), 3);
    EXPECT_EQ(reader.attribute("task"), "classification");
    EXPECT_EQ(reader.attribute("metric"), "accuracy");
    EXPECT_EQ(reader.attribute("monitor"), "val_loss");
    EXPECT_EQ(reader.attribute("monitor_mode"), "min");
    EXPECT_EQ(reader.attribute("status"), "running");
    EXPECT_TRUE(std::regex_match(reader.attribute("start_time"), iso));
    EXPECT_EQ(reader.attribute("end_time"), "");
    EXPECT_TRUE(std::isnan(reader.number_attribute("coordinator_cpu_share")));
    EXPECT_TRUE(reader.has_attribute("hpsearch_version"));
    EXPECT_FALSE(reader.has_attribute("tpe_ranking"));  // only for strategy tpe
    EXPECT_TRUE(reader.summary().empty());
  }
  writer.finish("finished", 0.125);
  const ResultsReader reader(path);
  EXPECT_EQ(reader.attribute("status"), "finished");
  EXPECT_TRUE(std::regex_match(reader.attribute("end_time"), iso));
  EXPECT_GE(reader.attribute("end_time"), reader.attribute("start_time"));
  EXPECT_EQ(reader.number_attribute("coordinator_cpu_share"), 0.125);
  // A resume too short to measure (NaN) keeps the share the first run measured.
  ResultsWriter::resume(path, config, 3, make_scaler(), kFeatures, kClasses, kClasses)
      ->finish("finished", std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(ResultsReader(path).number_attribute("coordinator_cpu_share"), 0.125);
}

TEST(ResultsFile, TpeSearchRecordsItsRanking) {
  testing::TempDir dir;
  SearchConfig config = make_config(3);
  config.search.strategy = SearchStrategy::kTpe;
  make_writer(dir.file("equal.h5"), config);
  EXPECT_EQ(ResultsReader(dir.file("equal.h5")).attribute("tpe_ranking"), "equal_budget");
  config.search.tpe.ranking = TpeRanking::kFinishedFirst;
  make_writer(dir.file("first.h5"), config);
  EXPECT_EQ(ResultsReader(dir.file("first.h5")).attribute("tpe_ranking"), "finished_first");
}

TEST(ResultsFile, RegressionUsesMae) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  SearchConfig config = make_config(5);
  config.base.data.task = Task::kRegression;
  {
    ResultsWriter writer(path, config, 2, Scaler{}, kFeatures, 1, 0);  // no scaling
    Finished f = make_trial(0, 0.3);
    Mlp model(MlpShape{kFeatures, f.trial.model.hidden, 1, Activation::kRelu});
    f.outcome.weights = Vector::Zero(model.num_parameters());
    add(writer, f);
  }
  const ResultsReader reader(path);
  EXPECT_EQ(reader.attribute("metric"), "mae");
  EXPECT_EQ(reader.summary()[0].best_val_metric, 0.7);
  const StoredModel stored = read_model(reader.trial_group(0).open_group("model"));
  EXPECT_EQ(stored.task, Task::kRegression);
  EXPECT_EQ(stored.model.shape().outputs, 1);
  const h5::File file = h5::File::open(path, false, h5::FileLocking::kOff);
  EXPECT_TRUE(file.root().exists("summary"));
  EXPECT_TRUE(file.root().read_table("summary").layout().find("best_val_mae").has_value());
  EXPECT_TRUE(file.root().read_table("summary").layout().find("final_train_mae").has_value());
}

TEST(ResultsFile, AddConvertsNumbersAndRefusesBadInput) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  ResultsWriter writer = make_writer(path, make_config(5));

  Finished converted = make_trial(0, 0.3);
  converted.params[0].second = int64_t{1};  // an integer for a real
  converted.params[1].second = 64.0;        // an integral real for an integer
  add(writer, converted);

  EXPECT_THROW(add(writer, make_trial(0, 0.2)), std::invalid_argument);  // recorded already
  Finished missing = make_trial(1, 0.2);
  missing.params.pop_back();
  EXPECT_THROW(add(writer, missing), std::invalid_argument);
  Finished wrong_type = make_trial(2, 0.2);
  wrong_type.params[1].second = 32.5;
  try {
    add(writer, wrong_type);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("trial 2: hyperparameter 'batch_size'"));
  }
  Finished bad_weights = make_trial(3, 0.2);
  bad_weights.outcome.weights = Vector::Ones(5);
  EXPECT_THROW(add(writer, bad_weights), std::invalid_argument);
  Finished other_id = make_trial(4, 0.2);
  other_id.outcome.trial_id = 5;
  EXPECT_THROW(add(writer, other_id), std::invalid_argument);

  const ResultsReader reader(path);
  const std::vector<SummaryRow> rows = reader.summary();
  ASSERT_EQ(rows.size(), 1u);  // refused trials left nothing behind
  EXPECT_EQ(std::get<double>(rows[0].params[0].second), 1.0);
  EXPECT_EQ(std::get<int64_t>(rows[0].params[1].second), 64);
  for (int64_t id = 1; id <= 4; ++id) EXPECT_THROW(reader.trial_group(id), h5::Error);
}

TEST(ResultsFile, WriterRefusesAnExistingFileAndUnknownParameters) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  testing::write_text(path, "precious");
  EXPECT_THROW(make_writer(path, make_config(5)), h5::Error);
  SearchConfig config = make_config(5);
  config.search.space.push_back({"colour", ParamForm::kFixed, {std::string("red")}, 0, 0, 9});
  EXPECT_THROW(make_writer(dir.file("other.h5"), config), std::invalid_argument);
  EXPECT_THROW(ResultsWriter(dir.file("x.h5"), make_config(5), 1, make_scaler(), 4, 2, 2),
               std::invalid_argument);  // 3 scaler entries for 4 features
}

TEST(ResultsFile, LongHiddenChoicesWidenTheColumn) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  SearchConfig config = make_config(5);
  const std::vector<int64_t> deep(12, 1024);  // "[1024, 1024, ...]": 72 characters
  config.search.space[3].choices.push_back(deep);
  {
    ResultsWriter writer = make_writer(path, config);
    Finished f = make_trial(0, 0.3, TrialStatus::kFailed, deep);
    add(writer, f);
  }
  const std::vector<SummaryRow> rows = ResultsReader(path).summary();
  EXPECT_EQ(std::get<std::vector<int64_t>>(rows[0].params[3].second), deep);
}

TEST(ResultsFile, ReaderNamesWhatTheFileIsNot) {
  testing::TempDir dir;
  auto message = [](const std::string& path) -> std::string {
    try {
      ResultsReader reader(path);
    } catch (const NotAResultFile& e) {  // the user named the wrong file: exit 2
      return e.what();
    }
    return "(opened)";
  };
  const std::string missing = dir.file("missing.h5");
  EXPECT_EQ(message(missing), missing + ": no such file");
  EXPECT_EQ(message(dir.path()), dir.path() + ": is a directory, not a search result file");
  // HDF5 would block opening a FIFO; it is refused first.
  const std::string fifo = dir.file("pipe.h5");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  EXPECT_EQ(message(fifo), fifo + ": not a regular file, so not a search result file");

  const std::string text = dir.file("text.h5");
  testing::write_text(text, "not HDF5\n");
  EXPECT_THAT(message(text),
              HasSubstr(text + ": not an hpsearch search result (not an HDF5 file)"));

  const std::string train = dir.file("train.h5");
  h5::File::create(train).root().write_attribute("format", "hpsearch-train");
  EXPECT_THAT(message(train),
              HasSubstr(train + ": not an hpsearch search result (format attribute is "
                                "'hpsearch-train')"));

  const std::string plain = dir.file("plain.h5");
  h5::File::create(plain).root().write_attribute("x", 1.0);
  EXPECT_THAT(message(plain), HasSubstr(plain + ": not an hpsearch search result"));

  const std::string future = dir.file("future.h5");
  {
    h5::Group root = h5::File::create(future).root();
    root.write_attribute("format", "hpsearch-search");
    root.write_attribute("format_version", int64_t{2});
  }
  EXPECT_THAT(message(future), HasSubstr("format_version 2 is newer"));
}

TEST(ResultsFile, ReadableWhileTheWriterIsOpen) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  ResultsWriter writer = make_writer(path, make_config(2));
  add(writer, make_trial(0, 0.5));
  add(writer, make_trial(1, 0.4));

  // The reader opens the published file, a complete copy: it sees what was published when it
  // opened, and a reader opened after the next publish sees more.
  {
    const ResultsReader reader(path);
    EXPECT_EQ(reader.summary().size(), 2u);
    EXPECT_EQ(reader.best_trial(), 1);
    EXPECT_EQ(reader.attribute("status"), "running");
    add(writer, make_trial(2, 0.3));
    EXPECT_EQ(reader.summary().size(), 2u);
    EXPECT_EQ(ResultsReader(path).summary().size(), 3u);
  }

  // In another process, which sees what add() flushed; HDF5's default locking is on there.
  if (!have_h5py()) GTEST_SKIP() << "/usr/bin/python3 with h5py is not available";
  const std::string script = dir.file("read.py");
  testing::write_text(script,
                      "import sys, h5py\n"
                      "with h5py.File(sys.argv[1], 'r') as f:\n"
                      "    assert f.attrs['status'] == 'running', f.attrs['status']\n"
                      "    assert f['summary'].shape == (int(sys.argv[2]),), f['summary'].shape\n"
                      "    assert f['best'].attrs['trial'] == int(sys.argv[3])\n");
  auto read_elsewhere = [&](int rows, int best) {
    return std::system(("/usr/bin/python3 " + script + " " + path + " " + std::to_string(rows) +
                        " " + std::to_string(best))
                           .c_str());
  };
  EXPECT_EQ(read_elsewhere(3, 2), 0);
  add(writer, make_trial(3, 0.1));
  EXPECT_EQ(read_elsewhere(4, 3), 0);
}

TEST(ResultsFile, ResumeKeepsTrialsRankingAndBest) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  const SearchConfig config = make_config(2);
  write_search(path, config, {make_trial(0, 0.5), make_trial(1, 0.2), make_trial(2, 0.4)},
               "interrupted", {3, 4});
  EXPECT_FALSE(std::filesystem::exists(path + ".live"));
  {
    const ResultsReader reader(path);
    EXPECT_EQ(reader.attribute("status"), "interrupted");
  }
  std::unique_ptr<ResultsWriter> resumed =
      ResultsWriter::resume(path, config, 3, make_scaler(), kFeatures, kClasses, kClasses);
  EXPECT_EQ(resumed->recorded_trials(), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(ResultsReader(path).attribute("status"), "running");
  // Trial 3 ranks between 1 and 2: with keep_weights 2 it takes trial 2's place.
  const Finished third = make_trial(3, 0.3);
  resumed->add(third.trial, third.params, third.outcome);
  resumed->finish("finished", 0.01);
  const ResultsReader reader(path);
  EXPECT_EQ(reader.summary().size(), 4u);
  EXPECT_EQ(reader.best_trial(), 1);
  EXPECT_EQ(models(path, 4), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(reader.integer_attribute("resumes"), 1);
}

// A result file made read-only (0444) is resumed as any other: its working copy is written,
// not the file, so that copy must be writable by its owner (root would write it anyway).
TEST(ResultsFile, ResumeOfAReadOnlyFileHasAWritableWorkingCopy) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  const SearchConfig config = make_config(2);
  write_search(path, config, {make_trial(0, 0.5)}, "interrupted");
  namespace fs = std::filesystem;
  fs::permissions(path, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  std::unique_ptr<ResultsWriter> resumed =
      ResultsWriter::resume(path, config, 1, make_scaler(), kFeatures, kClasses, kClasses);
  const fs::perms live = fs::status(path + ".live").permissions();
  EXPECT_NE(live & fs::perms::owner_write, fs::perms::none);
  EXPECT_EQ(live & fs::perms::others_write, fs::perms::none) << "only the owner's bit is added";
  resumed->finish("finished", 0.0);
  EXPECT_EQ(ResultsReader(path).summary().size(), 1u);
}

TEST(ResultsFile, TrialWithThousandsOfLayersIsRecorded) {
  testing::TempDir dir;
  const std::string path = dir.file("deep.h5");
  SearchConfig config = make_config(-1);
  config.search.space = {{"layers", ParamForm::kChoice, {int64_t{9000}}, 0, 0, 3},
                         {"units", ParamForm::kChoice, {int64_t{1}}, 0, 0, 4}};
  // 'hidden' of 9000 layers takes 72 KB, more than an HDF5 object header holds.
  Finished deep = make_trial(0, 0.5, TrialStatus::kCompleted, std::vector<int64_t>(9000, 1));
  deep.params = {{"layers", int64_t{9000}}, {"units", int64_t{1}}};
  write_search(path, config, {deep}, "finished");
  const ResultsReader reader(path);
  ASSERT_EQ(reader.summary().size(), 1u);
  EXPECT_EQ(reader.trial_group(0).read_attribute<std::vector<int64_t>>("hidden").size(), 9000u);
  ASSERT_TRUE(reader.has_model(0));
  EXPECT_EQ(read_model(reader.trial_group(0).open_group("model")).model.shape().hidden.size(),
            9000u);
}

TEST(ResultsFile, FailedWriteRecordsNothingOfTheTrial) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  ResultsWriter writer = make_writer(path, make_config(5));
  add(writer, make_trial(0, 0.5));
  // An extra parameter with an empty name fails as an attribute, after the trial's group and
  // some of its attributes are written: as a full disk would.
  Finished broken = make_trial(1, 0.2);
  broken.params.emplace_back("", int64_t{1});
  EXPECT_THROW(writer.add(broken.trial, broken.params, broken.outcome), h5::Error);
  writer.publish();
  EXPECT_EQ(writer.recorded_trials(), (std::vector<int64_t>{0}));
  {
    const ResultsReader reader(path);
    EXPECT_EQ(reader.summary().size(), 1u);
    EXPECT_FALSE(reader.trial_group(0).has_link("/trials/1"));
    EXPECT_EQ(reader.best_trial(), 0);
  }
  // Nothing of it stands in the way of recording it properly.
  add(writer, make_trial(1, 0.2));
  const ResultsReader reader(path);
  EXPECT_EQ(reader.summary().size(), 2u);
  EXPECT_EQ(reader.best_trial(), 1);
}

TEST(ResultsFile, ResumeRerunsAHalfWrittenTrial) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  const SearchConfig config = make_config(2);
  // An error ended the search: status running.
  write_search(path, config, {make_trial(0, 0.5), make_trial(1, 0.4)}, "");
  {
    // What an earlier hpsearch left when writing trial 2 failed after most of its attributes.
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    h5::Group partial = file.root().create_group("trials/2");
    partial.write_attribute("trial", int64_t{2});
    partial.write_attribute("status", "completed");
    partial.write_attribute("best_value", 0.1);
    partial.write_attribute("finished_at", 3.0);
  }
  std::unique_ptr<ResultsWriter> resumed =
      ResultsWriter::resume(path, config, 3, make_scaler(), kFeatures, kClasses, kClasses);
  EXPECT_EQ(resumed->recorded_trials(), (std::vector<int64_t>{0, 1}));
  EXPECT_FALSE(ResultsReader(path).trial_group(0).has_link("/trials/2"));
  const Finished again = make_trial(2, 0.3);
  resumed->add(again.trial, again.params, again.outcome);
  resumed->finish("finished", 0.01);
  const ResultsReader reader(path);
  ASSERT_EQ(reader.summary().size(), 3u);
  EXPECT_EQ(reader.summary()[2].trial, 2);
  EXPECT_EQ(reader.best_trial(), 2);  // by its real value, 0.3, not the partial 0.1
  EXPECT_EQ(reader.trial_group(2).read_attribute<double>("best_value"), 0.3);
}

// A /summary without a column every row needs would read as zeros, ranked as if real; a
// column of another type is named with the file and table.
TEST(ResultsFile, SummaryRefusesAMissingOrRetypedColumn) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  const SearchConfig config = make_config(2);
  write_search(path, config, {make_trial(0, 0.5), make_trial(1, 0.4)}, "finished");
  const auto rewrite = [&](const std::function<void(std::vector<h5::Column>&)>& change) {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    h5::Group root = file.root();
    std::vector<h5::Column> columns = root.read_table("summary").layout().columns();
    change(columns);
    root.delete_link("summary");
    const h5::TableLayout layout(columns);
    root.create_table("summary", layout);
    root.append_rows("summary", h5::TableRows(layout, 2));
  };
  const auto message = [&]() -> std::string {
    try {
      ResultsReader(path).summary();
    } catch (const h5::Error& e) {
      return e.what();
    }
    return "(read)";
  };
  rewrite([](std::vector<h5::Column>& columns) {
    for (h5::Column& c : columns)
      if (c.name == "best_val_accuracy") c = {"best_val_accuracy", h5::ColumnType::kString, 8};
  });
  EXPECT_EQ(message(), path +
                           ":/summary: h5::TableRows: column 'best_val_accuracy' holds string "
                           "values, not float64");
  rewrite([](std::vector<h5::Column>& columns) {
    columns.erase(std::remove_if(columns.begin(), columns.end(),
                                 [](const h5::Column& c) { return c.name == "best_val_accuracy"; }),
                  columns.end());
  });
  EXPECT_EQ(message(), path +
                           ":/summary: has no column 'best_val_accuracy' (a damaged file, or "
                           "not written by hpsearch)");
}

// Values no trial can have (a damaged or hand-edited /summary) are refused, not ranked.
TEST(ResultsFile, SummaryRefusesValuesNoTrialCanHave) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  const SearchConfig config = make_config(2);
  write_search(path, config, {make_trial(0, 0.5), make_trial(1, 0.4)}, "finished");
  const auto with = [&](const std::function<void(h5::TableRows&)>& change) -> std::string {
    const std::string copy = dir.file("changed.h5");
    std::filesystem::remove(copy);
    std::filesystem::copy_file(path, copy);
    testing::rewrite_summary(copy, change);
    try {
      ResultsReader(copy).summary();
    } catch (const h5::Error& e) {
      return e.what();
    }
    return "(read)";
  };
  const std::string at = dir.file("changed.h5") + ":/summary: row 1 (trial 1): ";
  EXPECT_EQ(with([](h5::TableRows&) {}), "(read)");
  EXPECT_EQ(with([](h5::TableRows& r) { r.set(1, "epochs_run", int64_t{-1}); }),
            at + "epochs_run is -1, which no trial can have");
  EXPECT_EQ(with([](h5::TableRows& r) { r.set(1, "best_epoch", int64_t{3}); }),
            at + "best_epoch is 3 of 3 epochs run, which no trial can have");
  EXPECT_EQ(with([](h5::TableRows& r) { r.set(1, "rung", int64_t{-2}); }),
            at + "rung is -2, which no trial can have");
  EXPECT_EQ(with([](h5::TableRows& r) { r.set(1, "best_val_accuracy", 5.0); }),
            at + "best_val_accuracy is 5, not in [0, 1], which no trial can have");
  EXPECT_EQ(with([](h5::TableRows& r) {
              r.set(1, "best_epoch", int64_t{-1});
              r.set(1, "best_val_accuracy", std::nan(""));
            }),
            "(read)");  // a trial with no finite value
}

// Files from before schedulers lack the 'scheduler' attribute and ran none; a missing one
// where the recorded config ran ASHA is damage (inspect would show no rungs).
TEST(ResultsFile, MissingSchedulerContradictsAConfigThatRanOne) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  SearchConfig config = make_config(2);
  write_search(path, config, {make_trial(0, 0.5)}, "finished");
  {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    ASSERT_GE(H5Adelete(file.root().id(), "scheduler"), 0);
  }
  EXPECT_THAT(ResultsReader(path).contradicted_attributes(config), ElementsAre());
  config.search.scheduler.kind = SchedulerKind::kAsha;
  EXPECT_THAT(ResultsReader(path).contradicted_attributes(config),
              ElementsAre(path + ":/: attribute 'scheduler' is missing, its recorded config says "
                                 "'asha'"));
}

// ResultsReader::resume_problems as a resume calls it, with the rows it has read.
std::vector<std::string> problems(const std::string& path, const SearchConfig& config) {
  const ResultsReader reader(path);
  return reader.resume_problems(config, reader.summary());
}

// What resuming would trip over once it had begun to change the file, or replay wrongly, is
// named up front, each problem on its own line.
TEST(ResultsFile, ResumeProblemsNameWhatResumingWouldTripOver) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  const SearchConfig config = make_config(2);
  write_search(path, config,
               {make_trial(0, 0.5), make_trial(1, 0.4), make_trial(2, 0.3, TrialStatus::kFailed)},
               "interrupted");
  EXPECT_THAT(problems(path, config), ElementsAre());
  {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    h5::Group root = file.root();
    root.write_attribute("resumes", std::numeric_limits<int64_t>::max());
    root.open_group("trials/0").write_attribute("finished_at", "soon");
    root.open_group("trials/0").write_attribute("status", "pruned");
    root.open_group("trials/1").write_attribute("trial", int64_t{5});
    root.delete_link("trials/1/history");
  }
  const std::string at = path + ":/";
  EXPECT_THAT(
      problems(path, config),
      ElementsAre(at + ": attribute 'resumes' is 9223372036854775807, the most resumes a file "
                       "can count",
                  HasSubstr(at + "trials/0: attribute 'finished_at'"),
                  at + "trials/1: attribute 'trial' is 5, its /summary row says 1",
                  at + "trials/1/history: has 0 epochs, its /summary row says 3 ran"));
  {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    file.root().open_group("trials/0").write_attribute("finished_at", 1.0);
  }
  EXPECT_THAT(
      problems(path, config),
      ::testing::Contains(at + "trials/0: attribute 'status' is 'pruned', its /summary row says "
                               "'completed'"));

  // Columns that are not the config's: the rows are not read at all.
  SearchConfig wider = config;
  wider.search.space.push_back({"dropout", ParamForm::kUniform, {}, 0.0, 0.5, 7});
  EXPECT_THAT(problems(path, wider),
              ElementsAre(HasSubstr(at + ": attribute 'resumes'"),
                          at + "summary: lacks the columns 'dropout', against the columns a "
                               "search of this config writes"));
  SearchConfig narrower = config;
  narrower.search.space.pop_back();
  EXPECT_THAT(problems(path, narrower),
              ::testing::Contains(at + "summary: has the columns 'hidden', against the columns "
                                       "a search of this config writes"));
  SearchConfig reordered = config;
  std::swap(reordered.search.space[0], reordered.search.space[1]);
  EXPECT_THAT(problems(path, reordered),
              ::testing::Contains(at + "summary: has the columns of this config's search in "
                                       "another order or with other types"));
  {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    file.root().write_attribute("resumes", int64_t{-1});
  }
  // The reader refuses such a file before resume_problems could look; the writer, which opens
  // it on its own, refuses it too.
  try {
    ResultsWriter::resume(path, config, 3, make_scaler(), kFeatures, kClasses, kClasses);
    ADD_FAILURE() << "resumed a file whose resume count is -1";
  } catch (const h5::Error& e) {
    EXPECT_EQ(std::string(e.what()), at + ": attribute 'resumes' is -1, not a count");
  }
}

// A resume ranks the recorded trials by their groups' best_value and replays TPE and the
// schedulers from their histories: a group, history or /summary row edited to disagree with
// the others (as the trainer records them: the best epoch is the last that improved, and no
// epoch beats it) is named, where it would otherwise carry on silently.
TEST(ResultsFile, ResumeProblemsNameBestValuesTheHistoryContradicts) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  SearchConfig config = make_config(2);
  // Trial 2's last epoch improves on its best (0.3) by less than min_delta: not an
  // improvement, so epoch 1 stays its best.
  Finished within_delta = make_trial(2, 0.3);
  within_delta.outcome.history.epochs.back().val_loss = 0.28;
  // Trial 3 diverged in its last epoch, which early stopping never judged: its accuracy there
  // may be anything.
  Finished diverged = make_trial(3, 0.2);
  diverged.outcome.status = TrialStatus::kDiverged;
  diverged.outcome.history.epochs.back().val_loss = kNaN;
  diverged.outcome.history.epochs.back().val_metric = 0.99;
  // Trial 4 diverged before any epoch improved.
  Finished never_improved = make_trial(4, 0.2, TrialStatus::kDiverged);
  never_improved.outcome.history.epochs.resize(1);
  never_improved.outcome.history.epochs[0].val_loss = kNaN;
  never_improved.outcome.best_epoch = -1;
  never_improved.outcome.best_value = std::numeric_limits<double>::infinity();
  never_improved.outcome.weights = Vector();
  config.base.early_stopping.min_delta = 0.05;
  write_search(path, config,
               {make_trial(0, 0.5), make_trial(1, 0.4), within_delta, diverged, never_improved},
               "interrupted");
  EXPECT_THAT(problems(path, config), ElementsAre());
  SearchConfig no_delta = config;
  no_delta.base.early_stopping.min_delta = 0.0;
  const std::string at = path + ":/trials/";
  EXPECT_THAT(problems(path, no_delta),
              ElementsAre(at + "2/history: epoch 2 has val_loss 0.28, better than the best "
                               "epoch's 0.3 (epoch 1)"));

  const auto edit_history = [&](const std::string& trial, const std::function<void(History&)>& f) {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    h5::Group group = file.root().open_group("trials/" + trial);
    History history = read_history(group.open_group("history"));
    f(history);
    group.delete_link("history");
    h5::Group written = group.create_group("history");
    write_history(written, history, Task::kClassification);
  };
  edit_history("0", [](History& h) { h.epochs[0].val_loss = 0.4; });
  edit_history("4", [](History& h) { h.epochs[0].val_loss = 0.6; });
  {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    file.root().open_group("trials/1").write_attribute("best_value", 0.35);
    file.root().open_group("trials/3").write_attribute("best_epoch", int64_t{2});
  }
  testing::rewrite_summary(path, [](h5::TableRows& rows) {
    rows.set(2, "best_val_accuracy", 0.9);  // trial 2's epoch 1 has 0.7
  });
  EXPECT_THAT(
      problems(path, config),
      ElementsAre(at + "0/history: epoch 0 has val_loss 0.4, better than the best epoch's 0.5 "
                       "(epoch 1)",
                  at + "1: attribute 'best_value' is 0.35, its history's val_loss at best "
                       "epoch 1 is 0.4",
                  at + "2/history: epoch 1 has val_accuracy 0.7, its /summary row's "
                       "best_val_accuracy is 0.9",
                  at + "3: attribute 'best_epoch' is 2, its /summary row says 1",
                  at + "4/history: epoch 0 has val_loss 0.6, but the trial records no best "
                       "epoch"));
}

// A resumed TPE learns from /summary's hyperparameters; a row that says other values than its
// trial group (which records what the trial trained with) is damage, named value by value.
TEST(ResultsFile, ResumeProblemsNameHyperparametersTheSummaryMisstates) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  SearchConfig config = make_config(2);
  config.search.space.push_back(
      {"patience", ParamForm::kChoice, {int64_t{2}, int64_t{3}}, 0, 0, 7});
  std::vector<Finished> trials = {make_trial(0, 0.5), make_trial(1, 0.4),
                                  make_trial(2, 0.3, TrialStatus::kFailed)};
  for (Finished& f : trials) f.params.emplace_back("patience", int64_t{2});
  write_search(path, config, trials, "interrupted");
  EXPECT_THAT(problems(path, config), ElementsAre());

  testing::rewrite_summary(path, [](h5::TableRows& rows) {
    rows.set(0, "learning_rate", 0.0125);
    rows.set(0, "batch_size", int64_t{64});
    rows.set(1, "optimizer", std::string("sgd"));
    rows.set(1, "hidden", std::string("[16]"));
    rows.set(1, "patience", int64_t{3});
    rows.set(2, "learning_rate", 0.5);  // a failed trial: TPE never learns from it
  });
  const std::string at = path + ":/trials/";
  EXPECT_THAT(
      problems(path, config),
      ElementsAre(at + "0: attribute 'learning_rate' is 0.001, its /summary row says 0.0125",
                  at + "0: attribute 'batch_size' is 32, its /summary row says 64",
                  at + "1: attribute 'optimizer' is 'adam', its /summary row says 'sgd'",
                  at + "1: attribute 'hidden' is [8, 4], its /summary row says [16]",
                  at + "1: attribute 'patience' is 2, its /summary row says 3"));

  // A missing or mistyped attribute is named too, and does not hide the row's other values; a
  // whole number stored as a double is the same value.
  {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    h5::Group root = file.root();
    ASSERT_GE(H5Adelete(root.open_group("trials/0").id(), "learning_rate"), 0);
    root.open_group("trials/1").write_attribute("optimizer", 3.0);
    root.open_group("trials/1").write_attribute("batch_size", 32.0);
    root.open_group("trials/1").write_attribute("hidden", std::string("[8, 4]"));
  }
  EXPECT_THAT(
      problems(path, config),
      ElementsAre(at + "0: has no attribute 'learning_rate', its /summary row says 0.0125",
                  at + "0: attribute 'batch_size' is 32, its /summary row says 64",
                  at + "1: attribute 'optimizer' holds float values, expected a string, its "
                       "/summary row says 'sgd'",
                  HasSubstr(at + "1: attribute 'hidden' holds string values"),
                  at + "1: attribute 'patience' is 2, its /summary row says 3"));
}

// Every kind of searched hyperparameter, drawn and made into settings as a search does, agrees
// with what its trial group records: resuming a well-written file finds nothing to refuse.
TEST(ResultsFile, ResumeProblemsFindNothingInTrialsMadeAsASearchMakesThem) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  SearchConfig config = make_config(2);
  config.base.model.hidden = {8};
  config.search.space = {
      {"layers", ParamForm::kChoice, {int64_t{1}, int64_t{2}}, 0, 0, 3},
      {"units", ParamForm::kIntUniform, {}, 4, 16, 4},
      {"learning_rate", ParamForm::kLogUniform, {}, 1e-4, 1e-2, 5},
      {"batch_size", ParamForm::kChoice, {int64_t{32}, int64_t{64}}, 0, 0, 6},
      {"dropout", ParamForm::kUniform, {}, 0.0, 0.5, 7},
      {"l1", ParamForm::kLogUniform, {}, 1e-3, 1.0, 8},
      {"l2", ParamForm::kChoice, {0.0, 0.1}, 0, 0, 9},
      {"optimizer", ParamForm::kChoice, {std::string("adam"), std::string("momentum")}, 0, 0, 10},
      {"activation", ParamForm::kChoice, {std::string("relu"), std::string("tanh")}, 0, 0, 11},
      {"momentum", ParamForm::kUniform, {}, 0.5, 0.99, 12},
      {"max_epochs", ParamForm::kIntUniform, {}, 3, 9, 13},
      {"patience", ParamForm::kIntUniform, {}, 1, 4, 14},
  };
  std::vector<Finished> trials;
  for (int64_t id = 0; id < 6; ++id) {
    Finished f = make_trial(id, 0.5 - 0.01 * static_cast<double>(id));
    f.params = trial_values(config.search, id);
    f.trial = ::hps::make_trial(config, id, f.params);
    const ModelConfig& model = f.trial.model;
    const Mlp network(MlpShape{kFeatures, model.hidden, kClasses, model.activation});
    f.outcome.weights = Vector::Constant(network.num_parameters(), 0.5F);
    trials.push_back(std::move(f));
  }
  write_search(path, config, trials, "interrupted");
  EXPECT_THAT(problems(path, config), ElementsAre());
}

// One trial group without a /summary row is a recording that failed half way (resume drops
// it: ResumeRerunsAHalfWrittenTrial); more mean the table lost rows, and resuming would train
// those trials again over their records.
// What inspect and evaluate refuse as damage is refused before a resume would carry it into
// the file it finishes.
TEST(ResultsFile, ResumeProblemsNameContradictedAttributesAndAMisplacedBest) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  const SearchConfig config = make_config(2);
  write_search(path, config, {make_trial(0, 0.5), make_trial(1, 0.4)}, "interrupted");
  EXPECT_THAT(problems(path, config), ElementsAre());
  {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    h5::Group root = file.root();
    root.write_attribute("strategy", "grid");
    root.write_attribute("seed", int64_t{4});
    root.delete_link("best");
    root.create_soft_link("best", "/trials/0");  // the lower val_loss is trial 1's
  }
  EXPECT_THAT(problems(path, config),
              ElementsAre(HasSubstr("attribute 'strategy' is 'grid', its recorded config says "
                                    "'random'"),
                          HasSubstr("attribute 'seed' is 4, its recorded config says 7"),
                          HasSubstr("best: points to trial 0, but /summary gives trial 1 the "
                                    "better val_loss")));
}

// A /summary a tool rewrote (h5py's f["summary"] = rows stores it contiguous, a table that
// cannot grow) still takes the resumed search's rows.
TEST(ResultsFile, ResumeAppendsToASummaryAToolRewroteContiguous) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  const SearchConfig config = make_config(2);
  write_search(path, config, {make_trial(0, 0.5), make_trial(1, 0.4)}, "interrupted");
  {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    const h5::Group group = file.root();
    const hid_t root = group.id();
    const hid_t chunked = H5Dopen2(root, "summary", H5P_DEFAULT);
    const hid_t type = H5Dget_type(chunked);
    const hid_t memory = H5Tget_native_type(type, H5T_DIR_DEFAULT);
    const hid_t chunked_space = H5Dget_space(chunked);
    hsize_t rows = 0;
    H5Sget_simple_extent_dims(chunked_space, &rows, nullptr);
    std::vector<unsigned char> bytes(rows * H5Tget_size(memory));
    ASSERT_GE(H5Dread(chunked, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()), 0);
    H5Sclose(chunked_space);
    H5Dclose(chunked);
    ASSERT_GE(H5Ldelete(root, "summary", H5P_DEFAULT), 0);
    const hid_t space = H5Screate_simple(1, &rows, nullptr);
    const hid_t contiguous =
        H5Dcreate2(root, "summary", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(H5Dwrite(contiguous, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()), 0);
    const hid_t plist = H5Dget_create_plist(contiguous);
    EXPECT_EQ(H5Pget_layout(plist), H5D_CONTIGUOUS);
    H5Pclose(plist);
    H5Dclose(contiguous);
    H5Sclose(space);
    H5Tclose(memory);
    H5Tclose(type);
  }
  EXPECT_THAT(problems(path, config), ElementsAre());
  {
    const std::unique_ptr<ResultsWriter> writer =
        ResultsWriter::resume(path, config, 3, make_scaler(), kFeatures, kClasses, kClasses);
    add(*writer, make_trial(2, 0.3));
    writer->finish("finished", 0.1);
  }
  const ResultsReader reader(path);
  ASSERT_EQ(reader.summary().size(), 3u);
  EXPECT_EQ(reader.summary()[2].trial, 2);
  EXPECT_EQ(reader.best_trial(), 2);
}

TEST(ResultsFile, ResumeProblemsNameTrialGroupsTheSummaryLost) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  const SearchConfig config = make_config(2);
  write_search(path, config, {make_trial(0, 0.5), make_trial(1, 0.4)}, "interrupted");
  {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    file.root().create_group("trials/10");
    file.root().create_group("trials/notes");  // no trial's name: resume() leaves it be
  }
  EXPECT_THAT(problems(path, config), ElementsAre());
  {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    file.root().create_group("trials/9");
  }
  EXPECT_THAT(problems(path, config),
              ElementsAre(path + ":/trials: 2 trial groups have no /summary row (9, 10); "
                                 "resuming would train them again over what they recorded"));
}

// A resume that fails on the way (here: no resume count to add to) changes nothing of the file
// and leaves no working copy.
TEST(ResultsFile, AResumeThatFailsLeavesTheFileAsItWas) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  const SearchConfig config = make_config(2);
  write_search(path, config, {make_trial(0, 0.5)}, "interrupted");
  {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    ASSERT_GE(H5Adelete(file.root().id(), "resumes"), 0);
  }
  const auto bytes = [&] {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string before = bytes();
  EXPECT_THROW(ResultsWriter::resume(path, config, 3, make_scaler(), kFeatures, kClasses, kClasses),
               h5::Error);
  EXPECT_EQ(bytes(), before);
  EXPECT_FALSE(std::filesystem::exists(path + ".live"));
  EXPECT_EQ(ResultsReader(path).attribute("status"), "interrupted");

  // Damage only the resume itself meets (here a trial's value is gone) is named in the user's
  // file, not in the working copy that the failed resume removed.
  {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    file.root().write_attribute("resumes", int64_t{0});
    ASSERT_GE(H5Adelete(file.root().open_group("trials/0").id(), "best_value"), 0);
  }
  try {
    ResultsWriter::resume(path, config, 3, make_scaler(), kFeatures, kClasses, kClasses);
    ADD_FAILURE() << "resumed a file whose trial 0 has no best_value";
  } catch (const h5::Error& e) {
    EXPECT_THAT(std::string(e.what()), AllOf(HasSubstr(path + ":/trials/0"),
                                             HasSubstr("best_value"), Not(HasSubstr(".live"))));
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".live"));
}

TEST(ResultsFile, ReaderRefusesTamperedRootAttributes) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  write_search(path, make_config(2), {make_trial(0, 0.5)}, "finished");
  const auto refusal = [&](const std::string& attribute, const auto& value) {
    {
      h5::File file = h5::File::open(path, true);
      file.root().write_attribute(attribute, value);
    }
    try {
      ResultsReader reader(path);
    } catch (const h5::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(refusal("status", "bogus"),
              HasSubstr(path + ":/: attribute 'status' is 'bogus', expected one of 'running', "
                               "'finished', 'interrupted', 'time_limit': damaged file"));
  refusal("status", "finished");
  EXPECT_THAT(refusal("trials_total", int64_t{-5}),
              HasSubstr(path + ":/: attribute 'trials_total' is -5, expected at least 0: "
                               "damaged file"));
  refusal("trials_total", int64_t{12});
  EXPECT_THAT(refusal("keep_weights", int64_t{-2}),
              HasSubstr("attribute 'keep_weights' is -2, expected at least -1"));
  refusal("keep_weights", int64_t{2});
  EXPECT_THAT(refusal("monitor_mode", "sideways"),
              HasSubstr("attribute 'monitor_mode' is 'sideways', expected one of 'min', 'max'"));
  refusal("monitor_mode", "min");
  EXPECT_EQ(refusal("status", "time_limit"), "no error");
}

TEST(ResultsFile, PublishedFileIsCompleteWhileTheWorkingCopyIsOpen) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  ResultsWriter writer = make_writer(path, make_config(2));
  for (int i = 0; i < 5; ++i) add(writer, make_trial(i, 1.0 / (i + 1)));
  EXPECT_TRUE(std::filesystem::exists(path + ".live"));
  // As after a kill -9 now: the published file opens and holds every published trial.
  EXPECT_EQ(std::system(("h5dump -H " + path + " > /dev/null").c_str()), 0);
  EXPECT_EQ(ResultsReader(path).summary().size(), 5u);
}

// <path>.tmp and <path>.live are hpsearch's working files (the lock on <path> covers them): a
// link planted at either is replaced, never written through, by a search or its resume.
TEST(ResultsFile, WorkingFilesNeverWriteThroughAPlantedLink) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  testing::write_text(dir.file("victim.csv"), "a,b\n1,2\n");
  std::filesystem::create_symlink(dir.file("victim.csv"), path + ".tmp");
  {
    ResultsWriter writer = make_writer(path, make_config(2));
    add(writer, make_trial(0, 0.5));
    writer.finish("interrupted", 0.1);
  }
  std::filesystem::create_symlink(dir.file("victim.csv"), path + ".live");
  std::filesystem::create_symlink(dir.file("victim.csv"), path + ".tmp");
  ResultsWriter::resume(path, make_config(2), 3, make_scaler(), kFeatures, kClasses, kClasses)
      ->finish("finished", 0.1);
  std::ifstream victim(dir.file("victim.csv"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(victim), {}), "a,b\n1,2\n");
  EXPECT_FALSE(std::filesystem::is_symlink(path));
  EXPECT_EQ(ResultsReader(path).attribute("status"), "finished");
  EXPECT_EQ(ResultsReader(path).summary().size(), 1u);
}

// A publish that cannot replace <path> (here a directory took its place; chattr +i does the
// same) says so and where the newest results are: <path>.live, which the error leaves, with
// nothing left at <path>.tmp. It used to say only "filesystem error: cannot rename".
TEST(ResultsFile, APublishThatCannotReplaceTheFileNamesWhereTheResultsAre) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  std::string error;
  {
    ResultsWriter writer = make_writer(path, make_config(2));
    add(writer, make_trial(0, 0.5));
    std::filesystem::remove(path);
    std::filesystem::create_directories(path + "/in_the_way");
    writer.add(make_trial(1, 0.4).trial, make_trial(1, 0.4).params, make_trial(1, 0.4).outcome);
    try {
      writer.publish();
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
  }  // the writer ends without finish(), as the error ends a search
  EXPECT_THAT(error, AllOf(HasSubstr("cannot replace '" + path + "' with the newest results: "),
                           HasSubstr("; they are kept in '" + path +
                                     ".live' (a result file: copy it over '" + path +
                                     "' once that can be written)")));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(ResultsReader(path + ".live").summary().size(), 2u);
  // The working copy says it holds trials <path> lacks, so no later run discards it.
  EXPECT_EQ(unpublished_trials(path), 2u) << "<path> is no result file";
  std::filesystem::remove_all(path);
  EXPECT_EQ(unpublished_trials(path), 2u) << "no <path> at all";
  std::filesystem::copy_file(path + ".live", path);
  EXPECT_EQ(unpublished_trials(path), std::nullopt) << "<path> holds them now";
  // Resumed from that copy, the search publishes anew: the mark does not carry over.
  const SearchConfig config = make_config(2);
  ResultsWriter::resume(path, config, 1, make_scaler(), kFeatures, kClasses, kClasses)
      ->finish("interrupted", 0.0);
  EXPECT_FALSE(ResultsReader(path).has_attribute("unpublished"));
  EXPECT_EQ(ResultsReader(path).summary().size(), 2u);
}

// What a killed search leaves beside <path> (an unmarked working copy, or none that opens) is
// discarded by the next run, as before.
TEST(ResultsFile, AKilledSearchsWorkingCopyIsNotUnpublishedTrials) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  write_search(path, make_config(2), {make_trial(0, 0.5), make_trial(1, 0.4)}, "interrupted");
  std::filesystem::copy_file(path, path + ".live");  // as a kill -9 leaves it: no mark
  EXPECT_EQ(unpublished_trials(path), std::nullopt);
  testing::write_text(path + ".live", "cut short");
  EXPECT_EQ(unpublished_trials(path), std::nullopt);
  std::filesystem::remove(path + ".live");
  EXPECT_EQ(unpublished_trials(path), std::nullopt);
}

TEST(PublishPace, OneStalledPublishDoesNotHoldBackTheNext) {
  using std::chrono::milliseconds;
  PublishPace pace;
  EXPECT_EQ(pace.interval(), PublishPace::Duration::zero());
  // The first publish, as the file is created, waited two seconds for the disk: the next ones
  // are not held back by it (ten times the stall would be 20 s, long enough for a short search
  // to finish with nothing published).
  pace.record(milliseconds(2000));
  EXPECT_EQ(pace.interval(), PublishPace::Duration::zero());
  pace.record(milliseconds(4));
  EXPECT_EQ(pace.interval(), PublishPace::Duration::zero());
  pace.record(milliseconds(5));
  EXPECT_EQ(pace.interval(), milliseconds(40));
  // Nor by a stall later on.
  pace.record(milliseconds(2000));
  EXPECT_EQ(pace.interval(), milliseconds(40));
  // A file that grew costs more every time: three costly publishes in a row space them out.
  pace.record(milliseconds(300));
  EXPECT_EQ(pace.interval(), milliseconds(50));
  pace.record(milliseconds(320));
  EXPECT_EQ(pace.interval(), milliseconds(3000));
  pace.record(milliseconds(310));
  EXPECT_EQ(pace.interval(), milliseconds(3000));
}

TEST(ResultsFile, H5pyAndH5dumpReadTheFile) {
  if (!have_h5py()) GTEST_SKIP() << "/usr/bin/python3 with h5py is not available";
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  write_search(path, make_config(2),
               {make_trial(0, 0.5), make_trial(1, 0.0, TrialStatus::kFailed),
                make_trial(2, 0.25, TrialStatus::kCompleted, {16})},
               "finished");
  const std::string script = dir.file("check.py");
  testing::write_text(
      script,
      "import sys, h5py, numpy as np\n"
      "with h5py.File(sys.argv[1], 'r') as f:\n"
      "    s = f['summary']\n"
      "    expected = ('trial', 'status', 'learning_rate', 'batch_size', 'optimizer', 'hidden',\n"
      "                'best_epoch', 'epochs_run', 'best_val_loss', 'best_val_accuracy',\n"
      "                'final_train_loss', 'final_train_accuracy', 'seconds', 'rank',\n"
      "                'test_loss', 'test_accuracy', 'finished_at', 'rung')\n"
      "    assert s.dtype.names == expected, s.dtype.names\n"
      "    assert s.shape == (3,), s.shape\n"
      "    assert s['trial'].tolist() == [0, 1, 2]\n"
      "    assert s['status'].tolist() == [b'completed', b'failed', b'completed']\n"
      "    assert s[2]['hidden'] == b'[16]', s[2]['hidden']\n"
      "    assert s[2]['best_val_loss'] == 0.25\n"
      "    assert np.isnan(s[1]['best_val_loss'])\n"
      "    assert f.attrs['format'] == 'hpsearch-search'\n"
      "    assert f.attrs['status'] == 'finished'\n"
      "    best = f['best']\n"
      "    assert isinstance(best, h5py.Group)\n"
      "    assert best.attrs['trial'] == 2\n"
      "    w = best['model/layer_0/weight']\n"
      "    assert w.shape == (16, 3), w.shape\n"
      "    assert (w[()] == 2.0).all()\n"
      "    assert 'model' in f['trials/0'] and 'model' not in f['trials/1']\n"
      "    assert list(f['trials/0/history/val_loss'][()]) == [0.7, 0.5, 0.6]\n");
  EXPECT_EQ(std::system(("/usr/bin/python3 " + script + " " + path).c_str()), 0);

  if (std::system("command -v h5dump >/dev/null 2>&1") != 0) GTEST_SKIP() << "no h5dump";
  const std::string dump = dir.file("dump.txt");
  ASSERT_EQ(std::system(("h5dump -d /summary " + path + " > " + dump).c_str()), 0);
  const std::string out = [&] {
    std::ifstream in(dump);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  // h5dump shows the NUL padding of fixed-length strings as \000.
  EXPECT_THAT(out, HasSubstr("\"learning_rate\""));
  EXPECT_THAT(out, HasSubstr("DATASPACE  SIMPLE { ( 3 ) / ( H5S_UNLIMITED ) }"));
  EXPECT_THAT(out, HasSubstr("\"adam\\000"));
  EXPECT_THAT(out, HasSubstr("\"[8, 4]\\000"));
  EXPECT_THAT(out, HasSubstr("\"failed\\000"));
}

}  // namespace
}  // namespace hps
