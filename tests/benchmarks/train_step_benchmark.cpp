// Training throughput of the real trainer on the reference network
// (784-256-128-10 ReLU, Adam, dropout 0.2, batch 128), and the references it is judged by:
//   BM_TrainEpoch    one epoch of train_mlp on 54,000 samples (Fashion-MNIST when installed)
//   BM_GemmSequence  only the matrix products one training step needs, at the same shapes:
//                    the GEMM-limited rate this machine's single core can reach
//   BM_ShuffleGather only the data pipeline of a step (shuffle share + column gather)
//   BM_SmallBatchEpoch one epoch of a 784-1024-10 network at batch 32, without and with L1/L2
//   BM_FmaPeak       the core's float32 multiply-add peak: independent FMAs on registers of
//                    the widest vector this build targets, no memory traffic; no GEMM and no
//                    training step can run faster than this
// scripts/compare_pytorch.py runs this with --benchmark_format=json and derives the ratios.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "core/data_loader.hpp"
#include "core/preprocessing.hpp"
#include "core/rng.hpp"
#include "core/trainer.hpp"

namespace {

using namespace hps;

constexpr Index kBatch = 128;
const std::vector<Index> kHidden = {256, 128};
constexpr Index kInputs = 784, kOutputs = 10, kTrainSamples = 54000;

// Multiply-adds of one sample's training step: forward through every layer, weight
// gradients of every layer, input gradients of every layer but the first.
double flops_per_sample() {
  const Index widths[] = {kInputs, kHidden[0], kHidden[1], kOutputs};
  double mac = 0.0;
  for (int l = 0; l < 3; ++l) {
    const double w = static_cast<double>(widths[l]) * static_cast<double>(widths[l + 1]);
    mac += l == 0 ? 2.0 * w : 3.0 * w;
  }
  return 2.0 * mac;
}

const Dataset& training_data() {
  static const Dataset data = [] {
    const std::string dir = "/usr/share/datasets/fashion-mnist/";
    Dataset d;
    if (std::filesystem::exists(dir + "train-images-idx3-ubyte.gz")) {
      d = load_idx(dir + "train-images-idx3-ubyte.gz", dir + "train-labels-idx1-ubyte.gz",
                   Task::kClassification, 10, kTrainSamples);
      d.source = "fashion-mnist";
    } else {
      Rng rng(1);
      d.task = Task::kClassification;
      d.num_classes = 10;
      d.x.resize(kInputs, kTrainSamples);
      for (Index i = 0; i < d.x.size(); ++i) d.x.data()[i] = static_cast<float>(rng.uniform());
      d.labels.resize(kTrainSamples);
      for (auto& l : d.labels) l = static_cast<int32_t>(rng.below(10));
      d.source = "synthetic";
    }
    Scaler::fit(ScalingKind::kStandardize, d.x).apply(d.x);
    return d;
  }();
  return data;
}

// Times one epoch of train_mlp per iteration on training_data() and sets samples_per_s.
// Returns the samples trained.
double time_epochs(benchmark::State& state, const ModelConfig& model, TrainingConfig training) {
  const Dataset& train = training_data();
  const Dataset validation = train.subset({0, 1, 2, 3});  // keeps evaluation out of the timing
  training.max_epochs = 1;
  const EarlyStoppingConfig early;
  for (auto _ : state) {
    TrainResult r = train_mlp(model, training, early, train, validation, 42);
    benchmark::DoNotOptimize(r.model.parameters().data());
  }
  const double samples =
      static_cast<double>(train.size()) * static_cast<double>(state.iterations());
  state.counters["samples_per_s"] = benchmark::Counter(samples, benchmark::Counter::kIsRate);
  return samples;
}

void BM_TrainEpoch(benchmark::State& state) {
  ModelConfig model;
  model.hidden = kHidden;
  model.dropout = 0.2;
  TrainingConfig training;
  training.batch_size = kBatch;
  const double samples = time_epochs(state, model, training);
  state.counters["flops"] =
      benchmark::Counter(samples * flops_per_sample(), benchmark::Counter::kIsRate);
  state.SetLabel(training_data().source);
}
BENCHMARK(BM_TrainEpoch)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();

// A wide search space's typical slow trial: one 1024-unit layer, batch 32, Adam, dropout 0.2,
// without (0) and with (1) L1 and L2 penalties. A step is short here, so every pass over the
// 813,000 weights shows: the penalty's share is the ratio of the two rates.
void BM_SmallBatchEpoch(benchmark::State& state) {
  ModelConfig model;
  model.hidden = {1024};
  model.dropout = 0.2;
  TrainingConfig training;
  training.batch_size = 32;
  if (state.range(0) == 1) {
    training.l1 = 0.5;
    training.l2 = 1.0;
  }
  time_epochs(state, model, training);
  state.SetLabel(std::string(state.range(0) == 1 ? "l1 0.5, l2 1.0, " : "no penalty, ") +
                 training_data().source);
}
BENCHMARK(BM_SmallBatchEpoch)
    ->ArgName("penalty")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0)
    ->UseRealTime();

void BM_GemmSequence(benchmark::State& state) {
  Rng rng(2);
  auto random = [&](Index r, Index c) {
    Matrix m(r, c);
    for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.normal());
    return m;
  };
  const Index widths[] = {kInputs, kHidden[0], kHidden[1], kOutputs};
  std::vector<Matrix> w, a, dz, dw, da;
  for (int l = 0; l < 3; ++l) {
    w.push_back(random(widths[l + 1], widths[l]));
    a.push_back(random(widths[l], kBatch));
    dz.push_back(random(widths[l + 1], kBatch));
    dw.push_back(Matrix(widths[l + 1], widths[l]));
    da.push_back(Matrix(widths[l], kBatch));
  }
  Matrix z[3] = {Matrix(widths[1], kBatch), Matrix(widths[2], kBatch), Matrix(widths[3], kBatch)};
  for (auto _ : state) {
    for (int l = 0; l < 3; ++l) z[l].noalias() = w[l] * a[l];
    for (int l = 2; l >= 0; --l) {
      dw[l].noalias() = dz[l] * a[l].transpose();
      if (l > 0) da[l].noalias() = w[l].transpose() * dz[l];
    }
    benchmark::DoNotOptimize(dw[0].data());
    benchmark::ClobberMemory();
  }
  const double samples = static_cast<double>(kBatch) * static_cast<double>(state.iterations());
  state.counters["samples_per_s"] = benchmark::Counter(samples, benchmark::Counter::kIsRate);
  state.counters["flops"] =
      benchmark::Counter(samples * flops_per_sample(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GemmSequence)->MinTime(2.0)->UseRealTime();

void BM_FmaPeak(benchmark::State& state) {
  using Packet = Eigen::internal::packet_traits<float>::type;
  constexpr int kLanes = static_cast<int>(sizeof(Packet) / sizeof(float));
  // Enough independent chains to cover the FMA latency on both pipes of current cores.
  constexpr int kChains = 12;
  constexpr long kRounds = 1 << 20;
  Packet acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = Eigen::internal::pset1<Packet>(1.0f + 1e-7f * c);
  const Packet mul = Eigen::internal::pset1<Packet>(0.9999999f);
  const Packet add = Eigen::internal::pset1<Packet>(1e-8f);
  for (auto _ : state) {
    for (long r = 0; r < kRounds; ++r) {
      for (int c = 0; c < kChains; ++c) acc[c] = Eigen::internal::pmadd(acc[c], mul, add);
    }
    for (int c = 0; c < kChains; ++c) benchmark::DoNotOptimize(acc[c]);
  }
  const double fmas = static_cast<double>(kRounds) * kChains * kLanes;
  state.counters["flops"] = benchmark::Counter(2.0 * fmas * static_cast<double>(state.iterations()),
                                               benchmark::Counter::kIsRate);
  state.SetLabel(std::to_string(32 * kLanes) + "-bit vectors");
}
BENCHMARK(BM_FmaPeak)->MinTime(1.0)->UseRealTime();

void BM_ShuffleGather(benchmark::State& state) {
  const Dataset& train = training_data();
  std::vector<Index> order(static_cast<size_t>(train.size()));
  std::iota(order.begin(), order.end(), Index{0});
  Rng rng(3);
  Matrix xb(train.num_features(), kBatch);
  std::vector<int32_t> labels(kBatch);
  Index start = 0;
  for (auto _ : state) {
    // One batch's share of an epoch's shuffle, then the gather of its columns.
    for (Index k = 0; k < kBatch; ++k) {
      const auto i = static_cast<size_t>(rng.below(order.size()));
      std::swap(order[static_cast<size_t>(k)], order[i]);
    }
    if (start + kBatch > train.size()) start = 0;
    for (Index j = 0; j < kBatch; ++j) {
      const Index i = order[static_cast<size_t>(start + j)];
      xb.col(j) = train.x.col(i);
      labels[static_cast<size_t>(j)] = train.labels[static_cast<size_t>(i)];
    }
    start += kBatch;
    benchmark::DoNotOptimize(xb.data());
  }
  const double samples = static_cast<double>(kBatch) * static_cast<double>(state.iterations());
  state.counters["samples_per_s"] = benchmark::Counter(samples, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ShuffleGather)->MinTime(1.0)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
