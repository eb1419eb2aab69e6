#pragma once
#include <string>

#include "core/results_file.hpp"

namespace hps {

/// The text `hpsearch inspect FILE [--top K] [--json]` prints for a search result file (also
/// one still being written).
///
/// Text: a header line (file, strategy, status, trials done of the total, counts by status),
/// a line naming the ranking quantity, then a table with one row per trial: rank, trial,
/// status, each searched hyperparameter, best val_<metric> and val_loss (at the best epoch),
/// best epoch, epochs run, seconds, and whether its weights are stored. Rows are sorted best
/// first by the monitored quantity in the file's monitor_mode; trials that did not finish well
/// (failed, diverged) or have no finite value follow, unranked ("-"), by trial id.
///
/// JSON (`json`): one object, on one line, ending in a newline:
///   {"file", "status", "strategy", "task", "metric", "monitor", "monitor_mode", "trials_total",
///    "trials_done", "best_trial" (id or null), "counts": {status: n, ...},
///    "leaderboard": [{"rank" (null when unranked), "trial", "status", "params": {name: value},
///      "best_val_loss", "best_val_<metric>", "best_epoch", "epochs_run", "final_train_loss",
///      "final_train_<metric>", "seconds", "worker_rank", "has_model"}, ...]}
/// Non-finite numbers are null; "hidden" is an array of widths.
///
/// `top` limits the rows (all when top <= 0); counts always cover every trial.
std::string render_leaderboard(const ResultsReader& reader, int top, bool json);

}  // namespace hps
