#include "core/scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace hps {
namespace {

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}

}  // namespace

const char* to_string(SchedulerKind kind) {
  switch (kind) {
    case SchedulerKind::kNone:
      return "none";
    case SchedulerKind::kAsha:
      return "asha";
    case SchedulerKind::kMedian:
      return "median";
  }
  return "?";
}

Scheduler::Scheduler(SchedulerSettings settings, bool maximize, int64_t max_epochs)
    : settings_(settings), maximize_(maximize) {
  if (settings_.max_epochs == 0) settings_.max_epochs = max_epochs;
  if (settings_.kind == SchedulerKind::kMedian) {
    if (settings_.warmup_epochs < 0)
      throw std::invalid_argument("median: warmup_epochs must be >= 0");
    if (settings_.min_trials < 1) throw std::invalid_argument("median: min_trials must be >= 1");
  }
  if (settings_.kind != SchedulerKind::kAsha) return;
  if (settings_.reduction_factor < 2)
    throw std::invalid_argument("asha: reduction_factor must be >= 2");
  if (settings_.min_epochs < 1) throw std::invalid_argument("asha: min_epochs must be >= 1");
  if (settings_.grace < 0) throw std::invalid_argument("asha: grace must be >= 0");
  int64_t rung = settings_.min_epochs;
  for (int64_t s = 0; s < settings_.grace && rung < settings_.max_epochs; ++s)
    rung *= settings_.reduction_factor;
  for (; rung < settings_.max_epochs; rung *= settings_.reduction_factor) rungs_.push_back(rung);
  rung_values_.resize(rungs_.size());
}

PruneDecision Scheduler::report(int64_t trial, int64_t epoch, double value) {
  return record(trial, epoch, value, true);
}

void Scheduler::replay(int64_t trial, const std::vector<double>& values) {
  for (size_t e = 0; e < values.size(); ++e)
    record(trial, static_cast<int64_t>(e), values[e], false);
}

int64_t Scheduler::rung_of(int64_t trial) const {
  const auto it = reached_.find(trial);
  return it == reached_.end() ? -1 : it->second;
}

PruneDecision Scheduler::record(int64_t trial, int64_t epoch, double value, bool decide) {
  if (settings_.kind == SchedulerKind::kNone || !std::isfinite(value)) return {};
  const auto [it, first] = best_.emplace(trial, value);
  if (!first && better(value, it->second)) it->second = value;
  const double best = it->second;
  if (settings_.kind == SchedulerKind::kAsha) return asha(trial, epoch + 1, best, decide);
  return median(trial, epoch, best, decide);
}

PruneDecision Scheduler::asha(int64_t trial, int64_t epochs_done, double best, bool decide) {
  const auto at = std::find(rungs_.begin(), rungs_.end(), epochs_done);
  if (at == rungs_.end()) return {};
  const auto k = static_cast<size_t>(at - rungs_.begin());
  std::vector<double>& values = rung_values_[k];
  values.push_back(best);
  reached_[trial] = static_cast<int64_t>(k);
  if (!decide) return {};
  const auto n = static_cast<int64_t>(values.size());
  const int64_t keep = std::max<int64_t>(1, n / settings_.reduction_factor);
  int64_t rank = 1;  // 1 + the number of earlier values strictly better than this one
  for (size_t i = 0; i + 1 < values.size(); ++i) rank += better(values[i], best) ? 1 : 0;
  if (rank <= keep) return {};
  // The cutoff is the keep-th best value recorded at the rung.
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end(), [this](double a, double b) { return better(a, b); });
  return {true, "pruned at rung " + std::to_string(k) + " (epoch " + std::to_string(epochs_done) +
                    "): " + number(best) + " ranks " + std::to_string(rank) + " of " +
                    std::to_string(n) + ", only the top " + std::to_string(keep) +
                    " continue (cutoff " + number(sorted[static_cast<size_t>(keep - 1)]) + ")"};
}

PruneDecision Scheduler::median(int64_t trial, int64_t epoch, double best, bool decide) {
  auto& at_epoch = by_epoch_[epoch];
  at_epoch[trial] = best;
  if (!decide || epoch + 1 <= settings_.warmup_epochs) return {};
  std::vector<double> others;
  others.reserve(at_epoch.size());
  for (const auto& [id, v] : at_epoch)
    if (id != trial) others.push_back(v);
  if (static_cast<int64_t>(others.size()) < settings_.min_trials) return {};
  std::sort(others.begin(), others.end());
  const size_t m = others.size() / 2;
  const double median = others.size() % 2 ? others[m] : 0.5 * (others[m - 1] + others[m]);
  if (!better(median, best)) return {};
  return {true, "pruned after epoch " + std::to_string(epoch + 1) + ": best " + number(best) +
                    " is worse than the median " + number(median) + " of " +
                    std::to_string(others.size()) + " other trials at that epoch"};
}

}  // namespace hps
