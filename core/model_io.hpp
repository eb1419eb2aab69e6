#pragma once
#include <string>
#include <vector>

#include "core/hdf5_file.hpp"
#include "core/history.hpp"
#include "core/mlp.hpp"
#include "core/preprocessing.hpp"

namespace hps {

/// A trained network with what is needed to use it on raw data.
struct StoredModel {
  Mlp model;
  Scaler scaler;
  Task task = Task::kClassification;
  int num_classes = 0;
  /// The training data's feature (column) names, one per input; empty when it had none.
  std::vector<std::string> feature_names;
};

/// Writes `stored` into `group`: attributes inputs, outputs, hidden (int64 array), activation,
/// task, num_classes, num_layers, and feature_names (one string, the names separated by
/// newlines; only when there are names); datasets layer_<i>/weight (outputs x inputs, row-major so
/// numpy's W @ x works on a column x) and layer_<i>/bias; scaler/ with attribute kind and
/// datasets offset and factor (raw x -> (x - offset) * factor).
void write_model(h5::Group& group, const StoredModel& stored);

/// Reads what write_model wrote. Throws h5::Error naming the object that is missing or wrong,
/// weights and biases that are not all finite included.
StoredModel read_model(const h5::Group& group);

/// Writes the history as one 1-D dataset per column: epoch, train_loss, train_total_loss,
/// train_<metric>, val_loss, val_<metric>, seconds, learning_rate; metric is accuracy
/// (classification) or mae (regression), recorded in the group's `metric` attribute.
void write_history(h5::Group& group, const History& history, Task task);

/// Reads what write_history wrote (learning_rate is NaN in files written before it was).
History read_history(const h5::Group& group);

}  // namespace hps
