#include "core/config.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

#include "core/config_parser.hpp"
#include "core/dataset.hpp"
#include "core/yaml_util.hpp"

namespace hps {
namespace {

namespace fs = std::filesystem;

const Choices<Task> kTasks = {{"classification", Task::kClassification},
                              {"regression", Task::kRegression}};
const Choices<ScalingKind> kScalings = {{"none", ScalingKind::kNone},
                                        {"standardize", ScalingKind::kStandardize},
                                        {"minmax", ScalingKind::kMinMax}};
const Choices<DataFormat> kFormats = {
    {"idx", DataFormat::kIdx}, {"csv", DataFormat::kCsv}, {"hdf5", DataFormat::kHdf5}};

const Choices<Initialization> kInitializations = {{"he", Initialization::kHe},
                                                  {"glorot", Initialization::kGlorot}};

const Choices<Monitor> kMonitors = {{"val_loss", Monitor::kValLoss},
                                    {"val_accuracy", Monitor::kValAccuracy}};
const Choices<MonitorMode> kModes = {
    {"auto", MonitorMode::kAuto}, {"min", MonitorMode::kMin}, {"max", MonitorMode::kMax}};

const std::vector<std::string> kTopLevelKeys = {"seed", "data", "model", "training",
                                                "early_stopping"};
const std::vector<std::string> kDataKeys = {"task",    "num_classes", "validation_fraction",
                                            "scaling", "train",       "test"};
const std::vector<std::string> kSourceKeys = {"format",         "images",       "labels",
                                              "path",           "label_column", "features_dataset",
                                              "labels_dataset", "max_samples"};
const std::vector<std::string> kModelKeys = {"hidden", "activation", "init", "dropout"};
const std::vector<std::string> kTrainingKeys = {"optimizer",
                                                "learning_rate",
                                                "momentum",
                                                "beta1",
                                                "beta2",
                                                "epsilon",
                                                "batch_size",
                                                "max_epochs",
                                                "l1",
                                                "l2",
                                                "reduce_lr_on_plateau"};
const std::vector<std::string> kLrPlateauKeys = {"enabled", "factor", "patience", "min_lr"};
const std::vector<std::string> kEarlyStoppingKeys = {
    "enabled", "monitor", "mode", "min_delta", "patience", "restore_best_weights"};

/// A data-source key that only some formats use.
struct FormatKey {
  const char* key;
  std::string DataSource::*field;
  std::vector<DataFormat> formats;
  bool is_file;  ///< a path on disk: resolved against the config's folder and checked to exist
};

const std::vector<FormatKey> kFormatKeys = {
    {"images", &DataSource::images, {DataFormat::kIdx}, true},
    {"labels", &DataSource::labels, {DataFormat::kIdx}, true},
    {"path", &DataSource::path, {DataFormat::kCsv, DataFormat::kHdf5}, true},
    {"label_column", &DataSource::label_column, {DataFormat::kCsv}, false},
    {"features_dataset", &DataSource::features_dataset, {DataFormat::kHdf5}, false},
    {"labels_dataset", &DataSource::labels_dataset, {DataFormat::kHdf5}, false},
};

bool applies(const FormatKey& key, DataFormat format) {
  for (DataFormat f : key.formats)
    if (f == format) return true;
  return false;
}

template <typename E>
std::string name_of(const Choices<E>& choices, E value) {
  for (const auto& [name, v] : choices)
    if (v == value) return name;
  return "?";
}

std::string format_names(const std::vector<DataFormat>& formats) {
  std::string names;
  for (DataFormat f : formats) names += (names.empty() ? "" : " or ") + name_of(kFormats, f);
  return names;
}

std::string resolve_path(const std::string& path, const std::string& base_dir) {
  fs::path resolved(path);
  if (resolved.is_relative()) resolved = fs::path(base_dir.empty() ? "." : base_dir) / resolved;
  std::error_code ec;
  const fs::path absolute = fs::absolute(resolved, ec);
  return (ec ? resolved : absolute).lexically_normal().string();
}

DataSource parse_source(const ConfigNode& node, const std::string& base_dir) {
  node.check_keys(kSourceKeys);
  DataSource source;
  source.format = node.require("format").as_choice(kFormats);
  const std::string format = name_of(kFormats, source.format);
  for (const FormatKey& key : kFormatKeys) {
    const ConfigNode value = node.child(key.key);
    if (!applies(key, source.format)) {
      if (value.present())
        value.fail("only applies to format: " + format_names(key.formats) +
                   " (this source has format: " + format + ")");
      continue;
    }
    const std::string text =
        node.require(key.key, " (needed for format: " + format + ")").as_string();
    if (text.empty()) value.fail("must not be empty");
    source.*key.field = key.is_file ? resolve_path(text, base_dir) : text;
  }
  node.read("max_samples", source.max_samples);
  return source;
}

DataConfig parse_data(const ConfigNode& node, const std::string& base_dir) {
  node.check_keys(kDataKeys);
  DataConfig data;
  node.read_choice("task", kTasks, data.task);
  node.read("num_classes", data.num_classes);
  node.read("validation_fraction", data.validation_fraction);
  node.read_choice("scaling", kScalings, data.scaling);
  data.train = parse_source(node.require("train"), base_dir);
  if (const ConfigNode test = node.child("test"); test.present())
    data.test = parse_source(test, base_dir);
  return data;
}

ModelConfig parse_model(const ConfigNode& node) {
  node.check_keys(kModelKeys);
  ModelConfig model;
  node.read("hidden", model.hidden);
  node.read_choice("activation", activation_choices(), model.activation);
  if (const ConfigNode init = node.child("init"); init.present())
    model.init = init.as_choice(kInitializations);
  node.read("dropout", model.dropout);
  return model;
}

TrainingConfig parse_training(const ConfigNode& node) {
  node.check_keys(kTrainingKeys);
  TrainingConfig training;
  OptimizerConfig& optimizer = training.optimizer;
  node.read_choice("optimizer", optimizer_choices(), optimizer.kind);
  node.read("learning_rate", optimizer.learning_rate);
  node.read("momentum", optimizer.momentum);
  node.read("beta1", optimizer.beta1);
  node.read("beta2", optimizer.beta2);
  node.read("epsilon", optimizer.epsilon);
  node.read("batch_size", training.batch_size);
  node.read("max_epochs", training.max_epochs);
  node.read("l1", training.l1);
  node.read("l2", training.l2);
  if (const ConfigNode plateau = node.child("reduce_lr_on_plateau"); plateau.present()) {
    plateau.check_keys(kLrPlateauKeys);
    LrPlateauConfig& reduce = training.reduce_lr_on_plateau;
    reduce.enabled = true;
    plateau.read("enabled", reduce.enabled);
    plateau.read("factor", reduce.factor);
    plateau.read("patience", reduce.patience);
    plateau.read("min_lr", reduce.min_lr);
  }
  return training;
}

EarlyStoppingConfig parse_early_stopping(const ConfigNode& node) {
  node.check_keys(kEarlyStoppingKeys);
  EarlyStoppingConfig early_stopping;
  node.read("enabled", early_stopping.enabled);
  node.read_choice("monitor", kMonitors, early_stopping.monitor);
  node.read_choice("mode", kModes, early_stopping.mode);
  node.read("min_delta", early_stopping.min_delta);
  node.read("patience", early_stopping.patience);
  node.read("restore_best_weights", early_stopping.restore_best_weights);
  return early_stopping;
}

/// Range checks phrased the same way everywhere. Each is written so that NaN fails it.
class Checker {
 public:
  explicit Checker(const KeyLines& lines) : lines_(lines) {}

  void check(bool ok, const std::string& path, const std::string& problem) const {
    if (!ok) lines_.fail(path, problem);
  }
  void positive(double value, const std::string& path) const {
    check(value > 0, path, "must be > 0, got " + number_text(value));
  }
  void non_negative(double value, const std::string& path) const {
    check(value >= 0, path, "must be >= 0, got " + number_text(value));
  }
  void at_least(Index value, Index min, const std::string& path) const {
    check(value >= min, path,
          "must be >= " + std::to_string(min) + ", got " + std::to_string(value));
  }
  /// [0, 1): rates and decay factors, where 1 would stop learning or never forget.
  void unit_half_open(double value, const std::string& path) const {
    check(value >= 0 && value < 1, path, "must be in [0, 1), got " + number_text(value));
  }

  /// The file must be there now: better to hear before training than from a worker later.
  void file_exists(const std::string& file, const std::string& path) const {
    std::error_code ec;
    const fs::file_status status = fs::status(file, ec);
    if (status.type() == fs::file_type::not_found)
      lines_.fail(path, "file '" + file + "' does not exist");
    if (ec) lines_.fail(path, "cannot access file '" + file + "': " + ec.message());
    if (fs::is_directory(status)) lines_.fail(path, "'" + file + "' is a directory, not a file");
    // A pipe would block the reader until something writes to it (dataset_checks.hpp).
    if (!fs::is_regular_file(status))
      lines_.fail(path, "'" + file + "' is not a regular file (a pipe, device or socket)");
  }

 private:
  const KeyLines& lines_;
};

void validate_source(const DataSource& source, const std::string& path, const Checker& c) {
  c.at_least(source.max_samples, 0, path + ".max_samples");
}

void check_source_files(const DataSource& source, const std::string& path, const Checker& c) {
  for (const FormatKey& key : kFormatKeys)
    if (key.is_file && applies(key, source.format))
      c.file_exists(source.*key.field, path + "." + key.key);
}

void add_source_files(const DataSource& source, const std::string& path, const KeyLines& lines,
                      std::vector<NamedDataFile>& files) {
  for (const FormatKey& key : kFormatKeys)
    if (key.is_file && applies(key, source.format)) {
      const std::string key_path = path + "." + key.key;
      files.push_back({source.*key.field, key_path, lines.line(key_path)});
    }
}

}  // namespace

void validate_train_config(const TrainConfig& config, const KeyLines& lines, DataFiles files) {
  const Checker c(lines);

  const DataConfig& data = config.data;
  if (data.task == Task::kClassification) {
    c.check(data.num_classes == 0 || (data.num_classes >= 2 && data.num_classes <= kMaxClasses),
            "data.num_classes",
            "must be in [2, " + std::to_string(kMaxClasses) +
                "] for classification, or 0 to infer it from the labels, got " +
                std::to_string(data.num_classes));
  } else {
    c.check(data.num_classes == 0, "data.num_classes",
            "only applies to task: classification (data.task is regression)");
  }
  c.check(data.validation_fraction > 0 && data.validation_fraction < 1, "data.validation_fraction",
          "must be in (0, 1), got " + number_text(data.validation_fraction) +
              (data.validation_fraction <= 0
                   ? " (early stopping and model selection need a validation set)"
                   : ""));
  validate_source(data.train, "data.train", c);
  if (data.test) validate_source(*data.test, "data.test", c);

  const ModelConfig& model = config.model;
  for (std::size_t i = 0; i < model.hidden.size(); ++i)
    c.at_least(model.hidden[i], 1, "model.hidden[" + std::to_string(i) + "]");
  c.unit_half_open(model.dropout, "model.dropout");

  const TrainingConfig& training = config.training;
  const OptimizerConfig& optimizer = training.optimizer;
  c.positive(optimizer.learning_rate, "training.learning_rate");
  c.unit_half_open(optimizer.momentum, "training.momentum");
  c.unit_half_open(optimizer.beta1, "training.beta1");
  c.unit_half_open(optimizer.beta2, "training.beta2");
  c.positive(optimizer.epsilon, "training.epsilon");
  c.at_least(training.batch_size, 1, "training.batch_size");
  c.at_least(training.max_epochs, 1, "training.max_epochs");
  c.non_negative(training.l1, "training.l1");
  c.non_negative(training.l2, "training.l2");

  const EarlyStoppingConfig& early_stopping = config.early_stopping;
  c.check(early_stopping.monitor != Monitor::kValAccuracy || data.task == Task::kClassification,
          "early_stopping.monitor",
          "val_accuracy only applies to task: classification (data.task is regression); "
          "use val_loss");
  c.non_negative(early_stopping.min_delta, "early_stopping.min_delta");
  c.at_least(early_stopping.patience, 0, "early_stopping.patience");

  const LrPlateauConfig& plateau = training.reduce_lr_on_plateau;
  const std::string plateau_key = "training.reduce_lr_on_plateau";
  c.check(plateau.factor > 0 && plateau.factor < 1, plateau_key + ".factor",
          "must be in (0, 1), got " + number_text(plateau.factor));
  c.at_least(plateau.patience, 0, plateau_key + ".patience");
  c.non_negative(plateau.min_lr, plateau_key + ".min_lr");
  // Against early_stopping.patience: check_settings_take_effect, which knows a searched one.

  // Last, so that mistakes in the file itself are reported before the state of the disk.
  if (files == DataFiles::kSkip) return;
  check_source_files(data.train, "data.train", c);
  if (data.test) check_source_files(*data.test, "data.test", c);
}

void check_settings_take_effect(const TrainConfig& config, const KeyLines& lines,
                                const VariedSettings& varied) {
  const auto searched = [&](const std::string& name) {
    return std::find(varied.searched.begin(), varied.searched.end(), name) != varied.searched.end();
  };
  // Names the key the user wrote: the training config's, or the search space's.
  const auto refuse = [&](const std::string& name, const std::string& key,
                          const std::string& problem) {
    if (searched(name)) lines.fail("search.space." + name, problem);
    if (lines.has(key)) lines.fail(key, problem);
  };

  const TrainingConfig& training = config.training;
  std::vector<OptimizerKind> optimizers = varied.optimizers;
  if (optimizers.empty()) optimizers.push_back(training.optimizer.kind);
  std::string used = std::string(varied.optimizers.empty() ? "training.optimizer is "
                                                           : "the searched optimizers are ") +
                     to_string(optimizers.front());
  for (std::size_t i = 1; i < optimizers.size(); ++i)
    used += std::string(i + 1 < optimizers.size() ? ", " : " and ") + to_string(optimizers[i]);
  const std::pair<const char*, OptimizerKind> options[] = {{"momentum", OptimizerKind::kMomentum},
                                                           {"beta1", OptimizerKind::kAdam},
                                                           {"beta2", OptimizerKind::kAdam},
                                                           {"epsilon", OptimizerKind::kAdam}};
  for (const auto& [name, needs] : options)
    if (std::find(optimizers.begin(), optimizers.end(), needs) == optimizers.end())
      refuse(name, std::string("training.") + name,
             std::string("only applies to optimizer: ") + to_string(needs) + " (" + used + ")");

  const bool hidden_layer = varied.hidden_layer.value_or(!config.model.hidden.empty());
  if (!hidden_layer && (searched("dropout") || config.model.dropout > 0))
    refuse("dropout", "model.dropout",
           std::string("dropout applies to hidden layers, and ") +
               (varied.hidden_layer ? "no searched network has one" : "model.hidden is empty"));

  const EarlyStoppingConfig& early_stopping = config.early_stopping;
  const LrPlateauConfig& plateau = training.reduce_lr_on_plateau;
  const std::string plateau_key = "training.reduce_lr_on_plateau";
  if (!searched("patience")) {
    // min_delta and restore_best_weights still pick the best epoch without early stopping;
    // patience only ends runs.
    if (!early_stopping.enabled && lines.has("early_stopping.patience"))
      lines.fail("early_stopping.patience",
                 "only applies with early stopping (early_stopping.enabled is false)");
    const auto defaulted = [&lines](const std::string& key) {
      return lines.has(key) ? std::string() : std::string(", its default");
    };
    if (plateau.enabled && early_stopping.enabled && plateau.patience >= early_stopping.patience)
      lines.fail(plateau_key + ".patience",
                 "must be less than early_stopping.patience (" +
                     std::to_string(early_stopping.patience) +
                     defaulted("early_stopping.patience") + "), got " +
                     std::to_string(plateau.patience) + defaulted(plateau_key + ".patience") +
                     ": early stopping would end the run before the rate is lowered");
  } else {
    if (!early_stopping.enabled)
      lines.fail("search.space.patience",
                 "only applies with early stopping (early_stopping.enabled is false)");
    if (plateau.enabled && varied.least_patience && *varied.least_patience <= plateau.patience)
      lines.fail("search.space.patience",
                 "includes " + std::to_string(*varied.least_patience) + ", not above " +
                     plateau_key + ".patience (" + std::to_string(plateau.patience) +
                     "): early stopping would end those trials before the rate is lowered");
  }
  if (plateau.enabled) {
    const double rate = varied.largest_learning_rate.value_or(training.optimizer.learning_rate);
    if (plateau.min_lr >= rate)
      lines.fail(plateau_key + ".min_lr",
                 "is " + number_text(plateau.min_lr) + ", not below the " +
                     (varied.largest_learning_rate ? "largest searched " : "") + "learning rate (" +
                     number_text(rate) + "), so the plateau rule would never lower it");
  }

  const bool accuracy = early_stopping.monitor == Monitor::kValAccuracy;
  if (early_stopping.mode == (accuracy ? MonitorMode::kMin : MonitorMode::kMax))
    lines.fail("early_stopping.mode",
               std::string(accuracy ? "min" : "max") + " contradicts the monitor " +
                   (accuracy ? "val_accuracy (higher is better)" : "val_loss (lower is better)") +
                   "; leave mode out (auto)");
}

const Choices<Activation>& activation_choices() {
  static const Choices<Activation> choices = {{"relu", Activation::kRelu},
                                              {"tanh", Activation::kTanh}};
  return choices;
}

const Choices<OptimizerKind>& optimizer_choices() {
  static const Choices<OptimizerKind> choices = {{"sgd", OptimizerKind::kSgd},
                                                 {"momentum", OptimizerKind::kMomentum},
                                                 {"adam", OptimizerKind::kAdam}};
  return choices;
}

TrainConfig parse_train_config_node(const YAML::Node& root, const KeyLines& lines,
                                    const std::string& base_dir,
                                    const std::vector<std::string>& extra_top_level_keys,
                                    DataFiles files) {
  const std::string& source_name = lines.source_name();
  const ConfigNode top(root, source_name);
  std::vector<std::string> known = kTopLevelKeys;
  known.insert(known.end(), extra_top_level_keys.begin(), extra_top_level_keys.end());
  top.check_keys(known);

  TrainConfig config;
  config.source_name = source_name;
  top.read("seed", config.seed);
  config.data = parse_data(top.require("data"), base_dir);
  config.data.config_name = source_name;
  config.data.key_lines = lines.under("data");
  config.model = parse_model(top.child("model"));
  config.training = parse_training(top.child("training"));
  config.early_stopping = parse_early_stopping(top.child("early_stopping"));
  add_source_files(config.data.train, "data.train", lines, config.data_files);
  if (config.data.test) add_source_files(*config.data.test, "data.test", lines, config.data_files);

  validate_train_config(config, lines, files);
  return config;
}

TrainConfig parse_train_config(const std::string& yaml_text, const std::string& source_name,
                               const std::string& base_dir, UnusedSettings unused) {
  const YAML::Node root = parse_yaml(yaml_text, source_name);
  // Indexing every key first also refuses a recursive or exploding document before anything
  // walks it.
  const KeyLines lines(root, source_name);
  TrainConfig config = parse_train_config_node(root, lines, base_dir, {});
  config.text = yaml_text;
  if (unused == UnusedSettings::kRefuse) check_settings_take_effect(config, lines);
  return config;
}

TrainConfig load_train_config(const std::string& path) {
  return parse_train_config(read_config_file(path), path, config_dir_of(path),
                            UnusedSettings::kRefuse);
}

}  // namespace hps
