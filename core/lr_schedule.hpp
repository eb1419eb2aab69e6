#pragma once
#include "core/early_stopping.hpp"

namespace hps {

/// Keras `ReduceLROnPlateau` options (`training.reduce_lr_on_plateau`). It watches the value
/// early stopping monitors, with the same mode and min_delta.
struct LrPlateauConfig {
  bool enabled = false;  ///< on when the config has the block
  double factor = 0.3;   ///< new rate = old rate * factor, in (0, 1)
  int patience = 3;      ///< epochs without improvement before each reduction
  double min_lr = 0.0;   ///< the rate never goes below this
};

/// Lowers the learning rate when the monitored value stops improving, as Keras's
/// ReduceLROnPlateau (without cooldown): an epoch improves when it beats the best so far by
/// strictly more than min_delta; after `patience` epochs in a row without improvement the rate
/// becomes max(rate * factor, min_lr) and the count starts again. A non-finite value never
/// improves. Disabled, it never changes the rate.
class LrPlateau {
 public:
  LrPlateau(const LrPlateauConfig& config, const EarlyStoppingConfig& watch, double learning_rate);

  /// Records one epoch's monitored value; returns true when it lowered the learning rate.
  bool update(double value);

  double learning_rate() const { return rate_; }

 private:
  LrPlateauConfig config_;
  bool maximize_;
  double min_delta_;
  double best_;
  double rate_;
  int wait_ = 0;
};

}  // namespace hps
