#pragma once
// Numeric types shared by the whole core. Eigen is column-major: a data matrix holds one
// sample per column (features x samples) so that gathering a mini-batch copies whole columns.
#include <Eigen/Core>
#include <cstdint>

namespace hps {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;
using Vector = Eigen::Matrix<float, Eigen::Dynamic, 1>;
using RowMajorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Index = Eigen::Index;

/// What the network predicts: a class index (softmax cross-entropy) or real values (MSE).
enum class Task { kClassification, kRegression };

/// Name of the task's quality metric in histories and result files: "accuracy" for
/// classification, "mae" (mean absolute error) for regression.
inline const char* metric_name(Task task) {
  return task == Task::kClassification ? "accuracy" : "mae";
}

/// The task as configs and result files spell it: "classification" or "regression".
inline const char* task_name(Task task) {
  return task == Task::kClassification ? "classification" : "regression";
}

}  // namespace hps
