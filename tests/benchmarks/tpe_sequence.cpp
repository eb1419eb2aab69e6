// Every point TPE proposes after a fixed, generated history, printed in full precision, so that
// two builds of hpsearch can be compared draw for draw: a change that should leave TPE's
// proposals alone (a refactoring, a speed-up, a feature for other spaces) must print the same
// lines before and after.
//
// It uses only core/search_space.hpp and core/tpe.hpp, so it can also be compiled against an
// older checkout's core library: scripts/compare_tpe_draws.sh OLD [NEW] does that for two
// commits and compares what they print.
//
// Two spaces, each with both TPE forms and both rankings:
// - "six": the benchmark's kind of space (layouts, learning rate, batch size, dropout, L1, a
//   whole number), without optimizer and momentum;
// - "momentum": optimizer [sgd, adam, momentum] and momentum searched together, where a
//   momentum takes effect only with `optimizer: momentum`.
// The history: 80 random points with a made-up score, every third one pruned after 2 to 6
// epochs; the last four are still running when TPE proposes trials 80 to 129.
//
// Usage: tpe_sequence            (prints 400 lines and a checksum of them)
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include "core/search_space.hpp"
#include "core/tpe.hpp"

namespace {

using namespace hps;

/// `value` exactly: doubles with 17 significant digits, so that one bit of difference shows.
std::string exact(const ParamValue& value) {
  char text[64];
  if (const double* real = std::get_if<double>(&value)) {
    std::snprintf(text, sizeof text, "%.17g", *real);
    return text;
  }
  if (const int64_t* integer = std::get_if<int64_t>(&value)) return std::to_string(*integer);
  if (const std::string* name = std::get_if<std::string>(&value)) return *name;
  std::string layers;
  for (const int64_t units : std::get<std::vector<int64_t>>(value))
    layers += (layers.empty() ? "" : "-") + std::to_string(units);
  return "[" + layers + "]";
}

/// `name`'s value in `point` as a number (0 where it is not a number).
double number(const std::vector<ParamAssignment>& point, const std::string& name) {
  for (const auto& [key, value] : point) {
    if (key != name) continue;
    if (const double* real = std::get_if<double>(&value)) return *real;
    if (const int64_t* integer = std::get_if<int64_t>(&value)) return static_cast<double>(*integer);
  }
  return 0.0;
}

/// A made-up validation accuracy: best at learning rate 1e-3, worse with dropout and L1.
double score(const std::vector<ParamAssignment>& point) {
  return 0.9 - 0.01 * std::abs(std::log10(number(point, "learning_rate")) + 3.0) -
         0.1 * number(point, "dropout") - 0.001 * std::log10(1.0 + number(point, "l1")) -
         0.02 * std::abs(number(point, "momentum") - 0.9);
}

struct Checksum {  // FNV-1a over every printed byte
  uint64_t hash = 1469598103934665603ull;
  void add(const std::string& text) {
    for (const unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  }
};

void print_sequence(const char* space_name, const std::vector<ParamSpec>& space, bool multivariate,
                    TpeRanking ranking, Checksum& checksum) {
  TpeSettings settings;
  settings.multivariate = multivariate;
  settings.ranking = ranking;
  TpeSampler sampler(space, settings, /*seed=*/11, /*maximize=*/true);
  std::vector<std::vector<ParamAssignment>> running;
  std::vector<int64_t> running_ids;
  for (int64_t id = 0; id < 80; ++id) {
    std::vector<ParamAssignment> point = random_values(space, /*seed=*/3, id);
    if (id >= 76) {
      running.push_back(point);
      running_ids.push_back(id);
      continue;
    }
    TpeObservation observation;
    observation.trial_id = id;
    observation.value = score(point);
    observation.pruned = id % 3 == 0;
    observation.epochs = observation.pruned ? 2 + id % 5 : 20;
    for (int64_t epoch = 0; epoch < observation.epochs; ++epoch)
      observation.values.push_back(observation.value -
                                   0.01 * static_cast<double>(observation.epochs - epoch - 1));
    observation.params = std::move(point);
    sampler.observe(std::move(observation));
  }
  for (int64_t id = 80; id < 130; ++id) {
    std::string line = std::string(space_name) +
                       (multivariate ? " multivariate " : " univariate ") + to_string(ranking) +
                       " " + std::to_string(id);
    for (const auto& [name, value] : sampler.sample(id, running, running_ids))
      line += " " + name + "=" + exact(value);
    line += "\n";
    checksum.add(line);
    std::fputs(line.c_str(), stdout);
  }
}

}  // namespace

int main() {
  const std::vector<ParamSpec> six = {
      ParamSpec{"hidden",
                ParamForm::kChoice,
                {std::vector<int64_t>{64}, std::vector<int64_t>{256, 128},
                 std::vector<int64_t>{512, 256, 128}}},
      ParamSpec{"learning_rate", ParamForm::kLogUniform, {}, 1e-5, 0.1},
      ParamSpec{
          "batch_size", ParamForm::kChoice, {int64_t{32}, int64_t{64}, int64_t{128}, int64_t{256}}},
      ParamSpec{"dropout", ParamForm::kUniform, {}, 0.0, 0.6},
      ParamSpec{"l1", ParamForm::kLogUniform, {}, 1e-3, 100},
      ParamSpec{"units", ParamForm::kIntUniform, {}, 16, 512}};
  const std::vector<ParamSpec> momentum = {
      ParamSpec{"optimizer",
                ParamForm::kChoice,
                {std::string("sgd"), std::string("adam"), std::string("momentum")}},
      ParamSpec{"learning_rate", ParamForm::kLogUniform, {}, 1e-5, 0.1},
      ParamSpec{"momentum", ParamForm::kUniform, {}, 0.5, 0.99},
      ParamSpec{"dropout", ParamForm::kUniform, {}, 0.0, 0.6}};
  Checksum checksum;
  for (const auto& [name, space] : {std::pair{"six", &six}, std::pair{"momentum", &momentum}})
    for (const bool multivariate : {true, false})
      for (const TpeRanking ranking : {TpeRanking::kEqualBudget, TpeRanking::kFinishedFirst})
        print_sequence(name, *space, multivariate, ranking, checksum);
  std::printf("checksum %016" PRIx64 "\n", checksum.hash);
  return 0;
}
