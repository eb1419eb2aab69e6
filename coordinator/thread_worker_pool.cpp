#include "coordinator/thread_worker_pool.hpp"

#include <chrono>
#include <exception>

namespace hps {

ThreadWorkerPool::ThreadWorkerPool(int workers, TrialFunction train)
    : train_(std::move(train)), inbox_(static_cast<size_t>(workers)) {
  for (int w = 0; w < workers; ++w) threads_.emplace_back([this, w] { serve(w); });
}

ThreadWorkerPool::~ThreadWorkerPool() { stop_all(); }

void ThreadWorkerPool::assign(int worker, const TrialAssignment& trial) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    inbox_[static_cast<size_t>(worker)] = trial;
  }
  work_ready_.notify_all();
}

std::optional<TrialOutcome> ThreadWorkerPool::wait_result(int& worker, double timeout_seconds) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!result_ready_.wait_for(lock, std::chrono::duration<double>(timeout_seconds),
                              [this] { return !results_.empty(); }))
    return std::nullopt;
  auto [w, outcome] = std::move(results_.front());
  results_.pop_front();
  worker = w;
  return std::move(outcome);
}

std::optional<std::pair<int, TrialOutcome>> ThreadWorkerPool::poll() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (results_.empty()) return std::nullopt;
  auto result = std::move(results_.front());
  results_.pop_front();
  return result;
}

void ThreadWorkerPool::stop_all() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadWorkerPool::serve(int worker) {
  for (;;) {
    TrialAssignment trial;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return stopping_ || inbox_[static_cast<size_t>(worker)]; });
      if (!inbox_[static_cast<size_t>(worker)]) return;  // stopping and idle
      trial = std::move(*inbox_[static_cast<size_t>(worker)]);
      inbox_[static_cast<size_t>(worker)].reset();
    }
    TrialOutcome outcome;
    try {
      outcome = train_(trial, worker, judge_);
    } catch (const std::exception& e) {  // the trial function should not throw; be safe
      outcome.trial_id = trial.trial_id;
      outcome.status = TrialStatus::kFailed;
      outcome.message = e.what();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      results_.emplace_back(worker, std::move(outcome));
    }
    result_ready_.notify_all();
  }
}

}  // namespace hps
