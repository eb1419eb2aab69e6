#pragma once
// The search's single result file, written by rank 0 only. Layout (format_version 1):
//
//   /                 attributes: format "hpsearch-search", format_version, hpsearch_version,
//                     config (YAML text), strategy (grid | random | tpe), scheduler (none |
//                     asha | median), tpe_ranking (equal_budget | finished_first; strategy
//                     tpe only, from hpsearch 0.2.0 on), seed, ranks, trials_total,
//                     keep_weights, task, metric (accuracy | mae), monitor (val_loss |
//                     val_accuracy), monitor_mode (min | max), start_time, end_time (ISO 8601
//                     UTC; "" while running), status (running | finished | interrupted |
//                     time_limit), coordinator_cpu_share (float64; NaN until finish)
//   /summary          table (1-D compound dataset, chunked, unlimited), one row per finished
//                     trial in arrival order: trial int64, status string[16], one column per
//                     searched hyperparameter in space order (learning_rate, dropout, l1, l2,
//                     momentum: float64; batch_size, layers, units, max_epochs, patience: int64;
//                     optimizer, activation: string[16]; hidden: string[64 or the longest
//                     choice] like "[256, 128]"), best_epoch int64, epochs_run int64,
//                     best_val_loss, best_val_<metric> (at best_epoch; NaN without one),
//                     final_train_loss, final_train_<metric> (last epoch; NaN without one),
//                     seconds float64, rank int64 (the worker's MPI rank), test_loss,
//                     test_<metric> (of the returned model on the config's test set, never
//                     used for selection; NaN without one), finished_at float64 (seconds of
//                     search time when rank 0 recorded it; resumes continue the count), rung
//                     int64 (the highest ASHA rung the trial reached, -1 if none or without
//                     ASHA). Strings are NUL-padded ASCII: h5py returns them as bytes.
//   /trials/<id>/     attributes: trial, status, message, seed, rank, seconds, best_epoch,
//                     best_value, epochs_run, test_loss, test_<metric>, finished_at, rung, and
//                     every hyperparameter (searched or not) by name: learning_rate, batch_size,
//                     dropout, l1, l2, optimizer, activation, momentum, max_epochs, patience,
//                     hidden (int64 array), plus layers/units when searched
//   /trials/<id>/history   as write_history (core/model_io.hpp)
//   /trials/<id>/model     as write_model: kept for the top keep_weights trials only (all when
//                     keep_weights is -1); a trial that falls out loses its model link
//   /best             soft link to /trials/<id> of the leading trial (absent until one ranks)
//
// A trial is recorded once its /summary row is: add() writes the row after the trial's group,
// and resume() removes a /trials/<id> group that has no row (a write cut short) to rerun it.
//
// Trials rank by best_value in monitor_mode's direction, ties to the smaller id; only trials
// that completed, stopped early or were pruned, with a finite best_value and weights, rank.
//
// Crash safety: HDF5 1.10 can leave a file unreadable when its writer is killed mid-write, so
// the writer never modifies <path> in place. It works on <path>.live and publishes it: flush,
// copy to <path>.tmp, rename over <path> (atomic; no fsync, see publish()). <path> is therefore
// always a complete, closed HDF5 file; after a kill -9 it holds every trial published before it,
// and <path>.live is discarded. Publishing is throttled so it takes about a tenth of the
// coordinator's time while its cost is steady (every add() for small files; about once a second
// for a 100 MB one; see PublishPace):
// add() publishes when due and publish_if_due() (called while waiting) catches up, so a
// finished trial reaches <path> within a second or two. Readers (inspect, h5py) read <path>.
// Root attributes added for resume: data_fingerprint, resumes, unfinished_trials (int64 list:
// trials running when an interrupted search stopped; they rerun on --resume).
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/hdf5_file.hpp"
#include "core/preprocessing.hpp"
#include "core/search_space.hpp"
#include "core/trial.hpp"

namespace hps {

/// One /summary row as read back.
struct SummaryRow {
  int64_t trial = 0;
  std::string status;
  std::vector<ParamAssignment> params;  ///< searched hyperparameters, in space order
  int64_t best_epoch = -1;
  int64_t epochs_run = 0;
  double best_val_loss = 0.0;
  double best_val_metric = 0.0;
  double final_train_loss = 0.0;
  double final_train_metric = 0.0;
  double seconds = 0.0;
  int64_t rank = 0;
  double test_loss = 0.0;    ///< NaN without a test set
  double test_metric = 0.0;  ///< NaN without a test set
  double finished_at = 0.0;  ///< search seconds when it was recorded (resumes add up)
  int64_t rung = -1;         ///< highest ASHA rung reached; -1 without ASHA
};

/// A row's monitored value: best_val_loss when `by_loss`, else best_val_<metric>.
double monitored_value(const SummaryRow& row, bool by_loss);
/// Whether a row takes part in the ranking, as the writer ranks trials for /best: it finished
/// well (completed, early_stopped or pruned) with a finite monitored value.
bool is_ranked(const SummaryRow& row, bool by_loss);

/// How long the writer waits between publishes: ten times what publishing costs, so that it
/// takes about a tenth of the coordinator's time while that cost is steady. The cost is the
/// cheapest of the last three publishes, and nothing is held back before three have been
/// timed: copying a small file usually takes milliseconds, but one copy stalled by a busy disk
/// (seconds, as at the start of a job right after a build) would otherwise hold the next
/// publish back for ten times the stall. Isolated stalls are therefore not paid for; a file
/// that has grown costs more every time, so it still spaces publishes out.
class PublishPace {
 public:
  using Duration = std::chrono::steady_clock::duration;
  /// Counts one publish that took `took`.
  void record(Duration took) {
    recent_[next_] = took;
    next_ = (next_ + 1) % recent_.size();
  }
  /// Time to wait after a publish before the next one is due.
  Duration interval() const { return 10 * *std::min_element(recent_.begin(), recent_.end()); }

 private:
  std::array<Duration, 3> recent_{};  // zero until timed
  std::size_t next_ = 0;
};

/// How many trials `path`.live holds that a search recorded but could not publish as `path`
/// (its last publish failed: "cannot replace ..."), when `path` holds fewer or is no result
/// file; nullopt when there is no such file, or it is what a killed search leaves (unmarked or
/// unreadable), which a new search or a resume discards.
std::optional<std::size_t> unpublished_trials(const std::string& path);

/// Writes a search's result file. Not copyable; closes the file on destruction.
class ResultsWriter {
 public:
  /// Creates `path` and writes the root attributes with status "running". `path` must not
  /// exist unless `replace` (--force, which the caller has checked): then its first publish
  /// replaces it, so that a search that fails before that leaves the old file. Stored models have
  /// `num_features` inputs and `num_outputs` outputs (num_classes for classification) and carry
  /// `scaler`, which is empty or has num_features entries, and `feature_names` (empty when the data
  /// has none). Throws std::invalid_argument for sizes that do not fit and for a hyperparameter
  /// name it does not know, h5::Error when the file cannot be created.
  ResultsWriter(const std::string& path, const SearchConfig& config, int ranks,
                const Scaler& scaler, Index num_features, Index num_outputs, int num_classes,
                const std::string& data_fingerprint = "",
                std::vector<std::string> feature_names = {}, bool replace = false);
  /// Continues the search recorded in `path` (which the caller has checked matches `config`
  /// and the data): its trials stay recorded, ranking and /best carry on, status is set back
  /// to running. recorded_trials() lists what need not run again: the trials with a /summary
  /// row. A trial group without one was written only in part and is removed, to run again.
  static std::unique_ptr<ResultsWriter> resume(const std::string& path, const SearchConfig& config,
                                               int ranks, const Scaler& scaler, Index num_features,
                                               Index num_outputs, int num_classes,
                                               std::vector<std::string> feature_names = {});
  ~ResultsWriter();
  ResultsWriter(const ResultsWriter&) = delete;
  ResultsWriter& operator=(const ResultsWriter&) = delete;

  /// Records one finished trial: its group with attributes, history and its weights if it
  /// ranks within keep_weights, then its /summary row (which makes it recorded), then drops the
  /// weights of a trial that falls out and moves /best. Throws std::invalid_argument, before
  /// writing anything, when the trial was already recorded, the ids differ, a searched
  /// hyperparameter is missing from `params` or has the wrong type, or non-empty weights do not
  /// fit the network; when a write fails (h5::Error), it removes the partial trial group and
  /// the trial is not recorded.
  void add(const TrialAssignment& trial, const std::vector<ParamAssignment>& params,
           const TrialOutcome& outcome);

  /// Publishes <path> if changes wait and publishing is due (see the crash-safety note).
  void publish_if_due();
  /// Publishes <path> now.
  void publish();

  /// Ids of every trial recorded so far, ascending.
  std::vector<int64_t> recorded_trials() const;

  /// Sets end_time, status, the coordinator's CPU share (unless it is NaN: not measured, so a
  /// resumed file keeps the earlier run's) and the unfinished trials, publishes <path> a last
  /// time, closes it and removes <path>.live.
  void finish(const std::string& status, double coordinator_cpu_share,
              const std::vector<int64_t>& unfinished = {});

 private:
  ResultsWriter() = default;
  void publish(bool force);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A path given as a search result file that is not one: missing, unreadable, a directory or
/// pipe, not HDF5, another format, or a newer format version. The user named the wrong file:
/// bad input, unlike a result file damaged inside (h5::Error).
class NotAResultFile : public h5::Error {
 public:
  using h5::Error::Error;
};

/// Reads a search result file (also one still being written). Opening a missing file, one
/// that is not HDF5, or an HDF5 file that is not a search result throws NotAResultFile naming
/// the file and saying what it is not.
class ResultsReader {
 public:
  explicit ResultsReader(const std::string& path);
  ResultsReader(ResultsReader&&) noexcept;
  ResultsReader& operator=(ResultsReader&&) noexcept;
  ~ResultsReader();

  const std::string& path() const;
  bool has_attribute(const std::string& name) const;         ///< of the root
  std::string attribute(const std::string& name) const;      ///< a root string attribute
  double number_attribute(const std::string& name) const;    ///< a root numeric attribute
  int64_t integer_attribute(const std::string& name) const;  ///< a root integer attribute
  /// The /summary rows in arrival order. Columns are found by name, so no config is needed:
  /// every column other than the fixed ones is a hyperparameter (float64 -> double, int64 ->
  /// int64_t, "hidden" -> std::vector<int64_t>, other strings -> std::string).
  std::vector<SummaryRow> summary() const;
  /// Whether trial `id` has stored weights.
  bool has_model(int64_t id) const;
  /// The id /best points to (nullopt while no trial has finished well). Throws h5::Error when
  /// /summary contradicts it (no row, not a ranked trial, or a ranked trial with a strictly
  /// better monitored value): evaluate and predict use /best, inspect ranks /summary.
  std::optional<int64_t> best_trial() const;
  /// best_trial() checked against `rows`, this file's summary() already read.
  std::optional<int64_t> best_trial(const std::vector<SummaryRow>& rows) const;
  /// The group /trials/<id>; throws h5::Error when trial `id` is not recorded.
  h5::Group trial_group(int64_t id) const;
  /// Root attributes that `config` (the config this file recorded) decides but that say
  /// otherwise: strategy, scheduler, seed, trials_total, keep_weights, task, metric, monitor,
  /// monitor_mode. One line each, naming the file ("F:/: attribute 'monitor_mode' is 'min',
  /// its recorded config says 'max'"); empty when they agree. Attributes a file lacks are not
  /// compared.
  std::vector<std::string> contradicted_attributes(const SearchConfig& config) const;
  /// What resuming this file as a search of `config` (the config it recorded) would trip over
  /// once it had begun to change it, or would replay wrongly: /summary columns other than
  /// `config`'s, root attributes it contradicts (contradicted_attributes), a /best that is not
  /// the leading trial, a row's trial group that is missing, names another trial, status or
  /// hyperparameter value, or lacks what ResultsWriter::resume reads, a history with other than
  /// the row's epochs_run epochs, a best epoch or best values that the history (replayed through
  /// early stopping's rule) or the row contradicts, a resume count that is negative or at its
  /// limit. `rows`: summary(), which the caller has read. One line per problem, naming the object;
  /// empty when there is none. Trial ids outside the search or listed twice are for the caller to
  /// check first. `visit`, if given, is called with each row that passed every check, its
  /// trial group's best_value and the history read from it (empty for a trial without one), in
  /// `rows`' order, so that a caller can replay the search from the same reads. What it throws
  /// becomes a problem, and then it is called no more.
  using TrialVisitor =
      std::function<void(const SummaryRow&, double best_value, const History& history)>;
  std::vector<std::string> resume_problems(const SearchConfig& config,
                                           const std::vector<SummaryRow>& rows,
                                           const TrialVisitor& visit = {}) const;

 private:
  void check_best_leads(int64_t id, const std::vector<SummaryRow>& rows) const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hps
