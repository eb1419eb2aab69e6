#include "core/loss.hpp"

#include <cmath>

namespace hps {
namespace {

// Cross-entropy of one column, computed in double around the column maximum so that large
// logits neither overflow nor lose the small probabilities.
template <typename Column>
double column_cross_entropy(const Column& z, int32_t label, float& max_out, double& sum_out) {
  const float m = z.maxCoeff();
  double sum = 0.0;
  for (Index i = 0; i < z.size(); ++i) sum += std::exp(static_cast<double>(z[i] - m));
  max_out = m;
  sum_out = sum;
  return std::log(sum) - static_cast<double>(z[label] - m);
}

}  // namespace

double softmax_cross_entropy(const Eigen::Ref<const Matrix>& logits, const int32_t* labels) {
  double total = 0.0;
  for (Index j = 0; j < logits.cols(); ++j) {
    float m;
    double s;
    total += column_cross_entropy(logits.col(j), labels[j], m, s);
  }
  return total / static_cast<double>(logits.cols());
}

double softmax_cross_entropy(const Eigen::Ref<const Matrix>& logits, const int32_t* labels,
                             Eigen::Ref<Matrix> grad) {
  const Index batch = logits.cols();
  const double inv_batch = 1.0 / static_cast<double>(batch);
  double total = 0.0;
  for (Index j = 0; j < batch; ++j) {
    float m;
    double s;
    total += column_cross_entropy(logits.col(j), labels[j], m, s);
    const double scale = inv_batch / s;
    for (Index i = 0; i < logits.rows(); ++i)
      grad(i, j) = static_cast<float>(std::exp(static_cast<double>(logits(i, j) - m)) * scale);
    grad(labels[j], j) -= static_cast<float>(inv_batch);
  }
  return total * inv_batch;
}

double mean_squared_error(const Eigen::Ref<const Matrix>& outputs,
                          const Eigen::Ref<const Matrix>& targets) {
  return (outputs - targets).cast<double>().squaredNorm() / static_cast<double>(outputs.size());
}

double mean_squared_error(const Eigen::Ref<const Matrix>& outputs,
                          const Eigen::Ref<const Matrix>& targets, Eigen::Ref<Matrix> grad) {
  const auto scale = static_cast<float>(2.0 / static_cast<double>(outputs.size()));
  grad = scale * (outputs - targets);
  return mean_squared_error(outputs, targets);
}

double sum_absolute_error(const Eigen::Ref<const Matrix>& outputs,
                          const Eigen::Ref<const Matrix>& targets) {
  return (outputs - targets).cast<double>().cwiseAbs().sum();
}

Index count_correct(const Eigen::Ref<const Matrix>& logits, const int32_t* labels) {
  Index correct = 0;
  for (Index j = 0; j < logits.cols(); ++j) {
    Index arg;
    logits.col(j).maxCoeff(&arg);
    correct += (arg == labels[j]) ? 1 : 0;
  }
  return correct;
}

}  // namespace hps
