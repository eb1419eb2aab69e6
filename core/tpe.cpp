#include "core/tpe.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/rng.hpp"

namespace hps {

double tpe_kernel_floor(std::size_t points) {
  return 1.0 / std::min(100.0, 2.0 + static_cast<double>(points));
}

std::vector<double> tpe_neighbour_widths(const std::vector<double>& centres, double lo, double hi) {
  if (!(hi > lo)) throw std::invalid_argument("tpe_neighbour_widths(): needs lo < hi");
  // The prior's centre sorts among the trials' (it is the last entry here), so a lone trial
  // is as wide as its distance to the middle of the range.
  std::vector<double> mus = centres;
  mus.push_back(0.5 * (lo + hi));
  std::vector<std::size_t> order(mus.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&mus](std::size_t a, std::size_t b) { return mus[a] < mus[b]; });
  const double width = hi - lo;
  const double floor = width * tpe_kernel_floor(centres.size());
  std::vector<double> widths(centres.size());
  const std::size_t last = order.size() - 1;
  for (std::size_t r = 0; r < order.size(); ++r) {
    if (order[r] == centres.size()) continue;  // the prior is always as wide as the range
    // consider_endpoints=False: the outermost kernels look only inwards, so the range's ends
    // never count as neighbours.
    const auto gap = [&](std::size_t a) { return mus[order[a + 1]] - mus[order[a]]; };
    const double sigma = r == 0 ? gap(0) : r == last ? gap(r - 1) : std::max(gap(r - 1), gap(r));
    widths[order[r]] = std::clamp(sigma, floor, width);
  }
  return widths;
}

std::vector<double> tpe_kernel_weights(std::size_t points) {
  constexpr std::size_t kFlat = 25;
  std::vector<double> weights(points, 1.0);
  if (points <= kFlat) return weights;
  // numpy.linspace(1 / n, 1, n - 25): the oldest weighs 1 / n, the ramp's last weighs 1.
  const auto n = static_cast<double>(points);
  const std::size_t ramp = points - kFlat;
  for (std::size_t i = 0; i < ramp; ++i)
    weights[i] = ramp == 1 ? 1.0 / n
                           : 1.0 / n + (1.0 - 1.0 / n) * static_cast<double>(i) /
                                           static_cast<double>(ramp - 1);
  return weights;
}

namespace {

/// How the sampler sees one parameter. Numeric dimensions live in an internal space: the
/// value itself (uniform), its log (log_uniform), or the integer widened to
/// [low - 0.5, high + 0.5] so each integer owns an equal share of the range (int_uniform).
struct Dim {
  enum class Kind { kFixed, kCategorical, kNumeric, kConstant };
  Kind kind = Kind::kFixed;
  double lo = 0.0, hi = 0.0;  ///< kNumeric, kConstant: the internal range
  std::size_t choices = 0;    ///< kCategorical: how many
  bool integer = false;       ///< int_uniform: scored by the mass of its unit bin
};

/// A point in the internal space, one slot per parameter: the internal value of a numeric
/// parameter, the index of a choice, and 0 for fixed ones.
using Point = std::vector<double>;

constexpr double kLogSqrtTwoPi = 0.91893853320467274178032973640562;
constexpr double kInvSqrtTwo = 0.70710678118654752440084436210485;
/// Largest number of observations in the "below" group, as in Optuna's default gamma.
constexpr int64_t kMaxBelow = 25;
/// Near duplicates: numeric values closer than this share of their internal range.
constexpr double kDuplicateShare = 0.01;
/// Candidate rounds drawn from l(x), then from the prior, before giving up on avoiding
/// running points.
constexpr int kRoundsFromBelow = 20;
constexpr int kRoundsFromPrior = 20;
/// Further random draws a random-start trial may take to avoid a running point.
constexpr int kStartupRedraws = 64;

/// Whether a finished trial tells TPE where good points are (failed and diverged ones do not).
bool is_usable(const TpeObservation& o) { return o.usable && std::isfinite(o.value); }

std::string form_name(ParamForm form) {
  switch (form) {
    case ParamForm::kFixed:
      return "fixed";
    case ParamForm::kChoice:
      return "choice";
    case ParamForm::kUniform:
      return "uniform";
    case ParamForm::kLogUniform:
      return "log_uniform";
    case ParamForm::kIntUniform:
      return "int_uniform";
  }
  return "unknown";
}

std::vector<Dim> make_dims(const std::vector<ParamSpec>& space) {
  std::vector<Dim> dims;
  dims.reserve(space.size());
  for (const ParamSpec& spec : space) {
    const auto fail = [&spec](const std::string& what) {
      throw std::invalid_argument("TpeSampler::TpeSampler(): parameter '" + spec.name + "' (" +
                                  form_name(spec.form) + ") " + what);
    };
    Dim dim;
    switch (spec.form) {
      case ParamForm::kFixed:
        if (spec.choices.size() != 1) fail("needs exactly one value");
        dim.kind = Dim::Kind::kFixed;
        break;
      case ParamForm::kChoice:
        if (spec.choices.empty()) fail("has no choices");
        dim.kind = Dim::Kind::kCategorical;
        dim.choices = spec.choices.size();
        break;
      case ParamForm::kUniform:
      case ParamForm::kLogUniform:
      case ParamForm::kIntUniform: {
        if (!std::isfinite(spec.low) || !std::isfinite(spec.high) || spec.low > spec.high)
          fail("needs finite bounds with low <= high");
        if (spec.form == ParamForm::kLogUniform && spec.low <= 0.0) fail("needs low > 0");
        if (spec.form == ParamForm::kIntUniform &&
            (spec.low != std::round(spec.low) || spec.high != std::round(spec.high)))
          fail("needs integer bounds");
        dim.lo = spec.low;
        dim.hi = spec.high;
        if (spec.form == ParamForm::kLogUniform) {
          dim.lo = std::log(spec.low);
          dim.hi = std::log(spec.high);
        } else if (spec.form == ParamForm::kIntUniform && spec.high > spec.low) {
          dim.lo -= 0.5;
          dim.hi += 0.5;
          dim.integer = true;
        }
        dim.kind = dim.hi > dim.lo ? Dim::Kind::kNumeric : Dim::Kind::kConstant;
        break;
      }
    }
    dims.push_back(dim);
  }
  return dims;
}

/// How many dimensions take more than one value: the d of Scott's rule and of equal_budget's
/// d + 3. Optuna leaves single-valued distributions out of its search space, so a one-item
/// list or a range of zero width does not count.
std::size_t varying(const std::vector<Dim>& dims) {
  return static_cast<std::size_t>(std::count_if(dims.begin(), dims.end(), [](const Dim& dim) {
    return dim.kind == Dim::Kind::kNumeric ||
           (dim.kind == Dim::Kind::kCategorical && dim.choices > 1);
  }));
}

/// A parameter that takes effect only with some choices of another (takes_effect: momentum
/// with optimizer momentum). Where it does not, a point's slot for it is NaN (inactive): that
/// trial's kernel is the prior there, and no candidate is scored or told apart by it.
struct Condition {
  std::size_t param = 0, parent = 0;
  std::vector<bool> active;  ///< per choice of the parent
};

std::vector<Condition> make_conditions(const std::vector<ParamSpec>& space) {
  std::vector<Condition> conditions;
  for (std::size_t parent = 0; parent < space.size(); ++parent) {
    if (space[parent].form != ParamForm::kChoice && space[parent].form != ParamForm::kFixed)
      continue;
    for (std::size_t param = 0; param < space.size(); ++param) {
      Condition c{param, parent, {}};
      for (const ParamValue& choice : space[parent].choices)
        c.active.push_back(takes_effect({{space[parent].name, choice}}, space[param].name));
      if (std::find(c.active.begin(), c.active.end(), false) != c.active.end())
        conditions.push_back(std::move(c));
    }
  }
  return conditions;
}

/// Marks the slots of `x` whose parameter does not take effect there inactive (NaN).
void mark_inactive(const std::vector<Condition>& conditions, Point& x) {
  for (const Condition& c : conditions) {
    const double parent = x[c.parent];
    if (!std::isnan(parent) && !c.active[static_cast<std::size_t>(parent)])
      x[c.param] = std::numeric_limits<double>::quiet_NaN();
  }
}

/// Maps `params` into the internal space, checking that they belong to `space`, with the
/// slots that take no effect under `conditions` (make_conditions(space), built once by the
/// caller) inactive. `where()` names the caller and the point for messages (built only when
/// one is thrown).
template <typename Where>
Point encode(const std::vector<ParamSpec>& space, const std::vector<Condition>& conditions,
             const std::vector<ParamAssignment>& params, const Where& where) {
  if (params.size() != space.size())
    throw std::invalid_argument(where() + " has " + std::to_string(params.size()) +
                                " parameters, the search space " + std::to_string(space.size()));
  Point point(space.size(), 0.0);
  for (std::size_t i = 0; i < space.size(); ++i) {
    const ParamSpec& spec = space[i];
    const auto& [name, value] = params[i];
    const auto fail = [&](const std::string& what) {
      throw std::invalid_argument(where() + ": parameter " + std::to_string(i) + " ('" + name +
                                  "') " + what);
    };
    if (name != spec.name) fail("should be '" + spec.name + "' (the search space's order)");
    switch (spec.form) {
      case ParamForm::kFixed:
        if (value != spec.choices[0])
          fail("is " + to_string(value) + ", the space fixes it at " + to_string(spec.choices[0]));
        break;
      case ParamForm::kChoice: {
        const auto found = std::find(spec.choices.begin(), spec.choices.end(), value);
        if (found == spec.choices.end())
          fail("is " + to_string(value) + ", which is not one of its choices");
        point[i] = static_cast<double>(found - spec.choices.begin());
        break;
      }
      case ParamForm::kUniform:
      case ParamForm::kLogUniform: {
        const double* real = std::get_if<double>(&value);
        if (real == nullptr) fail("should be a real number, is " + to_string(value));
        // A hair of slack for values that went through text on the way here.
        const double slack = 1e-9 * std::max({std::abs(spec.low), std::abs(spec.high), 1e-300});
        if (!(*real >= spec.low - slack && *real <= spec.high + slack))
          fail("is " + to_string(value) + ", outside [" + to_string(spec.low) + ", " +
               to_string(spec.high) + "]");
        const double clamped = std::clamp(*real, spec.low, spec.high);
        point[i] = spec.form == ParamForm::kLogUniform ? std::log(clamped) : clamped;
        break;
      }
      case ParamForm::kIntUniform: {
        const int64_t* integer = std::get_if<int64_t>(&value);
        if (integer == nullptr) fail("should be an integer, is " + to_string(value));
        const auto real = static_cast<double>(*integer);
        if (real < spec.low || real > spec.high)
          fail("is " + to_string(value) + ", outside [" +
               to_string(static_cast<int64_t>(spec.low)) + ", " +
               to_string(static_cast<int64_t>(spec.high)) + "]");
        point[i] = real;
        break;
      }
    }
  }
  mark_inactive(conditions, point);
  return point;
}

/// The parameter values of an internal point, with the types random_values gives.
std::vector<ParamAssignment> decode(const std::vector<ParamSpec>& space, const Point& point) {
  std::vector<ParamAssignment> params;
  params.reserve(space.size());
  for (std::size_t i = 0; i < space.size(); ++i) {
    const ParamSpec& spec = space[i];
    switch (spec.form) {
      case ParamForm::kFixed:
        params.emplace_back(spec.name, spec.choices[0]);
        break;
      case ParamForm::kChoice:
        params.emplace_back(spec.name, spec.choices[static_cast<std::size_t>(point[i])]);
        break;
      case ParamForm::kUniform:
        params.emplace_back(spec.name, std::clamp(point[i], spec.low, spec.high));
        break;
      case ParamForm::kLogUniform:
        params.emplace_back(spec.name, std::clamp(std::exp(point[i]), spec.low, spec.high));
        break;
      case ParamForm::kIntUniform:
        params.emplace_back(spec.name, static_cast<int64_t>(point[i]));
        break;
    }
  }
  return params;
}

bool near_duplicate_points(const std::vector<Dim>& dims, const Point& a, const Point& b) {
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const Dim& dim = dims[i];
    // An inactive slot (NaN) tells no two points apart.
    if (dim.kind == Dim::Kind::kCategorical && a[i] != b[i] && !std::isnan(a[i]) &&
        !std::isnan(b[i]))
      return false;
    if (dim.kind == Dim::Kind::kNumeric &&
        std::abs(a[i] - b[i]) > kDuplicateShare * (dim.hi - dim.lo))
      return false;
  }
  return true;
}

/// Standard normal CDF. erfc keeps the far lower tail accurate.
double normal_cdf(double z) { return 0.5 * std::erfc(-z * kInvSqrtTwo); }

/// log(Phi(b) - Phi(a)) for a < b, the mass a normal keeps after truncation, in terms of the
/// upper tail when the interval lies above the mean, where the difference of CDFs near 1
/// would lose the digits.
double log_truncated_mass(double a, double b) {
  const double mass = a > 0.0 ? normal_cdf(-a) - normal_cdf(-b) : normal_cdf(b) - normal_cdf(a);
  return std::log(std::max(mass, std::numeric_limits<double>::min()));
}

/// A normal(mu, sigma) draw truncated to [lo, hi]: by rejection, which accepts at least about
/// half the draws for the kernels built here, with a uniform draw as a safety net.
double truncated_normal(Rng& rng, double mu, double sigma, double lo, double hi) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const double x = mu + sigma * rng.normal();
    if (x >= lo && x <= hi) return x;
  }
  return lo + rng.uniform() * (hi - lo);
}

/// How wide a Parzen estimator's numeric kernels are.
enum class Widths {
  kScott,       ///< multivariate: one width per dimension, by Scott's rule
  kNeighbours,  ///< univariate: each kernel by the gaps to its neighbours (tpe_neighbour_widths)
};

/// A Parzen estimator over the internal space: one kernel per point plus a prior kernel
/// (the last). Point kernels weigh tpe_kernel_weights(points) in the order given (oldest
/// first), the prior 1, all normalized to sum 1. Numeric kernels are truncated normals (an
/// integer's density is the mass of its unit bin), categorical ones put 1 + eps on the point's
/// choice and eps on every choice (eps = 1 / kernels); the prior is a wide normal on numeric
/// dimensions and uniform on categorical ones, and so is a point's kernel where its slot is
/// inactive (NaN). Dimensions other than kNumeric and kCategorical are left out, so one
/// estimator per parameter (univariate TPE) takes `dims` with every other parameter marked
/// kFixed.
class ParzenEstimator {
 public:
  ParzenEstimator(const std::vector<Dim>& dims, const std::vector<const Point*>& points,
                  Widths widths)
      : dims_(dims), kernels_(points.size() + 1) {
    for (std::size_t i = 0; i < dims.size(); ++i) {
      if (dims[i].kind == Dim::Kind::kNumeric) numeric_.push_back(i);
      if (dims[i].kind == Dim::Kind::kCategorical) categorical_.push_back(i);
    }
    std::vector<double> weights = tpe_kernel_weights(points.size());
    weights.push_back(1.0);  // the prior
    double total = 0.0;
    for (const double w : weights) total += w;
    cumulative_.reserve(kernels_);
    double running = 0.0;
    for (const double w : weights) cumulative_.push_back(running += w / total);
    const std::size_t searched = varying(dims);

    // Scott's rule in Optuna's multivariate form, floored so that kernels never collapse.
    const auto n = static_cast<double>(points.size());
    const double bandwidth =
        0.2 * std::pow(std::max(n, 1.0), -1.0 / (static_cast<double>(searched) + 4.0));
    const double floor_share = tpe_kernel_floor(points.size());
    const double eps = 1.0 / static_cast<double>(kernels_);

    mu_.resize(kernels_ * numeric_.size());
    sigma_.resize(kernels_ * numeric_.size());
    numeric_norm_.resize(kernels_ * numeric_.size());
    choice_norm_.resize(kernels_ * categorical_.size());
    std::vector<std::vector<double>> neighbour_widths;  // per numeric dimension, per point
    if (widths == Widths::kNeighbours) {
      for (const std::size_t i : numeric_) {
        std::vector<double> centres;
        centres.reserve(points.size());
        for (const Point* p : points) centres.push_back((*p)[i]);
        neighbour_widths.push_back(tpe_neighbour_widths(centres, dims[i].lo, dims[i].hi));
      }
    }
    choice_.resize(kernels_ * categorical_.size());
    constant_.resize(kernels_);

    for (std::size_t k = 0; k < kernels_; ++k) {
      constant_[k] = std::log(weights[k] / total);
      // The prior kernel, or a point's where its slot is inactive.
      const auto prior = [&](std::size_t i) {
        return k == points.size() || std::isnan((*points[k])[i]);
      };
      for (std::size_t m = 0; m < numeric_.size(); ++m) {
        const Dim& dim = dims[numeric_[m]];
        const double width = dim.hi - dim.lo;
        const bool wide = prior(numeric_[m]);
        const double mu = wide ? 0.5 * (dim.lo + dim.hi) : (*points[k])[numeric_[m]];
        const double sigma = wide ? width
                             : widths == Widths::kNeighbours
                                 ? neighbour_widths[m][k]
                                 : width * std::max(bandwidth, floor_share);
        const std::size_t at = k * numeric_.size() + m;
        mu_[at] = mu;
        sigma_[at] = sigma;
        const double mass = log_truncated_mass((dim.lo - mu) / sigma, (dim.hi - mu) / sigma);
        constant_[k] -= mass;
        numeric_norm_[at] = -mass;
        if (!dim.integer) {
          constant_[k] -= std::log(sigma) + kLogSqrtTwoPi;
          numeric_norm_[at] -= std::log(sigma) + kLogSqrtTwoPi;
        }
      }
      for (std::size_t c = 0; c < categorical_.size(); ++c) {
        const auto count = static_cast<double>(dims[categorical_[c]].choices);
        const std::size_t at = k * categorical_.size() + c;
        if (prior(categorical_[c])) {
          choice_[at] = -1.0;
          choice_norm_[at] = -std::log(count);
        } else {
          choice_[at] = (*points[k])[categorical_[c]];
          choice_norm_[at] = std::log(eps / (1.0 + count * eps));
        }
        constant_[k] += choice_norm_[at];
      }
    }
    hit_bonus_ = std::log((1.0 + eps) / eps);
    eps_ = eps;
  }

  /// log of the estimator's density at `x`, over its active slots (an inactive one, NaN, is
  /// integrated out).
  double log_density(const Point& x) const {
    terms_.resize(kernels_);
    double largest = -std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < kernels_; ++k) {
      double term = constant_[k];
      const std::size_t first = k * numeric_.size();
      // constant_ holds every slot's normalizer, taken out again for an inactive slot (so a
      // point with none is scored as before inactive slots existed, to the last bit).
      for (std::size_t m = 0; m < numeric_.size(); ++m) {
        const double v = x[numeric_[m]];
        if (std::isnan(v)) {
          term -= numeric_norm_[first + m];
          continue;
        }
        const double sigma = sigma_[first + m];
        const double z = (v - mu_[first + m]) / sigma;
        // An integer (snapped, so its bin lies inside the range) by the mass of [x - 0.5,
        // x + 0.5], as Optuna scores a stepped parameter.
        term += dims_[numeric_[m]].integer ? log_truncated_mass(z - 0.5 / sigma, z + 0.5 / sigma)
                                           : -0.5 * z * z;
      }
      const std::size_t first_choice = k * categorical_.size();
      for (std::size_t c = 0; c < categorical_.size(); ++c) {
        const double v = x[categorical_[c]];
        if (std::isnan(v))
          term -= choice_norm_[first_choice + c];
        else if (choice_[first_choice + c] == v)
          term += hit_bonus_;
      }
      terms_[k] = term;
      largest = std::max(largest, term);
    }
    double sum = 0.0;
    for (const double term : terms_) sum += std::exp(term - largest);
    return largest + std::log(sum);
  }

  /// One draw: a kernel chosen by weight, then every dimension from that kernel.
  Point draw(Rng& rng) const {
    const double u = rng.uniform();
    const auto k = std::min<std::size_t>(
        static_cast<std::size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) -
                                 cumulative_.begin()),
        kernels_ - 1);
    Point x(dims_.size(), 0.0);
    for (std::size_t i = 0; i < dims_.size(); ++i)
      if (dims_[i].kind == Dim::Kind::kConstant) x[i] = dims_[i].lo;
    for (std::size_t m = 0; m < numeric_.size(); ++m) {
      const Dim& dim = dims_[numeric_[m]];
      x[numeric_[m]] = truncated_normal(rng, mu_[k * numeric_.size() + m],
                                        sigma_[k * numeric_.size() + m], dim.lo, dim.hi);
    }
    for (std::size_t c = 0; c < categorical_.size(); ++c) {
      const std::size_t count = dims_[categorical_[c]].choices;
      const double own = choice_[k * categorical_.size() + c];
      if (own < 0.0) {
        x[categorical_[c]] = static_cast<double>(rng.below(count));
        continue;
      }
      // Mass 1 on the own choice, then eps on each choice (the own one included).
      const double u = rng.uniform() * (1.0 + static_cast<double>(count) * eps_);
      x[categorical_[c]] = u < 1.0 ? own
                                   : static_cast<double>(std::min(
                                         static_cast<std::size_t>((u - 1.0) / eps_), count - 1));
    }
    return x;
  }

 private:
  const std::vector<Dim>& dims_;
  std::size_t kernels_;
  std::vector<std::size_t> numeric_, categorical_;  ///< indices into dims_
  std::vector<double> mu_, sigma_;                  ///< kernel-major, numeric_.size() per kernel
  std::vector<double> numeric_norm_;  ///< like mu_: the log normalizer of each numeric kernel
  std::vector<double> choice_;        ///< kernel-major; the choice index, -1 for the prior
  std::vector<double> choice_norm_;   ///< like choice_: log mass off the choice (or uniform)
  std::vector<double> constant_;      ///< log weight + every slot's normalizer
  std::vector<double> cumulative_;    ///< the kernels' normalized weights, summed up to each
  double hit_bonus_ = 0.0;            ///< log of a point kernel's mass on its choice over another's
  double eps_ = 0.0;                  ///< a point kernel's mass on every choice, before normalizing
  mutable std::vector<double> terms_;
};

/// The running points in the internal space.
std::vector<Point> encode_running(const std::vector<ParamSpec>& space,
                                  const std::vector<Condition>& conditions,
                                  const std::vector<std::vector<ParamAssignment>>& running) {
  std::vector<Point> points;
  points.reserve(running.size());
  for (std::size_t r = 0; r < running.size(); ++r)
    points.push_back(encode(space, conditions, running[r], [r] {
      return "TpeSampler::sample(): running point " + std::to_string(r);
    }));
  return points;
}

bool near_any(const std::vector<Dim>& dims, const Point& x, const std::vector<Point>& points) {
  return std::any_of(points.begin(), points.end(),
                     [&](const Point& p) { return near_duplicate_points(dims, x, p); });
}

/// A random_values-like draw in the internal space: every dimension uniform over its range.
Point draw_uniform(const std::vector<Dim>& dims, Rng& rng) {
  Point x(dims.size(), 0.0);
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const Dim& dim = dims[i];
    if (dim.kind == Dim::Kind::kCategorical) x[i] = static_cast<double>(rng.below(dim.choices));
    if (dim.kind == Dim::Kind::kNumeric) x[i] = dim.lo + rng.uniform() * (dim.hi - dim.lo);
    if (dim.kind == Dim::Kind::kConstant) x[i] = dim.lo;
  }
  return x;
}

/// Integers are scored where they land: rounded and kept inside their range.
void snap(const std::vector<ParamSpec>& space, const std::vector<Dim>& dims, Point& x) {
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (dims[i].kind == Dim::Kind::kNumeric || dims[i].kind == Dim::Kind::kConstant) {
      x[i] = std::clamp(x[i], dims[i].lo, dims[i].hi);
      if (space[i].form == ParamForm::kIntUniform)
        x[i] = std::clamp(std::round(x[i]), space[i].low, space[i].high);
    }
  }
}

/// A candidate point and its score, log l(x) - log g(x).
struct Scored {
  Point point;
  double score = -std::numeric_limits<double>::infinity();
};

/// The candidate rounds both forms share, from round `first_round` on: each round scores
/// `candidates` points from `draw(round, score)` and returns the best that is not a near
/// duplicate of a running point; rounds below kRoundsFromBelow draw from l(x), the next
/// kRoundsFromPrior uniformly. If every round fails, the best point seen, `seen` included (with
/// no point in `seen`, the first candidate counts as seen).
template <typename Draw>
Point best_free_candidate(int first_round, Scored seen, const std::vector<Dim>& dims,
                          const std::vector<Point>& running_points, std::size_t candidates,
                          const Draw& draw) {
  for (int round = first_round; round < kRoundsFromBelow + kRoundsFromPrior; ++round) {
    Scored best;
    bool found = false;
    for (std::size_t c = 0; c < candidates; ++c) {
      double score = 0.0;
      Point x = draw(round, score);
      if (seen.point.empty() || score > seen.score) seen = {x, score};
      if (!near_any(dims, x, running_points) && (!found || score > best.score)) {
        best = {std::move(x), score};
        found = true;
      }
    }
    if (found) return best.point;
  }
  // Every point of the space is (near) running, e.g. a few choices all in flight.
  return seen.point;
}

/// Multivariate TPE: of `candidates` points drawn from l(x), the one with the largest
/// log l(x) - log g(x) that is not a near duplicate of a running point; if every candidate is,
/// another round, up to kRoundsFromBelow rounds from l(x) and then kRoundsFromPrior drawn
/// uniformly. If every round fails, the best candidate seen.
Point draw_multivariate(const std::vector<ParamSpec>& space, const std::vector<Dim>& dims,
                        const std::vector<Condition>& conditions,
                        const std::vector<const Point*>& below,
                        const std::vector<const Point*>& above,
                        const std::vector<Point>& running_points, std::size_t candidates,
                        Rng& rng) {
  const ParzenEstimator l(dims, below, Widths::kScott);
  const ParzenEstimator g(dims, above, Widths::kScott);
  return best_free_candidate(
      0, {}, dims, running_points, candidates, [&](int round, double& score) {
        Point x = round < kRoundsFromBelow ? l.draw(rng) : draw_uniform(dims, rng);
        snap(space, dims, x);
        if (conditions.empty()) {
          score = l.log_density(x) - g.log_density(x);
        } else {  // scored by the slots that take effect
          Point active = x;
          mark_inactive(conditions, active);
          score = l.log_density(active) - g.log_density(active);
        }
        return x;
      });
}

/// Univariate TPE (Optuna's default): every searched parameter has its own l and g over its
/// values alone, and takes the best of `candidates` draws from its l by its own ratio. If the
/// point so built is a near duplicate of a running one, the search goes on as
/// draw_multivariate's rounds do, each of `candidates` points drawing every parameter from its
/// own l (or uniformly, in the later rounds) and scored by the sum of the parameters' log
/// ratios: re-taking each parameter's best would rebuild the same point where the parameters
/// have few values. If every round fails, the best point seen, the first one included.
Point draw_univariate(const std::vector<ParamSpec>& space, const std::vector<Dim>& dims,
                      const std::vector<const Point*>& below,
                      const std::vector<const Point*>& above,
                      const std::vector<Point>& running_points, std::size_t candidates, Rng& rng) {
  std::vector<std::size_t> searched;
  for (std::size_t i = 0; i < dims.size(); ++i)
    if (dims[i].kind == Dim::Kind::kNumeric || dims[i].kind == Dim::Kind::kCategorical)
      searched.push_back(i);
  // One parameter's view of the space: every other dimension is left out of its estimators.
  std::vector<std::vector<Dim>> alone(searched.size(), dims);
  for (std::size_t s = 0; s < searched.size(); ++s)
    for (std::size_t i = 0; i < dims.size(); ++i)
      if (i != searched[s]) alone[s][i].kind = Dim::Kind::kFixed;
  // Each parameter's estimators learn from the trials where it took effect, as Optuna's learn
  // from the trials that suggested it.
  const auto active = [](const std::vector<const Point*>& points, std::size_t i) {
    std::vector<const Point*> kept;
    for (const Point* p : points)
      if (!std::isnan((*p)[i])) kept.push_back(p);
    return kept;
  };
  std::vector<ParzenEstimator> l, g;
  l.reserve(searched.size());
  g.reserve(searched.size());
  for (std::size_t s = 0; s < searched.size(); ++s) {
    l.emplace_back(alone[s], active(below, searched[s]), Widths::kNeighbours);
    g.emplace_back(alone[s], active(above, searched[s]), Widths::kNeighbours);
  }
  Point constants(dims.size(), 0.0);
  for (std::size_t i = 0; i < dims.size(); ++i)
    if (dims[i].kind == Dim::Kind::kConstant) constants[i] = dims[i].lo;
  // Parameter s's value from one draw (from its l, or uniform) and that value's log ratio.
  const auto draw_one = [&](std::size_t s, bool from_below, double& value) {
    Point y = from_below ? l[s].draw(rng) : draw_uniform(alone[s], rng);
    snap(space, alone[s], y);
    value = y[searched[s]];
    return l[s].log_density(y) - g[s].log_density(y);
  };

  // Optuna's draw: each parameter's best candidate.
  Point best_any = constants;
  double best_any_score = 0.0;
  for (std::size_t s = 0; s < searched.size(); ++s) {
    double best_score = -std::numeric_limits<double>::infinity();
    for (std::size_t c = 0; c < candidates; ++c) {
      double value = 0.0;
      const double score = draw_one(s, true, value);
      if (c == 0 || score > best_score) {
        best_any[searched[s]] = value;
        best_score = score;
      }
    }
    best_any_score += best_score;
  }
  if (!near_any(dims, best_any, running_points)) return best_any;

  return best_free_candidate(1, {best_any, best_any_score}, dims, running_points, candidates,
                             [&](int round, double& score) {
                               Point x = constants;
                               score = 0.0;
                               for (std::size_t s = 0; s < searched.size(); ++s)
                                 score += draw_one(s, round < kRoundsFromBelow, x[searched[s]]);
                               return x;
                             });
}

}  // namespace

TpeSampler::TpeSampler(std::vector<ParamSpec> space, TpeSettings settings, uint64_t seed,
                       bool maximize)
    : space_(std::move(space)), settings_(settings), seed_(seed), maximize_(maximize) {
  if (settings_.startup_trials < 0)
    throw std::invalid_argument("TpeSampler::TpeSampler(): startup_trials must be >= 0");
  if (!(settings_.gamma > 0.0 && settings_.gamma <= 1.0))
    throw std::invalid_argument("TpeSampler::TpeSampler(): gamma must be in (0, 1]");
  if (settings_.candidates < 1)
    throw std::invalid_argument("TpeSampler::TpeSampler(): candidates must be >= 1");
  make_dims(space_);  // checks the space
}

void TpeSampler::observe(TpeObservation observation) {
  encode(space_, {}, observation.params, [&observation] {
    return "TpeSampler::observe(): trial " + std::to_string(observation.trial_id);
  });
  observations_.push_back(std::move(observation));
}

int64_t TpeSampler::observed() const { return static_cast<int64_t>(observations_.size()); }

TpeSampler::Ranked TpeSampler::rank_observations() const {
  const auto better = [this](double a, double b) { return maximize_ ? a > b : a < b; };
  std::vector<const TpeObservation*> order;
  order.reserve(observations_.size());
  for (const TpeObservation& o : observations_) order.push_back(&o);
  // finished_first; equal_budget keeps it for the trials that did not reach its budget.
  std::stable_sort(order.begin(), order.end(),
                   [&](const TpeObservation* a, const TpeObservation* b) {
                     const bool usable_a = is_usable(*a), usable_b = is_usable(*b);
                     if (usable_a != usable_b) return usable_a;
                     if (usable_a) {
                       if (a->pruned != b->pruned) return !a->pruned;
                       if (a->pruned && a->epochs != b->epochs) return a->epochs > b->epochs;
                       if (a->value != b->value) return better(a->value, b->value);
                     }
                     return a->trial_id < b->trial_id;
                   });
  int64_t budget = kAllEpochs;
  if (settings_.ranking == TpeRanking::kFinishedFirst) return {order, budget};

  // The budget: the largest epoch count that at least `needed` usable trials reached, counting
  // a trial that ran to the end at every budget. Candidates are the epochs pruned trials ran.
  const std::size_t needed = varying(make_dims(space_)) + 3;
  std::vector<int64_t> stops;  // epochs of usable pruned trials, largest first
  std::size_t ran_to_end = 0;
  for (const TpeObservation* o : order) {
    if (!is_usable(*o)) continue;
    if (o->pruned)
      stops.push_back(o->epochs);
    else
      ++ran_to_end;
  }
  std::sort(stops.begin(), stops.end(), std::greater<>());
  if (ran_to_end < needed && !stops.empty()) {
    // stops[k] is reached by the trials that ran to the end and at least k + 1 pruned ones;
    // with too few, the smallest, which every usable trial reached.
    const std::size_t k = needed - ran_to_end - 1;
    budget = k < stops.size() ? stops[k] : stops.back();
  }
  const auto reached = [&](const TpeObservation& o) {
    return is_usable(o) && (!o.pruned || (budget != kAllEpochs && o.epochs >= budget));
  };
  // At kAllEpochs by `value`, as finished_first (it can differ from the curve's best when
  // early stopping has a min_delta).
  const auto value_at = [&](const TpeObservation& o) {
    if (o.values.empty() || budget == kAllEpochs) return o.value;
    const std::size_t end = std::min(o.values.size(), static_cast<std::size_t>(budget));
    double best = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t e = 0; e < end; ++e)
      if (std::isfinite(o.values[e]) && (std::isnan(best) || better(o.values[e], best)))
        best = o.values[e];
    return best;
  };
  std::vector<std::pair<double, const TpeObservation*>> at_budget;
  std::vector<const TpeObservation*> rest;
  for (const TpeObservation* o : order) {
    if (reached(*o))
      at_budget.emplace_back(value_at(*o), o);
    else
      rest.push_back(o);
  }
  std::stable_sort(at_budget.begin(), at_budget.end(), [&](const auto& a, const auto& b) {
    const bool finite_a = std::isfinite(a.first), finite_b = std::isfinite(b.first);
    if (finite_a != finite_b) return finite_a;
    if (finite_a && a.first != b.first) return better(a.first, b.first);
    return a.second->trial_id < b.second->trial_id;
  });
  std::vector<const TpeObservation*> result;
  result.reserve(order.size());
  for (const auto& [value, o] : at_budget) result.push_back(o);
  result.insert(result.end(), rest.begin(), rest.end());
  return {result, budget};
}

TpeSampler::Ranking TpeSampler::ranking() const {
  const Ranked ranked = rank_observations();
  Ranking r;
  r.budget = ranked.budget;
  for (const TpeObservation* o : ranked.order) r.ids.push_back(o->trial_id);
  return r;
}

std::vector<ParamAssignment> TpeSampler::sample(
    int64_t id, const std::vector<std::vector<ParamAssignment>>& running,
    const std::vector<int64_t>& running_ids) const {
  if (!running_ids.empty() && running_ids.size() != running.size())
    throw std::invalid_argument("TpeSampler::sample(): " + std::to_string(running_ids.size()) +
                                " running ids for " + std::to_string(running.size()) +
                                " running points");
  if (observed() < settings_.startup_trials) return random_start(id, running);

  const std::vector<Dim> dims = make_dims(space_);
  const std::vector<const TpeObservation*> ranked = rank_observations().order;

  const auto n = static_cast<int64_t>(ranked.size());
  // Optuna's default_gamma: ceil(gamma * n), at most 25 (the same rounding, so a gamma * n such
  // as 0.07 * 100 = 7.000000000000001 gives 8 there and here).
  int64_t below_count = static_cast<int64_t>(std::ceil(settings_.gamma * static_cast<double>(n)));
  below_count = std::max<int64_t>(std::min(below_count, kMaxBelow), 1);
  // Failed trials tell nothing about where good points are: with too few usable trials the
  // below group is smaller (with none, l(x) is the prior alone).
  const auto usable_count = static_cast<int64_t>(std::count_if(
      ranked.begin(), ranked.end(), [&](const TpeObservation* o) { return is_usable(*o); }));
  below_count = std::min(below_count, usable_count);

  const std::vector<Condition> conditions = make_conditions(space_);
  std::vector<Point> observed_points;
  observed_points.reserve(ranked.size());
  for (const TpeObservation* o : ranked)
    observed_points.push_back(encode(space_, conditions, o->params, [o] {
      return "TpeSampler::sample(): trial " + std::to_string(o->trial_id);
    }));
  const std::vector<Point> running_points = encode_running(space_, conditions, running);

  // Each group in trial order, oldest first, as Optuna orders them for its weights. The
  // running trials (the constant liar) join the bad group at their ids, or as the newest.
  std::vector<std::pair<int64_t, const Point*>> below_by_id, above_by_id;
  for (int64_t i = 0; i < n; ++i) {
    const auto at = static_cast<std::size_t>(i);
    (i < below_count ? below_by_id : above_by_id)
        .emplace_back(ranked[at]->trial_id, &observed_points[at]);
  }
  for (std::size_t r = 0; r < running_points.size(); ++r)
    above_by_id.emplace_back(
        running_ids.empty() ? std::numeric_limits<int64_t>::max() : running_ids[r],
        &running_points[r]);
  const auto oldest_first = [](std::vector<std::pair<int64_t, const Point*>> by_id) {
    std::stable_sort(by_id.begin(), by_id.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<const Point*> points;
    points.reserve(by_id.size());
    for (const auto& [trial, point] : by_id) points.push_back(point);
    return points;
  };
  const std::vector<const Point*> below = oldest_first(std::move(below_by_id));
  const std::vector<const Point*> above = oldest_first(std::move(above_by_id));
  Rng rng(derive_seed(derive_seed(seed_, SeedStream::kTpeSample), static_cast<uint64_t>(id)));
  const auto candidates = static_cast<std::size_t>(settings_.candidates);
  return decode(space_,
                settings_.multivariate
                    ? draw_multivariate(space_, dims, conditions, below, above, running_points,
                                        candidates, rng)
                    : draw_univariate(space_, dims, below, above, running_points, candidates, rng));
}

std::vector<ParamAssignment> TpeSampler::random_start(
    int64_t id, const std::vector<std::vector<ParamAssignment>>& running) const {
  std::vector<ParamAssignment> first = random_values(space_, seed_, id);
  if (running.empty()) return first;
  const std::vector<Dim> dims = make_dims(space_);
  const std::vector<Condition> conditions = make_conditions(space_);
  const std::vector<Point> running_points = encode_running(space_, conditions, running);
  const auto is_free = [&](const std::vector<ParamAssignment>& values) {
    return !near_any(dims,
                     encode(space_, conditions, values, [] { return std::string("random start"); }),
                     running_points);
  };
  if (is_free(first)) return first;
  const uint64_t redraw_seed = derive_seed(seed_, SeedStream::kTpeStartupRedraw);
  for (uint64_t attempt = 0; attempt < kStartupRedraws; ++attempt) {
    std::vector<ParamAssignment> values =
        random_values(space_, derive_seed(redraw_seed, attempt), id);
    if (is_free(values)) return values;
  }
  return first;  // every draw is (near) running, e.g. a few choices all in flight
}

bool TpeSampler::near_duplicate(const std::vector<ParamAssignment>& a,
                                const std::vector<ParamAssignment>& b) const {
  const std::vector<Dim> dims = make_dims(space_);
  const std::vector<Condition> conditions = make_conditions(space_);
  return near_duplicate_points(
      dims,
      encode(space_, conditions, a, [] { return std::string("TpeSampler::near_duplicate(): a"); }),
      encode(space_, conditions, b, [] { return std::string("TpeSampler::near_duplicate(): b"); }));
}

}  // namespace hps
