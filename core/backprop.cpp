#include "core/backprop.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace hps {

Backprop::Backprop(const MlpShape& shape, Index max_batch) : shape_(shape), max_batch_(max_batch) {
  if (max_batch < 1) throw std::invalid_argument("Backprop: batch size must be at least 1");
  Index widest = shape.outputs;
  // Widths come from the config, bounded only below: a product that wraps would size the
  // buffers far too small.
  const auto buffer_size = [max_batch](Index units) {
    Index size = 0;
    if (__builtin_mul_overflow(units, max_batch, &size))
      throw std::length_error("Backprop: a layer of " + std::to_string(units) +
                              " units for batches of " + std::to_string(max_batch) +
                              " needs more values than can be counted");
    return static_cast<size_t>(size);
  };
  buffer_size(shape.outputs);
  for (Index units : shape.hidden) {
    const size_t size = buffer_size(units);
    h_.emplace_back(size);
    mask_.emplace_back(size);
    a_.emplace_back(size);
    widest = std::max(widest, units);
  }
  out_.resize(static_cast<size_t>(shape.outputs * max_batch));
  d_out_.resize(out_.size());
  delta_a_.resize(static_cast<size_t>(widest * max_batch));
  delta_b_.resize(delta_a_.size());
}

Eigen::Map<const Matrix> Backprop::forward(const Mlp& model, const Eigen::Ref<const Matrix>& x,
                                           float dropout_rate, Rng* rng) {
  if (x.cols() > max_batch_ || x.cols() < 1)
    throw std::invalid_argument("Backprop::forward: batch of " + std::to_string(x.cols()) +
                                " samples, workspace holds 1 to " + std::to_string(max_batch_));
  batch_ = x.cols();
  dropout_active_ = dropout_rate > 0.0f && rng != nullptr;
  const Index hidden = static_cast<Index>(shape_.hidden.size());
  // Masks use 16 random bits per unit (four units per 64-bit draw): the rate is rounded to a
  // multiple of 1/65536 and kept units are scaled by the exact inverse of that keep chance,
  // so the expectation stays exact.
  const auto drop_below = static_cast<uint32_t>(std::lround(dropout_rate * 65536.0f));
  dropout_active_ = dropout_active_ && drop_below > 0;
  const float keep_scale =
      dropout_active_ ? 65536.0f / static_cast<float>(65536 - drop_below) : 1.0f;

  for (Index l = 0; l <= hidden; ++l) {
    const Index units = shape_.layer_outputs(l);
    auto z = l < hidden ? view(h_[l], units) : view(out_, units);
    if (l == 0) {
      z.noalias() = model.weight(l) * x;
    } else {
      z.noalias() = model.weight(l) * view(a_[l - 1], shape_.layer_inputs(l));
    }
    z.colwise() += model.bias(l);
    if (l == hidden) break;

    if (shape_.activation == Activation::kRelu) {
      z = z.cwiseMax(0.0f);
    } else {
      z = z.array().tanh();
    }
    auto a = view(a_[l], units);
    if (dropout_active_) {
      auto m = view(mask_[l], units);
      float* mp = m.data();
      const Index n = m.size();
      Index i = 0;
      for (; i + 4 <= n; i += 4) {  // branch-free: a kept/dropped branch would mispredict
        const uint64_t bits = rng->next_u64();
        for (int k = 0; k < 4; ++k)
          mp[i + k] = keep_scale * static_cast<float>(static_cast<uint32_t>((bits >> (16 * k)) &
                                                                            0xFFFF) >= drop_below);
      }
      for (uint64_t bits = rng->next_u64(); i < n; ++i, bits >>= 16)
        mp[i] = keep_scale * static_cast<float>(static_cast<uint32_t>(bits & 0xFFFF) >= drop_below);
      a = z.cwiseProduct(m);
    } else {
      a = z;
    }
  }
  return {out_.data(), shape_.outputs, batch_};
}

Eigen::Map<Matrix> Backprop::output_gradient() { return view(d_out_, shape_.outputs); }

void Backprop::backward(const Mlp& model, const Eigen::Ref<const Matrix>& x, Vector& grad) {
  const Index hidden = static_cast<Index>(shape_.hidden.size());
  // delta holds dLoss/dz for the layer being processed; two buffers alternate.
  std::vector<float>* delta = &d_out_;
  std::vector<float>* spare = &delta_a_;
  for (Index l = hidden; l >= 0; --l) {
    const Index units = shape_.layer_outputs(l);
    const Index inputs = shape_.layer_inputs(l);
    auto dz = view(*delta, units);
    auto dw = model.weight_view(grad, l);
    if (l == 0) {
      dw.noalias() = dz * x.transpose();
    } else {
      dw.noalias() = dz * view(a_[l - 1], inputs).transpose();
    }
    model.bias_view(grad, l).noalias() = dz.rowwise().sum();
    if (l == 0) break;

    // Into the previous hidden layer: through the weights, the dropout mask, the activation.
    auto da = view(*spare, inputs);
    da.noalias() = model.weight(l).transpose() * dz;
    if (dropout_active_) da.array() *= view(mask_[l - 1], inputs).array();
    auto h = view(h_[l - 1], inputs);
    if (shape_.activation == Activation::kRelu) {
      da = (h.array() > 0.0f).select(da, 0.0f);
    } else {
      da.array() *= 1.0f - h.array().square();
    }
    delta = spare;
    spare = (spare == &delta_a_) ? &delta_b_ : &delta_a_;
  }
}

}  // namespace hps
