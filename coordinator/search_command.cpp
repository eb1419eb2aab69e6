#include "coordinator/search_command.hpp"

#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>

#include "coordinator/dispatcher.hpp"
#include "coordinator/messages.hpp"
#include "coordinator/mpi_transport.hpp"
#include "coordinator/progress.hpp"
#include "core/config.hpp"
#include "core/data_loader.hpp"
#include "core/output_path.hpp"
#include "core/results_file.hpp"
#include "core/rng.hpp"
#include "core/search_space.hpp"
#include "worker/trial_runner.hpp"

namespace hps {
namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

std::string default_output(const std::string& config_path) {
  std::filesystem::create_directories("results");
  return "results/" + std::filesystem::path(config_path).stem().string() + ".h5";
}

PreparedData prepare(const SearchConfig& config) {
  return prepare_data(config.base.data, derive_seed(config.search.seed, SeedStream::kSplit));
}

bool maximizing(const EarlyStoppingConfig& e) {
  return e.mode == MonitorMode::kMax ||
         (e.mode == MonitorMode::kAuto && e.monitor == Monitor::kValAccuracy);
}

const char* monitor_name(Monitor m) { return m == Monitor::kValLoss ? "val_loss" : "val_accuracy"; }

// The coordinator's side of the search, on rank 0 after the data is out.
int coordinate(const MpiSession& mpi, const SearchConfig& config, const PreparedData& data,
               const std::string& output) {
  const int64_t total = trial_count(config.search);
  std::fprintf(stderr, "hpsearch run: %lld trials (%s) on %d rank%s, writing %s\n",
               static_cast<long long>(total),
               config.search.strategy == SearchStrategy::kGrid ? "grid" : "random", mpi.size(),
               mpi.size() == 1 ? "" : "s", output.c_str());
  ResultsWriter writer(output, config, mpi.size(), data.scaler, data.train.num_features(),
                       data.train.num_outputs(), data.train.num_classes);
  MpiWorkerPool pool(
      mpi.size(), [&data](const TrialAssignment& trial, int) { return run_trial(trial, data, 0); });
  const EarlyStoppingConfig& watch = config.base.early_stopping;
  Progress progress(total, monitor_name(watch.monitor), maximizing(watch), stderr,
                    isatty(STDERR_FILENO) != 0);

  const double cpu_start = thread_cpu_seconds();
  const auto wall_start = std::chrono::steady_clock::now();
  dispatch_trials(
      total, [&config](int64_t id) { return make_trial(config, id); }, pool,
      [&](const TrialAssignment& trial, const TrialOutcome& outcome, int running) {
        writer.add(trial, trial_values(config.search, trial.trial_id), outcome);
        progress.finished(outcome, running);
      });
  pool.stop_all();
  progress.close();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const double cpu_share = wall > 0 ? (thread_cpu_seconds() - cpu_start) / wall : 0.0;
  writer.finish("finished", cpu_share);

  std::printf("finished %lld trials; results in %s (hpsearch inspect %s)\n",
              static_cast<long long>(total), output.c_str(), output.c_str());
  std::printf("coordinator CPU: %.2f%% of one core over %s\n", 100.0 * cpu_share,
              Progress::format_duration(wall).c_str());
  return 0;
}

}  // namespace

int run_search(const MpiSession& mpi, const std::string& config_path, std::string output,
               bool force) {
  // Rank 0 checks everything first and tells the others whether to go on, so a bad config
  // ends every rank with the same clear exit code and no rank waits forever.
  std::vector<char> verdict(1, 0);
  SearchConfig config;
  PreparedData data;
  if (mpi.rank() == 0) {
    try {
      config = load_search_config(config_path);
      if (output.empty()) output = default_output(config_path);
      check_output_path(output, force);
      data = prepare(config);
      if (force) std::filesystem::remove(output);
      verdict[0] = 1;
    } catch (const ConfigError& e) {
      std::fprintf(stderr, "hpsearch: config error: %s\n", e.what());
    } catch (const DataError& e) {
      std::fprintf(stderr, "hpsearch: data error: %s\n", e.what());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "hpsearch: error: %s\n", e.what());
    }
  }
  broadcast(verdict);
  if (verdict[0] == 0) return 2;

  std::vector<char> bytes;
  if (mpi.rank() == 0) bytes = pack(data);
  broadcast(bytes);
  if (mpi.rank() != 0) {
    const PreparedData shared = unpack_data(bytes);
    bytes = {};
    serve_trials([&shared](const TrialAssignment& trial, int rank) {
      return run_trial(trial, shared, rank);
    });
    return 0;
  }
  bytes = {};
  return coordinate(mpi, config, data, output);
}

int check_search(const std::string& config_path, int show_trials) {
  const SearchConfig config = load_search_config(config_path);
  const PreparedData data = prepare(config);
  const int64_t total = trial_count(config.search);
  std::printf("config: %s\n", config_path.c_str());
  std::printf(
      "strategy: %s, %lld trials, search seed %llu, keep_weights %s\n",
      config.search.strategy == SearchStrategy::kGrid ? "grid" : "random",
      static_cast<long long>(total), static_cast<unsigned long long>(config.search.seed),
      config.search.keep_weights < 0 ? "all" : std::to_string(config.search.keep_weights).c_str());
  const auto shape = [](const char* name, const Dataset& d) {
    std::printf("%s: %lld samples x %lld features%s\n", name, static_cast<long long>(d.size()),
                static_cast<long long>(d.num_features()),
                d.task == Task::kClassification
                    ? (", " + std::to_string(d.num_classes) + " classes").c_str()
                    : "");
  };
  shape("train", data.train);
  shape("validation", data.validation);
  if (data.test) shape("test", *data.test);
  for (int64_t id = 0; id < std::min<int64_t>(total, show_trials); ++id) {
    std::printf("trial %lld:", static_cast<long long>(id));
    for (const auto& [name, value] : trial_values(config.search, id))
      std::printf(" %s=%s", name.c_str(), to_string(value).c_str());
    make_trial(config, id);  // the combination must be valid too
    std::printf("\n");
  }
  if (total > show_trials)
    std::printf("... %lld more\n", static_cast<long long>(total - show_trials));
  return 0;
}

}  // namespace hps
