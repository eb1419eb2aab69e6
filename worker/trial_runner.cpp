#include "worker/trial_runner.hpp"

#include <chrono>
#include <exception>
#include <new>

namespace hps {

TrialOutcome run_trial(const TrialAssignment& trial, const PreparedData& data, int rank,
                       const EpochJudge& judge) {
  const auto started = std::chrono::steady_clock::now();
  TrialOutcome outcome;
  outcome.trial_id = trial.trial_id;
  outcome.rank = rank;
  std::string prune_reason;
  // The epochs finished so far. A trial that throws part-way (out of memory, say) keeps them:
  // a scheduler has already heard of them, and a resumed search replays them from the file.
  History finished;
  const bool report = trial.report_epochs && static_cast<bool>(judge);
  const EpochCallback on_epoch = [&](const EpochRecord& record) {
    bool go_on = true;
    if (report) {
      EpochVerdict verdict = judge(EpochReport{trial.trial_id, record});
      if (verdict.prune) prune_reason = std::move(verdict.reason);
      go_on = !verdict.prune;
    }
    finished.epochs.push_back(record);
    return go_on;
  };
  try {
    TrainResult r = train_mlp(trial.model, trial.training, trial.early_stopping, data.train,
                              data.validation, trial.seed, on_epoch);
    outcome.status = r.status;
    outcome.message = std::move(r.message);
    if (r.status == TrialStatus::kPruned && !prune_reason.empty())
      outcome.message = std::move(prune_reason);
    if (data.test && r.status != TrialStatus::kDiverged) {
      const Evaluation test = evaluate(r.model, *data.test);
      outcome.test_loss = test.loss;
      outcome.test_metric = test.metric;
    }
    outcome.best_epoch = r.best_epoch;
    outcome.best_value = r.best_value;
    outcome.history = std::move(r.history);
    outcome.weights = std::move(r.model.parameters());
  } catch (const std::bad_alloc&) {
    outcome.status = TrialStatus::kFailed;
    outcome.message =
        "out of memory: this network and batch size need more memory than the "
        "node gave (std::bad_alloc)";
  } catch (const std::exception& e) {
    outcome.status = TrialStatus::kFailed;
    outcome.message = e.what();
  }
  if (outcome.status == TrialStatus::kFailed) outcome.history = std::move(finished);
  outcome.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return outcome;
}

}  // namespace hps
