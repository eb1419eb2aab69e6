#include "coordinator/dispatcher.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <numeric>
#include <unordered_map>

namespace hps {

std::vector<int64_t> all_trials(int64_t total) {
  std::vector<int64_t> ids(static_cast<size_t>(std::max<int64_t>(total, 0)));
  std::iota(ids.begin(), ids.end(), int64_t{0});
  return ids;
}

DispatchReport dispatch_trials(const std::vector<int64_t>& ids, const TrialMaker& make,
                               WorkerPool& pool, const ResultSink& on_result,
                               const StopRequest& stop, double grace_seconds,
                               const StopRequest& no_new_trials) {
  using Clock = std::chrono::steady_clock;
  constexpr double kStopPollSeconds = 0.1;
  size_t next = 0;
  int running = 0;
  std::unordered_map<int64_t, TrialAssignment> in_flight;
  DispatchReport report;
  Clock::time_point deadline;

  // Gives `worker` the next trial that can be made; trials that cannot are reported failed.
  const auto start_next = [&](int worker) {
    while (next < ids.size() && !report.interrupted) {
      if (no_new_trials && no_new_trials()) {
        report.out_of_time = true;
        return;
      }
      const int64_t id = ids[next++];
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

  for (int w = 0; w < pool.size() && next < ids.size(); ++w) start_next(w);
  while (running > 0) {
    if (!report.interrupted && stop && stop()) {
      report.interrupted = true;
      deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(grace_seconds));
    }
    double timeout = kStopPollSeconds;
    if (report.interrupted) {
      const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
      if (left <= 0) break;
      timeout = std::min(timeout, left);
    }
    int worker = -1;
    std::optional<TrialOutcome> outcome = pool.wait_result(worker, timeout);
    if (!outcome) continue;
    --running;
    const auto it = in_flight.find(outcome->trial_id);
    on_result(it->second, *outcome, running);
    in_flight.erase(it);
    start_next(worker);
  }
  for (const auto& [id, trial] : in_flight) report.unfinished.push_back(id);
  std::sort(report.unfinished.begin(), report.unfinished.end());
  // A stop that came after the last trial was handed out, whose running trials all reported
  // within the grace period, cut nothing short: the search is complete.
  if (report.interrupted && report.unfinished.empty() && next == ids.size())
    report.interrupted = false;
  return report;
}

}  // namespace hps
