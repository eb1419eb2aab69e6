#include "core/data_pipeline.hpp"

#include <cstdio>
#include <cstring>
#include <string>

#include "core/data_loader.hpp"
#include "core/dataset_checks.hpp"
#include "core/rng.hpp"

namespace hps {
namespace {

// Where the config set `key` ("data.num_classes") to `value`, for a message:
// " (data.num_classes: 2 at run.yaml:4)", or " (data.num_classes: 2)" for a config built
// without a file; `unset` when `value` is empty (the key not written, its default in force).
std::string setting_note(const DataConfig& config, const std::string& key, const std::string& value,
                         const std::string& unset) {
  if (value.empty()) return " (" + unset + ")";
  const auto line = config.key_lines.find(key);
  if (line == config.key_lines.end() || config.config_name.empty())
    return " (" + key + ": " + value + ")";
  return " (" + key + ": " + value + " at " + config.config_name + ":" +
         std::to_string(line->second) + ")";
}

// load_dataset for the config's `block` ("data.train" or "data.test"). A DataError that
// follows from a setting (DataError::setting) also says where the config set it: the fault
// may be the setting's, not the data's.
Dataset load_configured(const DataConfig& config, const DataSource& source,
                        const std::string& block, int num_classes) {
  try {
    return load_dataset(source, config.task, num_classes);
  } catch (const DataError& e) {
    const std::string& setting = e.setting();
    std::string note;
    if (setting == "num_classes") {
      note = setting_note(
          config, "data.num_classes",
          config.num_classes > 0 ? std::to_string(config.num_classes) : "",
          "data.num_classes is not set: the classes are those of the training labels, 0 to " +
              std::to_string(num_classes - 1));
    } else if (setting == "task") {
      const bool written = config.key_lines.count("data.task") != 0;
      note = setting_note(config, "data.task", written ? "classification" : "",
                          "data.task is classification by default; real-valued targets need "
                          "task: regression");
    } else if (setting == "label_column" || setting == "features_dataset" ||
               setting == "labels_dataset") {
      const std::string& value = setting == "label_column"       ? source.label_column
                                 : setting == "features_dataset" ? source.features_dataset
                                                                 : source.labels_dataset;
      note = setting_note(config, block + "." + setting, value, "no " + block + "." + setting);
    }
    if (note.empty()) throw;
    throw DataError(e.what() + note);
  }
}

}  // namespace

PreparedData prepare_data(const DataConfig& config, uint64_t split_seed) {
  Dataset all = load_configured(config, config.train, "data.train", config.num_classes);
  // Also with num_classes given: a test set may hold one class, a training set may not.
  if (config.task == Task::kClassification)
    check_two_classes(all.labels, config.num_classes, all.source);
  PreparedData out;
  TrainValidationSplit split = split_train_validation(all, config.validation_fraction, split_seed);
  out.train = std::move(split.train);
  out.validation = std::move(split.validation);
  if (out.validation.size() == 0)
    throw DataError(all.source + ": " + std::to_string(all.size()) +
                    " samples leave no validation samples at validation_fraction " +
                    std::to_string(config.validation_fraction));
  if (config.test) {
    // The test set must use the same class range as training.
    out.test = load_configured(config, *config.test, "data.test", out.train.num_classes);
    align_features(out.test->x, out.test->feature_names, out.train.feature_names, out.test->source);
    if (!out.test->feature_names.empty()) out.test->feature_names = out.train.feature_names;
    if (out.test->num_features() != out.train.num_features())
      throw DataError(out.test->source + ": " + std::to_string(out.test->num_features()) +
                      " features, but the training data has " +
                      std::to_string(out.train.num_features()));
    if (out.test->num_outputs() != out.train.num_outputs())
      throw DataError(out.test->source + ": " + std::to_string(out.test->num_outputs()) +
                      " targets per sample, but the training data (" + out.train.source + ") has " +
                      std::to_string(out.train.num_outputs()));
  }
  out.scaler = Scaler::fit(config.scaling, out.train.x);
  out.scaler.apply(out.train.x);
  out.scaler.apply(out.validation.x);
  if (out.test) out.scaler.apply(out.test->x);
  return out;
}

namespace {

void digest(uint64_t& h, const void* data, size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    h = mix64(h ^ word);
  }
  uint64_t tail = bytes;
  for (; i < bytes; ++i) tail = (tail << 8) | p[i];
  h = mix64(h ^ tail);
}

void digest(uint64_t& h, const Dataset& d) {
  digest(h, d.x.data(), static_cast<size_t>(d.x.size()) * sizeof(float));
  digest(h, d.labels.data(), d.labels.size() * sizeof(int32_t));
  digest(h, d.y.data(), static_cast<size_t>(d.y.size()) * sizeof(float));
  const int64_t shape[] = {d.x.rows(), d.x.cols(), d.y.rows(), d.num_classes};
  digest(h, shape, sizeof shape);
}

}  // namespace

std::string fingerprint(const PreparedData& data) {
  uint64_t h = 0x68707365617263ULL;
  digest(h, data.train);
  digest(h, data.validation);
  if (data.test) digest(h, *data.test);
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

}  // namespace hps
