#include "coordinator/inspect_command.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr Index kFeatures = 2;
constexpr int kClasses = 3;

SearchConfig make_config() {
  SearchConfig config;
  config.base.data.task = Task::kClassification;
  config.search.strategy = SearchStrategy::kGrid;
  config.search.trials = 8;
  config.search.keep_weights = 2;
  config.search.space = {
      {"learning_rate", ParamForm::kChoice, {0.01, 0.001}, 0, 0, 3},
      {"optimizer", ParamForm::kChoice, {std::string("adam"), std::string("sgd")}, 0, 0, 4},
      {"hidden", ParamForm::kChoice, {std::vector<int64_t>{4, 2}}, 0, 0, 5},
  };
  return config;
}

// Trial `id` whose best validation loss is `loss` (accuracy 1 - loss).
void add_trial(ResultsWriter& writer, int64_t id, double loss, TrialStatus status) {
  TrialAssignment trial;
  trial.trial_id = id;
  trial.model.hidden = {4, 2};
  trial.training.optimizer.learning_rate = id % 2 == 0 ? 0.01 : 0.001;
  const std::vector<ParamAssignment> params = {
      {"learning_rate", trial.training.optimizer.learning_rate},
      {"optimizer", std::string(id % 2 == 0 ? "adam" : "sgd")},
      {"hidden", std::vector<int64_t>{4, 2}}};
  TrialOutcome outcome;
  outcome.trial_id = id;
  outcome.rank = 1;
  outcome.status = status;
  outcome.seconds = 2.5;
  if (status != TrialStatus::kFailed) {
    outcome.history.epochs = {{0, 1.0, 1.0, 0.4, loss + 0.5, 0.5 - loss, 1.0},
                              {1, 0.8, 0.8, 0.6, loss, 1.0 - loss, 1.0}};
    outcome.best_epoch = 1;
    outcome.best_value = loss;
  }
  if (status != TrialStatus::kFailed && status != TrialStatus::kDiverged) {
    const Mlp model(MlpShape{kFeatures, trial.model.hidden, kClasses, Activation::kRelu});
    outcome.weights = Vector::Zero(model.num_parameters());
  }
  writer.add(trial, params, outcome);
}

// A finished search: trials 0..5 with losses 0.4, 0.2, failed, 0.3, diverged, 0.1.
std::string make_results(const testing::TempDir& dir, const std::string& name = "search.h5") {
  const std::string path = dir.file(name);
  ResultsWriter writer(path, make_config(), 3, Scaler{}, kFeatures, kClasses, kClasses);
  add_trial(writer, 0, 0.4, TrialStatus::kCompleted);
  add_trial(writer, 1, 0.2, TrialStatus::kEarlyStopped);
  add_trial(writer, 2, 0.0, TrialStatus::kFailed);
  add_trial(writer, 3, 0.3, TrialStatus::kCompleted);
  add_trial(writer, 4, 0.05, TrialStatus::kDiverged);
  add_trial(writer, 5, 0.1, TrialStatus::kEarlyStopped);
  writer.finish("finished", 0.01);
  return path;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) result.push_back(line);
  return result;
}

// Runs a Python snippet with `input` on stdin and returns its stdout (empty on failure).
std::string python(const std::string& code, const std::string& input, const testing::TempDir& dir) {
  const std::string input_file = dir.file("input.json");
  const std::string script = dir.file("script.py");
  testing::write_text(input_file, input);
  testing::write_text(script, code);
  FILE* pipe = popen(("/usr/bin/python3 " + script + " < " + input_file).c_str(), "r");
  if (pipe == nullptr) return "";
  std::string out;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  return pclose(pipe) == 0 ? out : "";
}

TEST(InspectCommand, TextLeaderboardIsSortedBestFirst) {
  testing::TempDir dir;
  const std::string path = make_results(dir);
  const std::string text = render_leaderboard(ResultsReader(path), 0, false);
  const std::vector<std::string> out = lines(text);
  ASSERT_EQ(out.size(), 3u + 1u + 6u) << text;
  EXPECT_EQ(out[0], path +
                        ": grid search, finished, 6/8 trials done (2 completed, 2 early_stopped, "
                        "1 diverged, 1 failed)");
  EXPECT_EQ(out[1], "ranked by best val_loss (lower is better)");
  EXPECT_EQ(out[2], "");
  EXPECT_THAT(out[3], HasSubstr("rank  trial  status         learning_rate  optimizer  hidden"));
  EXPECT_THAT(out[3], HasSubstr("val_accuracy  val_loss  best_epoch  epochs  seconds  model"));
  // Trial order: ranked by loss, then the failed and diverged ones by id.
  std::vector<std::string> trials;
  for (std::size_t i = 4; i < out.size(); ++i) {
    std::istringstream row(out[i]);
    std::string rank, trial;
    row >> rank >> trial;
    trials.push_back(rank + ":" + trial);
  }
  EXPECT_THAT(trials, ElementsAre("1:5", "2:1", "3:3", "4:0", "-:2", "-:4"));
  EXPECT_THAT(out[4], HasSubstr("early_stopped"));
  EXPECT_THAT(out[4], HasSubstr("0.001  sgd        [4, 2]"));
  // best_epoch counted from 1, as train prints it: the file's index 1 is the second epoch.
  EXPECT_THAT(out[4], HasSubstr("0.9000    0.1000           2       2      2.5  yes"));
  EXPECT_THAT(out[6], HasSubstr("no"));  // trial 3: its weights were not kept (keep_weights 2)
  EXPECT_THAT(out[8], HasSubstr("failed"));
  EXPECT_THAT(out[8], HasSubstr("-         -           -       0      2.5  no"));
}

TEST(InspectCommand, TopLimitsTheRows) {
  testing::TempDir dir;
  const ResultsReader reader(make_results(dir));
  const std::vector<std::string> out = lines(render_leaderboard(reader, 2, false));
  ASSERT_EQ(out.size(), 4u + 2u);
  EXPECT_THAT(out[0], HasSubstr("6/8 trials done"));  // counts still cover every trial
  EXPECT_THAT(out[4], HasSubstr("early_stopped"));
  // The best trials are ranked ones: a --top beyond them does not fill up with the failed
  // and diverged trials, and says they were left out.
  const std::vector<std::string> all = lines(render_leaderboard(reader, 100, false));
  ASSERT_EQ(all.size(), 4u + 4u + 2u);
  for (std::size_t i = 4; i < 8; ++i) EXPECT_THAT(all[i], Not(HasSubstr("-  ")));
  EXPECT_EQ(all[8], "");
  EXPECT_EQ(all[9],
            "2 diverged or failed trials are not ranked and not shown; without --top they are "
            "listed last");
  const std::string json = render_leaderboard(reader, 100, true);
  EXPECT_THAT(json, Not(HasSubstr("\"rank\":null")));
  EXPECT_THAT(json, HasSubstr("\"rank\":4,"));
}

TEST(InspectCommand, TopWithNoRankedTrialSaysWhy) {
  testing::TempDir dir;
  const std::string path = dir.file("search.h5");
  {
    ResultsWriter writer(path, make_config(), 3, Scaler{}, kFeatures, kClasses, kClasses);
    add_trial(writer, 2, 0.0, TrialStatus::kFailed);
    writer.finish("interrupted", 0.01);
  }
  const ResultsReader reader(path);
  EXPECT_EQ(render_leaderboard(reader, 5, false),
            path +
                ": grid search, interrupted, 1/8 trials done (1 failed)\n1 diverged or failed "
                "trial is not ranked and not shown; without --top they are listed last\n");
  EXPECT_THAT(render_leaderboard(reader, 0, false), HasSubstr("failed"));
}

// A searched momentum does nothing in a trial whose searched optimizer is adam: shown as "-"
// and null, not as a value the trial seemed to use.
TEST(InspectCommand, MomentumOfAnAdamTrialIsNotShown) {
  testing::TempDir dir;
  SearchConfig config = make_config();
  config.search.space = {
      {"optimizer", ParamForm::kChoice, {std::string("adam"), std::string("momentum")}, 0, 0, 3},
      {"momentum", ParamForm::kChoice, {0.5, 0.9}, 0, 0, 4},
  };
  config.search.trials = 4;
  const std::string path = dir.file("search.h5");
  {
    ResultsWriter writer(path, config, 3, Scaler{}, kFeatures, kClasses, kClasses);
    for (int64_t id = 0; id < 2; ++id) {
      TrialAssignment trial;
      trial.trial_id = id;
      const std::vector<ParamAssignment> params = {
          {"optimizer", std::string(id == 0 ? "adam" : "momentum")}, {"momentum", 0.5}};
      TrialOutcome outcome;
      outcome.trial_id = id;
      outcome.status = TrialStatus::kCompleted;
      outcome.history.epochs = {{0, 1.0, 1.0, 0.4, 0.3 + 0.1 * id, 0.6, 1.0}};
      outcome.best_epoch = 0;
      outcome.best_value = 0.3 + 0.1 * id;
      writer.add(trial, params, outcome);
    }
    writer.finish("interrupted", 0.01);
  }
  const ResultsReader reader(path);
  const std::vector<std::string> out = lines(render_leaderboard(reader, 0, false));
  ASSERT_EQ(out.size(), 4u + 2u);
  EXPECT_THAT(out[3], HasSubstr("optimizer  momentum"));
  EXPECT_THAT(out[4], HasSubstr("adam              -"));
  EXPECT_THAT(out[5], HasSubstr("momentum        0.5"));
  const std::string json = render_leaderboard(reader, 0, true);
  EXPECT_THAT(json, HasSubstr("\"params\":{\"optimizer\":\"adam\",\"momentum\":null}"));
  EXPECT_THAT(json, HasSubstr("\"params\":{\"optimizer\":\"momentum\",\"momentum\":0.5}"));
}

// Root attributes that the file's own config contradicts, or /summary rows that no writer
// produces, are refused rather than shown: a flipped monitor_mode would turn the leaderboard
// upside down, a trial listed twice would count twice.
TEST(InspectCommand, RefusesAFileThatContradictsItself) {
  testing::TempDir dir;
  const SearchConfig config =
      parse_search_config(R"(seed: 3
data:
  task: classification
  num_classes: 3
  train: {format: csv, path: train.csv, label_column: label}
model: {hidden: [4, 2]}
early_stopping: {monitor: val_loss}
search:
  strategy: grid
  keep_weights: 2
  space:
    learning_rate: [0.01, 0.001]
    optimizer: [adam, sgd]
    hidden: [[4, 2]]
)",
                          dir.file("search.yaml"), dir.path(), DataFiles::kSkip);
  const std::string path = dir.file("search.h5");
  {
    ResultsWriter writer(path, config, 2, Scaler{}, kFeatures, kClasses, kClasses);
    add_trial(writer, 0, 0.4, TrialStatus::kCompleted);
    add_trial(writer, 1, 0.2, TrialStatus::kCompleted);
    add_trial(writer, 3, 0.3, TrialStatus::kCompleted);
    writer.finish("interrupted", 0.01);
  }
  const auto inspect = [&path] {
    try {
      return render_leaderboard(ResultsReader(path), 0, false);
    } catch (const h5::Error& e) {
      return std::string(e.what());
    }
  };
  EXPECT_THAT(inspect(), HasSubstr("grid search, interrupted, 3/4 trials done"));
  const auto tamper = [&path](const auto& change) {
    h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
    h5::Group root = file.root();
    change(root);
  };

  tamper([](h5::Group& root) {
    root.write_attribute("monitor_mode", "max");
    root.write_attribute("trials_total", int64_t{2});
  });
  EXPECT_EQ(inspect(), path +
                           ": damaged file:\n  /summary lists trial 3, outside the search's "
                           "trials 0 to 1\n  " +
                           path +
                           ":/: attribute 'monitor_mode' is 'max', its recorded config "
                           "says 'min'\n  " +
                           path + ":/: attribute 'trials_total' is 2, its recorded config says 4");

  tamper([](h5::Group& root) {
    root.write_attribute("monitor_mode", "min");
    root.write_attribute("trials_total", int64_t{4});
    root.append_rows("summary", root.read_table("summary"));
  });
  EXPECT_THAT(inspect(), HasSubstr(": damaged file:\n  /summary lists trial 0 twice"));

  // Epochs and rungs the recorded config rules out (max_epochs 50, no scheduler).
  testing::rewrite_summary(path, [](h5::TableRows& rows) {
    rows.resize(3);
    rows.set(0, "epochs_run", int64_t{1000000});
    rows.set(1, "rung", int64_t{2});
  });
  EXPECT_THAT(inspect(), HasSubstr(": damaged file:\n  /summary lists trial 0 with 1000000 epochs "
                                   "run, more than any trial of this search trains (50)\n  "
                                   "/summary lists trial 1 at ASHA rung 2, but the search has "
                                   "no ASHA rungs"));
}

TEST(InspectCommand, EmptySearchSaysSo) {
  testing::TempDir dir;
  const std::string path = dir.file("empty.h5");
  { ResultsWriter writer(path, make_config(), 2, Scaler{}, kFeatures, kClasses, kClasses); }
  const ResultsReader reader(path);
  EXPECT_EQ(render_leaderboard(reader, 5, false),
            path + ": grid search, running, 0/8 trials done\nno trial has finished yet\n");
  const std::string json = render_leaderboard(reader, 5, true);
  EXPECT_THAT(json, HasSubstr("\"leaderboard\":[]"));
  EXPECT_THAT(json, HasSubstr("\"best_trial\":null"));
}

TEST(InspectCommand, JsonParsesAndHoldsTheLeaderboard) {
  if (std::system("/usr/bin/python3 -c 'import json' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 is not available";
  }
  testing::TempDir dir;
  // Quotes, a backslash and a tab in the file name must be escaped.
  const std::string path = make_results(dir, "we\"ird\\na\tme.h5");
  const std::string json = render_leaderboard(ResultsReader(path), 0, true);
  EXPECT_EQ(json.back(), '\n');
  EXPECT_EQ(json.find('\n'), json.size() - 1);  // one line

  const std::string summary = python(
      "import json, sys\n"
      "d = json.load(sys.stdin)\n"
      "print(d['file'])\n"
      "print(d['status'], d['strategy'], d['trials_total'], d['trials_done'], d['best_trial'])\n"
      "print(sorted(d['counts'].items()))\n"
      "print([(e['rank'], e['trial']) for e in d['leaderboard']])\n"
      "e = d['leaderboard'][0]\n"
      "print(e['status'], e['params'], e['best_val_loss'], e['best_val_accuracy'],\n"
      "      e['best_epoch'], e['epochs_run'], e['seconds'], e['worker_rank'], e['has_model'])\n"
      "f = d['leaderboard'][4]\n"
      "print(f['status'], f['best_val_loss'], f['best_epoch'], f['has_model'])\n",
      json, dir);
  EXPECT_EQ(summary,
            path + "\n" +
                "finished grid 8 6 5\n"
                "[('completed', 2), ('diverged', 1), ('early_stopped', 2), ('failed', 1), "
                "('pruned', 0)]\n"
                "[(1, 5), (2, 1), (3, 3), (4, 0), (None, 2), (None, 4)]\n"
                "early_stopped {'learning_rate': 0.001, 'optimizer': 'sgd', 'hidden': [4, 2]} "
                "0.1 0.9 1 2 2.5 1 True\n"
                "failed None -1 False\n")
      << json;
}

// JSON is UTF-8: a file name's UTF-8 stays as it is, a byte that is no UTF-8 (Latin-1 é,
// a cut-off sequence, a surrogate) becomes U+FFFD, so strict parsers read the output.
TEST(InspectCommand, JsonIsValidUtf8WhateverTheFileName) {
  if (std::system("/usr/bin/python3 -c 'import json' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 is not available";
  }
  testing::TempDir dir;
  const std::string path = make_results(dir, "caf\xc3\xa9-lat\xe9-cut\xe2\x82-sur\xed\xa0\x80.h5");
  const std::string json = render_leaderboard(ResultsReader(path), 0, true);
  const std::string name = python(
      "import json, sys\n"
      "d = json.loads(sys.stdin.buffer.read().decode('utf-8'))\n"
      "print(ascii(d['file'].rsplit('/', 1)[1]))\n",
      json, dir);
  EXPECT_EQ(name, "'caf\\xe9-lat\\ufffd-cut\\ufffd\\ufffd-sur\\ufffd\\ufffd\\ufffd.h5'\n");
}

TEST(InspectCommand, JsonTopLimitsTheLeaderboard) {
  testing::TempDir dir;
  const std::string json = render_leaderboard(ResultsReader(make_results(dir)), 1, true);
  EXPECT_THAT(json, HasSubstr("\"leaderboard\":[{\"rank\":1,\"trial\":5,"));
  EXPECT_THAT(json, Not(HasSubstr("\"trial\":1,")));
  EXPECT_THAT(json, HasSubstr("\"counts\":{\"completed\":2,\"early_stopped\":2,\"pruned\":0,"
                              "\"diverged\":1,\"failed\":1}"));
}

}  // namespace
}  // namespace hps
