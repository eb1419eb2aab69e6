#pragma once
// The Tree-structured Parzen Estimator sampler (Bergstra et al., NeurIPS 2011), as Optuna's
// TPESampler(constant_liar=True), multivariate (the default here) or univariate.
//
// Finished trials are split into the best gamma share ("below", at most 25 trials, at least 1)
// and the rest ("above"). Each group gets a Parzen estimator: a mixture with one kernel per
// trial plus a prior kernel over the whole space, older trials weighing less once a group
// holds more than 25. A numeric parameter's kernel is a normal truncated to its range (in log
// space for log_uniform, on [low - 0.5, high + 0.5] for int_uniform, rounded back, an integer
// scored by the mass of its unit bin), a choice parameter's kernel puts most of its mass on the
// trial's choice. `candidates` points are drawn from the below estimator l(x) and the one with the
// largest log l(x) - log g(x) is returned. Univariate (`multivariate: false`), every parameter
// gets its own pair of one-dimensional estimators, with each kernel as wide as the larger gap
// to its neighbouring trials (tpe_neighbour_widths), and its value is the best of `candidates`
// draws by that parameter's ratio alone. Trials still running count as "above" at their
// points (the constant liar), so parallel workers are steered away from each other, and a
// candidate that is a near duplicate of a running trial is never returned when another
// candidate is not.
//
// A parameter that takes no effect in a trial (momentum under another optimizer, takes_effect)
// tells TPE nothing: multivariate, that trial's kernel is the prior in its dimension and a
// candidate is scored only by the parameters that take effect in it; univariate, the
// parameter's estimators learn from the trials where it took effect alone.
//
// How finished trials are ranked before the split is `ranking`: Optuna's rule (trials that ran
// to the end first) or, with a scheduler that stops trials at different epochs, every trial by
// its value at one shared epoch budget (as BOHB, Falkner et al., ICML 2018).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/search_space.hpp"
#include "core/trial.hpp"

namespace hps {

/// TpeSettings (the `search.tpe` options) are in core/search_space.hpp.

/// One finished trial as TPE ranks it; better trials come first, failed and diverged trials
/// (`usable` false) last, ties to the smaller id.
/// - finished_first: trials that ran to the end (completed or stopped early) rank above pruned
///   ones, pruned trials that ran more epochs above those that ran fewer, and within each of
///   these by value.
/// - equal_budget: the budget is the largest epoch count that at least (searched parameters +
///   3) usable trials reached (BOHB's N_min + 2 with N_min = d + 1), a trial that ran to the end
///   reaching every budget; with too few anywhere, the fewest epochs a pruned trial ran. Trials
///   that reached it rank first, by the best of their `values` up to that epoch (by `value`
///   where `values` is empty, and at kAllEpochs); the rest follow in finished_first order.
///   Without pruned trials the two rules agree.
struct TpeObservation {
  int64_t trial_id = 0;
  std::vector<ParamAssignment> params;  ///< in space order, as trial_values returns them
  double value = 0.0;                   ///< the trial's best monitored value
  bool usable = true;                   ///< false for failed and diverged trials
  bool pruned = false;                  ///< a scheduler stopped it
  int64_t epochs = 0;                   ///< epochs it ran
  std::vector<double> values;           ///< the monitored value after each epoch (equal_budget)
};

/// The smallest width (standard deviation) of a numeric kernel in an estimator over `points`
/// trials, as a share of the parameter's range: Optuna's "magic clip", the range over
/// min(100, 1 + kernels) with the prior counted among the kernels.
double tpe_kernel_floor(std::size_t points);

/// The widths (standard deviations) of the kernels centred at `centres`, in the order given, in
/// an estimator over the internal range [lo, hi] with univariate TPE: Optuna's rule with
/// consider_endpoints=False. The centres and the prior's centre (lo + hi) / 2 are sorted; a
/// kernel is as wide as the larger gap to its neighbours there (the first and last as the gap
/// to their one neighbour), kept within [tpe_kernel_floor(centres.size()), 1] times hi - lo.
std::vector<double> tpe_neighbour_widths(const std::vector<double>& centres, double lo, double hi);

/// The weights of the kernels of `points` trials, oldest first, before the prior's weight 1 is
/// added and all are normalized: Optuna's default_weights, 1 each up to 25 trials; beyond, the
/// newest 25 weigh 1 and the older ones rise linearly from 1 / points to 1.
std::vector<double> tpe_kernel_weights(std::size_t points);

/// The budget equal_budget ranking compares at: `epochs`, or kAllEpochs when trials that ran to
/// the end are enough (or nothing was pruned), each by its best value.
constexpr int64_t kAllEpochs = -1;

class TpeSampler {
 public:
  /// `maximize`: whether larger values are better (val_accuracy) or smaller (val_loss).
  TpeSampler(std::vector<ParamSpec> space, TpeSettings settings, uint64_t seed, bool maximize);

  /// Records a finished trial. Order of calls does not matter for ranking (ties break by id).
  void observe(TpeObservation observation);
  /// Number of trials observed so far.
  int64_t observed() const;

  /// The observed trial ids in TPE's order, best first (see TpeObservation), and the budget
  /// they were compared at (kAllEpochs for finished_first). sample() takes its below group
  /// from the front.
  struct Ranking {
    std::vector<int64_t> ids;
    int64_t budget = kAllEpochs;
  };
  Ranking ranking() const;

  /// Hyperparameters for trial `id`, given the points of trials still running. Until
  /// startup_trials trials have been observed: random_values(space, seed, id), random search's
  /// draw for `id`, unless that is a near duplicate of a running point; then the first of up to
  /// 64 further random draws (seeded from kTpeStartupRedraw and the attempt) that is not. After
  /// that a TPE draw from an Rng seeded by derive_seed(derive_seed(seed, kTpeSample), id), so the
  /// same observations, running points and id always give the same point. `running_ids`, if
  /// given, are the running trials' ids (one each), which place them among the bad group's
  /// trials for the kernel weights; without them the running trials count as the newest.
  std::vector<ParamAssignment> sample(int64_t id,
                                      const std::vector<std::vector<ParamAssignment>>& running,
                                      const std::vector<int64_t>& running_ids = {}) const;

  /// Whether two points are near duplicates: every choice equal and every numeric value within
  /// 1% of its range (in the sampler's internal space: log for log_uniform), a parameter that
  /// takes no effect in either point left out.
  bool near_duplicate(const std::vector<ParamAssignment>& a,
                      const std::vector<ParamAssignment>& b) const;

 private:
  std::vector<ParamSpec> space_;
  TpeSettings settings_;
  uint64_t seed_;
  bool maximize_;
  /// The observations in ranking() order, and the budget.
  struct Ranked {
    std::vector<const TpeObservation*> order;
    int64_t budget = kAllEpochs;
  };
  Ranked rank_observations() const;
  /// sample() before startup_trials trials have been observed.
  std::vector<ParamAssignment> random_start(
      int64_t id, const std::vector<std::vector<ParamAssignment>>& running) const;

  std::vector<TpeObservation> observations_;
};

}  // namespace hps
