#pragma once
#include <cmath>

#include "core/optim/optimizer.hpp"

namespace hps {

/// Adam (Kingma and Ba, 2015) with bias correction, epsilon outside the square root as in
/// PyTorch and Keras.
class Adam final : public Optimizer {
 public:
  Adam(double learning_rate, double beta1, double beta2, double epsilon)
      : lr_(learning_rate), beta1_(beta1), beta2_(beta2), eps_(epsilon) {}

  void set_learning_rate(double learning_rate) override { lr_ = learning_rate; }

  void step(Vector& params, const Vector& gradient) override {
    if (m_.size() != params.size()) {
      m_ = Vector::Zero(params.size());
      v_ = Vector::Zero(params.size());
    }
    ++t_;
    const auto b1 = static_cast<float>(beta1_);
    const auto b2 = static_cast<float>(beta2_);
    const double c1 = 1.0 - std::pow(beta1_, static_cast<double>(t_));
    const double c2 = 1.0 - std::pow(beta2_, static_cast<double>(t_));
    // w -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps)
    const auto step_size = static_cast<float>(lr_ / c1);
    const auto inv_sqrt_c2 = static_cast<float>(1.0 / std::sqrt(c2));
    const auto eps = static_cast<float>(eps_);
    m_ = b1 * m_ + (1.0f - b1) * gradient;
    v_ = b2 * v_ + (1.0f - b2) * gradient.cwiseAbs2();
    params.array() -= step_size * m_.array() / (v_.array().sqrt() * inv_sqrt_c2 + eps);
  }

 private:
  double lr_, beta1_, beta2_, eps_;
  long t_ = 0;
  Vector m_, v_;
};

}  // namespace hps
