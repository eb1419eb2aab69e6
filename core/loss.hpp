#pragma once
#include <cstdint>

#include "core/types.hpp"

namespace hps {

/// Mean softmax cross-entropy of `logits` (classes x batch) against class indices `labels`.
double softmax_cross_entropy(const Eigen::Ref<const Matrix>& logits, const int32_t* labels);

/// As softmax_cross_entropy, and writes d(mean loss)/d(logits) into `grad` (same shape).
double softmax_cross_entropy(const Eigen::Ref<const Matrix>& logits, const int32_t* labels,
                             Eigen::Ref<Matrix> grad);

/// Mean squared error over all entries of `outputs` (outputs x batch) against `targets`.
double mean_squared_error(const Eigen::Ref<const Matrix>& outputs,
                          const Eigen::Ref<const Matrix>& targets);

/// As mean_squared_error, and writes its gradient with respect to `outputs` into `grad`.
double mean_squared_error(const Eigen::Ref<const Matrix>& outputs,
                          const Eigen::Ref<const Matrix>& targets, Eigen::Ref<Matrix> grad);

/// Sum of absolute errors over all entries (for the mean absolute error metric).
double sum_absolute_error(const Eigen::Ref<const Matrix>& outputs,
                          const Eigen::Ref<const Matrix>& targets);

/// Number of columns of `logits` whose largest entry is at `labels[j]` (first maximum wins).
Index count_correct(const Eigen::Ref<const Matrix>& logits, const int32_t* labels);

}  // namespace hps
