#pragma once
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "coordinator/worker_pool.hpp"

namespace hps {

/// Workers as threads of this process. Rank 0 uses one to train next to its coordinating
/// loop; tests use several to exercise dispatch without MPI.
class ThreadWorkerPool final : public WorkerPool {
 public:
  ThreadWorkerPool(int workers, TrialFunction train);
  ~ThreadWorkerPool() override;
  ThreadWorkerPool(const ThreadWorkerPool&) = delete;
  ThreadWorkerPool& operator=(const ThreadWorkerPool&) = delete;

  int size() const override { return static_cast<int>(threads_.size()); }
  void assign(int worker, const TrialAssignment& trial) override;
  std::optional<TrialOutcome> wait_result(int& worker, double timeout_seconds) override;
  void set_judge(EpochJudge judge) override { judge_ = std::move(judge); }
  void stop_all() override;

  /// A finished outcome if one is waiting, without blocking.
  std::optional<std::pair<int, TrialOutcome>> poll();

 private:
  void serve(int worker);

  TrialFunction train_;
  EpochJudge judge_;
  std::mutex mutex_;
  std::condition_variable work_ready_, result_ready_;
  std::vector<std::optional<TrialAssignment>> inbox_;
  std::deque<std::pair<int, TrialOutcome>> results_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace hps
