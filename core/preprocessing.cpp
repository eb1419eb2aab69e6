#include "core/preprocessing.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/rng.hpp"

namespace hps {
namespace {

/// Fisher-Yates with our own generator, so a seed means the same split on every toolchain.
void shuffle(std::vector<Index>& items, Rng& rng) {
  for (size_t i = items.size(); i > 1; --i) {
    const auto j = static_cast<size_t>(rng.below(i));
    std::swap(items[i - 1], items[j]);
  }
}

/// Validation share of a group of `n`: `fraction` of it rounded, at least one when the group
/// has two or more samples, and never the whole group, so training sees every group.
size_t validation_count(size_t n, double fraction) {
  if (n == 0 || fraction <= 0.0) return 0;
  auto count = static_cast<size_t>(std::llround(fraction * static_cast<double>(n)));
  if (n >= 2) count = std::max<size_t>(count, 1);
  return std::min(count, n - 1);
}

/// Shuffles `group` and moves its validation share into `validation`, the rest into `train`.
void split_group(std::vector<Index>& group, double fraction, Rng& rng, std::vector<Index>& train,
                 std::vector<Index>& validation) {
  shuffle(group, rng);
  const size_t held = validation_count(group.size(), fraction);
  validation.insert(validation.end(), group.begin(), group.begin() + static_cast<long>(held));
  train.insert(train.end(), group.begin() + static_cast<long>(held), group.end());
}

}  // namespace

const char* scaling_name(ScalingKind kind) {
  switch (kind) {
    case ScalingKind::kNone:
      return "none";
    case ScalingKind::kStandardize:
      return "standardize";
    case ScalingKind::kMinMax:
      return "minmax";
  }
  return "unknown";
}

TrainValidationSplit split_train_validation(const Dataset& data, double fraction, uint64_t seed) {
  if (!(fraction >= 0.0 && fraction < 1.0))
    throw std::invalid_argument("split_train_validation(): fraction must be in [0, 1), got " +
                                std::to_string(fraction));
  const Index n = data.size();
  std::vector<Index> train;
  std::vector<Index> validation;
  Rng rng(seed);
  if (data.task == Task::kClassification && !data.labels.empty()) {
    if (static_cast<Index>(data.labels.size()) != n)
      throw std::invalid_argument("split_train_validation(): " + data.source + " has " +
                                  std::to_string(n) + " samples but " +
                                  std::to_string(data.labels.size()) + " labels");
    const int32_t largest = *std::max_element(data.labels.begin(), data.labels.end());
    const int32_t smallest = *std::min_element(data.labels.begin(), data.labels.end());
    if (smallest < 0)
      throw std::invalid_argument("split_train_validation(): " + data.source +
                                  " has a negative label " + std::to_string(smallest));
    // Groups in ascending class order, each in ascending sample order before its shuffle,
    // so the split depends on nothing but the data and the seed.
    std::vector<std::vector<Index>> classes(static_cast<size_t>(largest) + 1);
    for (Index i = 0; i < n; ++i)
      classes[static_cast<size_t>(data.labels[static_cast<size_t>(i)])].push_back(i);
    for (auto& group : classes) split_group(group, fraction, rng, train, validation);
  } else {
    std::vector<Index> all(static_cast<size_t>(n));
    for (Index i = 0; i < n; ++i) all[static_cast<size_t>(i)] = i;
    split_group(all, fraction, rng, train, validation);
  }
  // Both parts keep the original sample order; the trainer shuffles per epoch anyway.
  std::sort(train.begin(), train.end());
  std::sort(validation.begin(), validation.end());
  return {data.subset(train), data.subset(validation)};
}

Scaler Scaler::fit(ScalingKind kind, const Matrix& x) {
  Scaler scaler;
  scaler.kind = kind;
  if (kind == ScalingKind::kNone) return scaler;
  if (x.cols() == 0) throw std::invalid_argument("Scaler::fit(): no samples to fit on");

  const Index features = x.rows();
  Eigen::VectorXd offset;
  Eigen::VectorXd spread;
  if (kind == ScalingKind::kStandardize) {
    // Accumulate in double one column at a time: float sums over 60000 samples lose digits,
    // and casting the whole matrix to double would double its memory.
    Eigen::VectorXd sum = Eigen::VectorXd::Zero(features);
    for (Index j = 0; j < x.cols(); ++j) sum += x.col(j).cast<double>();
    offset = sum / static_cast<double>(x.cols());
    Eigen::VectorXd squares = Eigen::VectorXd::Zero(features);
    for (Index j = 0; j < x.cols(); ++j)
      squares.array() += (x.col(j).cast<double>() - offset).array().square();
    spread = (squares / static_cast<double>(x.cols())).cwiseSqrt();  // population std
  } else {
    offset = x.rowwise().minCoeff().cast<double>();
    spread = x.rowwise().maxCoeff().cast<double>() - offset;
  }

  scaler.offset = offset.cast<float>();
  scaler.factor.resize(features);
  for (Index f = 0; f < features; ++f) {
    // Constant features (and spreads so small that the factor would overflow) keep factor 1.
    const auto factor = static_cast<float>(1.0 / spread(f));
    scaler.factor(f) = spread(f) > 0.0 && std::isfinite(factor) ? factor : 1.0f;
  }
  return scaler;
}

void Scaler::apply(Matrix& x) const {
  if (kind == ScalingKind::kNone) return;
  if (offset.size() != x.rows() || factor.size() != x.rows())
    throw std::invalid_argument("Scaler::apply(): scaler fitted on " +
                                std::to_string(offset.size()) + " features, data have " +
                                std::to_string(x.rows()));
  // In float, as ever: the data fingerprint of every recorded search covers these values. A
  // sample whose features sit near the float range (3e38 against an offset of -3e38) overflows
  // x - offset to infinity there, and the trial "diverged"; it is scaled in double instead.
  const Eigen::ArrayXd shift = offset.cast<double>().array();
  const Eigen::ArrayXd scale = factor.cast<double>().array();
  Vector scaled(x.rows());
  for (Index j = 0; j < x.cols(); ++j) {
    scaled.array() = (x.col(j).array() - offset.array()) * factor.array();
    if (scaled.allFinite() || !x.col(j).allFinite())
      x.col(j) = scaled;
    else
      x.col(j) = ((x.col(j).cast<double>().array() - shift) * scale).cast<float>().matrix();
  }
}

}  // namespace hps
