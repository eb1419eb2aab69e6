#pragma once
#include <string>
#include <vector>

namespace hps {

/// One epoch's record. `*_metric` is accuracy for classification and mean absolute error for
/// regression; losses are means over samples. `train_*` values are averaged over the epoch's
/// mini-batches with dropout active (as Keras reports them); `val_*` are computed after the
/// epoch in evaluation mode.
struct EpochRecord {
  int epoch = 0;                  ///< 0-based
  double train_loss = 0.0;        ///< data loss only
  double train_total_loss = 0.0;  ///< data loss + L1/L2 penalty
  double train_metric = 0.0;
  double val_loss = 0.0;  ///< data loss only (the penalty is not part of it)
  double val_metric = 0.0;
  double seconds = 0.0;        ///< wall time of the epoch, training and validation
  double learning_rate = 0.0;  ///< the optimizer's rate during the epoch (NaN: not recorded)
};

/// Per-epoch learning curves of one training run.
struct History {
  std::vector<EpochRecord> epochs;
};

/// How a training run ended.
enum class TrialStatus {
  kCompleted,     ///< ran max_epochs
  kEarlyStopped,  ///< early stopping ended it
  kDiverged,      ///< a loss became NaN or infinite
  kPruned,        ///< the epoch callback (a scheduler) stopped it
  kFailed,        ///< an error (bad data, bad config) prevented or ended it
};

const char* to_string(TrialStatus status);

}  // namespace hps
