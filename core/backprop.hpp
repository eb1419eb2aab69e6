#pragma once
#include <vector>

#include "core/mlp.hpp"
#include "core/rng.hpp"
#include "core/types.hpp"

namespace hps {

/// Forward and backward passes of an MLP over mini-batches of up to `max_batch` samples.
/// All buffers are allocated once here, so a training step allocates nothing.
///
/// Dropout is inverted: kept hidden units are scaled by 1/(1-rate) in training, so the
/// network is used as is at evaluation time.
class Backprop {
 public:
  Backprop(const MlpShape& shape, Index max_batch);

  Index max_batch() const { return max_batch_; }

  /// Runs `x` (features x b, b <= max_batch) through `model`. With `dropout_rate` > 0 and an
  /// `rng`, hidden units are dropped (training mode); otherwise evaluation mode. Returns the
  /// outputs (outputs x b), valid until the next call.
  Eigen::Map<const Matrix> forward(const Mlp& model, const Eigen::Ref<const Matrix>& x,
                                   float dropout_rate, Rng* rng);

  /// Gradient buffer for the loss with respect to the last forward's outputs (outputs x b).
  Eigen::Map<Matrix> output_gradient();

  /// Back-propagates output_gradient() through the last forward pass (same `x`), writing the
  /// gradient of the loss with respect to every parameter into `grad` (laid out as
  /// model.parameters()).
  void backward(const Mlp& model, const Eigen::Ref<const Matrix>& x, Vector& grad);

 private:
  Eigen::Map<Matrix> view(std::vector<float>& buffer, Index rows) {
    return {buffer.data(), rows, batch_};
  }

  MlpShape shape_;
  Index max_batch_;
  Index batch_ = 0;
  bool dropout_active_ = false;
  // Per hidden layer: activation before dropout (h), dropout mask (m), activation after (a).
  std::vector<std::vector<float>> h_, mask_, a_;
  std::vector<float> out_, d_out_, delta_a_, delta_b_;
};

}  // namespace hps
