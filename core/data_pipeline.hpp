#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/dataset.hpp"
#include "core/preprocessing.hpp"

namespace hps {

/// Data ready for training: split, scaled with statistics fitted on the training part only.
struct PreparedData {
  Dataset train;
  Dataset validation;
  std::optional<Dataset> test;
  Scaler scaler;
};

/// Loads the config's training (and test) data, holds out the validation split chosen by
/// `split_seed`, fits the scaler on the training part and applies it to every part.
/// Throws DataError for bad data; one the data contradict a setting with (DataError::setting)
/// ends with where the config set it: " (data.train.label_column: y at run.yaml:3)".
PreparedData prepare_data(const DataConfig& config, uint64_t split_seed);

/// A 64-bit digest (16 hex digits) of the prepared training, validation and test data, so a
/// resumed search can tell that its data changed.
std::string fingerprint(const PreparedData& data);

}  // namespace hps
