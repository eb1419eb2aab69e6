// Keras EarlyStopping semantics, case by case.
#include "core/early_stopping.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace hps {
namespace {

// Feeds `values` and returns the epoch at which stop was requested (-1: never).
int stop_epoch(EarlyStopping& es, const std::vector<double>& values) {
  for (size_t e = 0; e < values.size(); ++e)
    if (es.update(static_cast<int>(e), values[e])) return static_cast<int>(e);
  return -1;
}

EarlyStoppingConfig config(int patience, double min_delta = 0.0,
                           Monitor monitor = Monitor::kValLoss,
                           MonitorMode mode = MonitorMode::kAuto) {
  EarlyStoppingConfig c;
  c.patience = patience;
  c.min_delta = min_delta;
  c.monitor = monitor;
  c.mode = mode;
  return c;
}

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovement) {
  EarlyStopping es(config(2));
  EXPECT_EQ(stop_epoch(es, {1.0, 0.9, 0.95, 0.91, 0.8}), 3);
  EXPECT_EQ(es.best_epoch(), 1);
  EXPECT_DOUBLE_EQ(es.best_value(), 0.9);
}

TEST(EarlyStopping, ImprovementResetsTheCounter) {
  EarlyStopping es(config(2));
  EXPECT_EQ(stop_epoch(es, {1.0, 1.1, 0.9, 1.2, 0.8, 1.0, 1.0}), 6);
  EXPECT_EQ(es.best_epoch(), 4);
}

TEST(EarlyStopping, PatienceZeroStopsAtFirstNonImprovement) {
  EarlyStopping es(config(0));
  EXPECT_EQ(stop_epoch(es, {1.0, 0.5, 0.5}), 2);
}

TEST(EarlyStopping, EqualValueIsNotAnImprovement) {
  EarlyStopping es(config(1));
  EXPECT_EQ(stop_epoch(es, {1.0, 1.0}), 1);
  EXPECT_EQ(es.best_epoch(), 0);
}

TEST(EarlyStopping, MinDeltaRequiresStrictlyMoreThanDelta) {
  EarlyStopping es(config(2, 0.1));
  // 0.95 and 0.9 do not beat 1.0 by more than 0.1 (0.9 ties it exactly); 0.85 does.
  es.update(0, 1.0);
  EXPECT_FALSE(es.update(1, 0.95));
  EXPECT_FALSE(es.improved());
  EXPECT_TRUE(es.update(2, 0.9));
  EXPECT_EQ(es.best_epoch(), 0);

  EarlyStopping again(config(2, 0.1));
  again.update(0, 1.0);
  again.update(1, 0.85);
  EXPECT_TRUE(again.improved());
  EXPECT_EQ(again.best_epoch(), 1);
}

TEST(EarlyStopping, AutoModeMaximizesAccuracy) {
  EarlyStopping es(config(1, 0.0, Monitor::kValAccuracy));
  EXPECT_TRUE(es.maximize());
  EXPECT_EQ(stop_epoch(es, {0.5, 0.7, 0.6}), 2);
  EXPECT_EQ(es.best_epoch(), 1);
  EXPECT_DOUBLE_EQ(es.best_value(), 0.7);
}

TEST(EarlyStopping, ExplicitModeMaxWithMinDelta) {
  EarlyStopping es(config(3, 0.01, Monitor::kValLoss, MonitorMode::kMax));
  EXPECT_TRUE(es.maximize());
  EXPECT_EQ(stop_epoch(es, {0.5, 0.505, 0.52, 0.525, 0.529, 0.53}), 5);
  EXPECT_EQ(es.best_epoch(), 2);
}

TEST(EarlyStopping, ExplicitModeMinOnAccuracy) {
  EarlyStopping es(config(1, 0.0, Monitor::kValAccuracy, MonitorMode::kMin));
  EXPECT_FALSE(es.maximize());
  EXPECT_EQ(stop_epoch(es, {0.5, 0.4, 0.45}), 2);
}

TEST(EarlyStopping, NonFiniteValueNeverImproves) {
  EarlyStopping es(config(5));
  es.update(0, 1.0);
  es.update(1, std::nan(""));
  EXPECT_FALSE(es.improved());
  EXPECT_EQ(es.best_epoch(), 0);
}

TEST(EarlyStopping, DisabledNeverStopsButTracksBest) {
  auto c = config(0);
  c.enabled = false;
  EarlyStopping es(c);
  EXPECT_EQ(stop_epoch(es, {1.0, 2.0, 3.0, 4.0}), -1);
  EXPECT_EQ(es.best_epoch(), 0);
}

TEST(EarlyStopping, FreshObjectHasFreshState) {
  EarlyStopping first(config(1));
  stop_epoch(first, {0.1, 0.2});
  EarlyStopping second(config(1));
  EXPECT_EQ(second.best_epoch(), -1);
  EXPECT_EQ(second.wait(), 0);
  EXPECT_FALSE(second.update(0, 5.0));
  EXPECT_EQ(second.best_epoch(), 0);
}

}  // namespace
}  // namespace hps
