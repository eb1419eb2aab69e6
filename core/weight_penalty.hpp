#pragma once
#include "core/mlp.hpp"

namespace hps {

/// L1 and L2 weight regularization as cost terms on the weights (never the biases), scaled by
/// the training-set size n as in Nielsen's formulation:
///   penalty = l1/n * sum|w| + l2/(2n) * sum w^2
/// so that the per-batch gradient l1/n * sign(w) + l2/n * w is added to the mean data-loss
/// gradient (L2 is then exactly weight decay of lr * l2 / n per step for SGD).
class WeightPenalty {
 public:
  WeightPenalty(double l1, double l2, Index training_samples);

  bool active() const { return l1_ > 0.0 || l2_ > 0.0; }
  /// The penalty's value for `model`'s current weights, summed in double precision.
  double value(const Mlp& model) const;
  /// Adds the penalty's gradient l1/n * sign(w) + l2/n * w to `grad` (laid out as
  /// model.parameters()) and returns the penalty's value at the same weights, in one vectorized
  /// pass: with small batches and wide layers a step is short, and separate scalar passes once
  /// made the penalty cost more than the matrix products. The value is summed in float over
  /// blocks of 2048 weights and in double across them: it agrees with value() to about 1e-6.
  double add_gradient(const Mlp& model, Vector& grad) const;

 private:
  double l1_;
  double l2_;
  double n_;
};

}  // namespace hps
