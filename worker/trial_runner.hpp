#pragma once
#include "core/data_pipeline.hpp"
#include "core/trainer.hpp"
#include "core/trial.hpp"

namespace hps {

/// Trains one trial on already prepared data and reports it. Never throws: an exception
/// (bad settings, out of memory) becomes status kFailed with its message, and a diverging
/// loss is status kDiverged, so a bad trial never takes a worker down.
TrialOutcome run_trial(const TrialAssignment& trial, const PreparedData& data, int rank,
                       const EpochCallback& on_epoch = {});

}  // namespace hps
