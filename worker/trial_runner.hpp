#pragma once
#include "core/data_pipeline.hpp"
#include "core/trainer.hpp"
#include "core/trial.hpp"

namespace hps {

/// Trains one trial on already prepared data and reports it. Never throws: an exception
/// (bad settings, out of memory) becomes status kFailed with its message and the history of
/// the epochs finished before it (those a judge accepted), and a diverging
/// loss is status kDiverged, so a bad trial never takes a worker down. When the trial has
/// report_epochs set and a `judge` is given, every epoch is reported to it, and a verdict to
/// prune ends the trial with status kPruned and the verdict's reason as its message. With a
/// test set, the returned model's test loss and metric are part of the outcome (never used to
/// select anything).
TrialOutcome run_trial(const TrialAssignment& trial, const PreparedData& data, int rank,
                       const EpochJudge& judge = {});

}  // namespace hps
