#include "core/trainer.hpp"

#include <chrono>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "core/backprop.hpp"
#include "core/loss.hpp"
#include "core/lr_schedule.hpp"
#include "core/optim/optimizer.hpp"
#include "core/rng.hpp"
#include "core/weight_penalty.hpp"

namespace hps {
namespace {

using Clock = std::chrono::steady_clock;

void check_compatible(const ModelConfig& model, const TrainingConfig& training,
                      const Dataset& train, const Dataset& validation) {
  const auto fail = [](const std::string& what) { throw std::invalid_argument("train: " + what); };
  if (train.size() < 1) fail("the training set is empty");
  if (validation.size() < 1) fail("the validation set is empty");
  if (validation.num_features() != train.num_features())
    fail("validation has " + std::to_string(validation.num_features()) + " features, training " +
         std::to_string(train.num_features()));
  if (train.task != validation.task) fail("training and validation sets have different tasks");
  if (train.num_outputs() < 1) fail("the training set has no outputs");
  if (training.batch_size < 1) fail("batch_size must be at least 1");
  if (training.max_epochs < 1) fail("max_epochs must be at least 1");
  if (!(model.dropout >= 0.0 && model.dropout < 1.0)) fail("dropout must be in [0, 1)");
}

// Copies the samples order[start, start+b) into the batch buffers (whole columns).
void gather(const Dataset& data, const std::vector<Index>& order, Index start, Index b, Matrix& x,
            std::vector<int32_t>& labels, Matrix& y) {
  for (Index j = 0; j < b; ++j) {
    const Index i = order[static_cast<size_t>(start + j)];
    x.col(j) = data.x.col(i);
    if (data.task == Task::kClassification) {
      labels[static_cast<size_t>(j)] = data.labels[static_cast<size_t>(i)];
    } else {
      y.col(j) = data.y.col(i);
    }
  }
}

void shuffle(std::vector<Index>& order, Rng& rng) {
  for (size_t i = order.size(); i > 1; --i) {
    const auto j = static_cast<size_t>(rng.below(i));
    std::swap(order[i - 1], order[j]);
  }
}

bool finite(const Vector& v) { return v.allFinite(); }

}  // namespace

const char* to_string(TrialStatus status) {
  switch (status) {
    case TrialStatus::kCompleted:
      return "completed";
    case TrialStatus::kEarlyStopped:
      return "early_stopped";
    case TrialStatus::kDiverged:
      return "diverged";
    case TrialStatus::kPruned:
      return "pruned";
    case TrialStatus::kFailed:
      return "failed";
  }
  return "?";
}

Evaluation evaluate(const Mlp& model, const Dataset& data) {
  constexpr Index kChunk = 1024;
  Evaluation result;
  if (data.size() == 0) return result;
  Backprop pass(model.shape(), std::min(kChunk, data.size()));
  double loss_sum = 0.0;
  double metric_sum = 0.0;
  for (Index start = 0; start < data.size(); start += kChunk) {
    const Index n = std::min(kChunk, data.size() - start);
    const auto out = pass.forward(model, data.x.middleCols(start, n), 0.0f, nullptr);
    if (data.task == Task::kClassification) {
      const int32_t* labels = data.labels.data() + start;
      loss_sum += softmax_cross_entropy(out, labels) * static_cast<double>(n);
      metric_sum += static_cast<double>(count_correct(out, labels));
    } else {
      const auto targets = data.y.middleCols(start, n);
      loss_sum += mean_squared_error(out, targets) * static_cast<double>(n);
      metric_sum += sum_absolute_error(out, targets) / static_cast<double>(data.y.rows());
    }
  }
  const auto total = static_cast<double>(data.size());
  result.loss = loss_sum / total;
  result.metric = metric_sum / total;
  return result;
}

TrainResult train_mlp(const ModelConfig& model_config, const TrainingConfig& training,
                      const EarlyStoppingConfig& early_stopping, const Dataset& train,
                      const Dataset& validation, uint64_t seed, const EpochCallback& on_epoch) {
  check_compatible(model_config, training, train, validation);
  const bool classify = train.task == Task::kClassification;

  MlpShape shape{train.num_features(), model_config.hidden, train.num_outputs(),
                 model_config.activation};
  TrainResult result;
  result.model = Mlp(shape);
  Mlp& model = result.model;
  Rng init_rng(derive_seed(seed, SeedStream::kInit));
  model.initialize(model_config.initialization(), init_rng);

  Rng shuffle_rng(derive_seed(seed, SeedStream::kShuffle));
  Rng dropout_rng(derive_seed(seed, SeedStream::kDropout));
  const auto dropout = static_cast<float>(model_config.dropout);

  const Index n = train.size();
  const Index batch = std::min(training.batch_size, n);
  Backprop pass(shape, batch);
  auto optimizer = make_optimizer(training.optimizer);
  const WeightPenalty penalty(training.l1, training.l2, n);
  EarlyStopping stopper(early_stopping);
  LrPlateau plateau(training.reduce_lr_on_plateau, early_stopping,
                    training.optimizer.learning_rate);

  // Everything the loop touches is allocated here, once.
  Vector grad = Vector::Zero(model.num_parameters());
  Vector best_params;
  Matrix xb(train.num_features(), batch);
  std::vector<int32_t> labels_b(static_cast<size_t>(classify ? batch : 0));
  Matrix yb(classify ? 0 : train.y.rows(), classify ? 0 : batch);
  std::vector<Index> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});

  const auto diverged = [&](const std::string& what, int epoch) {
    result.status = TrialStatus::kDiverged;
    // Numbered from 1, as train's epoch lines and the pruning messages are.
    result.message = what + " became non-finite in epoch " + std::to_string(epoch + 1);
  };

  bool stop = false;
  for (int epoch = 0; epoch < training.max_epochs && !stop; ++epoch) {
    const auto started = Clock::now();
    shuffle(order, shuffle_rng);
    double loss_sum = 0.0;
    double penalty_sum = 0.0;
    double metric_sum = 0.0;
    bool bad = false;
    for (Index start = 0; start < n; start += batch) {
      const Index b = std::min(batch, n - start);
      gather(train, order, start, b, xb, labels_b, yb);
      const auto xv = xb.leftCols(b);
      const auto out = pass.forward(model, xv, dropout, &dropout_rng);
      double loss;
      if (classify) {
        loss = softmax_cross_entropy(out, labels_b.data(), pass.output_gradient());
        metric_sum += static_cast<double>(count_correct(out, labels_b.data()));
      } else {
        loss = mean_squared_error(out, yb.leftCols(b), pass.output_gradient());
        metric_sum += sum_absolute_error(out, yb.leftCols(b)) / static_cast<double>(yb.rows());
      }
      if (!std::isfinite(loss)) {
        bad = true;
        break;
      }
      pass.backward(model, xv, grad);
      const double pen = penalty.add_gradient(model, grad);
      if (!std::isfinite(pen)) {
        bad = true;
        break;
      }
      loss_sum += loss * static_cast<double>(b);
      penalty_sum += pen * static_cast<double>(b);
      optimizer->step(model.parameters(), grad);
    }
    if (bad || !finite(model.parameters())) {
      diverged("the training loss", epoch);
      break;
    }

    EpochRecord record;
    record.epoch = epoch;
    record.learning_rate = plateau.learning_rate();
    record.train_loss = loss_sum / static_cast<double>(n);
    record.train_total_loss = (loss_sum + penalty_sum) / static_cast<double>(n);
    record.train_metric = metric_sum / static_cast<double>(n);
    const Evaluation val = evaluate(model, validation);
    record.val_loss = val.loss;
    record.val_metric = val.metric;
    record.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    result.history.epochs.push_back(record);
    if (!std::isfinite(val.loss)) {
      diverged("the validation loss", epoch);
      break;
    }

    const double monitored =
        early_stopping.monitor == Monitor::kValLoss ? record.val_loss : record.val_metric;
    // A stop on the last epoch cuts nothing short: the trial ran max_epochs and is completed,
    // as when a scheduler's stop verdict falls there.
    if (stopper.update(epoch, monitored) && epoch + 1 < training.max_epochs) {
      result.status = TrialStatus::kEarlyStopped;
      result.message = "no improvement of more than " + std::to_string(early_stopping.min_delta) +
                       " in " + std::to_string(stopper.wait()) + " epochs";
      stop = true;
    }
    if (stopper.improved() && early_stopping.restore_best_weights) best_params = model.parameters();
    if (plateau.update(monitored)) optimizer->set_learning_rate(plateau.learning_rate());
    // The callback always hears of the epoch (a scheduler records it for the other trials), but
    // a stop verdict on the last epoch saves nothing: the trial ran its course and keeps its
    // status.
    if (on_epoch && !on_epoch(record) && !stop && epoch + 1 < training.max_epochs) {
      result.status = TrialStatus::kPruned;
      result.message = "pruned by the scheduler after epoch " + std::to_string(epoch + 1);
      stop = true;
    }
  }

  result.best_epoch = stopper.best_epoch();
  // With no best epoch the tracker still holds its start (+-inf), which is no trial's value.
  result.best_value =
      result.best_epoch >= 0 ? stopper.best_value() : std::numeric_limits<double>::quiet_NaN();
  if (early_stopping.restore_best_weights && best_params.size() == model.num_parameters())
    model.parameters() = best_params;
  return result;
}

}  // namespace hps
