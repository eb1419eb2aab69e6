// hpsearch: the command line. Each subcommand is a thin shell over core/ and worker/; this is
// the only place that prints to the user and chooses exit codes.
#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <optional>
#include <string>

#include "coordinator/inspect_command.hpp"
#include "coordinator/model_commands.hpp"
#include "coordinator/mpi_transport.hpp"
#include "coordinator/search_command.hpp"
#include "coordinator/terminal_text.hpp"
#include "core/config.hpp"
#include "core/data_loader.hpp"
#include "core/hdf5_file.hpp"
#include "core/output_path.hpp"
#include "core/results_file.hpp"
#include "core/version.hpp"
#include "worker/train_job.hpp"

// Present only when linked against OpenBLAS (see HPSEARCH_BLAS in CMakeLists.txt).
extern "C" void openblas_set_num_threads(int threads) __attribute__((weak));

namespace {

using namespace hps;

std::string describe_network(const TrainConfig& config) {
  std::string s = "hidden [";
  for (size_t i = 0; i < config.model.hidden.size(); ++i)
    s += (i ? ", " : "") + std::to_string(config.model.hidden[i]);
  return s + "] " + to_string(config.model.activation) + ", " +
         to_string(config.training.optimizer.kind) + ", dropout " +
         std::to_string(config.model.dropout).substr(0, 4);
}

// Seconds in [0, a year] (above 0 when `positive`). CLI11's own number checks let "nan"
// through, and a huge value would overflow the deadline it becomes.
CLI::Validator seconds(bool positive) {
  constexpr double kYear = 365.0 * 24 * 3600;
  const std::string range = std::string(positive ? "(0, " : "[0, ") + "31536000] seconds";
  return CLI::Validator(
      [positive, range](std::string& text) -> std::string {
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        const bool parsed = !text.empty() && end == text.c_str() + text.size();
        if (!parsed || !std::isfinite(value) || value < 0 || (positive && value == 0) ||
            value > kYear)
          return "must be a number in " + range + ", got '" + text + "'";
        return std::string();
      },
      "SECONDS in " + range);
}

// A whole number in [0, most]. CLI11's NonNegativeNumber reports its range as 0 to 1.8e308,
// and an integer option clamps 99999999999999999999 to INT64_MAX without a word.
CLI::Validator whole_number(int64_t most) {
  const std::string range = "[0, " + std::to_string(most) + "]";
  return CLI::Validator(
      [most, range](std::string& text) -> std::string {
        int64_t value = -1;
        const char* end = text.data() + text.size();
        const auto [stop, error] = std::from_chars(text.data(), end, value);
        if (text.empty() || error != std::errc() || stop != end || value < 0 || value > most)
          return "must be a whole number in " + range + ", got '" + text + "'";
        return std::string();
      },
      "N in " + range);
}

// An empty --out would otherwise mean "the default" for some commands and an error for others.
const CLI::Validator kFileName(
    [](std::string& text) {
      return text.empty() ? std::string("must name a file") : std::string();
    },
    "FILE");

// The message and exit code for a command line CLI11 refused: usage errors exit 2, as bad
// configs do; --help and --version print and exit 0.
int usage_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  if (e.get_exit_code() == 0) return app.exit(e);
  std::string message = e.what();
  const std::string first = argc > 1 ? argv[1] : "";
  bool known = false;
  for (const CLI::App* sub : app.get_subcommands({})) known = known || sub->get_name() == first;
  if (known)
    message = first + ": " + message;
  else if (!first.empty() && first[0] == '-')
    message = "unknown option '" + first + "' (before a command only --help and --version)";
  else
    message =
        (first.empty() ? std::string("a command is required") : "unknown command '" + first + "'") +
        " (commands: train, run, check, inspect, evaluate, predict)";
  std::fprintf(stderr, "hpsearch: usage error: %s\n(see hpsearch --help)\n",
               printable(message).c_str());
  return 2;
}

int run_train(const std::string& config_path, std::string output, bool force, bool quiet) {
  const TrainConfig config = load_train_config(config_path);
  if (output.empty()) output = default_output_path(config_path, ".train.h5");
  const char* metric = metric_name(config.data.task);
  const int max_epochs = config.training.max_epochs;
  std::fprintf(stderr, "hpsearch train: %s (%s)\n", config_path.c_str(),
               describe_network(config).c_str());
  const bool show_rate = config.training.reduce_lr_on_plateau.enabled;
  const auto progress = [&](const EpochRecord& e) {
    if (quiet) return true;
    std::fprintf(stderr, "epoch %3d/%d  loss %s  %s %s  val_loss %s  val_%s %s  %.2fs", e.epoch + 1,
                 max_epochs, decimal4(e.train_loss).c_str(), metric,
                 decimal4(e.train_metric).c_str(), decimal4(e.val_loss).c_str(), metric,
                 decimal4(e.val_metric).c_str(), e.seconds);
    if (show_rate) std::fprintf(stderr, "  lr %.3g", e.learning_rate);
    std::fputc('\n', stderr);
    return true;
  };
  const TrainJobResult r = run_train_job(config, output, force, progress);
  const TrainResult& t = r.training;
  std::printf("status: %s%s%s\n", to_string(t.status), t.message.empty() ? "" : " (",
              t.message.empty() ? "" : (t.message + ")").c_str());
  if (t.best_epoch < 0) {
    // Diverged before any epoch ended: the weights are not finite, and a score of them (an
    // accuracy of always one class) would pass for a model's.
    std::printf("epochs: %zu, best epoch: none\n", t.history.epochs.size());
    std::printf("validation%s: not scored, no epoch ended with finite weights\n",
                r.test ? " and test" : "");
  } else {
    std::printf("epochs: %zu, best epoch: %d\n", t.history.epochs.size(), t.best_epoch + 1);
    std::printf("validation (%lld samples): loss %s, %s %s\n",
                static_cast<long long>(r.validation_samples), decimal4(r.validation.loss).c_str(),
                metric, decimal4(r.validation.metric).c_str());
    if (r.test)
      std::printf("test (%lld samples): loss %s, %s %s\n", static_cast<long long>(r.test_samples),
                  decimal4(r.test->loss).c_str(), metric, decimal4(r.test->metric).c_str());
  }
  std::printf("wrote %s\n", output.c_str());
  return t.status == TrialStatus::kDiverged ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A rank trains on one core: a threaded OpenBLAS would fight the other ranks for cores.
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(1);
  CLI::App app{"hpsearch: distributed hyperparameter search for neural networks"};
  app.set_version_flag("--version", std::string("hpsearch ") + hps::kVersion);
  app.require_subcommand(1);

  std::string config_path, output;
  bool force = false, quiet = false;
  CLI::App* train = app.add_subcommand("train", "train one model from a YAML config");
  train->add_option("config", config_path, "YAML config file")->required();
  train->add_option("--out,-o", output, "HDF5 file to write (default results/<config>.train.h5)")
      ->check(kFileName);
  train->add_flag("--force", force, "replace an existing output file");
  train->add_flag("--quiet,-q", quiet, "no per-epoch progress on stderr");

  hps::RunOptions run_options;
  CLI::App* run = app.add_subcommand("run", "run a hyperparameter search (under mpirun -np N)");
  run->add_option("config", run_options.config, "YAML search config")->required();
  run->add_option("--out,-o", run_options.output, "HDF5 result file (default results/<config>.h5)")
      ->check(kFileName);
  run->add_flag("--force", run_options.force, "replace an existing result file");
  run->add_flag("--resume", run_options.resume,
                "continue the search recorded in the output file (after an interruption)");
  run->add_option("--grace", run_options.grace_seconds,
                  "seconds running trials may finish after SIGTERM/SIGUSR1 (default 5)")
      ->check(seconds(false));
  run->add_option("--time-limit", run_options.time_limit_seconds,
                  "seconds of search after which no trial starts; running ones finish, the "
                  "file is closed as time_limit (resumable), exit code 0")
      ->check(seconds(true));

  int show_trials = 5;
  CLI::App* check =
      app.add_subcommand("check", "validate a search config and its data, print the plan");
  check->add_option("config", config_path, "YAML search config")->required();
  check->add_option("--show", show_trials, "how many trials to list")->check(whole_number(1000000));

  std::string result_file, data_file;
  int top = 0;
  bool json = false;
  CLI::App* inspect = app.add_subcommand("inspect", "leaderboard of a search result file");
  inspect->add_option("file", result_file, "HDF5 result file (also one still being written)")
      ->required();
  inspect->add_option("--top", top, "show only the best K trials (0: all)")
      ->check(whole_number(std::numeric_limits<int>::max()));
  inspect->add_flag("--json", json, "machine-readable output");

  std::optional<int64_t> trial;
  CLI::App* evaluate = app.add_subcommand(
      "evaluate", "score a trial's stored best weights on the validation and test sets");
  evaluate->add_option("file", result_file, "HDF5 result file")->required();
  evaluate->add_option("--trial", trial, "trial id (default: the best, /best)")
      ->check(whole_number(std::numeric_limits<int64_t>::max()));

  CLI::App* predict = app.add_subcommand("predict", "predictions of a stored model for a CSV file");
  predict->add_option("file", result_file, "HDF5 result file")->required();
  predict->add_option("--data", data_file, "CSV file with the model's feature columns")->required();
  predict->add_option("--out,-o", output, "CSV file to write")->required()->check(kFileName);
  predict->add_option("--trial", trial, "trial id (default: the best, /best)")
      ->check(whole_number(std::numeric_limits<int64_t>::max()));
  predict->add_flag("--force", force, "replace an existing output file");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return usage_error(app, e, argc, argv);
  }
  if (*run) {
    // Only a search starts MPI; every rank returns the same exit code.
    hps::install_stop_handlers();
    hps::MpiSession mpi(argc, argv);
    try {
      return hps::run_search(mpi, run_options);
    } catch (const std::exception& e) {
      hps::abort_search(mpi.rank(), e);
    }
  }
  try {
    if (*train) return run_train(config_path, output, force, quiet);
    if (*check) return hps::check_search(config_path, show_trials);
    if (*inspect) {
      std::fputs(hps::render_leaderboard(hps::ResultsReader(result_file), top, json).c_str(),
                 stdout);
      return 0;
    }
    if (*evaluate) return hps::evaluate_result(result_file, trial);
    if (*predict) return hps::predict_result(result_file, data_file, output, trial, force);
  } catch (const std::exception& e) {
    return hps::report_error(e);
  }
  return 0;
}
