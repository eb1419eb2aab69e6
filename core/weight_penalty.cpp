#include "core/weight_penalty.hpp"

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

void WeightPenalty::add_gradient(const Mlp& model, Vector& grad) const {
  if (!active()) return;
  const auto l1 = static_cast<float>(l1_ / n_);
  const auto l2 = static_cast<float>(l2_ / n_);
  for (Index l = 0; l < model.num_layers(); ++l) {
    const auto w = model.weight(l);
    auto g = model.weight_view(grad, l);
    // sign(0) = 0: the L1 subgradient at zero.
    if (l1 > 0.0f) g.array() += l1 * w.array().sign();
    if (l2 > 0.0f) g.array() += l2 * w.array();
  }
}

}  // namespace hps
