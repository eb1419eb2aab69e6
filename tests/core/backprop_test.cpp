// Finite-difference checks of every gradient the trainer uses: linear layers, ReLU and tanh,
// dropout (with its mask held fixed), softmax cross-entropy, MSE, and the L1/L2 terms.
#include "core/backprop.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "core/loss.hpp"
#include "core/weight_penalty.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

struct Problem {
  Mlp model;
  Matrix x;
  std::vector<int32_t> labels;
  Matrix y;
  Task task;
  float dropout = 0.0f;
  double l1 = 0.0, l2 = 0.0;
  Index n_train = 50;
};

Problem make_problem(Task task, Activation act, std::vector<Index> hidden, uint64_t seed) {
  Problem p;
  p.task = task;
  const Index inputs = 5, outputs = task == Task::kClassification ? 4 : 2, batch = 7;
  p.model = Mlp(MlpShape{inputs, std::move(hidden), outputs, act});
  Rng rng(seed);
  p.model.initialize(act == Activation::kRelu ? Initialization::kHe : Initialization::kGlorot, rng);
  for (Index i = 0; i < p.model.num_parameters(); ++i)
    p.model.parameters()[i] += static_cast<float>(0.1 * rng.normal());  // non-zero biases too
  p.x.resize(inputs, batch);
  for (Index i = 0; i < p.x.size(); ++i) p.x.data()[i] = static_cast<float>(rng.normal());
  p.labels.resize(batch);
  for (Index j = 0; j < batch; ++j) p.labels[j] = static_cast<int32_t>(rng.below(outputs));
  p.y.resize(outputs, batch);
  for (Index i = 0; i < p.y.size(); ++i) p.y.data()[i] = static_cast<float>(rng.normal());
  return p;
}

// Loss at the model's current parameters; the dropout mask comes from a fresh Rng(seed) so
// every evaluation sees the same mask.
double loss_at(const Problem& p, Backprop& pass, Vector* grad) {
  Rng mask_rng(99);
  const auto out = pass.forward(p.model, p.x, p.dropout, p.dropout > 0 ? &mask_rng : nullptr);
  const WeightPenalty penalty(p.l1, p.l2, p.n_train);
  double loss = p.task == Task::kClassification
                    ? softmax_cross_entropy(out, p.labels.data(), pass.output_gradient())
                    : mean_squared_error(out, p.y, pass.output_gradient());
  loss += penalty.value(p.model);
  if (grad) {
    pass.backward(p.model, p.x, *grad);
    penalty.add_gradient(p.model, *grad);
  }
  return loss;
}

// Which hidden ReLU units are active, recomputed independently of Backprop. A finite
// difference across a kink of ReLU (or of |w| for L1) measures the kink, not the gradient.
std::vector<bool> relu_pattern(const Problem& p) {
  std::vector<bool> pattern;
  if (p.model.shape().activation != Activation::kRelu) return pattern;
  Matrix a = p.x;
  for (Index l = 0; l + 1 < p.model.num_layers(); ++l) {
    Matrix z = p.model.weight(l) * a;
    z.colwise() += p.model.bias(l);
    for (Index i = 0; i < z.size(); ++i) pattern.push_back(z.data()[i] > 0.0f);
    a = z.cwiseMax(0.0f);
  }
  return pattern;
}

void expect_gradient_matches(Problem p) {
  Backprop pass(p.model.shape(), p.x.cols());
  Vector grad(p.model.num_parameters());
  loss_at(p, pass, &grad);
  const float eps = 1e-2f;
  const auto pattern = relu_pattern(p);
  Index checked = 0;
  for (Index i = 0; i < p.model.num_parameters(); ++i) {
    const float saved = p.model.parameters()[i];
    if (p.l1 > 0 && std::abs(saved) <= eps) continue;
    p.model.parameters()[i] = saved + eps;
    const double up = loss_at(p, pass, nullptr);
    const bool kink_up = relu_pattern(p) != pattern;
    p.model.parameters()[i] = saved - eps;
    const double down = loss_at(p, pass, nullptr);
    const bool kink_down = relu_pattern(p) != pattern;
    p.model.parameters()[i] = saved;
    if (kink_up || kink_down) continue;
    const double numeric = (up - down) / (2.0 * eps);
    EXPECT_NEAR(grad[i], numeric, 2e-3 + 2e-2 * std::abs(numeric)) << "parameter " << i;
    ++checked;
  }
  // Only a few parameters may sit next to a kink; the rest must all be checked.
  EXPECT_GE(checked, p.model.num_parameters() * 8 / 10);
}

TEST(BackpropGradient, SoftmaxCrossEntropyNoHiddenLayer) {
  expect_gradient_matches(make_problem(Task::kClassification, Activation::kRelu, {}, 1));
}

TEST(BackpropGradient, ReluHiddenLayersCrossEntropy) {
  expect_gradient_matches(make_problem(Task::kClassification, Activation::kRelu, {6, 5}, 2));
}

TEST(BackpropGradient, TanhHiddenLayersCrossEntropy) {
  expect_gradient_matches(make_problem(Task::kClassification, Activation::kTanh, {6, 5}, 3));
}

TEST(BackpropGradient, MeanSquaredErrorRelu) {
  expect_gradient_matches(make_problem(Task::kRegression, Activation::kRelu, {6}, 4));
}

TEST(BackpropGradient, MeanSquaredErrorTanh) {
  expect_gradient_matches(make_problem(Task::kRegression, Activation::kTanh, {6, 3}, 5));
}

TEST(BackpropGradient, DropoutWithFixedMask) {
  auto p = make_problem(Task::kClassification, Activation::kTanh, {8, 6}, 6);
  p.dropout = 0.3f;
  expect_gradient_matches(p);
}

TEST(BackpropGradient, L1Penalty) {
  auto p = make_problem(Task::kClassification, Activation::kTanh, {6}, 7);
  p.l1 = 3.0;
  expect_gradient_matches(p);
}

TEST(BackpropGradient, L2Penalty) {
  auto p = make_problem(Task::kRegression, Activation::kTanh, {6}, 8);
  p.l2 = 5.0;
  expect_gradient_matches(p);
}

TEST(WeightPenalty, ValueFollowsFormulaAndSkipsBiases) {
  Mlp model(MlpShape{2, {}, 1, Activation::kRelu});
  model.weight(0) << 1.0f, -3.0f;
  model.bias(0) << 100.0f;
  const WeightPenalty l1(2.0, 0.0, 4);
  EXPECT_DOUBLE_EQ(l1.value(model), 2.0 / 4 * (1 + 3));
  const WeightPenalty l2(0.0, 2.0, 4);
  EXPECT_DOUBLE_EQ(l2.value(model), 2.0 / (2 * 4) * (1 + 9));
  Vector grad = Vector::Zero(model.num_parameters());
  l2.add_gradient(model, grad);
  EXPECT_FLOAT_EQ(model.bias_view(grad, 0)[0], 0.0f);
}

TEST(WeightPenalty, OnePassGradientAndValueMatchTheFormula) {
  // Layers of 3000 x 7 and 5 x 3000 weights: several blocks of the one-pass loop, and a last
  // block that is not full. Some weights exactly zero: sign(0) = 0.
  Mlp model(MlpShape{7, {3000}, 5, Activation::kRelu});
  Rng rng(21);
  model.initialize(Initialization::kHe, rng);
  for (Index i = 0; i < model.num_parameters(); i += 97) model.parameters()[i] = 0.0f;
  const double l1_strength = 3.0, l2_strength = 40.0;
  const Index n = 1000;
  for (const auto& [l1, l2] : {std::pair{l1_strength, 0.0}, std::pair{0.0, l2_strength},
                               std::pair{l1_strength, l2_strength}}) {
    const WeightPenalty penalty(l1, l2, n);
    Vector grad = Vector::Constant(model.num_parameters(), 0.25f);
    const double value = penalty.add_gradient(model, grad);
    EXPECT_NEAR(value, penalty.value(model), 1e-6 * penalty.value(model)) << l1 << " " << l2;
    for (Index layer = 0; layer < model.num_layers(); ++layer) {
      const auto w = model.weight(layer);
      const auto g = model.weight_view(grad, layer);
      for (Index i = 0; i < w.size(); ++i) {
        const float wi = w.data()[i];
        const float sign = wi > 0.0f ? 1.0f : (wi < 0.0f ? -1.0f : 0.0f);
        const float expected =
            0.25f + static_cast<float>(l1 / n) * sign + static_cast<float>(l2 / n) * wi;
        ASSERT_NEAR(g.data()[i], expected, 1e-6f) << "layer " << layer << " weight " << i;
      }
      EXPECT_TRUE((model.bias_view(grad, layer).array() == 0.25f).all()) << "layer " << layer;
    }
  }
  const WeightPenalty off(0.0, 0.0, n);
  Vector grad = Vector::Constant(model.num_parameters(), 0.25f);
  EXPECT_EQ(off.add_gradient(model, grad), 0.0);
  EXPECT_TRUE((grad.array() == 0.25f).all());
}

TEST(Dropout, TrainingExpectationMatchesEvaluation) {
  // With one hidden layer the output is linear in the dropped activations, so inverted
  // dropout makes the training-mode mean equal the evaluation output.
  auto p = make_problem(Task::kRegression, Activation::kRelu, {64}, 9);
  Backprop pass(p.model.shape(), p.x.cols());
  const Matrix eval = pass.forward(p.model, p.x, 0.0f, nullptr);
  Matrix mean = Matrix::Zero(eval.rows(), eval.cols());
  Rng rng(10);
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) mean += pass.forward(p.model, p.x, 0.5f, &rng);
  mean /= static_cast<float>(draws);
  EXPECT_LT((mean - eval).cwiseAbs().maxCoeff(), 0.03f * (1.0f + eval.cwiseAbs().maxCoeff()));
}

TEST(Dropout, DropsTheConfiguredShareInTraining) {
  auto p = make_problem(Task::kRegression, Activation::kRelu, {1000}, 11);
  p.model.bias(0).setConstant(100.0f);  // every hidden unit active before dropout
  Backprop pass(p.model.shape(), p.x.cols());
  Rng rng(12);
  pass.forward(p.model, p.x, 0.3f, &rng);
  // Output gradient 1 on sample 0 only: dL/dW of the output layer is then sample 0's
  // hidden activations after dropout, 0 for dropped units and h/(1-rate) for kept ones.
  pass.output_gradient().setZero();
  pass.output_gradient().col(0).setOnes();
  Vector grad(p.model.num_parameters());
  pass.backward(p.model, p.x, grad);
  const auto dw = p.model.weight_view(grad, 1);
  const Matrix h = (p.model.weight(0) * p.x.col(0) + p.model.bias(0)).cwiseMax(0.0f);
  Index dropped = 0;
  for (Index k = 0; k < dw.cols(); ++k) {
    if (dw(0, k) == 0.0f) {
      ++dropped;
    } else {
      EXPECT_NEAR(dw(0, k), h(k) / 0.7f, 1e-3f * h(k));
    }
  }
  EXPECT_NEAR(static_cast<double>(dropped) / 1000.0, 0.3, 0.05);
}

TEST(Dropout, EvaluationModeIsDeterministic) {
  auto p = make_problem(Task::kClassification, Activation::kRelu, {16, 16}, 13);
  Backprop pass(p.model.shape(), p.x.cols());
  const Matrix first = pass.forward(p.model, p.x, 0.0f, nullptr);
  Rng rng(1);
  pass.forward(p.model, p.x, 0.5f, &rng);  // a training pass in between changes nothing
  const Matrix second = pass.forward(p.model, p.x, 0.0f, nullptr);
  EXPECT_TRUE(first == second);
  EXPECT_TRUE(p.model.predict(p.x) == first);
}

TEST(Loss, CrossEntropyIsStableForHugeLogits) {
  Matrix logits(3, 1);
  logits << 1000.0f, 0.0f, -1000.0f;
  const int32_t label = 0;
  EXPECT_NEAR(softmax_cross_entropy(logits, &label), 0.0, 1e-9);
  const int32_t wrong = 2;
  EXPECT_NEAR(softmax_cross_entropy(logits, &wrong), 2000.0, 1e-3);
}

// Widths are bounded only below in configs: a buffer size that wrapped would be far too small.
TEST(Backprop, RefusesBuffersWhoseSizeOverflows) {
  EXPECT_THROW(Backprop(MlpShape{1, {Index{1} << 62}, 1}, 4), std::length_error);
  EXPECT_THROW(Backprop(MlpShape{1, {4}, Index{1} << 62}, 4), std::length_error);
  EXPECT_NO_THROW(Backprop(MlpShape{1, {4}, 1}, 4));
}

}  // namespace
}  // namespace hps
