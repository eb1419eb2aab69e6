#include "coordinator/search_command.hpp"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>

#include "coordinator/dispatcher.hpp"
#include "coordinator/messages.hpp"
#include "coordinator/mpi_transport.hpp"
#include "coordinator/progress.hpp"
#include "coordinator/resume_check.hpp"
#include "coordinator/search_state.hpp"
#include "coordinator/terminal_text.hpp"
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

PreparedData prepare(const SearchConfig& config) {
  return prepare_data(config.base.data, derive_seed(config.search.seed, SeedStream::kSplit));
}

// Set by SIGTERM/SIGUSR1/SIGINT on every rank. Rank 0 acts on it; the others keep training
// while rank 0 gives running trials their grace period. A worker dies only at the SIGTERM its
// MPI launcher (its parent: mpirun or orted) sends when rank 0 ends the job, so the job ends
// without waiting for SIGKILL. Any other repeat is ignored: a user's second request (another
// `scancel --signal=USR1`, forwarded by mpirun; a second SIGTERM to the ranks) must not kill a
// worker, or mpirun would abort the job before rank 0 closed the result file. The launcher's
// SIGTERM counts only a second or more after the first signal: one request often arrives twice
// within milliseconds (`timeout` signals both mpirun and its process group, and mpirun
// forwards its copy; Slurm signals every process of a step while mpirun forwards too).
volatile std::sig_atomic_t g_stop_signal = 0;
volatile std::sig_atomic_t g_worker_rank = 0;
std::atomic<int64_t> g_first_stop_ns{0};
static_assert(std::atomic<int64_t>::is_always_lock_free, "used in a signal handler");
constexpr int64_t kRepeatAfterNs = 1'000'000'000;

extern "C" void record_stop_signal(int signal, siginfo_t* info, void* /*context*/) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);  // async-signal-safe, as are getppid, signal, raise
  const int64_t ns = static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  if (g_stop_signal == 0) {
    g_first_stop_ns.store(ns);
  } else if (g_worker_rank != 0 && signal == SIGTERM && info != nullptr &&
             info->si_pid == getppid() && ns - g_first_stop_ns.load() >= kRepeatAfterNs) {
    std::signal(signal, SIG_DFL);
    std::raise(signal);
  }
  g_stop_signal = signal;
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_sigaction = record_stop_signal;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
  // A SIGINT ignored from the start (a job started with & by a script, or under nohup-like
  // wrappers) stays ignored, as the shell meant it.
  struct sigaction interrupt {};
  if (sigaction(SIGINT, nullptr, &interrupt) == 0 && interrupt.sa_handler != SIG_IGN)
    sigaction(SIGINT, &action, nullptr);
}

namespace {

// What rank 0 decided before any trial runs; broadcast so every rank exits alike.
enum class Verdict : char { kStop = 0, kGo = 1, kAlreadyFinished = 2 };

// Rank 0's checks: lock, config, output, data, and for --resume the recorded search.
struct Plan {
  SearchConfig config;
  PreparedData data;
  std::string fingerprint;
  /// A resumed search: its /summary, and the state replayed from the file (built while
  /// checking that the file can be resumed, so the coordinator reads the histories once).
  std::vector<SummaryRow> recorded;
  std::unique_ptr<SearchState> state;
};

Verdict plan_search(RunOptions& options, std::optional<OutputLock>& lock, Plan& plan) {
  // A resumed search runs as recorded: settings that newer checks refuse (load_search_config)
  // must not strand a search an older hpsearch started.
  plan.config = load_search_config(
      options.config, options.resume ? UnusedSettings::kAllow : UnusedSettings::kRefuse);
  if (options.output.empty()) options.output = default_output_path(options.config, ".h5");
  if (options.resume && options.force)
    throw std::runtime_error("--resume and --force contradict each other: pick one");
  // --resume reuses the output as the recorded search, which is not among these inputs.
  const auto check_output = [&] {
    check_output_path(options.output, options.force || options.resume,
                      config_inputs(options.config, plan.config.base));
    if (options.resume && !std::filesystem::exists(options.output))
      throw std::runtime_error("nothing to resume: '" + options.output +
                               "' does not exist (run without --resume to start the search)");
  };
  check_output();
  // The data is an input: its errors come before the lock, so that they leave no lock file.
  plan.data = prepare(plan.config);
  plan.fingerprint = fingerprint(plan.data);
  lock.emplace(options.output);
  check_output();  // again under the lock: the output may have changed while the data loaded
  // Both a resume and a new search begin by discarding OUT.live; after a failed publish it
  // holds the only copy of the newest trials.
  if (!options.force)
    if (const std::optional<std::size_t> kept = unpublished_trials(options.output)) {
      const std::string& out = options.output;
      throw std::runtime_error("'" + out + ".live' holds " + std::to_string(*kept) +
                               " recorded trial" + (*kept == 1 ? "" : "s") +
                               " that a search could not publish as '" + out +
                               "' (it ended with \"cannot replace '" + out +
                               "' ...\"), and this run would discard them: move it over '" + out +
                               "' (mv '" + out + ".live' '" + out +
                               "', once that can be written), or delete it, or start afresh with "
                               "--force");
    }
  if (options.resume) {
    const ResultsReader recorded(options.output);  // refuses foreign and corrupt files
    SearchConfig before;
    try {
      before = recorded_search_config(recorded);  // TPE ranked as it ran
    } catch (const ConfigError&) {
      throw;                                 // names the recorded config's key and line
    } catch (const std::runtime_error& e) {  // a tpe_ranking that no hpsearch writes
      throw std::runtime_error("cannot resume '" + options.output + "': the file is damaged:\n  " +
                               e.what() + "\n(start a new search with another --out, or --force)");
    }
    // A grid recorded with every point of its product resumes so (recorded_search_config).
    if (before.search.grid_every_point) keep_every_grid_point(plan.config.search);
    const auto changes =
        identity_changes(search_identity(before, recorded.attribute("data_fingerprint")),
                         search_identity(plan.config, plan.fingerprint));
    if (!changes.empty()) {
      std::string text = "cannot resume '" + options.output +
                         "': the search or its data changed since it was recorded:";
      for (const std::string& c : changes) text += "\n  " + c;
      if (before.search.strategy == SearchStrategy::kTpe &&
          plan.config.search.strategy == SearchStrategy::kTpe &&
          before.search.tpe.ranking != plan.config.search.tpe.ranking)
        text += std::string("\n(to resume it as it ran, set search.tpe.ranking: ") +
                to_string(before.search.tpe.ranking) + "; the default is " +
                to_string(TpeSettings{}.ranking) + " since hpsearch 0.2.0)";
      throw std::runtime_error(text + "\n(start a new search with another --out, or --force)");
    }
    // Damage that resuming would trip over after it has begun to change the file (a /summary
    // row without its trial, a history cut short) is found here, before anything is written,
    // by the checks and reads resuming does.
    plan.recorded = recorded.summary();
    const std::vector<SummaryRow>& summary = plan.recorded;
    std::vector<std::string> problems = summary_problems(summary, trial_count(plan.config.search));
    for (std::string& p : summary_bound_problems(summary, before)) problems.push_back(std::move(p));
    if (problems.empty()) {
      // The checks read every trial's group and history; the search state is replayed from
      // those reads (and thrown away if they found a problem).
      std::string unmade;
      try {
        plan.state = std::make_unique<SearchState>(plan.config);
      } catch (const std::exception& e) {
        unmade = e.what();
      }
      ResultsReader::TrialVisitor replay;
      if (plan.state)
        replay = [&](const SummaryRow& row, double best_value, const History& history) {
          plan.state->replay_trial(row, best_value, history);
        };
      problems = recorded.resume_problems(plan.config, summary, replay);
      if (!unmade.empty()) problems.push_back(unmade);
    }
    if (!problems.empty()) {
      std::string text = "cannot resume '" + options.output + "': the file is damaged:";
      for (const std::string& p : problems) text += "\n  " + p;
      throw std::runtime_error(text + "\n(start a new search with another --out, or --force)");
    }
    // An earlier hpsearch could call a search finished with trials missing from /summary
    // (a resume counted a half-written trial as recorded); those run now.
    const size_t rows = summary.size();
    if (recorded.attribute("status") == "finished" &&
        rows >= static_cast<size_t>(trial_count(plan.config.search))) {
      std::printf("%s: the search already finished (%zu trials); nothing to do\n",
                  options.output.c_str(), rows);
      return Verdict::kAlreadyFinished;
    }
    return Verdict::kGo;
  }
  // With --force the old file stays until the new search's first publish replaces it.
  return Verdict::kGo;
}

// The coordinator's side of the search, on rank 0 after the data is out.
int coordinate(const MpiSession& mpi, const RunOptions& options, Plan& plan) {
  const SearchConfig& config = plan.config;
  const PreparedData& data = plan.data;
  const std::string& output = options.output;
  std::unique_ptr<ResultsWriter> writer =
      options.resume ? ResultsWriter::resume(output, config, mpi.size(), data.scaler,
                                             data.train.num_features(), data.train.num_outputs(),
                                             data.train.num_classes, data.train.feature_names)
                     : std::make_unique<ResultsWriter>(
                           output, config, mpi.size(), data.scaler, data.train.num_features(),
                           data.train.num_outputs(), data.train.num_classes, plan.fingerprint,
                           data.train.feature_names, options.force);
  const int64_t total = trial_count(config.search);
  const std::vector<int64_t> recorded = writer->recorded_trials();
  if (!plan.state) plan.state = std::make_unique<SearchState>(config);  // a new search
  SearchState& state = *plan.state;
  const EarlyStoppingConfig& watch = config.base.early_stopping;
  Progress progress(total, monitor_name(watch.monitor), maximizes(watch), stderr,
                    isatty(STDERR_FILENO) != 0, static_cast<int64_t>(recorded.size()));
  // The progress line's best and failures count the recorded trials too.
  for (const SummaryRow& row : plan.recorded)
    progress.recorded(row.trial,
                      row.status != to_string(TrialStatus::kFailed) &&
                          row.status != to_string(TrialStatus::kDiverged),
                      watch.monitor == Monitor::kValLoss ? row.best_val_loss : row.best_val_metric);
  std::vector<int64_t> ids;
  for (const int64_t id : all_trials(total))
    if (!std::binary_search(recorded.begin(), recorded.end(), id)) ids.push_back(id);
  const SchedulerKind scheduler = config.search.scheduler.kind;
  std::fprintf(stderr, "hpsearch run: %lld trials (%s%s%s) on %d rank%s, writing %s\n",
               static_cast<long long>(total), to_string(config.search.strategy),
               scheduler == SchedulerKind::kNone ? "" : " + ",
               scheduler == SchedulerKind::kNone ? "" : to_string(scheduler), mpi.size(),
               mpi.size() == 1 ? "" : "s", output.c_str());
  if (options.resume)
    std::fprintf(stderr, "resuming: %zu trials recorded, %zu to run\n", recorded.size(),
                 ids.size());

  MpiWorkerPool pool(mpi.size(),
                     [&data](const TrialAssignment& trial, int, const EpochJudge& judge) {
                       return run_trial(trial, data, 0, judge);
                     });
  pool.set_judge([&state](const EpochReport& report) { return state.judge(report); });

  const double cpu_start = thread_cpu_seconds();
  const auto wall_start = std::chrono::steady_clock::now();
  const auto elapsed_seconds = [wall_start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  };
  // An error while trials run (the result file cannot be written or replaced) ends the job
  // here: unwinding would first wait for rank 0's own trial (the pool joins its thread, and a
  // trial cannot be cancelled), holding every rank, silent and deaf to stop signals. The
  // writer publishes what is recorded before the job ends.
  const auto fail = [&](const std::exception& e) {
    abort_search(mpi.rank(), e, [&writer] { writer.reset(); });
  };
  DispatchReport report;
  try {
    report = dispatch_trials(
        ids, [&state](int64_t id) { return state.make(id); }, pool,
        [&](const TrialAssignment& trial, TrialOutcome& outcome, int running) {
          const std::vector<ParamAssignment> values = state.finished(trial, outcome);
          writer->add(trial, values, outcome);
          progress.finished(outcome, running);
        },
        [&writer] {
          writer->publish_if_due();
          return g_stop_signal != 0;
        },
        options.grace_seconds,
        [&] {
          return options.time_limit_seconds > 0 && elapsed_seconds() >= options.time_limit_seconds;
        });
  } catch (const std::exception& e) {
    fail(e);
  }
  progress.close();
  const double wall = elapsed_seconds();
  // Under a second the thread clock's granularity dominates (shares of 140% were seen on
  // resumes with nothing to run): not measured.
  const double cpu_share = wall >= 1.0 ? (thread_cpu_seconds() - cpu_start) / wall
                                       : std::numeric_limits<double>::quiet_NaN();

  if (report.interrupted) {
    const size_t recorded_now = writer->recorded_trials().size();
    try {
      writer->finish("interrupted", cpu_share, report.unfinished);
    } catch (const std::exception& e) {
      fail(e);  // rank 0's own trial may still be running
    }
    std::fprintf(stderr,
                 "hpsearch: interrupted by signal %d: %zu of %lld trials recorded in %s, %zu "
                 "running ones dropped; continue with: hpsearch run %s --out %s --resume\n",
                 static_cast<int>(g_stop_signal), recorded_now, static_cast<long long>(total),
                 output.c_str(), report.unfinished.size(), options.config.c_str(), output.c_str());
    // Trials still training (on other ranks or rank 0's own thread) end with the job; with
    // every worker idle the job can end normally.
    if (!report.unfinished.empty()) MpiSession::abort(kRunInterrupted);
    pool.stop_all();
    return kRunInterrupted;
  }
  pool.stop_all();
  if (report.out_of_time) {
    const size_t recorded_now = writer->recorded_trials().size();
    writer->finish("time_limit", cpu_share);
    // Under a minute as given ("0.5s", not "0s"), so the message names the limit that was set.
    char limit[32];
    std::snprintf(limit, sizeof limit, "%gs", options.time_limit_seconds);
    std::printf(
        "time limit of %s reached: %zu of %lld trials recorded in %s (hpsearch inspect %s); "
        "run more with: hpsearch run %s --out %s --resume\n",
        options.time_limit_seconds < 60
            ? limit
            : Progress::format_duration(options.time_limit_seconds).c_str(),
        recorded_now, static_cast<long long>(total), output.c_str(), output.c_str(),
        options.config.c_str(), output.c_str());
    return kRunFinished;
  }
  writer->finish("finished", cpu_share);
  std::printf("finished %lld trials; results in %s (hpsearch inspect %s)\n",
              static_cast<long long>(total), output.c_str(), output.c_str());
  if (!std::isnan(cpu_share))
    std::printf("coordinator CPU: %.2f%% of one core over %s\n", 100.0 * cpu_share,
                Progress::format_duration(wall).c_str());
  return kRunFinished;
}

}  // namespace

void abort_search(int rank, const std::exception& error, const std::function<void()>& last) {
  std::fprintf(stderr, "hpsearch: rank %d: error: %s\n", rank, printable(error.what()).c_str());
  if (last) {
    try {
      last();
    } catch (...) {  // the error above is the one to tell
    }
  }
  MpiSession::abort(1);
}

int run_search(const MpiSession& mpi, RunOptions options) {
  install_stop_handlers();  // again: MPI_Init could have replaced them
  g_worker_rank = mpi.rank() != 0 ? 1 : 0;
  // Rank 0 checks everything first and tells the others whether to go on, so a bad config
  // ends every rank with the same clear exit code and no rank waits forever.
  std::vector<char> verdict(1, static_cast<char>(Verdict::kStop));
  std::optional<OutputLock> lock;
  Plan plan;
  if (mpi.rank() == 0) {
    try {
      verdict[0] = static_cast<char>(plan_search(options, lock, plan));
    } catch (const std::exception& e) {
      // Whatever stops a search before it starts (a result file that cannot be resumed
      // included) refuses it with nothing written: exit 2 on every rank, not report_error's 1.
      report_error(e);
    }
  }
  broadcast(verdict);
  switch (static_cast<Verdict>(verdict[0])) {
    case Verdict::kStop:
      return kRunBadInput;
    case Verdict::kAlreadyFinished:
      return kRunFinished;
    case Verdict::kGo:
      break;
  }

  std::vector<char> bytes;
  if (mpi.rank() == 0) bytes = pack(plan.data);
  broadcast(bytes);
  if (mpi.rank() != 0) {
    const PreparedData shared = unpack_data(bytes);
    bytes = {};
    serve_trials([&shared](const TrialAssignment& trial, int rank, const EpochJudge& judge) {
      return run_trial(trial, shared, rank, judge);
    });
    return kRunFinished;
  }
  bytes = {};
  return coordinate(mpi, options, plan);
}

int check_search(const std::string& config_path, int show_trials) {
  const SearchConfig config = load_search_config(config_path);
  const PreparedData data = prepare(config);
  const int64_t total = trial_count(config.search);
  std::printf("config: %s\n", config_path.c_str());
  std::printf(
      "strategy: %s, %lld trials, search seed %llu, keep_weights %s\n",
      to_string(config.search.strategy), static_cast<long long>(total),
      static_cast<unsigned long long>(config.search.seed),
      config.search.keep_weights < 0 ? "all" : std::to_string(config.search.keep_weights).c_str());
  if (config.search.strategy == SearchStrategy::kGrid) {
    const std::optional<int64_t> product = grid_points(config.search.space, true);
    if (product != total)
      std::printf(
          "grid: %lld of the product's %s points; momentum's values only with "
          "optimizer momentum, which alone uses it\n",
          static_cast<long long>(total),
          product ? std::to_string(*product).c_str() : "more than 2^63 - 1");
  }
  if (config.search.strategy == SearchStrategy::kTpe) {
    const TpeSettings& tpe = config.search.tpe;
    std::printf("tpe: startup_trials %lld, gamma %g, candidates %lld, ranking %s, %s\n",
                static_cast<long long>(tpe.startup_trials), tpe.gamma,
                static_cast<long long>(tpe.candidates), to_string(tpe.ranking),
                tpe.multivariate ? "multivariate" : "univariate");
  }
  const SchedulerSettings& scheduler = config.search.scheduler;
  if (scheduler.kind == SchedulerKind::kAsha) {
    std::string rungs;
    const Scheduler asha(scheduler, true, config.base.training.max_epochs);
    for (const int64_t r : asha.rungs()) rungs += (rungs.empty() ? "" : ", ") + std::to_string(r);
    std::printf("scheduler: asha, reduction_factor %lld, rungs at %s epochs\n",
                static_cast<long long>(scheduler.reduction_factor), rungs.c_str());
  } else if (scheduler.kind == SchedulerKind::kMedian) {
    std::printf("scheduler: median, warmup_epochs %lld, min_trials %lld\n",
                static_cast<long long>(scheduler.warmup_epochs),
                static_cast<long long>(scheduler.min_trials));
  }
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
  int64_t known = total;  // TPE's trials after its random start depend on results
  if (config.search.strategy == SearchStrategy::kTpe)
    known = std::min(total, config.search.tpe.startup_trials);
  for (int64_t id = 0; id < std::min<int64_t>(known, show_trials); ++id) {
    std::printf("trial %lld:", static_cast<long long>(id));
    const std::vector<ParamAssignment> values = trial_values(config.search, id);
    for (const auto& [name, value] : values)  // "-" where it takes no effect, as inspect shows it
      std::printf(" %s=%s", name.c_str(),
                  takes_effect(values, name) ? to_string(value).c_str() : "-");
    make_trial(config, id);  // the combination must be valid too
    std::printf("\n");
  }
  if (known > show_trials)
    std::printf("... %lld more\n", static_cast<long long>(known - show_trials));
  if (known < total)
    std::printf("... then %lld trials sampled by TPE from the results so far\n",
                static_cast<long long>(total - known));
  return 0;
}

}  // namespace hps
