#include "worker/trial_runner.hpp"

#include <gtest/gtest.h>

#include <new>
#include <stdexcept>
#include <vector>

#include "test_util.hpp"

namespace hps {
namespace {

PreparedData blobs() {
  PreparedData d;
  d.train = testing::make_blobs(120, 6, 3, 1);
  d.validation = testing::make_blobs(30, 6, 3, 2);
  return d;
}

TrialAssignment small_trial() {
  TrialAssignment t;
  t.trial_id = 9;
  t.seed = 11;
  t.model.hidden = {16};
  t.training.batch_size = 16;
  t.training.max_epochs = 5;
  return t;
}

TEST(TrialRunner, ReportsTrainingAndTheReturnedWeights) {
  const PreparedData data = blobs();
  const TrialOutcome o = run_trial(small_trial(), data, 4);
  EXPECT_EQ(o.trial_id, 9);
  EXPECT_EQ(o.rank, 4);
  EXPECT_EQ(o.status, TrialStatus::kCompleted);
  EXPECT_EQ(o.history.epochs.size(), 5u);
  EXPECT_EQ(o.weights.size(), 6 * 16 + 16 + 16 * 3 + 3);
  EXPECT_GT(o.seconds, 0.0);
  EXPECT_DOUBLE_EQ(o.best_value, o.history.epochs[static_cast<size_t>(o.best_epoch)].val_loss);
  // Same trial, same result, whichever rank runs it.
  const TrialOutcome again = run_trial(small_trial(), data, 1);
  EXPECT_TRUE(again.weights == o.weights);
}

TEST(TrialRunner, ABadTrialIsAFailedOutcomeNotAnException) {
  PreparedData data = blobs();
  data.validation = testing::make_blobs(30, 7, 3, 2);  // does not fit the training data
  TrialOutcome o;
  ASSERT_NO_THROW(o = run_trial(small_trial(), data, 0));
  EXPECT_EQ(o.status, TrialStatus::kFailed);
  EXPECT_NE(o.message.find("features"), std::string::npos);
}

// A trial that fails part-way keeps the epochs it finished: a scheduler has heard of them, and
// a resumed search must replay them to rebuild the same rungs.
TEST(TrialRunner, AFailureAfterSomeEpochsKeepsTheirHistory) {
  const PreparedData data = blobs();
  TrialAssignment trial = small_trial();
  trial.report_epochs = true;
  std::vector<int> heard;
  const EpochJudge judge = [&](const EpochReport& report) {
    heard.push_back(report.record.epoch);
    if (report.record.epoch == 2) throw std::runtime_error("the coordinator went away");
    return EpochVerdict{};
  };
  TrialOutcome o;
  ASSERT_NO_THROW(o = run_trial(trial, data, 0, judge));
  EXPECT_EQ(o.status, TrialStatus::kFailed);
  EXPECT_EQ(o.message, "the coordinator went away");
  EXPECT_EQ(heard, (std::vector<int>{0, 1, 2}));
  ASSERT_EQ(o.history.epochs.size(), 2u)
      << "the epochs the judge accepted, not the one it threw on";
  EXPECT_EQ(o.history.epochs[1].epoch, 1);
  // The same epochs as the run that did not fail.
  const TrialOutcome whole = run_trial(small_trial(), data, 0);
  EXPECT_DOUBLE_EQ(o.history.epochs[1].val_loss, whole.history.epochs[1].val_loss);
}

// The out-of-memory branch keeps them too, with its own message.
TEST(TrialRunner, RunningOutOfMemoryAfterSomeEpochsKeepsTheirHistory) {
  const PreparedData data = blobs();
  TrialAssignment trial = small_trial();
  trial.report_epochs = true;
  const EpochJudge judge = [](const EpochReport& report) {
    if (report.record.epoch == 1) throw std::bad_alloc();
    return EpochVerdict{};
  };
  const TrialOutcome o = run_trial(trial, data, 0, judge);
  EXPECT_EQ(o.status, TrialStatus::kFailed);
  EXPECT_NE(o.message.find("out of memory"), std::string::npos) << o.message;
  ASSERT_EQ(o.history.epochs.size(), 1u);
  EXPECT_EQ(o.history.epochs[0].epoch, 0);
}

// Widths are bounded only below in configs. A parameter count that wrapped used to allocate a
// small vector and crash the rank; too large a network is a failed trial that says why.
TEST(TrialRunner, ANetworkTooLargeToCountOrAllocateIsAFailedTrial) {
  const PreparedData data = blobs();
  TrialAssignment wraps = small_trial();
  wraps.model.hidden = {3037000500, 3037000500};  // 3037000500^2 > 2^63
  TrialOutcome o;
  ASSERT_NO_THROW(o = run_trial(wraps, data, 0));
  EXPECT_EQ(o.status, TrialStatus::kFailed);
  EXPECT_EQ(o.message,
            "network 6-3037000500-3037000500-3 has more parameters than can be "
            "counted (over 2^63)");
  EXPECT_EQ(o.weights.size(), 0);

  TrialAssignment huge = small_trial();
  huge.model.hidden = {Index{1} << 58};  // 11.5 EB of float: no allocator gives that
  ASSERT_NO_THROW(o = run_trial(huge, data, 0));
  EXPECT_EQ(o.status, TrialStatus::kFailed);
  EXPECT_NE(o.message.find("network 6-288230376151711744-3 has 2882303761517117443 "
                           "parameters"),
            std::string::npos)
      << o.message;
  EXPECT_NE(o.message.find("out of memory"), std::string::npos) << o.message;
}

}  // namespace
}  // namespace hps
