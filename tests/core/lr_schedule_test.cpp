// Keras ReduceLROnPlateau semantics (without cooldown), case by case.
#include "core/lr_schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace hps {
namespace {

LrPlateauConfig plateau(double factor, int patience, double min_lr = 0.0) {
  LrPlateauConfig c;
  c.enabled = true;
  c.factor = factor;
  c.patience = patience;
  c.min_lr = min_lr;
  return c;
}

EarlyStoppingConfig watching(Monitor monitor, double min_delta = 0.0) {
  EarlyStoppingConfig c;
  c.monitor = monitor;
  c.min_delta = min_delta;
  return c;
}

// Feeds `values` and returns the rate after each epoch.
std::vector<double> rates(LrPlateau& schedule, const std::vector<double>& values) {
  std::vector<double> out;
  for (const double v : values) {
    schedule.update(v);
    out.push_back(schedule.learning_rate());
  }
  return out;
}

TEST(LrPlateau, LowersTheRateAfterPatienceEpochsWithoutImprovementAndCountsAgain) {
  LrPlateau schedule(plateau(0.5, 2), watching(Monitor::kValLoss), 1.0);
  // Epoch 0 improves on +inf; 1 and 2 do not (the 2nd lowers the rate); 3 and 4 do not (the
  // count restarted, so the 2nd of them lowers it again); 5 improves; 6 does not.
  EXPECT_EQ(rates(schedule, {1.0, 1.0, 1.5, 2.0, 1.2, 0.5, 0.6}),
            (std::vector<double>{1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25}));
}

TEST(LrPlateau, UpdateSaysWhenItLowered) {
  LrPlateau schedule(plateau(0.1, 1), watching(Monitor::kValAccuracy), 1e-3);
  EXPECT_FALSE(schedule.update(0.5));
  EXPECT_FALSE(schedule.update(0.6));
  EXPECT_TRUE(schedule.update(0.6));  // equal is not better
  EXPECT_DOUBLE_EQ(schedule.learning_rate(), 1e-4);
  EXPECT_FALSE(schedule.update(0.7));
}

TEST(LrPlateau, FollowsTheMonitorsDirectionAndMinDelta) {
  // val_accuracy: larger is better, and must beat the best by more than min_delta.
  LrPlateau schedule(plateau(0.5, 1), watching(Monitor::kValAccuracy, 0.01), 1.0);
  EXPECT_FALSE(schedule.update(0.80));
  EXPECT_TRUE(schedule.update(0.805));  // +0.005 is not more than 0.01
  EXPECT_FALSE(schedule.update(0.82));
  EXPECT_TRUE(schedule.update(0.70));
  EXPECT_DOUBLE_EQ(schedule.learning_rate(), 0.25);
}

TEST(LrPlateau, PatienceZeroLowersAtEveryEpochThatDoesNotImprove) {
  LrPlateau schedule(plateau(0.5, 0), watching(Monitor::kValLoss), 1.0);
  EXPECT_EQ(rates(schedule, {1.0, 2.0, 3.0, 0.5}), (std::vector<double>{1.0, 0.5, 0.25, 0.25}));
}

TEST(LrPlateau, NeverGoesBelowMinLrAndStopsReportingThere) {
  LrPlateau schedule(plateau(0.1, 1, 0.05), watching(Monitor::kValLoss), 1.0);
  EXPECT_FALSE(schedule.update(1.0));
  EXPECT_TRUE(schedule.update(1.0));  // 1.0 -> 0.1
  EXPECT_TRUE(schedule.update(1.0));  // 0.1 -> max(0.01, 0.05)
  EXPECT_DOUBLE_EQ(schedule.learning_rate(), 0.05);
  EXPECT_FALSE(schedule.update(1.0));  // already at min_lr
  EXPECT_DOUBLE_EQ(schedule.learning_rate(), 0.05);
}

TEST(LrPlateau, NonFiniteValueNeverImproves) {
  LrPlateau schedule(plateau(0.5, 1), watching(Monitor::kValLoss), 1.0);
  EXPECT_TRUE(schedule.update(std::nan("")));
  EXPECT_FALSE(schedule.update(3.0));
  EXPECT_TRUE(schedule.update(INFINITY));
  EXPECT_DOUBLE_EQ(schedule.learning_rate(), 0.25);
}

TEST(LrPlateau, DisabledNeverChangesTheRate) {
  LrPlateauConfig off = plateau(0.5, 0);
  off.enabled = false;
  LrPlateau schedule(off, watching(Monitor::kValLoss), 0.01);
  EXPECT_EQ(rates(schedule, {1.0, 2.0, 3.0}), (std::vector<double>{0.01, 0.01, 0.01}));
}

}  // namespace
}  // namespace hps
