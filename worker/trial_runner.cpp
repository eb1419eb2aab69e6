#include "worker/trial_runner.hpp"

#include <chrono>
#include <exception>

namespace hps {

TrialOutcome run_trial(const TrialAssignment& trial, const PreparedData& data, int rank,
                       const EpochCallback& on_epoch) {
  const auto started = std::chrono::steady_clock::now();
  TrialOutcome outcome;
  outcome.trial_id = trial.trial_id;
  outcome.rank = rank;
  try {
    TrainResult r = train_mlp(trial.model, trial.training, trial.early_stopping, data.train,
                              data.validation, trial.seed, on_epoch);
    outcome.status = r.status;
    outcome.message = std::move(r.message);
    outcome.best_epoch = r.best_epoch;
    outcome.best_value = r.best_value;
    outcome.history = std::move(r.history);
    outcome.weights = std::move(r.model.parameters());
  } catch (const std::exception& e) {
    outcome.status = TrialStatus::kFailed;
    outcome.message = e.what();
  }
  outcome.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return outcome;
}

}  // namespace hps
