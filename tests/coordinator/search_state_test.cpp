// SearchState: how trials are born (TPE or draws), judged (ASHA) and learned from, and how a
// resumed search rebuilds that state from its result file.
#include "coordinator/search_state.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/results_file.hpp"
#include "core/tpe.hpp"
#include "test_util.hpp"
#include "worker/trial_runner.hpp"

namespace hps {
namespace {

using testing::TempDir;

constexpr const char* kContinuousSpace = R"(    learning_rate: {log_uniform: [1.0e-4, 1.0e-1]}
    dropout: {uniform: [0.0, 0.5]}
    hidden: [[8], [16], [16, 8]]
)";

SearchConfig tpe_asha_config(int64_t startup = 4, const std::string& space = kContinuousSpace) {
  static const TempDir dir;  // the parser checks that the data file exists; nothing reads it
  testing::write_text(dir.file("train.csv"), "x,label\n0,0\n");
  return parse_search_config(R"(seed: 9
data:
  task: classification
  num_classes: 3
  train: {format: csv, path: train.csv, label_column: label}
model: {hidden: [8]}
training: {optimizer: adam, max_epochs: 9}
early_stopping: {monitor: val_accuracy, patience: 3}
search:
  strategy: tpe
  trials: 40
  tpe: {startup_trials: )" + std::to_string(startup) +
                                 R"(}
  scheduler: asha
  space:
)" + space,
                             "search.yaml", dir.file(""));
}

// A deterministic stand-in for training: accuracy peaks at learning_rate 1e-2, dropout 0.2.
TrialOutcome fake_outcome(const TrialAssignment& trial) {
  TrialOutcome o;
  o.trial_id = trial.trial_id;
  o.status = TrialStatus::kCompleted;
  const double lr = trial.training.optimizer.learning_rate;
  const double score =
      0.9 - 0.05 * std::pow(std::log10(lr) + 2.0, 2) - 0.5 * std::pow(trial.model.dropout - 0.2, 2);
  for (int e = 0; e < 3; ++e) {
    EpochRecord r;
    r.epoch = e;
    r.val_metric = score - 0.01 * (2 - e);
    r.val_loss = 1.0 - r.val_metric;
    o.history.epochs.push_back(r);
  }
  o.best_epoch = 2;
  o.best_value = score;
  return o;
}

/// What the dispatcher reports for a trial that failed (or could not be made) with `message`.
TrialOutcome failed_outcome(int64_t id, const std::string& message = "") {
  TrialOutcome o;
  o.trial_id = id;
  o.status = TrialStatus::kFailed;
  o.message = message;
  return o;
}

/// Makes trials 0..n-1 with `state` one at a time, each finished with fake_outcome before the
/// next is made; returns their points.
std::vector<std::vector<ParamAssignment>> finish_sequentially(SearchState& state, int n) {
  std::vector<std::vector<ParamAssignment>> made;
  for (int64_t id = 0; id < n; ++id) {
    const TrialAssignment trial = state.make(id);
    TrialOutcome outcome = fake_outcome(trial);
    made.push_back(state.finished(trial, outcome));
  }
  return made;
}

std::vector<std::vector<ParamAssignment>> run_sequentially(const SearchConfig& config, int n) {
  SearchState state(config);
  return finish_sequentially(state, n);
}

TEST(SearchState, TpeSequenceIsReproducibleWithOneWorker) {
  const SearchConfig config = tpe_asha_config();
  const auto a = run_sequentially(config, 15);
  const auto b = run_sequentially(config, 15);
  EXPECT_EQ(a, b);
  // After the random start, points come from TPE, not from the random draws.
  EXPECT_EQ(a[2], trial_values(config.search, 2));
  EXPECT_NE(a[10], trial_values(config.search, 10));
}

// make()'s contract when the trial's settings cannot be made (a hand-built space holding a
// value the parser would refuse): the trial counts as running until finished() takes its
// failed outcome, which hands back the drawn values for the record and teaches TPE nothing.
TEST(SearchState, ATrialThatCannotBeMadeFinishesAsFailedAndTeachesNothing) {
  SearchConfig config = tpe_asha_config();
  for (ParamSpec& spec : config.search.space)
    if (spec.name == "dropout") {
      spec.form = ParamForm::kChoice;
      spec.choices = {1.5};
    }
  SearchState state(config);
  EXPECT_THROW(state.make(0), ConfigError);
  EXPECT_EQ(state.running(), 1u);
  TrialAssignment trial;
  trial.trial_id = 0;
  TrialOutcome failed = failed_outcome(0, "search.space.dropout: trial 0: ...");
  EXPECT_EQ(state.finished(trial, failed), trial_values(config.search, 0));
  EXPECT_EQ(state.running(), 0u);
  ASSERT_NE(state.tpe(), nullptr);
  EXPECT_EQ(state.tpe()->observed(), 0);
}

// A trial make() could not make reaches finished() as the dispatcher reports it, failed
// with make()'s error; the search cannot record it, and the error it ends with says why.
TEST(SearchState, FinishingATrialNeverMadeNamesWhyItWasNot) {
  SearchState state(tpe_asha_config());
  TrialAssignment never;
  never.trial_id = 5;
  TrialOutcome failed = failed_outcome(5, "TpeSampler::sample(): out of memory");
  try {
    state.finished(never, failed);
    ADD_FAILURE() << "finished() accepted a trial make() never made";
  } catch (const std::logic_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("trial 5 was not made by make(): "
                                               "TpeSampler::sample(): out of memory"));
  }
}

// In a space of 18 points TPE's draws crowd around the best one, so 10 trials in flight
// repeat points unless the running ones reach the sampler.
TEST(SearchState, NoNearDuplicatesAmongTrialsInFlight) {
  const SearchConfig config = tpe_asha_config(4, R"(    learning_rate: [1.0e-3, 1.0e-2, 1.0e-1]
    dropout: [0.0, 0.2]
    hidden: [[8], [16], [16, 8]]
)");
  SearchState state(config);
  finish_sequentially(state, 8);  // past TPE's random start
  // 10 workers each take a trial before any reports back.
  std::vector<TrialAssignment> made;
  for (int64_t id = 8; id < 18; ++id) made.push_back(state.make(id));
  EXPECT_EQ(state.running(), 10u);
  std::vector<std::vector<ParamAssignment>> points;
  for (const TrialAssignment& trial : made) {
    // To read back each trial's values; failed trials teach TPE nothing.
    TrialOutcome failed = failed_outcome(trial.trial_id);
    points.push_back(state.finished(trial, failed));
  }
  const TpeSampler tpe(config.search.space, config.search.tpe, 0, true);
  for (size_t i = 0; i < points.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      EXPECT_FALSE(tpe.near_duplicate(points[i], points[j]))
          << "trials " << i + 8 << " and " << j + 8 << " were in flight together";
}

TEST(SearchState, AshaJudgesReportsAndTheOutcomeCarriesTheRung) {
  const SearchConfig config = tpe_asha_config();  // max_epochs 9: rungs 1 and 3
  SearchState state(config);
  const TrialAssignment a = state.make(0);
  const TrialAssignment b = state.make(1);
  EXPECT_TRUE(a.report_epochs);
  EpochRecord r;
  r.epoch = 0;
  r.val_metric = 0.8;
  EXPECT_FALSE(state.judge({0, r}).prune);
  r.val_metric = 0.7;
  const EpochVerdict verdict = state.judge({1, r});
  EXPECT_TRUE(verdict.prune);
  EXPECT_THAT(verdict.reason, ::testing::HasSubstr("rung 0"));
  TrialOutcome pruned;
  pruned.trial_id = 1;
  pruned.status = TrialStatus::kPruned;
  pruned.best_value = 0.7;
  pruned.history.epochs.push_back(r);
  state.finished(b, pruned);
  EXPECT_EQ(pruned.rung, 0);
  // Trial 0 goes on to the next rung (epoch 3), first there: the outcome says rung 1.
  r.epoch = 2;
  r.val_metric = 0.85;
  EXPECT_FALSE(state.judge({0, r}).prune);
  TrialOutcome completed;
  completed.trial_id = 0;
  completed.status = TrialStatus::kCompleted;
  completed.best_value = 0.85;
  state.finished(a, completed);
  EXPECT_EQ(completed.rung, 1);
  // A trial that reported no epoch reached no rung.
  const TrialAssignment c = state.make(2);
  TrialOutcome failed = failed_outcome(2);
  state.finished(c, failed);
  EXPECT_EQ(failed.rung, -1);
}

/// Makes trials 0..count-1 with `state`, finishes each with `outcome_of(trial)` and records
/// them in a result file at `path` left as an interrupted search.
void record_trials(const SearchConfig& config, SearchState& state, const std::string& path,
                   int64_t count, TrialOutcome (*outcome_of)(const TrialAssignment&)) {
  Scaler scaler;
  ResultsWriter writer(path, config, 1, scaler, 4, 3, 3);
  for (int64_t id = 0; id < count; ++id) {
    const TrialAssignment trial = state.make(id);
    TrialOutcome outcome = outcome_of(trial);
    writer.add(trial, state.finished(trial, outcome), outcome);
  }
  writer.finish("interrupted", 0.0);
}

/// The same with a SearchState of its own: a search that ran before this one.
void record_trials(const SearchConfig& config, const std::string& path, int64_t count,
                   TrialOutcome (*outcome_of)(const TrialAssignment&)) {
  SearchState state(config);
  record_trials(config, state, path, count, outcome_of);
}

TEST(SearchState, ResumeReplaysTpeObservationsAndAshaRungs) {
  TempDir dir;
  const SearchConfig config = tpe_asha_config(/*startup=*/3);
  const std::string path = dir.file("search.h5");
  record_trials(config, path, 3, fake_outcome);
  SearchState fresh(config);
  SearchState resumed(config);
  resumed.replay(ResultsReader(path));
  // TPE has its 3 startup observations back: trial 3 is a TPE point, not a random draw.
  EXPECT_EQ(fresh.make(3).training.optimizer.learning_rate,
            make_trial(config, 3).training.optimizer.learning_rate);
  EXPECT_NE(resumed.make(3).training.optimizer.learning_rate,
            make_trial(config, 3).training.optimizer.learning_rate);
  // ASHA's rung 0 holds the three recorded values: a poor newcomer is pruned at once.
  EpochRecord r;
  r.epoch = 0;
  r.val_metric = 0.0;
  EXPECT_TRUE(resumed.judge({3, r}).prune);
  EXPECT_FALSE(fresh.judge({3, r}).prune) << "first at the rung";
}

// The median rule is replayed too: a resumed search judges a newcomer against the recorded
// trials' values at the same epoch.
TEST(SearchState, ResumeReplaysTheMedianRule) {
  TempDir dir;
  SearchConfig config = tpe_asha_config(/*startup=*/3);
  config.search.scheduler.kind = SchedulerKind::kMedian;
  config.search.scheduler.warmup_epochs = 0;
  config.search.scheduler.min_trials = 2;
  const std::string path = dir.file("search.h5");
  record_trials(config, path, 3, fake_outcome);
  SearchState fresh(config);
  SearchState resumed(config);
  resumed.replay(ResultsReader(path));
  fresh.make(3);
  resumed.make(3);
  EpochRecord r;
  r.epoch = 1;
  r.val_metric = 0.0;
  const EpochVerdict verdict = resumed.judge({3, r});
  EXPECT_TRUE(verdict.prune);
  EXPECT_THAT(verdict.reason, ::testing::HasSubstr("median"));
  EXPECT_THAT(verdict.reason, ::testing::HasSubstr("of 3 other trials at that epoch"));
  EXPECT_FALSE(fresh.judge({3, r}).prune) << "no other trial has reported epoch 2";
}

// replay(before): the trials with smaller ids, as the same search stopped there recorded them.
TEST(SearchState, ReplayBeforeAnIdSeesOnlyTheTrialsBeforeIt) {
  TempDir dir;
  const SearchConfig config = tpe_asha_config(/*startup=*/3);
  const std::string path = dir.file("search.h5");
  record_trials(config, path, 8, fake_outcome);
  SearchState early(config);
  early.replay(ResultsReader(path), /*before=*/5);
  ASSERT_NE(early.tpe(), nullptr);
  EXPECT_EQ(early.tpe()->observed(), 5);
  SearchState live(config);  // the same search, stopped after trial 4
  finish_sequentially(live, 5);
  EXPECT_EQ(early.make(5).training.optimizer.learning_rate,
            live.make(5).training.optimizer.learning_rate);
  SearchState all(config);
  all.replay(ResultsReader(path));
  EXPECT_EQ(all.tpe()->observed(), 8);

  SearchConfig random = config;
  random.search.strategy = SearchStrategy::kRandom;
  EXPECT_EQ(SearchState(random).tpe(), nullptr);
}

// Trial 0 diverges in its first epoch: its validation loss is NaN but its accuracy (0.95) is
// finite. The live run never reported that epoch to ASHA, so a resumed one must not either.
TrialOutcome diverged_outcome(const TrialAssignment& trial) {
  TrialOutcome o;
  o.trial_id = trial.trial_id;
  o.status = TrialStatus::kDiverged;
  EpochRecord r;
  r.epoch = 0;
  r.val_loss = std::nan("");
  r.val_metric = 0.95;
  o.history.epochs.push_back(r);
  o.best_value = std::nan("");
  return o;
}

TEST(SearchState, ResumeLeavesADivergedEpochOutOfTheRungs) {
  TempDir dir;
  const SearchConfig config = tpe_asha_config();
  const std::string path = dir.file("search.h5");
  record_trials(config, path, 1, diverged_outcome);
  SearchState resumed(config);
  resumed.replay(ResultsReader(path));
  EpochRecord r;
  r.epoch = 0;
  r.val_metric = 0.5;
  r.val_loss = 0.5;
  EXPECT_FALSE(resumed.judge({1, r}).prune) << "first at the rung, as in the live run";
}

// fake_outcome, except that trial 2 fails before its first epoch (no history) and trial 5
// diverges in its first (diverged_outcome).
TrialOutcome mixed_outcome(const TrialAssignment& trial) {
  if (trial.trial_id == 5) return diverged_outcome(trial);
  if (trial.trial_id != 2) return fake_outcome(trial);
  TrialOutcome o;
  o.trial_id = trial.trial_id;
  o.status = TrialStatus::kFailed;
  o.message = "could not build the network";
  o.best_value = std::nan("");
  return o;
}

// A resume replays the state from the reads of its checks (resume_problems' visitor), not by
// reading every history a second time: that must learn exactly what replay() learns.
TEST(SearchState, ReplayingFromTheResumeChecksLearnsWhatReplayLearns) {
  TempDir dir;
  const SearchConfig config = tpe_asha_config(/*startup=*/3);  // ASHA rungs at 1 and 3 epochs
  const std::string path = dir.file("search.h5");
  record_trials(config, path, 8, mixed_outcome);
  const ResultsReader recorded(path);
  const std::vector<SummaryRow> rows = recorded.summary();
  SearchState replayed(config);
  replayed.replay(recorded);
  SearchState visited(config);
  std::vector<int64_t> order;
  const std::vector<std::string> problems = recorded.resume_problems(
      config, rows, [&](const SummaryRow& row, double best_value, const History& history) {
        order.push_back(row.trial);
        EXPECT_EQ(history.epochs.size(), static_cast<size_t>(row.epochs_run)) << row.trial;
        visited.replay_trial(row, best_value, history);
      });
  EXPECT_THAT(problems, ::testing::IsEmpty());
  std::vector<int64_t> expected;
  for (const SummaryRow& row : rows) expected.push_back(row.trial);
  EXPECT_EQ(order, expected);
  // TPE saw the 7 trials that did not fail (the failed one taught it nothing).
  ASSERT_NE(visited.tpe(), nullptr);
  EXPECT_EQ(visited.tpe()->observed(), replayed.tpe()->observed());
  EXPECT_EQ(visited.tpe()->observed(), 7);
  EXPECT_EQ(visited.make(8).training.optimizer.learning_rate,
            replayed.make(8).training.optimizer.learning_rate);
  // ASHA's first rung holds the recorded values in both: a newcomer at 0 is pruned (a fresh
  // search would let it on, first at the rung), one at 1.0 goes on.
  EpochRecord r;
  r.epoch = 0;
  r.val_metric = 0.0;
  EXPECT_TRUE(replayed.judge({9, r}).prune);
  EXPECT_TRUE(visited.judge({9, r}).prune);
  r.val_metric = 1.0;
  EXPECT_FALSE(replayed.judge({10, r}).prune);
  EXPECT_FALSE(visited.judge({10, r}).prune);
}

// A visitor that throws makes one problem, however many rows it would have thrown for.
TEST(SearchState, AResumeVisitorThatThrowsIsOneProblem) {
  TempDir dir;
  const SearchConfig config = tpe_asha_config(/*startup=*/3);
  const std::string path = dir.file("search.h5");
  record_trials(config, path, 4, fake_outcome);
  const ResultsReader recorded(path);
  int calls = 0;
  const std::vector<std::string> problems = recorded.resume_problems(
      config, recorded.summary(), [&](const SummaryRow&, double, const History&) {
        ++calls;
        throw std::runtime_error("cannot replay");
      });
  EXPECT_EQ(calls, 1);
  EXPECT_THAT(problems, ::testing::ElementsAre("cannot replay"));
}

// Trial 0 really trains (worker/trial_runner) and reports epochs 0 to 2 to ASHA, which records
// it at both rungs (after 1 and 3 epochs); then it runs out of memory. The rebuilt rungs must
// hold what the live ones hold, and TPE must still learn nothing from the failed trial.
TEST(SearchState, ResumeReplaysTheEpochsOfAFailedTrialIntoTheRungs) {
  TempDir dir;
  const SearchConfig config = tpe_asha_config(/*startup=*/1);
  const std::string path = dir.file("search.h5");
  PreparedData data;
  data.train = testing::make_blobs(120, 6, 3, 1);
  data.validation = testing::make_blobs(30, 6, 3, 2);
  SearchState live(config);
  {
    Scaler scaler;
    ResultsWriter writer(path, config, 1, scaler, 6, 3, 3);
    const TrialAssignment trial = live.make(0);
    ASSERT_TRUE(trial.report_epochs);
    const EpochJudge judge = [&live](const EpochReport& report) {
      if (report.record.epoch == 3) throw std::bad_alloc();
      return live.judge(report);
    };
    TrialOutcome outcome = run_trial(trial, data, 0, judge);
    ASSERT_EQ(outcome.status, TrialStatus::kFailed);
    writer.add(trial, live.finished(trial, outcome), outcome);
    writer.finish("interrupted", 0.0);
  }
  SearchState resumed(config);
  resumed.replay(ResultsReader(path));
  // Newcomers that score nothing, at rung 0 (trial 1) and rung 1 (trial 2).
  for (const int epoch : {0, 2}) {
    EpochRecord r;
    r.epoch = epoch;
    r.val_metric = 0.0;
    r.val_loss = 9.0;
    const int64_t newcomer = epoch == 0 ? 1 : 2;
    EXPECT_TRUE(live.judge({newcomer, r}).prune) << "behind trial 0 at epoch " << epoch;
    EXPECT_TRUE(resumed.judge({newcomer, r}).prune) << "as in the live run, epoch " << epoch;
  }
  // One startup trial, but a failed one is no observation: trial 1 is still a random draw.
  EXPECT_EQ(resumed.make(1).training.optimizer.learning_rate,
            make_trial(config, 1).training.optimizer.learning_rate);
}

// Odd trials are pruned after one epoch; even ones run three, and their first epoch says the
// opposite of their last (the worst finishers start best), so ranking at one epoch and ranking
// by final value disagree.
TrialOutcome curve_outcome(const TrialAssignment& trial) {
  TrialOutcome o = fake_outcome(trial);
  if (trial.trial_id % 2 == 1) {
    o.status = TrialStatus::kPruned;
    o.history.epochs.resize(1);
    o.best_epoch = 0;
    o.best_value = o.history.epochs[0].val_metric;
  } else {
    o.history.epochs[0].val_metric = 1.2 - o.best_value;
  }
  return o;
}

std::pair<double, double> point_of(const TrialAssignment& trial) {
  return {trial.training.optimizer.learning_rate, trial.model.dropout};
}

TEST(SearchState, EqualBudgetRankingSeesTheSameCurvesAfterResume) {
  TempDir dir;
  SearchConfig config = tpe_asha_config(/*startup=*/3);
  config.search.tpe.ranking = TpeRanking::kEqualBudget;
  SearchConfig finished_first = config;
  finished_first.search.tpe.ranking = TpeRanking::kFinishedFirst;
  const std::string path = dir.file("search.h5");
  SearchState live(config);
  record_trials(config, live, path, 8, curve_outcome);
  SearchState resumed(config);
  resumed.replay(ResultsReader(path));
  SearchState other_rule(finished_first);
  other_rule.replay(ResultsReader(path));
  int differs = 0;
  for (int64_t id = 8; id < 12; ++id) {
    const auto next = point_of(live.make(id));
    EXPECT_EQ(point_of(resumed.make(id)), next) << "trial " << id;
    differs += point_of(other_rule.make(id)) != next;
  }
  EXPECT_GT(differs, 0) << "the two rankings should lead to different points here";
}

}  // namespace
}  // namespace hps
