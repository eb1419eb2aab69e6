#include "core/early_stopping.hpp"

#include <cmath>

namespace hps {

bool maximizes(const EarlyStoppingConfig& config) {
  return config.mode == MonitorMode::kMax ||
         (config.mode == MonitorMode::kAuto && config.monitor == Monitor::kValAccuracy);
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
  // As Keras: compare value - min_delta > best (max) or value + min_delta < best (min).
  improved_ = std::isfinite(value) &&
              (maximize_ ? value - config_.min_delta > best_ : value + config_.min_delta < best_);
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
