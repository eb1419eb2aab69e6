#pragma once
// Trial schedulers: rules that stop unpromising trials early from the validation values their
// workers report after every epoch. Pure and single-threaded: the coordinator owns one and asks
// it about each report as it arrives, so decisions depend only on the order reports arrive in.
//
// ASHA, stopping form (Li et al., "A System for Massively Parallel Hyperparameter Tuning",
// MLSys 2020; as Ray Tune's ASHAScheduler): rungs sit at min_epochs * eta^(grace + k) epochs,
// below max_epochs. When a trial finishes a rung's epoch, its best value so far is recorded at
// that rung, and it continues only if it ranks within the top max(1, floor(n / eta)) of the n
// values recorded there so far (itself included; ties go to the newcomer). Nobody waits: a
// trial is judged against whoever has reached the rung before it.
//
// Median (after Optuna's MedianPruner): after warmup_epochs epochs, a trial whose best value so
// far is worse than the median of the other trials' best values at the same epoch stops, once
// at least min_trials other trials have reported that epoch. Unlike Optuna's, the others are
// every trial that reached the epoch (running, pruned or finished), not only completed ones, so
// asynchronous ranks need not wait for trials to finish before pruning starts.
//
// Either rule may answer "stop" on a trial's last epoch; the trainer records the value but
// ignores that verdict, as stopping then saves nothing.
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace hps {

enum class SchedulerKind { kNone, kAsha, kMedian };

/// The `search.scheduler` choice and its options (`search.asha`, `search.median`).
struct SchedulerSettings {
  SchedulerKind kind = SchedulerKind::kNone;
  // ASHA
  int64_t reduction_factor = 3;  ///< eta
  int64_t min_epochs = 1;        ///< r: the first rung (with grace 0)
  int64_t max_epochs = 0;        ///< R: no rung at or past it; 0 = training.max_epochs
  int64_t grace = 0;             ///< s, the minimum early-stopping rate: skips the first rungs
  // median
  int64_t warmup_epochs = 1;  ///< epochs every trial runs before the rule applies
  int64_t min_trials = 5;     ///< other trials that must have reported the epoch
};

/// What the scheduler says about one report.
struct PruneDecision {
  bool prune = false;
  std::string reason;  ///< for people: why it stopped (empty when it continues)
};

class Scheduler {
 public:
  /// `maximize`: larger monitored values are better. `max_epochs` is the trials' cap, used when
  /// settings.max_epochs is 0. Throws std::invalid_argument for settings out of range.
  Scheduler(SchedulerSettings settings, bool maximize, int64_t max_epochs);

  /// Trial `trial` finished its epoch `epoch` (0-based; reports of one trial come in order)
  /// with monitored value `value`. Non-finite values are ignored (such a trial diverges).
  PruneDecision report(int64_t trial, int64_t epoch, double value);

  /// Records a finished trial's values (resume), as if reported, without deciding anything.
  void replay(int64_t trial, const std::vector<double>& values);

  /// The rung epochs (epochs completed) of ASHA; empty for other kinds.
  const std::vector<int64_t>& rungs() const { return rungs_; }
  /// Index of the highest ASHA rung `trial` reached (its value recorded there); -1 if none.
  int64_t rung_of(int64_t trial) const;
  /// Values recorded at ASHA rung `k`, in arrival order.
  const std::vector<double>& rung_values(size_t k) const { return rung_values_.at(k); }

 private:
  bool better(double a, double b) const { return maximize_ ? a > b : a < b; }
  PruneDecision record(int64_t trial, int64_t epoch, double value, bool decide);
  PruneDecision asha(int64_t trial, int64_t epochs_done, double best, bool decide);
  PruneDecision median(int64_t trial, int64_t epoch, double best, bool decide);

  SchedulerSettings settings_;
  bool maximize_;
  std::vector<int64_t> rungs_;
  std::vector<std::vector<double>> rung_values_;
  std::unordered_map<int64_t, double> best_;      ///< best value so far per trial
  std::unordered_map<int64_t, int64_t> reached_;  ///< highest rung index per trial
  /// median: per epoch, each trial's best value up to that epoch.
  std::map<int64_t, std::unordered_map<int64_t, double>> by_epoch_;
};

const char* to_string(SchedulerKind kind);

}  // namespace hps
