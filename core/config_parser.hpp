#pragma once
// The training-config parser's two halves, for parsers of files that embed a training config
// (a search file adds its own top-level `search:` block): read the YAML into a TrainConfig,
// then validate the values. Internal to core: it exposes yaml-cpp types.
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
/// (validate_train_config). Unknown top-level keys are errors unless listed in
/// `extra_top_level_keys`, which the caller then reads itself. Relative data paths are
/// resolved against `base_dir` (the working directory when empty). Sets source_name but not
/// text: the caller has the text. Throws ConfigError.
TrainConfig parse_train_config_node(const YAML::Node& root, const std::string& source_name,
                                    const std::string& base_dir,
                                    const std::vector<std::string>& extra_top_level_keys = {},
                                    DataFiles files = DataFiles::kCheck);

/// Checks the values of `config` (ranges, combinations, and with DataFiles::kCheck that data
/// files exist); `lines` says where each key was written so an error names
/// "<file>:<line>: <key.path>: <problem>". Throws ConfigError.
void validate_train_config(const TrainConfig& config, const KeyLines& lines,
                           DataFiles files = DataFiles::kCheck);

}  // namespace hps
