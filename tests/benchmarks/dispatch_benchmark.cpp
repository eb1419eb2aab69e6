// Dispatch throughput with trivial trials: the real coordinator loop, MPI transport and result
// writer, with workers that answer at once. Reports trials dispatched per second and the cost
// of writing one result, early in the run and late, to show it does not grow with the number
// of trials. Run under mpirun with many (oversubscribed) ranks; scripts/dispatch_benchmark.sh
// does that for 1,000 and 20,000 trials.
//
// Usage: mpirun -np R dispatch_benchmark TRIALS WORKDIR
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "coordinator/dispatcher.hpp"
#include "coordinator/mpi_transport.hpp"
#include "core/results_file.hpp"
#include "core/search_space.hpp"

namespace {

using namespace hps;
using Clock = std::chrono::steady_clock;

// A trial that is done at once: one epoch of history and the weights of a 4-2-2 network.
TrialOutcome trivial(const TrialAssignment& trial, int rank, const EpochJudge&) {
  TrialOutcome o;
  o.trial_id = trial.trial_id;
  o.rank = rank;
  o.status = TrialStatus::kCompleted;
  o.best_epoch = 0;
  o.best_value = 1.0 / (1.0 + static_cast<double>(trial.trial_id % 997));
  EpochRecord e;
  e.val_loss = o.best_value;
  o.history.epochs.push_back(e);
  o.weights = Vector::Constant(4 * 2 + 2 + 2 * 2 + 2, 0.5f);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(argc, argv);
  if (argc != 3) {
    if (mpi.rank() == 0) std::fprintf(stderr, "usage: dispatch_benchmark TRIALS WORKDIR\n");
    return 2;
  }
  if (mpi.rank() != 0) {
    serve_trials(trivial);
    return 0;
  }
  const long trials = std::atol(argv[1]);
  const std::string dir = argv[2];
  std::filesystem::create_directories(dir);
  {
    std::ofstream csv(dir + "/tiny.csv");
    csv << "a,b,c,d,label\n1,2,3,4,0\n4,3,2,1,1\n1,1,1,1,0\n2,2,2,2,1\n";
  }
  const std::string yaml =
      "data:\n  train: {format: csv, path: tiny.csv, label_column: label}\n"
      "model: {hidden: [2]}\n"
      "search:\n  strategy: random\n  trials: " +
      std::to_string(trials) +
      "\n  keep_weights: 5\n  space:\n"
      "    learning_rate: {log_uniform: [1.0e-4, 1.0e-1]}\n"
      "    dropout: {uniform: [0.0, 0.5]}\n";
  const SearchConfig config = parse_search_config(yaml, "dispatch.yaml", dir);
  const std::string out = dir + "/dispatch_" + std::to_string(trials) + ".h5";
  std::filesystem::remove(out);
  Scaler scaler;
  ResultsWriter writer(out, config, mpi.size(), scaler, 4, 2, 2);
  MpiWorkerPool pool(mpi.size(), trivial);

  double write_seconds = 0.0, early_write = 0.0, late_write = 0.0;
  const long window = std::min<long>(1000, trials);
  long done = 0;
  const auto started = Clock::now();
  dispatch_trials(
      all_trials(trials), [&config](int64_t id) { return make_trial(config, id); }, pool,
      [&](const TrialAssignment& trial, const TrialOutcome& outcome, int) {
        const auto t0 = Clock::now();
        writer.add(trial, trial_values(config.search, trial.trial_id), outcome);
        const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
        write_seconds += dt;
        if (done < window) early_write += dt;
        if (done >= trials - window) late_write += dt;
        ++done;
      });
  const double wall = std::chrono::duration<double>(Clock::now() - started).count();
  pool.stop_all();
  writer.finish("finished", 0.0);
  std::printf(
      "{\"trials\": %ld, \"ranks\": %d, \"seconds\": %.3f, \"trials_per_second\": %.1f, "
      "\"write_ms_per_result\": %.4f, \"write_ms_first_%ld\": %.4f, \"write_ms_last_%ld\": %.4f, "
      "\"file_mb\": %.1f}\n",
      trials, mpi.size(), wall, static_cast<double>(trials) / wall,
      1e3 * write_seconds / static_cast<double>(trials), window,
      1e3 * early_write / static_cast<double>(window), window,
      1e3 * late_write / static_cast<double>(window),
      static_cast<double>(std::filesystem::file_size(out)) / 1e6);
  return 0;
}
