#include "core/mlp.hpp"

#include <cmath>
#include <cstdio>
#include <new>
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
    // Widths come from the config, bounded only below: a count that wraps would allocate a
    // small vector and index far past it.
    Index layer = 0;
    if (__builtin_mul_overflow(shape_.layer_outputs(l), shape_.layer_inputs(l), &layer) ||
        __builtin_add_overflow(layer, shape_.layer_outputs(l), &layer) ||
        __builtin_add_overflow(total, layer, &total))
      throw std::length_error("network " + layout_text(shape_) +
                              " has more parameters than can be counted (over 2^63)");
  }
  try {
    params_ = Vector::Zero(total);
  } catch (const std::bad_alloc&) {
    char size[64];
    std::snprintf(size, sizeof size, "%.3g GiB",
                  static_cast<double>(total) * sizeof(float) / (1024.0 * 1024.0 * 1024.0));
    throw std::length_error("network " + layout_text(shape_) + " has " + std::to_string(total) +
                            " parameters (" + size + "): out of memory");
  }
}

std::string layout_text(const MlpShape& shape) {
  // A config may ask for 100,000 layers; the message names the first and last few.
  constexpr size_t kShown = 8;
  const size_t n = shape.hidden.size();
  std::string text = std::to_string(shape.inputs);
  for (size_t i = 0; i < n; ++i) {
    if (n > kShown && i == kShown / 2) {
      text += "-...(" + std::to_string(n - kShown) + " more)...";
      i = n - kShown / 2 - 1;
      continue;
    }
    text += "-" + std::to_string(shape.hidden[i]);
  }
  return text + "-" + std::to_string(shape.outputs);
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
