#include "coordinator/search_state.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/early_stopping.hpp"
#include "core/model_io.hpp"

namespace hps {

SearchState::SearchState(const SearchConfig& config)
    : config_(config), maximize_(maximizes(config.base.early_stopping)) {
  const SearchSettings& search = config.search;
  if (search.strategy == SearchStrategy::kTpe)
    tpe_.emplace(search.space, search.tpe, search.seed, maximize_);
  if (search.scheduler.kind != SchedulerKind::kNone)
    scheduler_.emplace(search.scheduler, maximize_, config.base.training.max_epochs);
}

std::vector<double> SearchState::monitored(const History& history) const {
  const bool watch_loss = config_.base.early_stopping.monitor == Monitor::kValLoss;
  std::vector<double> values;
  values.reserve(history.epochs.size());
  for (const EpochRecord& e : history.epochs) {
    // The epoch a trial diverged in was never reported to the scheduler (the trainer stops
    // first), so a resumed search must not see it either.
    if (!std::isfinite(e.val_loss)) break;
    values.push_back(watch_loss ? e.val_loss : e.val_metric);
  }
  return values;
}

void SearchState::observe(int64_t id, const std::vector<ParamAssignment>& values,
                          const std::string& status, double best_value, std::vector<double> curve) {
  if (!tpe_) return;
  TpeObservation o;
  o.trial_id = id;
  o.params = values;
  o.value = best_value;
  o.usable = (status == to_string(TrialStatus::kCompleted) ||
              status == to_string(TrialStatus::kEarlyStopped) ||
              status == to_string(TrialStatus::kPruned)) &&
             std::isfinite(best_value);
  o.pruned = status == to_string(TrialStatus::kPruned);
  o.epochs = static_cast<int64_t>(curve.size());
  o.values = std::move(curve);
  tpe_->observe(std::move(o));
}

void SearchState::replay(const ResultsReader& recorded, int64_t before) {
  if (!tpe_ && !scheduler_) return;  // grid and random search learn nothing from results
  for (const SummaryRow& row : recorded.summary()) {
    if (row.trial >= before) continue;
    const h5::Group group = recorded.trial_group(row.trial);
    // A trial without a history (one that failed before its first epoch) has no curve.
    replay_trial(row, group.read_attribute<double>("best_value"),
                 group.has_link("history") ? read_history(group.open_group("history")) : History{});
  }
}

void SearchState::replay_trial(const SummaryRow& row, double best_value, const History& history) {
  if (!tpe_ && !scheduler_) return;  // grid and random search learn nothing from results
  std::lock_guard<std::mutex> lock(mutex_);
  const std::vector<double> curve = monitored(history);
  if (row.status != to_string(TrialStatus::kFailed))
    observe(row.trial, row.params, row.status, best_value, curve);
  if (scheduler_ && !curve.empty()) scheduler_->replay(row.trial, curve);
}

TrialAssignment SearchState::make(int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<ParamAssignment> values;
  if (tpe_) {
    std::vector<std::vector<ParamAssignment>> points;
    std::vector<int64_t> ids;
    points.reserve(running_.size());
    ids.reserve(running_.size());
    for (const auto& [other, point] : running_) {
      points.push_back(point);
      ids.push_back(other);
    }
    values = tpe_->sample(id, points, ids);
  } else {
    values = trial_values(config_.search, id);
  }
  running_[id] = values;
  return make_trial(config_, id, values);
}

EpochVerdict SearchState::judge(const EpochReport& report) {
  if (!scheduler_) return {};
  const EpochRecord& r = report.record;
  const double value =
      config_.base.early_stopping.monitor == Monitor::kValLoss ? r.val_loss : r.val_metric;
  std::lock_guard<std::mutex> lock(mutex_);
  PruneDecision d = scheduler_->report(report.trial_id, r.epoch, value);
  return {d.prune, std::move(d.reason)};
}

std::vector<ParamAssignment> SearchState::finished(const TrialAssignment& trial,
                                                   TrialOutcome& outcome) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = running_.find(trial.trial_id);
  if (it == running_.end())  // make() threw before it had values: say why (the dispatcher
                             // reports such a trial failed, with make()'s error)
    throw std::logic_error("SearchState::finished(): trial " + std::to_string(trial.trial_id) +
                           " was not made by make()" +
                           (outcome.message.empty() ? "" : ": " + outcome.message));
  std::vector<ParamAssignment> values = std::move(it->second);
  running_.erase(it);
  if (scheduler_) outcome.rung = scheduler_->rung_of(trial.trial_id);
  if (tpe_ && outcome.status != TrialStatus::kFailed)
    observe(trial.trial_id, values, to_string(outcome.status), outcome.best_value,
            monitored(outcome.history));
  return values;
}

size_t SearchState::running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_.size();
}

const TpeSampler* SearchState::tpe() const { return tpe_ ? &*tpe_ : nullptr; }

}  // namespace hps
