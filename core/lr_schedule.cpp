#include "core/lr_schedule.hpp"

#include <algorithm>
#include <limits>

namespace hps {

LrPlateau::LrPlateau(const LrPlateauConfig& config, const EarlyStoppingConfig& watch,
                     double learning_rate)
    : config_(config),
      maximize_(maximizes(watch)),
      min_delta_(watch.min_delta),
      best_(maximize_ ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity()),
      rate_(learning_rate) {}

bool LrPlateau::update(double value) {
  if (!config_.enabled) return false;
  if (improves(value, best_, maximize_, min_delta_)) {
    best_ = value;
    wait_ = 0;
    return false;
  }
  if (++wait_ < config_.patience) return false;
  wait_ = 0;
  const double lowered = std::max(rate_ * config_.factor, config_.min_lr);
  if (!(lowered < rate_)) return false;
  rate_ = lowered;
  return true;
}

}  // namespace hps
