#pragma once
// The coordinator's search state: where a trial is born (make: TPE or the grid/random draws),
// how its epochs are judged (judge: the ASHA or median scheduler), and what is learned when it
// finishes (finished: TPE's observations, the trial's rung). One object on rank 0; make() and
// finished() run on the dispatching thread, judge() also on rank 0's training thread, so the
// state is guarded by a mutex.
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "core/results_file.hpp"
#include "core/scheduler.hpp"
#include "core/search_space.hpp"
#include "core/tpe.hpp"

namespace hps {

class SearchState {
 public:
  explicit SearchState(const SearchConfig& config);

  /// Rebuilds what a resumed search had learned from its recorded trials: TPE's observations
  /// and the scheduler's rung values (from each trial's history). `before`: only the trials
  /// with smaller ids (a search's first trials, for tests/benchmarks/tpe_draws.cpp).
  void replay(const ResultsReader& recorded, int64_t before = std::numeric_limits<int64_t>::max());

  /// replay()'s step for one recorded trial: its /summary row, its group's best_value and its
  /// history. Replaying a file's rows in /summary order this way is the same as replay(); a
  /// resume does it from the reads ResultsReader::resume_problems makes.
  void replay_trial(const SummaryRow& row, double best_value, const History& history);

  /// Trial `id`'s assignment: TPE's point given the trials now running, or trial_values().
  /// The trial counts as running until finished(). Throws ConfigError for an invalid
  /// combination (the trial then counts as failed: call finished() with its outcome).
  TrialAssignment make(int64_t id);

  /// The scheduler's verdict on one epoch report (always "continue" without a scheduler).
  EpochVerdict judge(const EpochReport& report);

  /// Records that `trial`, made by make(), finished: sets outcome.rung, tells TPE. Returns the
  /// trial's hyperparameter values in space order (for the result file).
  std::vector<ParamAssignment> finished(const TrialAssignment& trial, TrialOutcome& outcome);

  /// How many trials were made and have not finished (TPE's constant liar sees their points).
  size_t running() const;

  /// The TPE sampler (nullptr unless the strategy is tpe), for tools that ask it for points
  /// without running trials. Not guarded: not while a search runs.
  const TpeSampler* tpe() const;

 private:
  /// Tells TPE about a finished trial; `curve` is its monitored value after each epoch.
  void observe(int64_t id, const std::vector<ParamAssignment>& values, const std::string& status,
               double best_value, std::vector<double> curve);
  /// The monitored value (val_loss or val_metric) of each epoch in `history`, up to the epoch
  /// whose validation loss diverged (not included).
  std::vector<double> monitored(const History& history) const;

  const SearchConfig& config_;
  bool maximize_;
  mutable std::mutex mutex_;
  std::optional<TpeSampler> tpe_;
  std::optional<Scheduler> scheduler_;
  std::map<int64_t, std::vector<ParamAssignment>> running_;
};

}  // namespace hps
