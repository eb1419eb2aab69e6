#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "coordinator/worker_pool.hpp"
#include "core/trial.hpp"

namespace hps {

/// Makes trial `id`'s assignment; may throw (an invalid combination of hyperparameters).
using TrialMaker = std::function<TrialAssignment(int64_t id)>;
/// Receives every finished trial, in arrival order; `running` counts trials still out. The
/// outcome is the sink's to annotate (the coordinator adds the trial's rung) before storing it.
using ResultSink =
    std::function<void(const TrialAssignment& trial, TrialOutcome& outcome, int running)>;
/// Polled while waiting: true once the search should stop (a signal arrived).
using StopRequest = std::function<bool()>;

/// How a dispatch ended.
struct DispatchReport {
  bool interrupted = false;
  bool out_of_time = false;         ///< `no_new_trials` turned true: trials were left unstarted
  std::vector<int64_t> unfinished;  ///< trials still running when it gave up waiting
};

/// Runs the trials `ids` on `pool` with dynamic dispatch: every worker gets a trial at the
/// start, and a worker that reports back gets the next one at once, so trials of very
/// different lengths keep every worker busy. A trial whose assignment cannot be made is
/// reported as failed without running. When `stop` turns true, no more trials are handed
/// out and running ones get `grace_seconds` to report; the rest are returned as unfinished.
/// If every trial had been handed out and all report within the grace period, the search is
/// complete and not `interrupted`.
/// Once `no_new_trials` turns true (a time limit), no more trials start, and the running ones
/// finish and are reported as usual (Optuna's `timeout` semantics).
DispatchReport dispatch_trials(const std::vector<int64_t>& ids, const TrialMaker& make,
                               WorkerPool& pool, const ResultSink& on_result,
                               const StopRequest& stop = {}, double grace_seconds = 5.0,
                               const StopRequest& no_new_trials = {});

/// The ids 0..total-1.
std::vector<int64_t> all_trials(int64_t total);

}  // namespace hps
