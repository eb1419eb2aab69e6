#pragma once
#include <limits>

namespace hps {

/// The quantity early stopping watches.
enum class Monitor { kValLoss, kValAccuracy };
/// Whether the monitored quantity should go down (min) or up (max); auto picks by name.
enum class MonitorMode { kAuto, kMin, kMax };

/// Keras `EarlyStopping` options.
struct EarlyStoppingConfig {
  bool enabled = true;
  Monitor monitor = Monitor::kValLoss;
  MonitorMode mode = MonitorMode::kAuto;
  double min_delta = 0.0;  ///< an improvement must beat the best by more than this
  int patience = 5;        ///< epochs without improvement before stopping
  bool restore_best_weights = true;
};

/// Whether `config` watches for a larger value: mode max, or auto with val_accuracy.
bool maximizes(const EarlyStoppingConfig& config);

/// Whether `value` improves on `best` as Keras judges it: finite and better by strictly more
/// than `min_delta` in the direction `maximize` says.
bool improves(double value, double best, bool maximize, double min_delta);

/// "val_loss" or "val_accuracy".
const char* monitor_name(Monitor monitor);

/// Early stopping with Keras semantics: an epoch improves when its value beats the best so far
/// by strictly more than min_delta; training stops once `patience` epochs in a row have not
/// improved (patience 0 stops at the first epoch that does not). A non-finite value never
/// improves. One object per trial: state is never shared or reused.
class EarlyStopping {
 public:
  explicit EarlyStopping(const EarlyStoppingConfig& config);

  /// Records epoch `epoch`'s monitored value; returns true when training should stop.
  bool update(int epoch, double value);

  /// True when the last update() was an improvement (the caller snapshots weights then).
  bool improved() const { return improved_; }
  int best_epoch() const { return best_epoch_; }
  double best_value() const { return best_; }
  int wait() const { return wait_; }
  bool maximize() const { return maximize_; }

 private:
  EarlyStoppingConfig config_;
  bool maximize_ = false;
  double best_;
  int best_epoch_ = -1;
  int wait_ = 0;
  bool improved_ = false;
};

}  // namespace hps
