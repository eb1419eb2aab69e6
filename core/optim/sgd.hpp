#pragma once
#include "core/optim/optimizer.hpp"

namespace hps {

/// Plain stochastic gradient descent: w -= lr * g.
class Sgd final : public Optimizer {
 public:
  explicit Sgd(double learning_rate) : lr_(static_cast<float>(learning_rate)) {}
  void step(Vector& params, const Vector& gradient) override { params.noalias() -= lr_ * gradient; }
  void set_learning_rate(double learning_rate) override { lr_ = static_cast<float>(learning_rate); }

 private:
  float lr_;
};

}  // namespace hps
