#pragma once
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/types.hpp"

namespace hps {

enum class Activation { kRelu, kTanh };
enum class Initialization { kHe, kGlorot };

/// Shape of a multilayer perceptron: input width, hidden widths, output width.
struct MlpShape {
  Index inputs = 0;
  std::vector<Index> hidden;
  Index outputs = 0;
  Activation activation = Activation::kRelu;

  Index num_layers() const { return static_cast<Index>(hidden.size()) + 1; }
  Index layer_inputs(Index layer) const { return layer == 0 ? inputs : hidden[layer - 1]; }
  Index layer_outputs(Index layer) const {
    return layer + 1 == num_layers() ? outputs : hidden[layer];
  }
};

/// The shape as "784-512-256-10" (inputs, hidden widths, outputs), for messages.
std::string layout_text(const MlpShape& shape);

/// A fully connected network: hidden layers with `activation`, a linear output layer.
/// All parameters live in one contiguous float vector (per layer: weights out x in, column-
/// major, then biases) so optimizers update them in one pass and snapshots are one copy.
class Mlp {
 public:
  Mlp() = default;
  explicit Mlp(MlpShape shape);

  const MlpShape& shape() const { return shape_; }
  Index num_layers() const { return shape_.num_layers(); }
  Index num_parameters() const { return params_.size(); }

  Vector& parameters() { return params_; }
  const Vector& parameters() const { return params_; }

  Eigen::Map<Matrix> weight(Index layer) { return weight_view(params_, layer); }
  Eigen::Map<const Matrix> weight(Index layer) const { return weight_view(params_, layer); }
  Eigen::Map<Vector> bias(Index layer) { return bias_view(params_, layer); }
  Eigen::Map<const Vector> bias(Index layer) const { return bias_view(params_, layer); }

  /// Views of layer `layer`'s weights and biases inside any vector laid out like the
  /// parameters (a gradient, an optimizer moment).
  Eigen::Map<Matrix> weight_view(Vector& flat, Index layer) const;
  Eigen::Map<const Matrix> weight_view(const Vector& flat, Index layer) const;
  Eigen::Map<Vector> bias_view(Vector& flat, Index layer) const;
  Eigen::Map<const Vector> bias_view(const Vector& flat, Index layer) const;

  /// Number of weights of layer `layer` (outputs x inputs).
  Index weight_size(Index layer) const {
    return shape_.layer_outputs(layer) * shape_.layer_inputs(layer);
  }

  /// He (ReLU) or Glorot (tanh) normal initialization of weights; biases start at zero.
  void initialize(Initialization init, Rng& rng);

  /// Outputs (logits or regression values) for `x` (features x samples), no dropout.
  Matrix predict(const Matrix& x) const;

 private:
  MlpShape shape_;
  Vector params_;
  std::vector<Index> offsets_;  // start of each layer's weights; its biases follow them
};

const char* to_string(Activation a);
const char* to_string(Initialization i);

}  // namespace hps
