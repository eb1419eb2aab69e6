#include "core/optim/optimizer.hpp"

#include "core/optim/adam.hpp"
#include "core/optim/momentum.hpp"
#include "core/optim/sgd.hpp"

namespace hps {

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config) {
  switch (config.kind) {
    case OptimizerKind::kSgd:
      return std::make_unique<Sgd>(config.learning_rate);
    case OptimizerKind::kMomentum:
      return std::make_unique<MomentumSgd>(config.learning_rate, config.momentum);
    case OptimizerKind::kAdam:
      return std::make_unique<Adam>(config.learning_rate, config.beta1, config.beta2,
                                    config.epsilon);
  }
  return nullptr;
}

const char* to_string(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd:
      return "sgd";
    case OptimizerKind::kMomentum:
      return "momentum";
    case OptimizerKind::kAdam:
      return "adam";
  }
  return "?";
}

}  // namespace hps
