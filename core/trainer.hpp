#pragma once
#include <functional>
#include <string>

#include "core/config.hpp"
#include "core/dataset.hpp"
#include "core/history.hpp"
#include "core/mlp.hpp"

namespace hps {

/// Called after every epoch with its record; returning false stops training with status
/// kPruned (the hook a scheduler uses to prune a trial).
using EpochCallback = std::function<bool(const EpochRecord&)>;

/// What one training run produced.
struct TrainResult {
  Mlp model;  ///< the best epoch's weights when restore_best_weights, else the last epoch's
  History history;
  TrialStatus status = TrialStatus::kCompleted;
  int best_epoch = -1;      ///< epoch of the best monitored value (-1: none finite)
  double best_value = 0.0;  ///< the best monitored value
  std::string message;      ///< why it diverged or stopped, for people
};

/// Metrics of a model on a data set, in evaluation mode.
struct Evaluation {
  double loss = 0.0;    ///< data loss (cross-entropy or MSE)
  double metric = 0.0;  ///< accuracy or mean absolute error
};

/// Trains one MLP on `train`, validating on `validation` after every epoch. All randomness
/// (initialization, shuffling, dropout) derives from `seed`. The config's data block is not
/// read here: callers load and scale the data. Never throws for a diverging run: that is a
/// status. Throws std::invalid_argument when the data and config do not fit together.
TrainResult train_mlp(const ModelConfig& model, const TrainingConfig& training,
                      const EarlyStoppingConfig& early_stopping, const Dataset& train,
                      const Dataset& validation, uint64_t seed, const EpochCallback& on_epoch = {});

/// Loss and metric of `model` on `data` (evaluation mode, no penalty).
Evaluation evaluate(const Mlp& model, const Dataset& data);

}  // namespace hps
