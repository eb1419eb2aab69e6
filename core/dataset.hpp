#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/types.hpp"

namespace hps {

/// The most classes a classification data set may have. A larger label is far more often a
/// wrong label column (an id, a year) than a real class, and would size the output layer.
constexpr int kMaxClasses = 100000;

/// An in-memory data set: one sample per column of `x`.
/// Classification sets fill `labels` (class indices in [0, num_classes)); regression sets
/// fill `y` (targets x samples). The other target member stays empty.
struct Dataset {
  Task task = Task::kClassification;
  Matrix x;                     ///< features x samples
  std::vector<int32_t> labels;  ///< classification targets, one per sample
  Matrix y;                     ///< regression targets, outputs x samples
  int num_classes = 0;          ///< classification only
  std::string source;           ///< where it came from, for messages
  /// One name per feature row when the format has names (CSV headers); empty otherwise.
  std::vector<std::string> feature_names;

  Index size() const { return x.cols(); }
  Index num_features() const { return x.rows(); }
  /// Width of the network's output layer for this data.
  Index num_outputs() const { return task == Task::kClassification ? num_classes : y.rows(); }
  /// The samples at `indices`, in that order.
  Dataset subset(const std::vector<Index>& indices) const;
};

}  // namespace hps
