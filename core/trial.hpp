#pragma once
// A trial is born as a TrialAssignment (made by the search's sampler on rank 0, sent to a
// worker), trained by run_trial (worker/trial_runner), and reported back as a TrialOutcome
// that rank 0 stores (core/results_file).
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/config.hpp"
#include "core/history.hpp"
#include "core/types.hpp"

namespace hps {

/// One hyperparameter's value: a real, an integer, a name (optimizer, activation) or a list
/// of layer widths.
using ParamValue = std::variant<double, int64_t, std::string, std::vector<int64_t>>;

/// A searched hyperparameter's name and the value this trial uses, in search-space order.
using ParamAssignment = std::pair<std::string, ParamValue>;

/// Everything a worker needs to train one trial: the complete per-trial settings (base config
/// with this trial's hyperparameters applied), so workers never parse configs or sample.
struct TrialAssignment {
  int64_t trial_id = 0;
  uint64_t seed = 0;  ///< training seed: derive_seed(search seed, kTrialSeed) mixed with the id
  ModelConfig model;
  TrainingConfig training;
  EarlyStoppingConfig early_stopping;
  bool report_epochs = false;  ///< a scheduler watches it: report every epoch, obey the verdict
};

/// A worker's report after one epoch of a trial with report_epochs set.
struct EpochReport {
  int64_t trial_id = 0;
  EpochRecord record;
};

/// The scheduler's answer to an EpochReport.
struct EpochVerdict {
  bool prune = false;
  std::string reason;  ///< why it was pruned, for people
};

/// Answers a worker's EpochReport (the coordinator's scheduler, reached in-process or over MPI).
using EpochJudge = std::function<EpochVerdict(const EpochReport&)>;

/// What a worker reports for one trial.
struct TrialOutcome {
  int64_t trial_id = 0;
  int32_t rank = 0;  ///< the MPI rank that trained it
  TrialStatus status = TrialStatus::kCompleted;
  std::string message;
  double seconds = 0.0;  ///< wall time of the whole trial
  int32_t best_epoch = -1;
  double best_value = 0.0;  ///< best monitored value (what early stopping watched)
  History history;
  double test_loss = std::numeric_limits<double>::quiet_NaN();    ///< of the returned model;
  double test_metric = std::numeric_limits<double>::quiet_NaN();  ///< NaN without a test set
  int64_t rung = -1;  ///< highest ASHA rung reached; set by the coordinator, -1 without ASHA
  Vector weights;     ///< the returned model's parameters (best epoch's with restore); may be empty
};

/// Human-readable form of a value: 0.001, 128, "adam", [256, 128].
std::string to_string(const ParamValue& value);

}  // namespace hps
