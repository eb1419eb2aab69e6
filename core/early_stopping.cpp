#include "core/early_stopping.hpp"

#include <cmath>

namespace hps {

bool maximizes(const EarlyStoppingConfig& config) {
  return config.mode == MonitorMode::kMax ||
         (config.mode == MonitorMode::kAuto && config.monitor == Monitor::kValAccuracy);
}

bool improves(double value, double best, bool maximize, double min_delta) {
  // As Keras: compare value - min_delta > best (max) or value + min_delta < best (min).
  return std::isfinite(value) && (maximize ? value - min_delta > best : value + min_delta < best);
}

const char* monitor_name(Monitor monitor) {
  return monitor == Monitor::kValLoss ? "val_loss" : "val_accuracy";
}

EarlyStopping::EarlyStopping(const EarlyStoppingConfig& config) : config_(config) {
  maximize_ = maximizes(config);
  best_ = maximize_ ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
}

bool EarlyStopping::update(int epoch, double value) {
  improved_ = improves(value, best_, maximize_, config_.min_delta);
  if (improved_) {
    best_ = value;
    best_epoch_ = epoch;
    wait_ = 0;
    return false;
  }
  ++wait_;
  return config_.enabled && wait_ >= config_.patience;
}

}  // namespace hps
