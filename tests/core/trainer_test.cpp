#include "core/trainer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/rng.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using hps::testing::make_blobs;
using hps::testing::make_regression;

struct Options {
  ModelConfig model;
  TrainingConfig training;
  EarlyStoppingConfig early;
};

Options small_setup() {
  Options s;
  s.model.hidden = {32};
  s.model.dropout = 0.0;
  s.training.batch_size = 16;
  s.training.max_epochs = 20;
  s.training.optimizer.learning_rate = 1e-2;
  s.early.patience = 100;
  return s;
}

TEST(Trainer, OverfitsSixtyFourSamplesWithRandomLabels) {
  // A network that cannot memorize a tiny set is broken: random labels leave nothing to
  // generalize, so 100% training accuracy proves capacity and a working optimizer.
  Dataset data = make_blobs(64, 20, 4, 1);
  Rng rng(2);
  for (auto& label : data.labels) label = static_cast<int32_t>(rng.below(4));
  for (Index i = 0; i < data.x.size(); ++i) data.x.data()[i] = static_cast<float>(rng.normal());
  Options s = small_setup();
  s.model.hidden = {128, 128};
  s.training.max_epochs = 300;
  s.early.enabled = false;
  s.early.restore_best_weights = false;
  const TrainResult r = train_mlp(s.model, s.training, s.early, data, data, 3);
  EXPECT_EQ(r.status, TrialStatus::kCompleted);
  EXPECT_DOUBLE_EQ(evaluate(r.model, data).metric, 1.0);
}

TEST(Trainer, SameSeedGivesBitIdenticalWeightsAndHistory) {
  const Dataset train = make_blobs(300, 10, 3, 4), val = make_blobs(60, 10, 3, 5);
  Options s = small_setup();
  s.model.dropout = 0.3;
  s.training.l1 = 1e-3;
  s.training.l2 = 1e-3;
  const TrainResult a = train_mlp(s.model, s.training, s.early, train, val, 7);
  const TrainResult b = train_mlp(s.model, s.training, s.early, train, val, 7);
  EXPECT_TRUE(a.model.parameters() == b.model.parameters());
  ASSERT_EQ(a.history.epochs.size(), b.history.epochs.size());
  for (size_t e = 0; e < a.history.epochs.size(); ++e) {
    EXPECT_EQ(a.history.epochs[e].train_loss, b.history.epochs[e].train_loss);
    EXPECT_EQ(a.history.epochs[e].val_loss, b.history.epochs[e].val_loss);
    EXPECT_EQ(a.history.epochs[e].train_metric, b.history.epochs[e].train_metric);
  }
  const TrainResult c = train_mlp(s.model, s.training, s.early, train, val, 8);
  EXPECT_FALSE(a.model.parameters() == c.model.parameters());
}

TEST(Trainer, RestoreBestWeightsReturnsTheBestEpochsModel) {
  const Dataset train = make_blobs(200, 10, 3, 9), val = make_blobs(100, 10, 3, 10);
  Options s = small_setup();
  s.training.max_epochs = 30;
  s.training.optimizer.learning_rate = 0.05;  // noisy enough that the last epoch is not best
  s.early.patience = 5;
  const TrainResult r = train_mlp(s.model, s.training, s.early, train, val, 11);
  ASSERT_GE(r.best_epoch, 0);
  const double best = r.history.epochs[static_cast<size_t>(r.best_epoch)].val_loss;
  EXPECT_DOUBLE_EQ(evaluate(r.model, val).loss, best);
  for (const auto& e : r.history.epochs) EXPECT_GE(e.val_loss, best);
  if (r.status == TrialStatus::kEarlyStopped) {
    EXPECT_EQ(static_cast<int>(r.history.epochs.size()), r.best_epoch + 1 + s.early.patience);
  }
}

TEST(Trainer, WithoutRestoreTheLastEpochsModelIsReturned) {
  const Dataset train = make_blobs(200, 10, 3, 9), val = make_blobs(100, 10, 3, 10);
  Options s = small_setup();
  s.training.max_epochs = 8;
  s.early.restore_best_weights = false;
  const TrainResult r = train_mlp(s.model, s.training, s.early, train, val, 11);
  EXPECT_DOUBLE_EQ(evaluate(r.model, val).loss, r.history.epochs.back().val_loss);
}

TEST(Trainer, EarlyStoppingEndsTheRunWithItsStatus) {
  const Dataset train = make_blobs(200, 10, 3, 12), val = make_blobs(100, 10, 3, 13);
  Options s = small_setup();
  s.training.max_epochs = 500;
  s.early.patience = 2;
  s.early.min_delta = 1.0;  // nothing improves by a whole nat after the first epoch
  const TrainResult r = train_mlp(s.model, s.training, s.early, train, val, 14);
  EXPECT_EQ(r.status, TrialStatus::kEarlyStopped);
  EXPECT_EQ(r.history.epochs.size(), 3u);
  EXPECT_EQ(r.best_epoch, 0);
}

TEST(Trainer, DivergenceIsAStatusNotAnException) {
  const Dataset train = make_regression(100, 4, 15), val = make_regression(50, 4, 16);
  Options s = small_setup();
  s.training.optimizer.kind = OptimizerKind::kSgd;
  s.training.optimizer.learning_rate = 1e6;
  TrainResult r;
  ASSERT_NO_THROW(r = train_mlp(s.model, s.training, s.early, train, val, 17));
  EXPECT_EQ(r.status, TrialStatus::kDiverged);
  EXPECT_NE(r.message.find("non-finite"), std::string::npos);
  EXPECT_LT(r.history.epochs.size(), 20u);
}

// Epochs are numbered from 1 in messages, as train prints them: the loss that went non-finite
// after one finite epoch did so in epoch 2 (it said "epoch 1", the epoch printed as finite). With
// no epoch better than the start there is no best value (it was the tracker's +-inf).
TEST(Trainer, DivergenceNamesTheEpochAsPrintedAndHasNoBestValueWithoutABestEpoch) {
  const Dataset train = make_regression(100, 4, 15), val = make_regression(50, 4, 16);
  Options s = small_setup();
  s.training.optimizer.kind = OptimizerKind::kSgd;
  s.training.optimizer.learning_rate = 1e30;
  const TrainResult at_once = train_mlp(s.model, s.training, s.early, train, val, 17);
  ASSERT_EQ(at_once.status, TrialStatus::kDiverged);
  ASSERT_TRUE(at_once.history.epochs.empty());
  EXPECT_EQ(at_once.message, "the training loss became non-finite in epoch 1");
  EXPECT_EQ(at_once.best_epoch, -1);
  EXPECT_TRUE(std::isnan(at_once.best_value));
}

// A stop verdict on the last epoch cuts nothing short: the run is completed, as with a
// scheduler's verdict there, and as the README defines completed (ran max_epochs).
TEST(Trainer, EarlyStoppingOnTheLastEpochLeavesTheRunCompleted) {
  const Dataset train = make_blobs(200, 10, 3, 12), val = make_blobs(100, 10, 3, 13);
  Options s = small_setup();
  s.training.max_epochs = 3;
  s.early.patience = 2;
  s.early.min_delta = 1.0;  // as above: the stop verdict comes after epoch 3, the last
  const TrainResult r = train_mlp(s.model, s.training, s.early, train, val, 14);
  EXPECT_EQ(r.status, TrialStatus::kCompleted);
  EXPECT_EQ(r.history.epochs.size(), 3u);
  s.training.max_epochs = 4;
  EXPECT_EQ(train_mlp(s.model, s.training, s.early, train, val, 14).status,
            TrialStatus::kEarlyStopped);
}

TEST(Trainer, CallbackCanStopTraining) {
  const Dataset train = make_blobs(100, 5, 2, 18), val = make_blobs(40, 5, 2, 19);
  Options s = small_setup();
  int calls = 0;
  const TrainResult r =
      train_mlp(s.model, s.training, s.early, train, val, 20, [&](const EpochRecord& rec) {
        ++calls;
        return rec.epoch < 2;
      });
  EXPECT_EQ(r.status, TrialStatus::kPruned);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(r.history.epochs.size(), 3u);
}

TEST(Trainer, AStopVerdictOnTheLastEpochLeavesTheTrialComplete) {
  const Dataset train = make_blobs(100, 5, 2, 18), val = make_blobs(40, 5, 2, 19);
  Options s = small_setup();
  s.training.max_epochs = 3;
  int calls = 0;
  const TrainResult r =
      train_mlp(s.model, s.training, s.early, train, val, 20, [&](const EpochRecord& rec) {
        ++calls;
        return rec.epoch < 2;  // "stop" after the third epoch, which is the last
      });
  EXPECT_EQ(r.status, TrialStatus::kCompleted);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(r.history.epochs.size(), 3u);
}

TEST(Trainer, L2ShrinksWeights) {
  const Dataset train = make_blobs(200, 10, 3, 21), val = make_blobs(50, 10, 3, 22);
  Options s = small_setup();
  s.early.enabled = false;
  s.early.restore_best_weights = false;
  const TrainResult plain = train_mlp(s.model, s.training, s.early, train, val, 23);
  s.training.l2 = 200.0;
  const TrainResult decayed = train_mlp(s.model, s.training, s.early, train, val, 23);
  EXPECT_LT(decayed.model.weight(0).norm(), 0.7 * plain.model.weight(0).norm());
  const auto& last = decayed.history.epochs.back();
  EXPECT_GT(last.train_total_loss, last.train_loss);
  EXPECT_EQ(plain.history.epochs.back().train_total_loss, plain.history.epochs.back().train_loss);
}

TEST(Trainer, EveryOptimizerLearnsRegression) {
  const Dataset train = make_regression(400, 3, 24), val = make_regression(100, 3, 25);
  double variance = (val.y.array() - val.y.mean()).square().mean();
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kMomentum, OptimizerKind::kAdam}) {
    Options s = small_setup();
    s.model.activation = Activation::kTanh;
    s.training.optimizer.kind = kind;
    s.training.optimizer.learning_rate = kind == OptimizerKind::kAdam ? 1e-2 : 5e-2;
    s.training.max_epochs = 60;
    const TrainResult r = train_mlp(s.model, s.training, s.early, train, val, 26);
    EXPECT_EQ(r.status, TrialStatus::kCompleted) << to_string(kind);
    EXPECT_LT(evaluate(r.model, val).loss, 0.2 * variance) << to_string(kind);
  }
}

TEST(Trainer, ReduceLrOnPlateauLowersTheRateItRecords) {
  // Validation on other blobs than training stops improving soon; each stretch of `patience`
  // epochs without a better val_loss must lower the rate by `factor`, and the history says
  // which rate each epoch trained with.
  const Dataset train = make_blobs(200, 10, 3, 11), val = make_blobs(100, 10, 3, 12);
  Options s = small_setup();
  s.training.max_epochs = 40;
  s.training.reduce_lr_on_plateau = {true, 0.5, 2, 0.0};
  s.early.restore_best_weights = false;  // compare the last epoch's weights below
  const TrainResult r = train_mlp(s.model, s.training, s.early, train, val, 13);
  ASSERT_EQ(r.history.epochs.size(), 40u);
  double best = INFINITY, rate = s.training.optimizer.learning_rate;
  int wait = 0, lowered = 0;
  for (const EpochRecord& e : r.history.epochs) {
    EXPECT_EQ(e.learning_rate, rate) << "epoch " << e.epoch;
    if (e.val_loss < best) {
      best = e.val_loss;
      wait = 0;
    } else if (++wait >= 2) {
      rate *= 0.5;
      wait = 0;
      ++lowered;
    }
  }
  EXPECT_GE(lowered, 1);

  // Off (the default), every epoch trains at the configured rate, and the weights differ:
  // the optimizer really stepped with the lowered rate.
  s.training.reduce_lr_on_plateau.enabled = false;
  const TrainResult off = train_mlp(s.model, s.training, s.early, train, val, 13);
  for (const EpochRecord& e : off.history.epochs)
    EXPECT_EQ(e.learning_rate, s.training.optimizer.learning_rate);
  EXPECT_FALSE(off.model.parameters() == r.model.parameters());
}

TEST(Trainer, RecordsEpochSeconds) {
  const Dataset train = make_blobs(100, 5, 2, 27), val = make_blobs(40, 5, 2, 28);
  Options s = small_setup();
  s.training.max_epochs = 3;
  const TrainResult r = train_mlp(s.model, s.training, s.early, train, val, 29);
  for (const auto& e : r.history.epochs) EXPECT_GT(e.seconds, 0.0);
}

TEST(Trainer, RejectsMismatchedData) {
  const Dataset train = make_blobs(100, 5, 2, 30), val = make_blobs(40, 6, 2, 31);
  Options s = small_setup();
  EXPECT_THROW(train_mlp(s.model, s.training, s.early, train, val, 1), std::invalid_argument);
}

}  // namespace
}  // namespace hps
