#include "core/mlp.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "core/backprop.hpp"

namespace hps {

Mlp::Mlp(MlpShape shape) : shape_(std::move(shape)) {
  if (shape_.inputs < 1 || shape_.outputs < 1)
    throw std::invalid_argument("Mlp: inputs and outputs must be at least 1");
  Index total = 0;
  for (Index l = 0; l < shape_.num_layers(); ++l) {
    if (shape_.layer_outputs(l) < 1)
      throw std::invalid_argument("Mlp: hidden layer " + std::to_string(l) +
                                  " must have at least 1 unit");
    offsets_.push_back(total);
    total += weight_size(l) + shape_.layer_outputs(l);
  }
  params_ = Vector::Zero(total);
}

Eigen::Map<Matrix> Mlp::weight_view(Vector& flat, Index layer) const {
  return {flat.data() + offsets_[layer], shape_.layer_outputs(layer), shape_.layer_inputs(layer)};
}
Eigen::Map<const Matrix> Mlp::weight_view(const Vector& flat, Index layer) const {
  return {flat.data() + offsets_[layer], shape_.layer_outputs(layer), shape_.layer_inputs(layer)};
}
Eigen::Map<Vector> Mlp::bias_view(Vector& flat, Index layer) const {
  return {flat.data() + offsets_[layer] + weight_size(layer), shape_.layer_outputs(layer)};
}
Eigen::Map<const Vector> Mlp::bias_view(const Vector& flat, Index layer) const {
  return {flat.data() + offsets_[layer] + weight_size(layer), shape_.layer_outputs(layer)};
}

void Mlp::initialize(Initialization init, Rng& rng) {
  for (Index l = 0; l < num_layers(); ++l) {
    const auto fan_in = static_cast<double>(shape_.layer_inputs(l));
    const auto fan_out = static_cast<double>(shape_.layer_outputs(l));
    // He: N(0, 2/fan_in) keeps ReLU activations' variance; Glorot: N(0, 2/(fan_in+fan_out)).
    const double stddev =
        init == Initialization::kHe ? std::sqrt(2.0 / fan_in) : std::sqrt(2.0 / (fan_in + fan_out));
    auto w = weight(l);
    for (Index j = 0; j < w.cols(); ++j)
      for (Index i = 0; i < w.rows(); ++i) w(i, j) = static_cast<float>(stddev * rng.normal());
    bias(l).setZero();
  }
}

Matrix Mlp::predict(const Matrix& x) const {
  constexpr Index kChunk = 1024;
  Matrix out(shape_.outputs, x.cols());
  Backprop pass(shape_, std::min<Index>(kChunk, std::max<Index>(x.cols(), 1)));
  for (Index start = 0; start < x.cols(); start += kChunk) {
    const Index n = std::min(kChunk, x.cols() - start);
    out.middleCols(start, n) = pass.forward(*this, x.middleCols(start, n), 0.0f, nullptr);
  }
  return out;
}

const char* to_string(Activation a) { return a == Activation::kRelu ? "relu" : "tanh"; }
const char* to_string(Initialization i) { return i == Initialization::kHe ? "he" : "glorot"; }

}  // namespace hps
