#include "coordinator/dispatcher.hpp"

#include <exception>
#include <unordered_map>

namespace hps {

void dispatch_trials(int64_t total, const TrialMaker& make, WorkerPool& pool,
                     const ResultSink& on_result) {
  int64_t next = 0;
  int running = 0;
  std::unordered_map<int64_t, TrialAssignment> in_flight;

  // Gives `worker` the next trial that can be made; trials that cannot are reported failed.
  const auto start_next = [&](int worker) {
    while (next < total) {
      const int64_t id = next++;
      TrialAssignment trial;
      try {
        trial = make(id);
      } catch (const std::exception& e) {
        trial.trial_id = id;
        TrialOutcome failed;
        failed.trial_id = id;
        failed.status = TrialStatus::kFailed;
        failed.message = e.what();
        on_result(trial, failed, running);
        continue;
      }
      pool.assign(worker, trial);
      in_flight.emplace(id, std::move(trial));
      ++running;
      return;
    }
  };

  for (int w = 0; w < pool.size() && next < total; ++w) start_next(w);
  while (running > 0) {
    int worker = -1;
    const TrialOutcome outcome = pool.wait_result(worker);
    --running;
    const auto it = in_flight.find(outcome.trial_id);
    on_result(it->second, outcome, running);
    in_flight.erase(it);
    start_next(worker);
  }
}

}  // namespace hps
