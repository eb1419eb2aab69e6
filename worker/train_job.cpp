#include "worker/train_job.hpp"

#include <unistd.h>

#include <filesystem>
#include <limits>

#include "core/hdf5_file.hpp"
#include "core/model_io.hpp"
#include "core/output_path.hpp"
#include "core/rng.hpp"
#include "core/version.hpp"

namespace hps {
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr Evaluation kNotScored{kNaN, kNaN};

std::string temporary_path_for(const std::string& path) {
  return path + ".partial-" + std::to_string(getpid());
}

}  // namespace

TrainJobResult run_train_job(const TrainConfig& config, const std::string& output_path,
                             bool overwrite, const EpochCallback& on_epoch) {
  const std::vector<CommandInput> inputs = config_inputs(config.source_name, config);
  check_output_path(output_path, overwrite, inputs);
  // The data is an input: its errors come before the lock, so that they leave no lock file.
  const PreparedData data = prepare_data(config.data, derive_seed(config.seed, SeedStream::kSplit));
  const OutputLock lock(output_path);  // as a search's, so neither replaces what the other writes
  check_output_path(output_path, overwrite, inputs);  // again under the lock, before training

  TrainJobResult result;
  result.train_samples = data.train.size();
  result.validation_samples = data.validation.size();
  result.training = train_mlp(config.model, config.training, config.early_stopping, data.train,
                              data.validation, config.seed, on_epoch);
  // A run that diverged before any epoch ended with finite weights returns no model worth a
  // score: scoring its starting weights would pass for a result. NaN says "not scored".
  const bool scored = result.training.best_epoch >= 0;
  const auto score = [&](const Dataset& d) {
    return scored ? evaluate(result.training.model, d) : kNotScored;
  };
  result.validation = score(data.validation);
  if (data.test) {
    result.test = score(*data.test);
    result.test_samples = data.test->size();
  }

  const std::string partial = temporary_path_for(output_path);
  try {
    write_train_output(partial, config, result, data.scaler, data.train.num_classes,
                       data.train.feature_names);
    fs::rename(partial, output_path);
  } catch (...) {
    std::error_code ec;
    fs::remove(partial, ec);
    throw;
  }
  return result;
}

void write_train_output(const std::string& path, const TrainConfig& config,
                        const TrainJobResult& result, const Scaler& scaler, int num_classes,
                        const std::vector<std::string>& feature_names) {
  const Task task = config.data.task;
  const std::string metric = metric_name(task);
  h5::File file = h5::File::create(path);
  h5::Group root = file.root();
  root.write_attribute("format", "hpsearch-train");
  root.write_attribute("format_version", int64_t{1});
  root.write_attribute("hpsearch_version", kVersion);
  root.write_attribute("config", config.text);
  root.write_attribute("seed", static_cast<int64_t>(config.seed));
  root.write_attribute("status", to_string(result.training.status));
  root.write_attribute("message", result.training.message);
  root.write_attribute("best_epoch", int64_t{result.training.best_epoch});
  root.write_attribute("epochs_run", static_cast<int64_t>(result.training.history.epochs.size()));
  root.write_attribute("task", task == Task::kClassification ? "classification" : "regression");
  root.write_attribute("metric", metric);

  h5::Group metrics = root.create_group("metrics");
  metrics.write_attribute("val_loss", result.validation.loss);
  metrics.write_attribute("val_" + metric, result.validation.metric);
  metrics.write_attribute("train_samples", static_cast<int64_t>(result.train_samples));
  metrics.write_attribute("validation_samples", static_cast<int64_t>(result.validation_samples));
  if (result.test) {
    metrics.write_attribute("test_loss", result.test->loss);
    metrics.write_attribute("test_" + metric, result.test->metric);
    metrics.write_attribute("test_samples", static_cast<int64_t>(result.test_samples));
  }

  h5::Group model = root.create_group("model");
  write_model(model, StoredModel{result.training.model, scaler, task, num_classes, feature_names});
  h5::Group history = root.create_group("history");
  write_history(history, result.training.history, task);
  file.flush();
}

}  // namespace hps
