#include "coordinator/messages.hpp"

#include <gtest/gtest.h>

#include "coordinator/wire.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

TEST(Messages, AssignmentRoundTrip) {
  TrialAssignment t;
  t.trial_id = 42;
  t.seed = 0xfeedbeefcafe1234ULL;
  t.model.hidden = {256, 128, 7};
  t.model.activation = Activation::kTanh;
  t.model.init = Initialization::kHe;
  t.model.dropout = 0.35;
  t.training.optimizer.kind = OptimizerKind::kMomentum;
  t.training.optimizer.learning_rate = 3e-3;
  t.training.optimizer.momentum = 0.85;
  t.training.optimizer.beta1 = 0.8;
  t.training.optimizer.beta2 = 0.99;
  t.training.optimizer.epsilon = 1e-7;
  t.training.batch_size = 96;
  t.training.max_epochs = 33;
  t.training.l1 = 1e-5;
  t.training.l2 = 2e-4;
  t.training.reduce_lr_on_plateau = {true, 0.25, 4, 1e-6};
  t.early_stopping.enabled = false;
  t.early_stopping.monitor = Monitor::kValAccuracy;
  t.early_stopping.mode = MonitorMode::kMax;
  t.early_stopping.min_delta = 0.001;
  t.early_stopping.patience = 9;
  t.early_stopping.restore_best_weights = false;
  t.report_epochs = true;

  const TrialAssignment u = unpack_assignment(pack(t));
  EXPECT_EQ(u.trial_id, t.trial_id);
  EXPECT_EQ(u.seed, t.seed);
  EXPECT_EQ(u.model.hidden, t.model.hidden);
  EXPECT_EQ(u.model.activation, t.model.activation);
  EXPECT_EQ(u.model.init, t.model.init);
  EXPECT_EQ(u.model.dropout, t.model.dropout);
  EXPECT_EQ(u.training.optimizer.kind, t.training.optimizer.kind);
  EXPECT_EQ(u.training.optimizer.learning_rate, t.training.optimizer.learning_rate);
  EXPECT_EQ(u.training.optimizer.momentum, t.training.optimizer.momentum);
  EXPECT_EQ(u.training.optimizer.beta1, t.training.optimizer.beta1);
  EXPECT_EQ(u.training.optimizer.beta2, t.training.optimizer.beta2);
  EXPECT_EQ(u.training.optimizer.epsilon, t.training.optimizer.epsilon);
  EXPECT_EQ(u.training.batch_size, t.training.batch_size);
  EXPECT_EQ(u.training.max_epochs, t.training.max_epochs);
  EXPECT_EQ(u.training.l1, t.training.l1);
  EXPECT_EQ(u.training.l2, t.training.l2);
  const LrPlateauConfig& up = u.training.reduce_lr_on_plateau;
  EXPECT_TRUE(up.enabled);
  EXPECT_EQ(up.factor, 0.25);
  EXPECT_EQ(up.patience, 4);
  EXPECT_EQ(up.min_lr, 1e-6);
  EXPECT_EQ(u.early_stopping.enabled, t.early_stopping.enabled);
  EXPECT_EQ(u.early_stopping.monitor, t.early_stopping.monitor);
  EXPECT_EQ(u.early_stopping.mode, t.early_stopping.mode);
  EXPECT_EQ(u.early_stopping.min_delta, t.early_stopping.min_delta);
  EXPECT_EQ(u.early_stopping.patience, t.early_stopping.patience);
  EXPECT_EQ(u.early_stopping.restore_best_weights, t.early_stopping.restore_best_weights);
  EXPECT_TRUE(u.report_epochs);

  TrialAssignment no_init = t;
  no_init.model.init.reset();
  EXPECT_FALSE(unpack_assignment(pack(no_init)).model.init.has_value());
}

TEST(Messages, OutcomeRoundTrip) {
  TrialOutcome o;
  o.trial_id = 7;
  o.rank = 3;
  o.status = TrialStatus::kDiverged;
  o.message = "the training loss became non-finite in epoch 2";
  o.seconds = 12.5;
  o.best_epoch = 1;
  o.best_value = 0.4321;
  for (int e = 0; e < 3; ++e) {
    EpochRecord r;
    r.epoch = e;
    r.train_loss = 1.0 / (e + 1);
    r.val_metric = 0.5 + e;
    r.seconds = 0.1 * e;
    o.history.epochs.push_back(r);
  }
  o.test_loss = 0.25;
  o.test_metric = 0.875;
  o.weights = Vector::LinSpaced(1000, -1.0f, 1.0f);

  const TrialOutcome p = unpack_outcome(pack(o));
  EXPECT_EQ(p.trial_id, o.trial_id);
  EXPECT_EQ(p.rank, o.rank);
  EXPECT_EQ(p.status, o.status);
  EXPECT_EQ(p.message, o.message);
  EXPECT_EQ(p.seconds, o.seconds);
  EXPECT_EQ(p.best_epoch, o.best_epoch);
  EXPECT_EQ(p.best_value, o.best_value);
  ASSERT_EQ(p.history.epochs.size(), 3u);
  EXPECT_EQ(p.history.epochs[2].val_metric, 2.5);
  EXPECT_EQ(p.history.epochs[1].train_loss, 0.5);
  EXPECT_EQ(p.test_loss, 0.25);
  EXPECT_EQ(p.test_metric, 0.875);
  EXPECT_TRUE(p.weights == o.weights);

  TrialOutcome empty;
  EXPECT_EQ(unpack_outcome(pack(empty)).weights.size(), 0);
}

TEST(Messages, EpochReportAndVerdictRoundTrip) {
  EpochReport report;
  report.trial_id = 17;
  report.record.epoch = 4;
  report.record.val_loss = 0.3;
  report.record.val_metric = 0.91;
  report.record.seconds = 1.5;
  const EpochReport back = unpack_epoch_report(pack(report));
  EXPECT_EQ(back.trial_id, 17);
  EXPECT_EQ(back.record.epoch, 4);
  EXPECT_EQ(back.record.val_loss, 0.3);
  EXPECT_EQ(back.record.val_metric, 0.91);
  EXPECT_EQ(back.record.seconds, 1.5);

  const EpochVerdict verdict{true, "pruned at rung 1 (epoch 3)"};
  const EpochVerdict v = unpack_verdict(pack(verdict));
  EXPECT_TRUE(v.prune);
  EXPECT_EQ(v.reason, verdict.reason);
  EXPECT_FALSE(unpack_verdict(pack(EpochVerdict{})).prune);
  std::vector<char> bytes = pack(verdict);
  bytes.pop_back();
  EXPECT_THROW(unpack_verdict(bytes), WireError);
}

TEST(Messages, PreparedDataRoundTrip) {
  PreparedData d;
  d.train = testing::make_blobs(30, 4, 3, 1);
  d.validation = testing::make_blobs(10, 4, 3, 2);
  d.test = testing::make_regression(5, 4, 3);
  d.scaler = Scaler::fit(ScalingKind::kStandardize, d.train.x);

  const PreparedData e = unpack_data(pack(d));
  EXPECT_TRUE(e.train.x == d.train.x);
  EXPECT_EQ(e.train.labels, d.train.labels);
  EXPECT_EQ(e.train.num_classes, 3);
  EXPECT_EQ(e.validation.source, d.validation.source);
  ASSERT_TRUE(e.test.has_value());
  EXPECT_EQ(e.test->task, Task::kRegression);
  EXPECT_TRUE(e.test->y == d.test->y);
  EXPECT_EQ(e.scaler.kind, ScalingKind::kStandardize);
  EXPECT_TRUE(e.scaler.offset == d.scaler.offset);
  EXPECT_TRUE(e.scaler.factor == d.scaler.factor);

  PreparedData no_test = d;
  no_test.test.reset();
  EXPECT_FALSE(unpack_data(pack(no_test)).test.has_value());
}

TEST(Messages, TruncatedOrPaddedMessagesAreErrors) {
  TrialOutcome o;
  o.message = "hello";
  o.weights = Vector::Ones(10);
  std::vector<char> bytes = pack(o);
  std::vector<char> cut(bytes.begin(), bytes.end() - 5);
  EXPECT_THROW(unpack_outcome(cut), WireError);
  bytes.push_back(0);
  EXPECT_THROW(unpack_outcome(bytes), WireError);
  EXPECT_THROW(unpack_assignment({}), WireError);
}

}  // namespace
}  // namespace hps
