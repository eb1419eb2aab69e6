#pragma once
#include "core/optim/optimizer.hpp"

namespace hps {

/// SGD with classical momentum (as torch.optim.SGD): v = mu * v + g; w -= lr * v.
class MomentumSgd final : public Optimizer {
 public:
  MomentumSgd(double learning_rate, double momentum)
      : lr_(static_cast<float>(learning_rate)), mu_(static_cast<float>(momentum)) {}

  void set_learning_rate(double learning_rate) override { lr_ = static_cast<float>(learning_rate); }

  void step(Vector& params, const Vector& gradient) override {
    if (velocity_.size() != params.size()) velocity_ = Vector::Zero(params.size());
    velocity_ = mu_ * velocity_ + gradient;
    params.noalias() -= lr_ * velocity_;
  }

 private:
  float lr_;
  float mu_;
  Vector velocity_;
};

}  // namespace hps
