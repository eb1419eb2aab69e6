#include "core/scheduler.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace hps {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

SchedulerSettings asha(int64_t eta, int64_t min_epochs, int64_t grace = 0) {
  SchedulerSettings s;
  s.kind = SchedulerKind::kAsha;
  s.reduction_factor = eta;
  s.min_epochs = min_epochs;
  s.grace = grace;
  return s;
}

SchedulerSettings median(int64_t warmup, int64_t min_trials) {
  SchedulerSettings s;
  s.kind = SchedulerKind::kMedian;
  s.warmup_epochs = warmup;
  s.min_trials = min_trials;
  return s;
}

TEST(Asha, RungsSitAtMinEpochsTimesPowersOfEtaBelowMaxEpochs) {
  EXPECT_THAT(Scheduler(asha(3, 1), true, 60).rungs(), ElementsAre(1, 3, 9, 27));
  EXPECT_THAT(Scheduler(asha(3, 2), true, 60).rungs(), ElementsAre(2, 6, 18, 54));
  EXPECT_THAT(Scheduler(asha(2, 1), true, 9).rungs(), ElementsAre(1, 2, 4, 8));
  // grace (Li et al.'s s) skips the first rungs.
  EXPECT_THAT(Scheduler(asha(3, 1, 1), true, 60).rungs(), ElementsAre(3, 9, 27));
  // An explicit max_epochs (R) overrides the training cap.
  SchedulerSettings s = asha(3, 1);
  s.max_epochs = 10;
  EXPECT_THAT(Scheduler(s, true, 60).rungs(), ElementsAre(1, 3, 9));
  EXPECT_TRUE(Scheduler(asha(3, 5), true, 5).rungs().empty());
  EXPECT_THROW(Scheduler(asha(1, 1), true, 10), std::invalid_argument);
  EXPECT_THROW(Scheduler(asha(3, 0), true, 10), std::invalid_argument);
}

// Rung 0 is epoch 1 (epoch index 0). With eta 3, a newcomer continues when it ranks within
// the top max(1, floor(n / 3)) of the n values recorded at the rung so far.
TEST(Asha, PromotionThresholdIsTheTopThirdOfWhatArrivedSoFar) {
  Scheduler s(asha(3, 1), true, 27);
  struct Step {
    double value;
    bool prune;
  };
  // n:          1       2       3      4       5       6      7       8 (tie with the best)
  const std::vector<Step> steps = {{0.50, false}, {0.40, true},  {0.60, false}, {0.55, true},
                                   {0.45, true},  {0.58, false}, {0.57, true},  {0.60, false}};
  for (size_t i = 0; i < steps.size(); ++i) {
    const PruneDecision d = s.report(static_cast<int64_t>(i), 0, steps[i].value);
    EXPECT_EQ(d.prune, steps[i].prune) << "arrival " << i + 1 << " value " << steps[i].value;
    EXPECT_EQ(d.reason.empty(), !d.prune);
  }
  EXPECT_THAT(s.rung_values(0), ElementsAre(0.50, 0.40, 0.60, 0.55, 0.45, 0.58, 0.57, 0.60));
  // The reason names the rung, the rank and the cutoff (the keep-th best value).
  const PruneDecision d = s.report(100, 0, 0.3);
  EXPECT_TRUE(d.prune);
  EXPECT_THAT(d.reason, HasSubstr("rung 0 (epoch 1)"));
  EXPECT_THAT(d.reason, HasSubstr("ranks 9 of 9, only the top 3 continue (cutoff 0.58)"));
}

// Only one of four continues at a rung with eta 3; a newcomer tied with the best is that one.
TEST(Asha, ATieAtTheCutoffGoesToTheNewcomer) {
  Scheduler s(asha(3, 1), true, 27);
  EXPECT_FALSE(s.report(0, 0, 0.5).prune);
  EXPECT_TRUE(s.report(1, 0, 0.4).prune);
  EXPECT_TRUE(s.report(2, 0, 0.3).prune);
  EXPECT_FALSE(s.report(3, 0, 0.5).prune) << "ties the keep-th best (0.5): continues";
  EXPECT_TRUE(s.report(4, 0, 0.49).prune);
  Scheduler loss(asha(3, 1), false, 27);  // minimizing: the same rule
  EXPECT_FALSE(loss.report(0, 0, 1.0).prune);
  EXPECT_TRUE(loss.report(1, 0, 2.0).prune);
  EXPECT_TRUE(loss.report(2, 0, 3.0).prune);
  EXPECT_FALSE(loss.report(3, 0, 1.0).prune);
}

TEST(Asha, DecisionsDependOnArrivalOrderAndNobodyWaits) {
  // The same three values in two orders: the first arrival always continues.
  Scheduler up(asha(3, 1), true, 27);
  EXPECT_FALSE(up.report(0, 0, 0.1).prune);
  EXPECT_FALSE(up.report(1, 0, 0.2).prune);
  EXPECT_FALSE(up.report(2, 0, 0.3).prune);
  Scheduler down(asha(3, 1), true, 27);
  EXPECT_FALSE(down.report(0, 0, 0.3).prune);
  EXPECT_TRUE(down.report(1, 0, 0.2).prune);
  EXPECT_TRUE(down.report(2, 0, 0.1).prune);
}

TEST(Asha, OnlyRungEpochsDecideAndEachRungComparesWithItsOwnValues) {
  Scheduler s(asha(3, 1), true, 27);        // rungs at 1, 3, 9 epochs: indices 0, 2, 8
  EXPECT_FALSE(s.report(0, 0, 0.5).prune);  // first at rung 0
  EXPECT_FALSE(s.report(1, 0, 0.6).prune);  // best of 2 at rung 0
  EXPECT_FALSE(s.report(1, 1, 0.1).prune) << "epoch 2 is no rung";
  EXPECT_FALSE(s.report(1, 2, 0.8).prune);  // first at rung 1
  EXPECT_FALSE(s.report(0, 1, 0.55).prune);
  // Trial 0 passed rung 0 as its first arrival; at rung 1 it meets trial 1's 0.8.
  const PruneDecision d = s.report(0, 2, 0.6);
  EXPECT_TRUE(d.prune);
  EXPECT_THAT(d.reason, HasSubstr("rung 1 (epoch 3)"));
  EXPECT_EQ(s.rung_of(0), 1);
  EXPECT_EQ(s.rung_of(1), 1);
  EXPECT_EQ(s.rung_of(7), -1);
  EXPECT_THAT(s.rung_values(0), ElementsAre(0.5, 0.6));
  EXPECT_THAT(s.rung_values(1), ElementsAre(0.8, 0.6));
}

TEST(Asha, RecordsTheBestValueSoFarAndMinimizesToo) {
  Scheduler s(asha(2, 1), false, 8);  // val_loss: smaller is better; rungs 1, 2, 4
  EXPECT_FALSE(s.report(0, 0, 1.0).prune);
  EXPECT_FALSE(s.report(0, 1, 0.5).prune);
  EXPECT_FALSE(s.report(0, 2, 0.9).prune);
  EXPECT_FALSE(s.report(0, 3, 0.8).prune);  // rung 2 (epoch 4) records the best so far, 0.5
  EXPECT_THAT(s.rung_values(2), ElementsAre(0.5));
  EXPECT_TRUE(s.report(1, 0, 2.0).prune);   // 2.0 is worse than 1.0
  EXPECT_FALSE(s.report(2, 0, 0.7).prune);  // n 3, keep 1: the best
}

TEST(Asha, NonFiniteValuesAreIgnored) {
  Scheduler s(asha(3, 1), true, 27);
  EXPECT_FALSE(s.report(0, 0, std::numeric_limits<double>::quiet_NaN()).prune);
  EXPECT_TRUE(s.rung_values(0).empty());
}

TEST(Asha, ReplayedTrialsCountWithoutBeingJudged) {
  Scheduler s(asha(3, 1), true, 27);
  s.replay(0, {0.2, 0.3, 0.4});  // reaches rungs 0 and 1
  s.replay(1, {0.9});
  EXPECT_EQ(s.rung_of(0), 1);
  EXPECT_THAT(s.rung_values(0), ElementsAre(0.2, 0.9));
  EXPECT_THAT(s.rung_values(1), ElementsAre(0.4));
  EXPECT_TRUE(s.report(2, 0, 0.5).prune);  // n 3, keep 1, and 0.9 is better
}

TEST(Median, PrunesBelowTheMedianOfOthersAtTheSameEpochAfterWarmup) {
  Scheduler s(median(1, 3), true, 100);
  // Three trials report epochs 0 and 1.
  for (int64_t t = 0; t < 3; ++t) {
    EXPECT_FALSE(s.report(t, 0, 0.5 + 0.1 * static_cast<double>(t)).prune);
    EXPECT_FALSE(s.report(t, 1, 0.6 + 0.1 * static_cast<double>(t)).prune);
  }
  // Epoch 0 is the warm-up: never pruned however bad.
  EXPECT_FALSE(s.report(3, 0, 0.0).prune);
  // Epoch 1: others' bests 0.6, 0.7, 0.8, median 0.7; the trial's best so far counts.
  const PruneDecision d = s.report(3, 1, 0.65);
  EXPECT_TRUE(d.prune);
  EXPECT_THAT(d.reason, HasSubstr("median 0.7 of 3 other trials"));
  // Pruned trials count too: epoch 1 now holds 0.6, 0.65 (trial 3), 0.7 and 0.8, median 0.675.
  EXPECT_FALSE(s.report(4, 0, 0.7).prune);
  EXPECT_FALSE(s.report(4, 1, 0.1).prune) << "best so far 0.7 is above the median 0.675";
  // Trial 5 meets 0.6, 0.65, 0.7, 0.7 and 0.8: median 0.7.
  EXPECT_FALSE(s.report(5, 0, 0.69).prune);
  EXPECT_THAT(s.report(5, 1, 0.1).reason, HasSubstr("median 0.7 of 5 other trials"));
}

TEST(Median, ATieWithTheMedianContinues) {
  Scheduler s(median(0, 3), true, 100);
  EXPECT_FALSE(s.report(0, 0, 0.25).prune);
  EXPECT_FALSE(s.report(1, 0, 0.5).prune);
  EXPECT_FALSE(s.report(2, 0, 0.75).prune);
  EXPECT_FALSE(s.report(3, 0, 0.5).prune) << "equal to the median 0.5 of 0.25, 0.5, 0.75";
  EXPECT_TRUE(s.report(4, 0, 0.4375).prune);  // below the median 0.5 of 0.25, 0.5, 0.5, 0.75
}

TEST(Median, WaitsForMinTrialsAndAveragesAnEvenCount) {
  Scheduler s(median(0, 2), false, 100);  // minimize
  EXPECT_FALSE(s.report(0, 0, 1.0).prune);
  EXPECT_FALSE(s.report(1, 0, 5.0).prune) << "only one other trial has reported";
  // Others 1.0 and 5.0: median 3.0, their mean, not the lower (1.0) or upper (5.0) of the two.
  EXPECT_THAT(s.report(2, 0, 3.5).reason, HasSubstr("median 3 of 2 other trials"));
  EXPECT_FALSE(s.report(3, 0, 2.9).prune);
  // Others 1.0, 3.5, 5.0 and 2.9: median 3.2.
  EXPECT_THAT(s.report(4, 0, 3.25).reason, HasSubstr("median 3.2 of 4 other trials"));
  EXPECT_FALSE(s.report(5, 0, 3.15).prune);
}

// --resume: the recorded trials' values count for the median as if they had just reported.
TEST(Median, ReplayedTrialsCountForTheMedian) {
  Scheduler s(median(1, 3), true, 100);
  s.replay(0, {0.5, 0.6});
  s.replay(1, {0.6, 0.7});
  s.replay(2, {0.7, 0.4});  // its best at epoch 1 is still 0.7
  EXPECT_FALSE(s.report(3, 0, 0.1).prune) << "epoch 0 is the warm-up";
  EXPECT_THAT(s.report(3, 1, 0.65).reason, HasSubstr("median 0.7 of 3 other trials"));
  EXPECT_FALSE(s.report(4, 0, 0.1).prune);
  EXPECT_FALSE(s.report(4, 1, 0.7).prune);
}

TEST(Median, RefusesSettingsOutOfRange) {
  EXPECT_THROW(Scheduler(median(-1, 3), true, 10), std::invalid_argument);
  EXPECT_THROW(Scheduler(median(1, 0), true, 10), std::invalid_argument);
  EXPECT_NO_THROW(Scheduler(median(0, 1), true, 10));
}

TEST(Scheduler, NoneNeverPrunes) {
  Scheduler s(SchedulerSettings{}, true, 10);
  for (int64_t t = 0; t < 20; ++t) EXPECT_FALSE(s.report(t, 0, -static_cast<double>(t)).prune);
  EXPECT_TRUE(s.rungs().empty());
}

}  // namespace
}  // namespace hps
