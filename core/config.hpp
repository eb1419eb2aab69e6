#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/data_loader.hpp"
#include "core/early_stopping.hpp"
#include "core/lr_schedule.hpp"
#include "core/mlp.hpp"
#include "core/optim/optimizer.hpp"
#include "core/preprocessing.hpp"

namespace hps {

/// A config that cannot be used. The message names the file, the key path and its YAML line,
/// and, for an unknown key, the nearest known spelling.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The `data` block: what to train on and how to prepare it.
struct DataConfig {
  Task task = Task::kClassification;
  int num_classes = 0;  ///< 0: inferred from the training labels
  DataSource train;
  std::optional<DataSource> test;  ///< never used for selection, only reported
  double validation_fraction = 0.1;
  ScalingKind scaling = ScalingKind::kStandardize;
  /// For messages about data that contradict a setting: the config's name and the line of
  /// every key written under `data` ("data.num_classes" -> 4).
  std::string config_name;
  std::map<std::string, int> key_lines;
};

/// The `model` block: capacity and the per-layer choices.
struct ModelConfig {
  std::vector<Index> hidden = {128};
  Activation activation = Activation::kRelu;
  std::optional<Initialization> init;  ///< default: He for ReLU, Glorot for tanh
  double dropout = 0.0;                ///< rate on hidden layers, in [0, 1)

  Initialization initialization() const {
    return init.value_or(activation == Activation::kRelu ? Initialization::kHe
                                                         : Initialization::kGlorot);
  }
};

/// The `training` block: optimizer, batches, epochs and weight penalties.
struct TrainingConfig {
  OptimizerConfig optimizer;
  Index batch_size = 128;
  int max_epochs = 50;
  double l1 = 0.0;  ///< L1 strength lambda: adds lambda/n * sum|w| (n = training samples)
  double l2 = 0.0;  ///< L2 strength lambda: adds lambda/(2n) * sum w^2
  LrPlateauConfig reduce_lr_on_plateau;
};

/// A data file a config names, and where it names it, for messages about the file.
struct NamedDataFile {
  std::string path;  ///< as resolved against the config's folder
  std::string key;   ///< data.train.path, data.test.images, ...
  int line = 0;      ///< 1-based line of the key in the config file
};

/// Everything needed to train one model (one trial).
struct TrainConfig {
  uint64_t seed = 0;
  DataConfig data;
  ModelConfig model;
  TrainingConfig training;
  EarlyStoppingConfig early_stopping;
  std::string source_name;                ///< the file it was read from, for messages
  std::string text;                       ///< the YAML text as given, stored with results
  std::vector<NamedDataFile> data_files;  ///< every file under data.train and data.test
};

/// Whether validating a config checks that its data files exist. kSkip is for configs read
/// back from a result file: to use its stored weights (predict), which need no data, or to
/// compare the recorded search with the one resuming it, whose data may have moved.
enum class DataFiles { kCheck, kSkip };

/// Whether parsing a config refuses settings its runs would not use (check_settings_take_effect
/// in core/config_parser.hpp): kRefuse for a config about to run; kAllow for one that already
/// ran (read back or resumed as recorded, though an older hpsearch let such settings through).
enum class UnusedSettings { kRefuse, kAllow };

/// Parses and validates a training config from YAML text, parsing the text once. Relative data
/// paths are resolved against `base_dir`. By default (kAllow) settings no run would use are not
/// refused, as for a config read back from a result file; load_train_config refuses them.
/// Throws ConfigError.
TrainConfig parse_train_config(const std::string& yaml_text, const std::string& source_name,
                               const std::string& base_dir,
                               UnusedSettings unused = UnusedSettings::kAllow);

/// Reads `path` and parses it; relative data paths are resolved against its directory. As a
/// config about to run, also refuses settings the run would not use (check_settings_take_effect
/// in core/config_parser.hpp).
TrainConfig load_train_config(const std::string& path);

}  // namespace hps
