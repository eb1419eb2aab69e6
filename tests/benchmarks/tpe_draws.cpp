// What hpsearch's TPE proposes from a recorded search's first trials: the counterpart of
// scripts/optuna_draws.py, which asks Optuna's TPESampler the same question on the same
// trials. The file's config (with the TPE ranking it ran with) is rebuilt, trials 0 to
// FIRST-1 are replayed into a fresh search state as --resume replays them, and the sampler is
// asked for the point of trial FIRST + k, k = 0 .. DRAWS-1, as if nothing were running (each id
// is its own random stream). Prints how many of those put PARAM below THRESHOLD, for
// univariate and multivariate TPE.
//
// Usage: tpe_draws RESULT.h5 FIRST [DRAWS [PARAM [THRESHOLD]]]
//        (defaults: 200 draws, learning_rate, 1e-4)
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <variant>

#include "coordinator/resume_check.hpp"
#include "coordinator/search_state.hpp"
#include "core/results_file.hpp"
#include "core/version.hpp"

namespace {

using namespace hps;

/// A whole number of at least 1 from `text`, or an error naming `what`.
long positive(const char* text, const char* what) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 1)
    throw std::runtime_error(std::string(what) + " must be a whole number of at least 1, not '" +
                             text + "'");
  return value;
}

/// `name`'s value in `values` as a number.
double number_of(const std::vector<ParamAssignment>& values, const std::string& name) {
  for (const auto& [key, value] : values) {
    if (key != name) continue;
    if (const double* real = std::get_if<double>(&value)) return *real;
    if (const int64_t* integer = std::get_if<int64_t>(&value)) return static_cast<double>(*integer);
  }
  throw std::logic_error("tpe_draws: no numeric value for " + name);
}

int run(int argc, char** argv) {
  if (argc < 3 || argc > 6) {
    std::fprintf(stderr, "usage: tpe_draws RESULT.h5 FIRST [DRAWS [PARAM [THRESHOLD]]]\n");
    return 2;
  }
  const std::string path = argv[1];
  const long first = positive(argv[2], "FIRST");
  const long draws = argc > 3 ? positive(argv[3], "DRAWS") : 200;
  const std::string param = argc > 4 ? argv[4] : "learning_rate";
  char* end = nullptr;
  const double threshold = argc > 5 ? std::strtod(argv[5], &end) : 1e-4;
  if (argc > 5 && (end == argv[5] || *end != '\0'))
    throw std::runtime_error(std::string("THRESHOLD must be a number, not '") + argv[5] + "'");

  const ResultsReader recorded(path);
  SearchConfig config = recorded_search_config(recorded);
  if (config.search.strategy != SearchStrategy::kTpe)
    throw std::runtime_error(path + " is a " + to_string(config.search.strategy) +
                             " search, not a TPE search");
  bool numeric = false;
  for (const ParamSpec& spec : config.search.space)
    numeric |= spec.name == param &&
               (spec.form == ParamForm::kUniform || spec.form == ParamForm::kLogUniform ||
                spec.form == ParamForm::kIntUniform);
  if (!numeric) throw std::runtime_error(param + " is not a numeric searched parameter of " + path);

  for (const bool multivariate : {false, true}) {
    config.search.tpe.multivariate = multivariate;
    SearchState state(config);
    state.replay(recorded, first);
    const TpeSampler& tpe = *state.tpe();
    long below = 0;
    for (long k = 0; k < draws; ++k)
      below += number_of(tpe.sample(first + k, {}), param) < threshold;
    std::printf(
        "hpsearch %s TPE, %s, %s ranking, on trials 0 to %ld (%lld observed): %s < %g in %ld of "
        "%ld proposals (%.1f%%)\n",
        kVersion, multivariate ? "multivariate" : "univariate",
        to_string(config.search.tpe.ranking), first - 1, static_cast<long long>(tpe.observed()),
        param.c_str(), threshold, below, draws,
        100.0 * static_cast<double>(below) / static_cast<double>(draws));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tpe_draws: %s\n", e.what());
    return 1;
  }
}
