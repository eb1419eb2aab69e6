#pragma once
// The training-config parser's two halves, for parsers of files that embed a training config
// (a search file adds its own top-level `search:` block): read the YAML into a TrainConfig,
// then validate the values. Internal to core: it exposes yaml-cpp types.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/yaml_util.hpp"

namespace hps {

/// Spellings of activations and optimizers in configs (shared with the search space).
/// Functions, not globals, so other files' static tables can be built from them safely.
const Choices<Activation>& activation_choices();
const Choices<OptimizerKind>& optimizer_choices();

/// Reads the training settings of the document `root` into a TrainConfig and validates it
/// (validate_train_config). `lines` is KeyLines(root, source name), built once by the caller,
/// which uses it again for its own checks. Unknown top-level keys are errors unless listed in
/// `extra_top_level_keys`, which the caller then reads itself. Relative data paths are
/// resolved against `base_dir` (the working directory when empty). Sets source_name (from
/// `lines`) but not text: the caller has the text. Throws ConfigError.
TrainConfig parse_train_config_node(const YAML::Node& root, const KeyLines& lines,
                                    const std::string& base_dir,
                                    const std::vector<std::string>& extra_top_level_keys = {},
                                    DataFiles files = DataFiles::kCheck);

/// Checks the values of `config` (ranges, combinations, and with DataFiles::kCheck that data
/// files exist); `lines` says where each key was written so an error names
/// "<file>:<line>: <key.path>: <problem>". Throws ConfigError.
void validate_train_config(const TrainConfig& config, const KeyLines& lines,
                           DataFiles files = DataFiles::kCheck);

/// What a search varies of its training config, for check_settings_take_effect. The default
/// varies nothing: a training config, whose every value is used as written.
struct VariedSettings {
  std::vector<std::string> searched;      ///< names of the searched parameters
  std::vector<OptimizerKind> optimizers;  ///< the searched optimizers; empty: not searched
  std::optional<bool> hidden_layer;       ///< searched capacity: can a trial have a hidden layer
  std::optional<int64_t> least_patience;  ///< searched patience: its smallest value
  std::optional<double> largest_learning_rate;  ///< searched learning rate: its largest value
};

/// Refuses settings of a config about to run that no run would use, or that turn themselves
/// off, each as a ConfigError naming the key and its line in `lines` (config.text's):
/// momentum without optimizer momentum, beta1 / beta2 / epsilon without adam, dropout with no
/// hidden layer, a searched patience with early stopping off or not above the plateau rule's,
/// a plateau min_lr at or above the learning rate, a mode that contradicts the monitor.
/// Not for configs read back from result files: those ran, and stay readable as they are.
void check_settings_take_effect(const TrainConfig& config, const KeyLines& lines,
                                const VariedSettings& varied = {});

}  // namespace hps
