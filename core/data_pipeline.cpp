#include "core/data_pipeline.hpp"

#include <string>

#include "core/data_loader.hpp"

namespace hps {

PreparedData prepare_data(const DataConfig& config, uint64_t split_seed) {
  Dataset all = load_dataset(config.train, config.task, config.num_classes);
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
    out.test = load_dataset(*config.test, config.task, out.train.num_classes);
    if (out.test->num_features() != out.train.num_features())
      throw DataError(out.test->source + ": " + std::to_string(out.test->num_features()) +
                      " features, but the training data has " +
                      std::to_string(out.train.num_features()));
  }
  out.scaler = Scaler::fit(config.scaling, out.train.x);
  out.scaler.apply(out.train.x);
  out.scaler.apply(out.validation.x);
  if (out.test) out.scaler.apply(out.test->x);
  return out;
}

}  // namespace hps
