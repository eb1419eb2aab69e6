#pragma once
#include <memory>

#include "core/types.hpp"

namespace hps {

/// Which update rule trains the weights.
enum class OptimizerKind { kSgd, kMomentum, kAdam };

/// Optimizer options; each rule reads the fields it uses.
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kAdam;
  double learning_rate = 1e-3;
  double momentum = 0.9;  ///< momentum (SGD with momentum)
  double beta1 = 0.9;     ///< Adam first-moment decay
  double beta2 = 0.999;   ///< Adam second-moment decay
  double epsilon = 1e-8;  ///< Adam denominator guard
};

/// An update rule over one flat parameter vector. Its state is sized on the first step and
/// never reallocated afterwards.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  /// params -= update(gradient).
  virtual void step(Vector& params, const Vector& gradient) = 0;
  /// Sets the step size for the steps that follow; the rule's state (moments) is kept, as when
  /// Keras or PyTorch lower the rate of a running optimizer.
  virtual void set_learning_rate(double learning_rate) = 0;
};

/// Builds the optimizer `config` names.
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config);

const char* to_string(OptimizerKind kind);

}  // namespace hps
