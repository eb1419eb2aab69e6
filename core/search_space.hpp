#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/scheduler.hpp"
#include "core/trial.hpp"

namespace hps {

/// How a hyperparameter's values are given in the `search.space` block.
enum class ParamForm {
  kFixed,       ///< `dropout: 0.2`
  kChoice,      ///< `batch_size: [64, 128]`
  kUniform,     ///< `dropout: {uniform: [0.0, 0.5]}`
  kLogUniform,  ///< `learning_rate: {log_uniform: [1.0e-4, 1.0e-2]}`
  kIntUniform,  ///< `max_epochs: {int_uniform: [10, 30]}`
};

/// One searched hyperparameter. Names: hidden, layers, units, learning_rate, batch_size,
/// dropout, l1, l2, optimizer, activation, momentum, max_epochs, patience.
struct ParamSpec {
  std::string name;
  ParamForm form = ParamForm::kFixed;
  std::vector<ParamValue> choices;  ///< kFixed (one value) and kChoice
  double low = 0.0, high = 0.0;     ///< the ranges
  int line = 0;                     ///< YAML line, for messages
};

enum class SearchStrategy { kGrid, kRandom, kTpe };

/// How TPE orders finished trials before taking the best `gamma` share (core/tpe.hpp).
enum class TpeRanking {
  kFinishedFirst,  ///< Optuna's rule: trials that ran to the end above pruned ones
  kEqualBudget,    ///< BOHB's idea: every trial by its value at one shared epoch budget
};

/// The `search.tpe` options (core/tpe.hpp), with Optuna's TPESampler defaults except
/// `ranking`: equal_budget did better with ASHA in the search benchmark (README). Without
/// pruned trials the two rankings agree. Result files written before hpsearch 0.2.0 ranked
/// finished_first unless their config said otherwise (legacy_tpe_ranking).
struct TpeSettings {
  int64_t startup_trials = 10;  ///< random draws until this many trials have finished
  double gamma = 0.1;           ///< share of finished trials in the "below" group (capped at 25)
  int64_t candidates = 24;      ///< points drawn from l(x) per sample
  TpeRanking ranking = TpeRanking::kEqualBudget;
  bool ranking_written = false;  ///< the config names `ranking` (legacy_tpe_ranking needs it)
  /// true: one estimator over the joint space (Optuna's multivariate=True, Scott's-rule
  /// widths); false: one per parameter, each drawn and scored on its own with widths from the
  /// neighbouring trials (Optuna's default, multivariate=False).
  bool multivariate = true;
};

/// The most trials one search runs (`trials`, or the grid's size): the coordinator lists every
/// pending trial, and the result file gets a row for each.
constexpr int64_t kMaxTrials = 10'000'000;

/// The `search` block.
struct SearchSettings {
  SearchStrategy strategy = SearchStrategy::kRandom;
  int64_t trials = 0;            ///< random, tpe: how many; grid: its number of points (computed)
  uint64_t seed = 0;             ///< default: the config's top-level seed
  int64_t keep_weights = 5;      ///< best weights kept for this many top trials; -1 = all
  std::vector<ParamSpec> space;  ///< in the order written
  TpeSettings tpe;               ///< strategy tpe
  SchedulerSettings scheduler;   ///< `scheduler:` and its `asha:` or `median:` block
  /// strategy grid: also run the points that differ only in a momentum no optimizer of theirs
  /// uses, as hpsearch before 0.3.0 did (its result files resume so: keep_every_grid_point).
  bool grid_every_point = false;
};

/// A search file: a training config (the base every trial starts from) plus `search`.
struct SearchConfig {
  TrainConfig base;
  SearchSettings search;
};

/// Parses a search config file (a training config with a `search:` block). Checks the space:
/// unknown parameter names (with a suggestion), wrong types, lo > hi, log ranges touching 0,
/// values outside a parameter's valid range (dropout in [0, 1), batch_size >= 1, ...), empty
/// choice lists, continuous ranges with strategy grid. Throws ConfigError naming the key and its
/// line. With UnusedSettings::kRefuse, also refuses settings no trial would use
/// (check_settings_take_effect in core/config_parser.hpp) and a TPE search whose random start
/// covers every trial.
SearchConfig load_search_config(const std::string& path,
                                UnusedSettings unused = UnusedSettings::kRefuse);
/// The same from YAML text, parsed once, but by default (UnusedSettings::kAllow) without the
/// check of settings no trial would use: for configs read back from result files. `files`
/// kSkip: for a config stored in a result file, whose data may have moved since.
SearchConfig parse_search_config(const std::string& yaml_text, const std::string& source_name,
                                 const std::string& base_dir, DataFiles files = DataFiles::kCheck,
                                 UnusedSettings unused = UnusedSettings::kAllow);

const char* to_string(SearchStrategy strategy);
const char* to_string(TpeRanking ranking);
/// The ranking `name` spells (as configs and the result file's `tpe_ranking` write it), if any.
std::optional<TpeRanking> tpe_ranking_named(const std::string& name);

/// Number of trials the search runs (grid: its points, grid_points). Throws
/// std::overflow_error for a grid of more points than int64_t holds (config checks refuse it).
int64_t trial_count(const SearchSettings& search);

/// The points of a grid over `space`, or nullopt when there are more than int64_t holds: the
/// product of the parameters' value counts, except that with a searched optimizer and a
/// searched momentum, momentum's values multiply only the optimizers that use it (optimizer
/// [adam, momentum] x momentum [0.5, 0.9] is 3 points: adam once, momentum with each). With
/// `every_point`, the whole product.
std::optional<int64_t> grid_points(const std::vector<ParamSpec>& space, bool every_point = false);

/// Makes a grid search run every point of the product (grid_every_point), as result files of
/// hpsearch before 0.3.0 recorded it; `trials` follows.
void keep_every_grid_point(SearchSettings& search);

/// The most epochs a trial of the search can train: training.max_epochs, or the largest
/// value of a searched max_epochs.
int64_t most_epochs(const SearchConfig& config);

/// Whether the value of `name` among a trial's drawn `values` takes effect in that trial. A
/// searched momentum drawn for a trial whose searched optimizer is not momentum does not
/// (the config check allows it only when some searched optimizer uses it).
bool takes_effect(const std::vector<ParamAssignment>& values, const std::string& name);

/// Hyperparameter values of trial `id`. Depends only on (search seed, id): grid trials
/// enumerate the product with the last parameter varying fastest (a searched optimizer and
/// momentum as one axis at the earlier one's place, momentum at its first value for the
/// optimizers that ignore it); random trials draw from
/// an Rng seeded by derive_seed(derive_seed(seed, kTrialSample), id). For tpe these are the
/// random draws its startup trials use (its later trials come from TpeSampler). Throws
/// std::out_of_range for an id outside [0, trial_count()), and what trial_count() throws.
std::vector<ParamAssignment> trial_values(const SearchSettings& search, int64_t id);

/// Random-search draws for trial `id`: every parameter drawn independently from its form
/// (choices uniformly, ranges uniformly or log-uniformly) by an Rng seeded by
/// derive_seed(derive_seed(seed, kTrialSample), id). Random search uses it for every trial,
/// TPE for its startup trials.
std::vector<ParamAssignment> random_values(const std::vector<ParamSpec>& space, uint64_t seed,
                                           int64_t id);

/// The complete settings of trial `id`: the base config with its values applied and its
/// training seed. Throws ConfigError if the combination is invalid.
TrialAssignment make_trial(const SearchConfig& config, int64_t id);
/// The same with given values (a sampler's, e.g. TPE's), in space order.
TrialAssignment make_trial(const SearchConfig& config, int64_t id,
                           const std::vector<ParamAssignment>& values);

}  // namespace hps
