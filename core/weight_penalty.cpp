#include "core/weight_penalty.hpp"

#include <algorithm>
#include <stdexcept>

namespace hps {

WeightPenalty::WeightPenalty(double l1, double l2, Index training_samples)
    : l1_(l1), l2_(l2), n_(static_cast<double>(training_samples)) {
  if (training_samples < 1) throw std::invalid_argument("WeightPenalty: no training samples");
}

double WeightPenalty::value(const Mlp& model) const {
  if (!active()) return 0.0;
  double abs_sum = 0.0;
  double square_sum = 0.0;
  for (Index l = 0; l < model.num_layers(); ++l) {
    const auto w = model.weight(l);
    if (l1_ > 0.0) abs_sum += w.cast<double>().cwiseAbs().sum();
    if (l2_ > 0.0) square_sum += w.cast<double>().squaredNorm();
  }
  return l1_ / n_ * abs_sum + l2_ / (2.0 * n_) * square_sum;
}

double WeightPenalty::add_gradient(const Mlp& model, Vector& grad) const {
  if (!active()) return 0.0;
  // Blocks small enough to stay in L1 cache between the gradient update and the sums.
  constexpr Index kBlock = 2048;
  const auto l1 = static_cast<float>(l1_ / n_);
  const auto l2 = static_cast<float>(l2_ / n_);
  double abs_sum = 0.0;
  double square_sum = 0.0;
  for (Index l = 0; l < model.num_layers(); ++l) {
    const auto w = model.weight(l);
    auto g = model.weight_view(grad, l);
    for (Index start = 0; start < w.size(); start += kBlock) {
      const Index len = std::min(kBlock, w.size() - start);
      const float* wb = w.data() + start;
      float* gb = g.data() + start;
      // A plain loop the compiler vectorizes (a zero strength adds exactly zero); sign(0) = 0
      // is the L1 subgradient at zero.
      for (Index i = 0; i < len; ++i) {
        const float sign = wb[i] > 0.0f ? 1.0f : (wb[i] < 0.0f ? -1.0f : 0.0f);
        gb[i] = (gb[i] + l1 * sign) + l2 * wb[i];
      }
      const Eigen::Map<const Eigen::ArrayXf> block(wb, len);
      abs_sum += static_cast<double>(block.abs().sum());
      square_sum += static_cast<double>(block.square().sum());
    }
  }
  return l1_ / n_ * abs_sum + l2_ / (2.0 * n_) * square_sum;
}

}  // namespace hps
