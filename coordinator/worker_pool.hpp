#pragma once
#include <functional>
#include <optional>

#include "core/trial.hpp"

namespace hps {

/// Trains one trial on some worker (the real one is worker/trial_runner's run_trial), asking
/// `judge` about every epoch when the trial reports epochs.
using TrialFunction =
    std::function<TrialOutcome(const TrialAssignment&, int worker, const EpochJudge& judge)>;

/// Where the coordinator's trials run: a fixed set of workers, each training one trial at a
/// time. The dispatch logic (coordinator.hpp) sees only this interface, so it is tested with
/// threads in one process (ThreadWorkerPool) and runs across ranks with MpiWorkerPool.
class WorkerPool {
 public:
  virtual ~WorkerPool() = default;
  /// Number of workers; trials can run on all of them at once.
  virtual int size() const = 0;
  /// Starts `trial` on idle worker `worker` (0 <= worker < size()).
  virtual void assign(int worker, const TrialAssignment& trial) = 0;
  /// Waits up to `timeout_seconds` for some worker to finish; returns its outcome and sets
  /// `worker` to it, or nullopt when none finished in time.
  virtual std::optional<TrialOutcome> wait_result(int& worker, double timeout_seconds) = 0;
  /// Sets who answers the epoch reports of trials with report_epochs (a scheduler). Call it
  /// before the first assign(). It is called from worker threads and from the thread that
  /// calls wait_result(), so it must be thread-safe. Without one, every trial continues.
  virtual void set_judge(EpochJudge judge) = 0;
  /// Tells every worker that no more trials come. Workers must be idle.
  virtual void stop_all() = 0;
};

}  // namespace hps
