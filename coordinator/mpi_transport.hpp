#pragma once
// All of hpsearch's MPI lives here: the worker pool rank 0 dispatches to, the loop the other
// ranks serve trials in, and the one broadcast of the data set. Waits poll with short sleeps
// instead of blocking in MPI, because Open MPI's blocking calls spin and would take a core
// from a rank that is training.
#include <memory>
#include <vector>

#include "coordinator/thread_worker_pool.hpp"
#include "coordinator/worker_pool.hpp"

namespace hps {

/// Initializes MPI for the lifetime of the object (threads: only the main thread calls MPI).
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  /// Ends every rank of the job at once; for failures one rank cannot report otherwise.
  [[noreturn]] static void abort(int code);

 private:
  int rank_ = 0;
  int size_ = 1;
};

/// Rank 0's workers: worker 0 is a thread of rank 0 itself (so -np N trains N trials at once),
/// worker r >= 1 is rank r.
class MpiWorkerPool final : public WorkerPool {
 public:
  MpiWorkerPool(int ranks, TrialFunction local_train);
  int size() const override { return ranks_; }
  void assign(int worker, const TrialAssignment& trial) override;
  std::optional<TrialOutcome> wait_result(int& worker, double timeout_seconds) override;
  /// Answers the local thread's reports directly and other ranks' reports while waiting in
  /// wait_result().
  void set_judge(EpochJudge judge) override;
  void stop_all() override;

 private:
  int ranks_;
  EpochJudge judge_;
  ThreadWorkerPool local_;
  std::vector<char> buffer_;
};

/// Ranks >= 1: receive assignments from rank 0 and train them with `train` until told to stop.
/// Epoch reports go to rank 0, which answers each with a verdict.
void serve_trials(const TrialFunction& train);

/// Sends `bytes` from rank 0 to every rank (others pass an empty vector and get the data).
/// Large payloads go in pieces, so data sets over 2 GiB work.
void broadcast(std::vector<char>& bytes);

}  // namespace hps
