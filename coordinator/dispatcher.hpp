#pragma once
#include <cstdint>
#include <functional>

#include "coordinator/worker_pool.hpp"
#include "core/trial.hpp"

namespace hps {

/// Makes trial `id`'s assignment; may throw (an invalid combination of hyperparameters).
using TrialMaker = std::function<TrialAssignment(int64_t id)>;
/// Receives every finished trial, in arrival order; `running` counts trials still out.
using ResultSink =
    std::function<void(const TrialAssignment& trial, const TrialOutcome& outcome, int running)>;

/// Runs trials 0..total-1 on `pool` with dynamic dispatch: every worker gets a trial at the
/// start, and a worker that reports back gets the next one at once, so trials of very
/// different lengths keep every worker busy. A trial whose assignment cannot be made is
/// reported as failed without running. Returns when every trial has been reported.
void dispatch_trials(int64_t total, const TrialMaker& make, WorkerPool& pool,
                     const ResultSink& on_result);

}  // namespace hps
