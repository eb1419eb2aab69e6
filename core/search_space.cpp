#include "core/search_space.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "core/config_parser.hpp"
#include "core/rng.hpp"
#include "core/yaml_util.hpp"

namespace hps {
namespace {

/// The kind of value a parameter takes; it decides the forms the parameter may be written in.
enum class ValueKind {
  kReal,   ///< fixed, choices, uniform, log_uniform
  kInt,    ///< fixed, choices, int_uniform (enumerated by a grid)
  kName,   ///< fixed, choices
  kWidths  ///< one architecture ([128, 64]) or a list of them
};

/// The values a parameter accepts. A fixed value, every choice and both ends of a range must be
/// inside it, so every value a trial can draw is valid.
enum class Bound { kPositive, kNonNegative, kUnitHalfOpen, kAtLeastOne, kNamed };

/// A searchable hyperparameter, declared once: its name, kind and valid values.
struct ParamDef {
  std::string name;
  ValueKind kind;
  Bound bound;
  int64_t max_int = 0;             ///< kInt: the largest value the config field holds
  std::vector<std::string> names;  ///< kName: the accepted spellings
};

const Choices<SearchStrategy> kStrategies = {{"grid", SearchStrategy::kGrid},
                                             {"random", SearchStrategy::kRandom},
                                             {"tpe", SearchStrategy::kTpe}};
const Choices<TpeRanking> kTpeRankings = {{"finished_first", TpeRanking::kFinishedFirst},
                                          {"equal_budget", TpeRanking::kEqualBudget}};
const Choices<SchedulerKind> kSchedulers = {{"none", SchedulerKind::kNone},
                                            {"asha", SchedulerKind::kAsha},
                                            {"median", SchedulerKind::kMedian}};

template <typename E>
std::vector<std::string> names_of(const Choices<E>& choices) {
  std::vector<std::string> names;
  for (const auto& choice : choices) names.push_back(choice.first);
  return names;
}

template <typename E>
std::optional<E> lookup(const Choices<E>& choices, const std::string& name) {
  for (const auto& [spelling, value] : choices)
    if (spelling == name) return value;
  return std::nullopt;
}

constexpr int64_t kIntMax = std::numeric_limits<int>::max();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
/// Range ends are stored as doubles (ParamSpec::low/high), exact up to 2^53.
constexpr int64_t kExactInDouble = int64_t{1} << 53;

/// In the order of the header's list; unknown names are matched against these.
const std::vector<ParamDef> kParams = {
    {"hidden", ValueKind::kWidths, Bound::kAtLeastOne, kInt64Max, {}},
    {"layers", ValueKind::kInt, Bound::kAtLeastOne, kIntMax, {}},
    {"units", ValueKind::kInt, Bound::kAtLeastOne, kInt64Max, {}},
    {"learning_rate", ValueKind::kReal, Bound::kPositive, 0, {}},
    {"batch_size", ValueKind::kInt, Bound::kAtLeastOne, kInt64Max, {}},
    {"dropout", ValueKind::kReal, Bound::kUnitHalfOpen, 0, {}},
    {"l1", ValueKind::kReal, Bound::kNonNegative, 0, {}},
    {"l2", ValueKind::kReal, Bound::kNonNegative, 0, {}},
    {"optimizer", ValueKind::kName, Bound::kNamed, 0, names_of(optimizer_choices())},
    {"activation", ValueKind::kName, Bound::kNamed, 0, names_of(activation_choices())},
    {"momentum", ValueKind::kReal, Bound::kUnitHalfOpen, 0, {}},
    {"max_epochs", ValueKind::kInt, Bound::kAtLeastOne, kIntMax, {}},
    {"patience", ValueKind::kInt, Bound::kNonNegative, kIntMax, {}},
};

const std::vector<std::string> kSearchKeys = {
    "strategy", "trials", "seed", "keep_weights", "space", "scheduler", "asha", "median", "tpe"};
const std::vector<std::string> kRangeKeys = {"uniform", "log_uniform", "int_uniform"};
const Choices<ParamForm> kRangeForms = {{"uniform", ParamForm::kUniform},
                                        {"log_uniform", ParamForm::kLogUniform},
                                        {"int_uniform", ParamForm::kIntUniform}};

const ParamDef* find_param(const std::string& name) {
  for (const ParamDef& def : kParams)
    if (def.name == name) return &def;
  return nullptr;
}

std::vector<std::string> param_names() {
  std::vector<std::string> names;
  for (const ParamDef& def : kParams) names.push_back(def.name);
  return names;
}

/// What a value is, for "got ..." in messages.
std::string describe(const ConfigNode& node) {
  const YAML::Node& yaml = node.yaml();
  if (!node.present() || !yaml.IsDefined() || yaml.IsNull()) return "an empty value";
  if (yaml.IsSequence()) return "a list";
  if (yaml.IsMap()) return "a map";
  return "'" + yaml.Scalar() + "'";
}

/// "" when `value` is valid for `bound`; otherwise the problem. Written so that NaN fails.
std::string real_problem(Bound bound, double value) {
  switch (bound) {
    case Bound::kPositive:
      return value > 0 ? "" : "must be > 0, got " + number_text(value);
    case Bound::kNonNegative:
      return value >= 0 ? "" : "must be >= 0, got " + number_text(value);
    case Bound::kUnitHalfOpen:
      return value >= 0 && value < 1 ? "" : "must be in [0, 1), got " + number_text(value);
    case Bound::kAtLeastOne:
      return value >= 1 ? "" : "must be >= 1, got " + number_text(value);
    case Bound::kNamed:
      break;
  }
  return "expected a name, got " + number_text(value);
}

std::string int_problem(Bound bound, int64_t value, int64_t max) {
  const int64_t min = bound == Bound::kAtLeastOne ? 1 : 0;
  if (value < min) return "must be >= " + std::to_string(min) + ", got " + std::to_string(value);
  if (value > max) return "must be <= " + std::to_string(max) + ", got " + std::to_string(value);
  return "";
}

/// "" when `value` has the parameter's type and lies in its valid range; otherwise the problem.
std::string value_problem(const ParamDef& def, const ParamValue& value) {
  switch (def.kind) {
    case ValueKind::kReal:
      if (const double* real = std::get_if<double>(&value)) return real_problem(def.bound, *real);
      return "expected a number, got " + to_string(value);
    case ValueKind::kInt:
      if (const int64_t* integer = std::get_if<int64_t>(&value))
        return int_problem(def.bound, *integer, def.max_int);
      return "expected an integer, got " + to_string(value);
    case ValueKind::kName:
      if (const std::string* name = std::get_if<std::string>(&value);
          name && std::find(def.names.begin(), def.names.end(), *name) != def.names.end())
        return "";
      return "must be one of: " + join_words(def.names) + " (got " + to_string(value) + ")";
    case ValueKind::kWidths:
      if (const auto* widths = std::get_if<std::vector<int64_t>>(&value)) {
        for (const int64_t width : *widths)
          if (const std::string problem = int_problem(def.bound, width, def.max_int);
              !problem.empty())
            return "layer width " + problem;
        return "";
      }
      return "expected a list of layer widths, got " + to_string(value);
  }
  return "unknown parameter";
}

/// One value of parameter `def` (a fixed value or a choice), checked against its valid range.
ParamValue parse_value(const ConfigNode& node, const ParamDef& def) {
  ParamValue value;
  switch (def.kind) {
    case ValueKind::kReal:
      value = node.as_double();
      break;
    case ValueKind::kInt:
      value = node.as_int64();
      break;
    case ValueKind::kName: {
      Choices<std::string> choices;
      for (const std::string& name : def.names) choices.emplace_back(name, name);
      value = node.as_choice(choices);
      break;
    }
    case ValueKind::kWidths:
      break;  // parse_widths
  }
  if (const std::string problem = value_problem(def, value); !problem.empty()) node.fail(problem);
  return value;
}

/// One architecture: a list of layer widths, each >= 1, each error at its own item.
std::vector<int64_t> parse_widths(const ConfigNode& node, const ParamDef& def) {
  std::vector<int64_t> widths;
  for (const ConfigNode& item : node.items("a list of layer widths such as [128, 64]")) {
    const int64_t width = item.as_int64();
    if (const std::string problem = int_problem(def.bound, width, def.max_int); !problem.empty())
      item.fail(problem);
    widths.push_back(width);
  }
  return widths;
}

/// Adds `value`, the choice `item` gives, to `spec`. A choice listed twice would be drawn
/// twice as often by random search and TPE and run twice by a grid: almost always a slip.
void add_choice(const ConfigNode& item, ParamSpec& spec, ParamValue value) {
  if (std::find(spec.choices.begin(), spec.choices.end(), value) != spec.choices.end())
    item.fail(to_string(value) + " is listed twice (list each choice once)");
  spec.choices.push_back(std::move(value));
}

/// `hidden`: a flat list of integers is one architecture; a list of lists is the choices.
void parse_hidden(const ConfigNode& node, const ParamDef& def, ParamSpec& spec) {
  if (!node.yaml().IsSequence())
    node.fail(
        "expected a list of layer widths such as [128, 64], or a list of such lists to choose "
        "from, got " +
        describe(node));
  const std::vector<ConfigNode> items = node.items();
  if (items.empty()) node.fail("empty list of choices");
  const bool nested = std::any_of(items.begin(), items.end(),
                                  [](const ConfigNode& item) { return item.yaml().IsSequence(); });
  if (!nested) {
    spec.form = ParamForm::kFixed;
    spec.choices = {parse_widths(node, def)};
    return;
  }
  spec.form = ParamForm::kChoice;
  for (const ConfigNode& item : items) {
    if (!item.yaml().IsSequence())
      item.fail(
          "expected a list of layer widths such as [128, 64] (the other items are "
          "architectures to choose from), got " +
          describe(item));
    add_choice(item, spec, parse_widths(item, def));
  }
}

/// `{uniform: [lo, hi]}`, `{log_uniform: [lo, hi]}` or `{int_uniform: [lo, hi]}`.
void parse_range(const ConfigNode& node, const ParamDef& def, SearchStrategy strategy,
                 ParamSpec& spec) {
  if (def.kind != ValueKind::kReal && def.kind != ValueKind::kInt)
    node.fail("ranges do not apply to " + def.name + " (give a value or a list of choices)");
  node.check_keys(kRangeKeys);
  const std::vector<std::string> keys = node.keys();
  if (keys.size() != 1)
    node.fail("expected exactly one of " + join_words(kRangeKeys) + ", got " +
              (keys.empty() ? "none" : join_words(keys)));
  const std::string& form_name = keys.front();
  spec.form = *lookup(kRangeForms, form_name);
  if (spec.form == ParamForm::kIntUniform && def.kind != ValueKind::kInt)
    node.fail("int_uniform only applies to integer parameters; " + def.name +
              " is a real number (use uniform or log_uniform)");
  if (spec.form != ParamForm::kIntUniform && def.kind != ValueKind::kReal)
    node.fail(form_name + " only applies to real-valued parameters; " + def.name +
              " is an integer (use int_uniform or a list of choices)");
  if (spec.form != ParamForm::kIntUniform && strategy == SearchStrategy::kGrid)
    node.fail("strategy grid needs a list of values; " + form_name +
              " ranges only work with strategy: random or tpe");

  const ConfigNode range = node.child(form_name);
  const std::vector<ConfigNode> ends = range.items("a list [lo, hi]");
  if (ends.size() != 2)
    range.fail("expected a list [lo, hi] of 2 numbers, got " + std::to_string(ends.size()) +
               (ends.size() == 1 ? " item" : " items"));

  std::string range_text;
  ParamValue lo, hi;
  if (def.kind == ValueKind::kInt) {
    const int64_t max = std::min(def.max_int, kExactInDouble);
    const int64_t low = ends[0].as_int64(-kExactInDouble, max);
    const int64_t high = ends[1].as_int64(-kExactInDouble, max);
    range_text = "[" + std::to_string(low) + ", " + std::to_string(high) + "]";
    spec.low = static_cast<double>(low);
    spec.high = static_cast<double>(high);
    lo = low;
    hi = high;
  } else {
    spec.low = ends[0].as_double();
    spec.high = ends[1].as_double();
    range_text = "[" + number_text(spec.low) + ", " + number_text(spec.high) + "]";
    lo = spec.low;
    hi = spec.high;
  }
  if (spec.form == ParamForm::kLogUniform && !(spec.low > 0 && spec.high > 0))
    node.fail("log_uniform range " + range_text +
              " must be > 0 at both ends (a log scale never reaches 0; list 0 as a choice "
              "instead)");
  if (spec.low > spec.high) node.fail(form_name + " range " + range_text + " has lo > hi");
  if (const std::string problem = value_problem(def, lo); !problem.empty()) ends[0].fail(problem);
  if (const std::string problem = value_problem(def, hi); !problem.empty()) ends[1].fail(problem);
}

ParamSpec parse_param(const ConfigNode& node, const ParamDef& def, SearchStrategy strategy) {
  ParamSpec spec;
  spec.name = def.name;
  spec.line = node.line();
  const YAML::Node& yaml = node.yaml();
  if (yaml.IsMap()) {
    parse_range(node, def, strategy, spec);
  } else if (def.kind == ValueKind::kWidths) {
    parse_hidden(node, def, spec);
  } else if (yaml.IsSequence()) {
    const std::vector<ConfigNode> items = node.items();
    if (items.empty()) node.fail("empty list of choices");
    spec.form = ParamForm::kChoice;
    for (const ConfigNode& item : items) add_choice(item, spec, parse_value(item, def));
  } else if (yaml.IsScalar()) {
    spec.form = ParamForm::kFixed;
    spec.choices = {parse_value(node, def)};
  } else {
    std::string forms = "a value or a list of choices";
    if (def.kind == ValueKind::kReal)
      forms = "a value, a list of choices or a range such as {uniform: [lo, hi]}";
    if (def.kind == ValueKind::kInt)
      forms = "a value, a list of choices or a range such as {int_uniform: [lo, hi]}";
    node.fail("expected " + forms + ", got " + describe(node));
  }
  return spec;
}

const ParamSpec* find_spec(const std::vector<ParamSpec>& space, const std::string& name) {
  for (const ParamSpec& spec : space)
    if (spec.name == name) return &spec;
  return nullptr;
}

[[noreturn]] void fail_spec(const std::string& source_name, const ParamSpec& spec,
                            const std::string& problem) {
  throw_config_error(source_name, spec.line, "search.space." + spec.name, problem);
}

/// hidden excludes layers/units; layers or units alone take the other from the base model.
void check_architecture(const std::vector<ParamSpec>& space, const ModelConfig& base,
                        const std::string& source_name) {
  const ParamSpec* hidden = find_spec(space, "hidden");
  const ParamSpec* layers = find_spec(space, "layers");
  const ParamSpec* units = find_spec(space, "units");
  for (const ParamSpec* spec : {layers, units})
    if (hidden && spec)
      fail_spec(source_name, *spec,
                "cannot be combined with hidden (hidden lists whole architectures; layers and "
                "units build hidden = [units] * layers)");
  if (base.hidden.empty() && (layers != nullptr) != (units != nullptr)) {
    const ParamSpec& given = layers ? *layers : *units;
    fail_spec(source_name, given,
              std::string("model.hidden is empty, so the ") +
                  (layers ? "units per layer are" : "number of layers is") + " unknown; search " +
                  (layers ? "units" : "layers") + " as well or set model.hidden");
  }
}

/// How many values a grid takes from `spec`; 0 for a continuous range.
int64_t value_count(const ParamSpec& spec) {
  switch (spec.form) {
    case ParamForm::kFixed:
    case ParamForm::kChoice:
      if (spec.choices.empty())
        throw std::invalid_argument("search space: parameter '" + spec.name + "' has no values");
      return static_cast<int64_t>(spec.choices.size());
    case ParamForm::kIntUniform:
      return static_cast<int64_t>(spec.high) - static_cast<int64_t>(spec.low) + 1;
    case ParamForm::kUniform:
    case ParamForm::kLogUniform:
      break;
  }
  return 0;
}

/// Whether a trial with this `optimizer` value trains with its momentum.
bool uses_momentum(const ParamValue& optimizer) {
  const auto* name = std::get_if<std::string>(&optimizer);
  return name != nullptr && lookup(optimizer_choices(), *name) == OptimizerKind::kMomentum;
}

/// One axis of a grid: one parameter's values, or a searched optimizer and momentum together,
/// whose points pair momentum's values only with the optimizers that use it (the others take
/// its first value, which they ignore).
struct GridAxis {
  std::vector<std::size_t> specs;  ///< indices into the space: one, or two (the earlier first)
  /// Two specs: each point's digits, in the order the whole product lists them.
  std::vector<std::pair<int64_t, int64_t>> pairs;
  int64_t size = 0;
  int64_t without_momentum = 0;  ///< two specs: the optimizers that ignore momentum
};

/// The grid's axes in the space's order (the last varies fastest). Throws if a parameter has
/// no finite list of values.
std::vector<GridAxis> grid_axes(const std::vector<ParamSpec>& space, bool every_point) {
  std::optional<std::size_t> optimizer, momentum;
  for (std::size_t i = 0; i < space.size(); ++i) {
    if (value_count(space[i]) <= 0)
      throw std::invalid_argument("search space: parameter '" + space[i].name +
                                  "' has no finite list of values for a grid");
    if (space[i].name == "optimizer") optimizer = i;
    if (space[i].name == "momentum") momentum = i;
  }
  bool joint = !every_point && optimizer && momentum && value_count(space[*momentum]) > 1;
  int64_t without_momentum = 0;
  if (joint) {
    const auto& choices = space[*optimizer].choices;
    without_momentum = std::count_if(choices.begin(), choices.end(),
                                     [](const ParamValue& v) { return !uses_momentum(v); });
    joint = without_momentum > 0;
  }
  std::vector<GridAxis> axes;
  for (std::size_t i = 0; i < space.size(); ++i) {
    if (!joint || (i != *optimizer && i != *momentum)) {
      axes.push_back({{i}, {}, value_count(space[i]), 0});
      continue;
    }
    if (i != std::min(*optimizer, *momentum)) continue;  // the pair's axis is at the earlier one
    GridAxis axis{{i, std::max(*optimizer, *momentum)}, {}, 0, without_momentum};
    const bool optimizer_first = i == *optimizer;
    for (int64_t a = 0; a < value_count(space[axis.specs[0]]); ++a)
      for (int64_t b = 0; b < value_count(space[axis.specs[1]]); ++b) {
        const int64_t o = optimizer_first ? a : b, m = optimizer_first ? b : a;
        if (m == 0 || uses_momentum(space[*optimizer].choices[static_cast<std::size_t>(o)]))
          axis.pairs.emplace_back(a, b);
      }
    axis.size = static_cast<int64_t>(axis.pairs.size());
    axes.push_back(std::move(axis));
  }
  return axes;
}

std::optional<int64_t> grid_size(const std::vector<GridAxis>& axes) {
  int64_t size = 1;
  for (const GridAxis& axis : axes) {
    if (size > kInt64Max / axis.size) return std::nullopt;
    size *= axis.size;
  }
  return size;
}

/// What grid_product_text appends when a searched optimizer and momentum share an axis.
constexpr const char* kPairedPoints =
    " points, momentum's values counted only for optimizer momentum";

/// "2 x 3 x 4 = 24 points", or "2 x (1 + 1 x 3) x 4 = 32 points, momentum's values counted
/// only for optimizer momentum": the grid size, spelled out for the errors about it (a searched
/// optimizer and momentum in parentheses: the optimizers without momentum, plus those with it
/// times momentum's values).
std::string grid_product_text(const std::vector<ParamSpec>& space, bool every_point) {
  const std::vector<GridAxis> axes = grid_axes(space, every_point);
  std::string text;
  bool joint = false;
  for (const GridAxis& axis : axes) {
    text += text.empty() ? "" : " x ";
    if (axis.specs.size() == 1) {
      text += std::to_string(axis.size);
      continue;
    }
    joint = true;
    const std::size_t optimizer = space[axis.specs[0]].name == "optimizer" ? 0 : 1;
    const int64_t optimizers = value_count(space[axis.specs[optimizer]]);
    text += "(" + std::to_string(axis.without_momentum) + " + " +
            std::to_string(optimizers - axis.without_momentum) + " x " +
            std::to_string(value_count(space[axis.specs[1 - optimizer]])) + ")";
  }
  const std::optional<int64_t> size = grid_size(axes);
  return text + " = " + (size ? std::to_string(*size) : "more than " + std::to_string(kInt64Max)) +
         (joint ? kPairedPoints : " points");
}

int64_t parse_keep_weights(const ConfigNode& node) {
  if (node.yaml().IsScalar() && node.yaml().Scalar() == "all") return -1;
  const std::string problem = "expected an integer >= 0 or 'all', got " + describe(node);
  int64_t value = -1;
  try {
    value = node.as_int64();
  } catch (const ConfigError&) {
    node.fail(problem);
  }
  if (value < 0) node.fail(problem);
  return value;
}

// The `tpe:` block: only with strategy tpe.
void parse_tpe(const ConfigNode& search, SearchSettings& settings) {
  const ConfigNode tpe = search.child("tpe");
  if (!tpe.present()) return;
  if (settings.strategy != SearchStrategy::kTpe) tpe.fail("only used with strategy: tpe");
  tpe.check_keys({"startup_trials", "gamma", "candidates", "ranking", "multivariate"});
  TpeSettings& t = settings.tpe;
  if (const ConfigNode n = tpe.child("startup_trials"); n.present())
    t.startup_trials = n.as_int64(0);
  if (const ConfigNode n = tpe.child("gamma"); n.present()) {
    t.gamma = n.as_double();
    if (!(t.gamma > 0.0 && t.gamma <= 1.0)) n.fail("must be in (0, 1], got " + describe(n));
  }
  if (const ConfigNode n = tpe.child("candidates"); n.present())
    t.candidates = n.as_int64(1, 100000);
  if (const ConfigNode n = tpe.child("ranking"); n.present()) {
    t.ranking = n.as_choice(kTpeRankings);
    t.ranking_written = true;
  }
  if (const ConfigNode n = tpe.child("multivariate"); n.present()) t.multivariate = n.as_bool();
}

// The most epochs a trial of the search can train: training.max_epochs, or the largest value
// of a searched max_epochs.
int64_t most_epochs(const std::vector<ParamSpec>& space, const TrainConfig& base) {
  for (const ParamSpec& spec : space) {
    if (spec.name != "max_epochs") continue;
    if (spec.form == ParamForm::kIntUniform) return static_cast<int64_t>(spec.high);
    int64_t most = 1;
    for (const ParamValue& v : spec.choices) most = std::max(most, std::get<int64_t>(v));
    return most;
  }
  return base.training.max_epochs;
}

// `scheduler:` and its options block (`asha:` or `median:`, only with that scheduler).
void parse_scheduler(const ConfigNode& search, const TrainConfig& base, SearchSettings& settings) {
  SchedulerSettings& s = settings.scheduler;
  const int64_t most = most_epochs(settings.space, base);
  const std::string most_text =
      std::to_string(most) + (most == 1 ? " epoch (" : " epochs (") +
      (most == base.training.max_epochs ? "training.max_epochs" : "search.space.max_epochs") + ")";
  if (const ConfigNode kind = search.child("scheduler"); kind.present())
    s.kind = kind.as_choice(kSchedulers);
  for (const auto& [name, kind] : kSchedulers) {
    const ConfigNode block = search.child(name);
    if (block.present() && kind != s.kind)
      block.fail("only used with scheduler: " + name + " (scheduler is " + to_string(s.kind) + ")");
  }
  if (s.kind == SchedulerKind::kAsha) {
    const ConfigNode asha = search.child("asha");
    asha.check_keys({"reduction_factor", "min_epochs", "max_epochs", "grace"});
    if (const ConfigNode n = asha.child("reduction_factor"); n.present())
      s.reduction_factor = n.as_int64(2, 1000);
    if (const ConfigNode n = asha.child("min_epochs"); n.present())
      s.min_epochs = n.as_int64(1, kIntMax);
    if (const ConfigNode n = asha.child("grace"); n.present()) s.grace = n.as_int64(0, 60);
    s.max_epochs = most;
    if (const ConfigNode n = asha.child("max_epochs"); n.present()) {
      s.max_epochs = n.as_int64(1, kIntMax);
      if (s.max_epochs > most)
        n.fail("is " + std::to_string(s.max_epochs) + ", but no trial trains more than " +
               most_text + ", so rungs past that would never be reached (leave it out to use " +
               std::to_string(most) + ")");
    }
    if (Scheduler(s, true, s.max_epochs).rungs().empty()) {
      const ConfigNode where = asha.present() ? asha : search.child("scheduler");
      where.fail("no ASHA rung below max_epochs " + std::to_string(s.max_epochs) +
                 " (the first rung is min_epochs * reduction_factor^grace = " +
                 std::to_string(s.min_epochs) + " * " + std::to_string(s.reduction_factor) + "^" +
                 std::to_string(s.grace) + "), so no trial could ever be stopped");
    }
  } else if (s.kind == SchedulerKind::kMedian) {
    const ConfigNode median = search.child("median");
    median.check_keys({"warmup_epochs", "min_trials"});
    const ConfigNode warmup = median.child("warmup_epochs");
    if (warmup.present()) s.warmup_epochs = warmup.as_int64(0, kIntMax);
    // A trial is judged after its warm-up and before its last epoch (stopping at the last one
    // saves nothing), so at least one epoch must lie between.
    if (s.warmup_epochs >= most - 1)
      (warmup.present() ? warmup : search.child("scheduler"))
          .fail("warmup_epochs is " + std::to_string(s.warmup_epochs) +
                ", but no trial trains more than " + most_text +
                " and a trial is judged only after its warm-up and before its last epoch, so "
                "no trial could ever be stopped" +
                (most >= 2 ? " (use at most " + std::to_string(most - 2) + ")" : std::string()));
    const ConfigNode min_trials = median.child("min_trials");
    if (min_trials.present()) s.min_trials = min_trials.as_int64(1, kIntMax);
    // A trial meets at most trials - 1 others.
    if (s.min_trials >= settings.trials)
      (min_trials.present() ? min_trials : search.child("scheduler"))
          .fail("min_trials is " + std::to_string(s.min_trials) + ", but the search runs " +
                std::to_string(settings.trials) +
                " trials, so no trial meets that many others and none could ever be stopped");
  }
}

SearchSettings parse_search(const ConfigNode& search, const TrainConfig& base) {
  search.check_keys(kSearchKeys);
  SearchSettings settings;
  settings.strategy = search.require("strategy").as_choice(kStrategies);

  const ConfigNode space = search.require("space");
  space.check_keys(param_names());
  const std::vector<std::string> names = space.keys();
  if (names.empty())
    space.fail("no parameters to search (give at least one, e.g. learning_rate: [0.001, 0.01])");
  for (const std::string& name : names)
    settings.space.push_back(parse_param(space.child(name), *find_param(name), settings.strategy));
  check_architecture(settings.space, base.model, search.source_name());

  const ConfigNode trials = search.child("trials");
  if (settings.strategy == SearchStrategy::kGrid) {
    const std::optional<int64_t> size = grid_points(settings.space);
    const std::string product = grid_product_text(settings.space, false);
    if (trials.present())
      trials.fail(
          "not used with strategy: grid (the grid size is the product of each parameter's "
          "number of values: " +
          product + ")");
    if (!size) space.fail("the grid has " + product + ": too many to number");
    if (*size > kMaxTrials)
      space.fail("the grid has " + product + "; one search runs at most " +
                 std::to_string(kMaxTrials) + " trials");
    settings.trials = *size;
  } else {
    settings.trials = search.require("trials", " (how many trials the search runs)").as_int64();
    if (settings.trials < 1) trials.fail("must be >= 1, got " + std::to_string(settings.trials));
    if (settings.trials > kMaxTrials)
      trials.fail("must be at most " + std::to_string(kMaxTrials) +
                  " (the most trials one search runs), got " + std::to_string(settings.trials));
  }

  settings.seed = base.seed;
  search.read("seed", settings.seed);
  if (const ConfigNode keep = search.child("keep_weights"); keep.present())
    settings.keep_weights = parse_keep_weights(keep);
  parse_tpe(search, settings);
  parse_scheduler(search, base, settings);
  return settings;
}

/// The value of `spec` for grid coordinate `digit` (0 <= digit < value_count(spec)).
ParamValue grid_value(const ParamSpec& spec, int64_t digit) {
  if (spec.form == ParamForm::kIntUniform) return static_cast<int64_t>(spec.low) + digit;
  return spec.choices[static_cast<std::size_t>(digit)];
}

ParamValue draw(const ParamSpec& spec, Rng& rng) {
  switch (spec.form) {
    case ParamForm::kFixed:
      return spec.choices.at(0);
    case ParamForm::kChoice:
      return spec.choices.at(rng.below(static_cast<uint64_t>(value_count(spec))));
    case ParamForm::kUniform:
      // Clamped: rounding can carry lo + u * (hi - lo) a hair past hi.
      return std::clamp(spec.low + rng.uniform() * (spec.high - spec.low), spec.low, spec.high);
    case ParamForm::kLogUniform: {
      const double log_low = std::log(spec.low);
      const double value = std::exp(log_low + rng.uniform() * (std::log(spec.high) - log_low));
      return std::clamp(value, spec.low, spec.high);
    }
    case ParamForm::kIntUniform:
      return static_cast<int64_t>(spec.low) +
             static_cast<int64_t>(rng.below(static_cast<uint64_t>(value_count(spec))));
  }
  return spec.choices.at(0);
}

// What the search varies of its training config, for check_settings_take_effect.
VariedSettings varied_settings(const std::vector<ParamSpec>& space) {
  VariedSettings varied;
  const auto ranged = [](const ParamSpec& spec) {
    return spec.form != ParamForm::kFixed && spec.form != ParamForm::kChoice;
  };
  for (const ParamSpec& spec : space) {
    varied.searched.push_back(spec.name);
    if (spec.name == "optimizer") {
      for (const ParamValue& v : spec.choices)
        varied.optimizers.push_back(*lookup(optimizer_choices(), std::get<std::string>(v)));
    } else if (spec.name == "hidden") {
      varied.hidden_layer =
          std::any_of(spec.choices.begin(), spec.choices.end(),
                      [](const auto& v) { return !std::get<std::vector<int64_t>>(v).empty(); });
    } else if (spec.name == "layers") {
      varied.hidden_layer = true;  // at least one
    } else if (spec.name == "patience") {
      int64_t least = ranged(spec) ? static_cast<int64_t>(spec.low) : kInt64Max;
      for (const ParamValue& v : spec.choices) least = std::min(least, std::get<int64_t>(v));
      varied.least_patience = least;
    } else if (spec.name == "learning_rate") {
      double largest = ranged(spec) ? spec.high : 0.0;
      for (const ParamValue& v : spec.choices) largest = std::max(largest, std::get<double>(v));
      varied.largest_learning_rate = largest;
    }
  }
  return varied;
}

/// A flat `hidden` list in the space is one fixed architecture (so stored configs that wrote
/// it still load), but for every other parameter `[a, b]` means "choose a or b": with two or
/// more widths the two readings differ, so a config about to run is refused with both spelled
/// out.
void refuse_fixed_hidden(const std::vector<ParamSpec>& space, const KeyLines& lines) {
  for (const ParamSpec& spec : space) {
    if (spec.name != "hidden" || spec.form != ParamForm::kFixed) continue;
    const auto& widths = std::get<std::vector<int64_t>>(spec.choices.at(0));
    if (widths.size() < 2) continue;
    std::string each;
    for (const int64_t width : widths)
      each += (each.empty() ? "[" : ", [") + std::to_string(width) + "]";
    const std::string flat = to_string(spec.choices.at(0));
    lines.fail("search.space.hidden",
               flat +
                   " is one architecture, so the search would not vary capacity (for the "
                   "other parameters a list means choices): write [" +
                   each + "] to choose between one-layer networks, [" + flat +
                   "] to search this architecture alone, or move it to model.hidden");
  }
}

/// A search seeds everything (split, initialization, shuffling, dropout) from search.seed, which
/// defaults to the top-level seed: a different top-level seed beside it would be ignored.
void refuse_unused_seed(const SearchConfig& config, const KeyLines& lines) {
  if (!lines.has("seed") || !lines.has("search.seed") || config.base.seed == config.search.seed)
    return;
  lines.fail("seed", std::to_string(config.base.seed) + " would not be used: search.seed (" +
                         std::to_string(config.search.seed) + ", line " +
                         std::to_string(lines.line("search.seed")) +
                         ") seeds the whole search, its validation split and every trial's "
                         "initialization, shuffling and dropout; remove one of the two or make "
                         "them equal");
}

// check_settings_take_effect for a search, a fixed hidden in the space, a second seed, and TPE's
// random start against the trial count.
void check_search_takes_effect(const SearchConfig& config, const KeyLines& lines) {
  check_settings_take_effect(config.base, lines, varied_settings(config.search.space));
  refuse_fixed_hidden(config.search.space, lines);
  refuse_unused_seed(config, lines);
  const SearchSettings& search = config.search;
  // Li et al.'s R places the rungs; it does not stop a trial, which trains its max_epochs. A
  // user of Ray Tune's max_t expects trials to stop there, so a smaller one is refused.
  const int64_t most = most_epochs(search.space, config.base);
  if (search.scheduler.kind == SchedulerKind::kAsha && search.scheduler.max_epochs < most)
    lines.fail("search.asha.max_epochs",
               "is " + std::to_string(search.scheduler.max_epochs) + ", but trials train up to " +
                   std::to_string(most) +
                   " epochs: ASHA places its rungs below max_epochs and stops no trial at it "
                   "(unlike Ray Tune's max_t); to stop every trial there, set " +
                   (most == config.base.training.max_epochs
                        ? std::string("training.max_epochs")
                        : std::string("the searched max_epochs values")) +
                   " to at most " + std::to_string(search.scheduler.max_epochs) +
                   ", and leave this out");
  if (search.strategy == SearchStrategy::kTpe && search.tpe.startup_trials >= search.trials)
    lines.fail("search.tpe.startup_trials",
               "TPE draws its first " + std::to_string(search.tpe.startup_trials) +
                   " trials at random (startup_trials), and the search runs " +
                   std::to_string(search.trials) +
                   ", so no trial would be a TPE draw: use strategy: random, or set "
                   "startup_trials below " +
                   std::to_string(search.trials));
}

}  // namespace

SearchConfig parse_search_config(const std::string& yaml_text, const std::string& source_name,
                                 const std::string& base_dir, DataFiles files,
                                 UnusedSettings unused) {
  const YAML::Node root = parse_yaml(yaml_text, source_name);
  // Indexing every key first also refuses a recursive or exploding document before anything
  // walks it.
  const KeyLines lines(root, source_name);
  SearchConfig config;
  config.base = parse_train_config_node(root, lines, base_dir, {"search"}, files);
  config.base.text = yaml_text;
  const ConfigNode top(root, source_name);
  config.search = parse_search(
      top.require("search", " (a search config is a training config plus a search: block)"),
      config.base);
  if (unused == UnusedSettings::kRefuse) check_search_takes_effect(config, lines);
  return config;
}

SearchConfig load_search_config(const std::string& path, UnusedSettings unused) {
  return parse_search_config(read_config_file(path), path, config_dir_of(path), DataFiles::kCheck,
                             unused);
}

const char* to_string(SearchStrategy strategy) {
  switch (strategy) {
    case SearchStrategy::kGrid:
      return "grid";
    case SearchStrategy::kRandom:
      return "random";
    case SearchStrategy::kTpe:
      return "tpe";
  }
  return "?";
}

std::optional<TpeRanking> tpe_ranking_named(const std::string& name) {
  return lookup(kTpeRankings, name);
}

const char* to_string(TpeRanking ranking) {
  switch (ranking) {
    case TpeRanking::kFinishedFirst:
      return "finished_first";
    case TpeRanking::kEqualBudget:
      return "equal_budget";
  }
  return "?";
}

bool takes_effect(const std::vector<ParamAssignment>& values, const std::string& name) {
  if (name != "momentum") return true;
  for (const auto& [drawn, value] : values)
    if (drawn == "optimizer" && std::holds_alternative<std::string>(value))
      return uses_momentum(value);
  return true;  // a fixed optimizer: the config check saw to it that it is momentum
}

int64_t most_epochs(const SearchConfig& config) {
  return most_epochs(config.search.space, config.base);
}

std::optional<int64_t> grid_points(const std::vector<ParamSpec>& space, bool every_point) {
  return grid_size(grid_axes(space, every_point));
}

void keep_every_grid_point(SearchSettings& search) {
  if (search.strategy != SearchStrategy::kGrid) return;
  search.grid_every_point = true;
  search.trials = trial_count(search);
}

namespace {

/// The axes of a grid search; none for the other strategies.
std::vector<GridAxis> axes_of(const SearchSettings& search) {
  if (search.strategy != SearchStrategy::kGrid) return {};
  return grid_axes(search.space, search.grid_every_point);
}

/// trial_count() of a search whose axes_of() are `axes`.
int64_t trial_count(const SearchSettings& search, const std::vector<GridAxis>& axes) {
  if (search.strategy != SearchStrategy::kGrid) return search.trials;
  const std::optional<int64_t> size = grid_size(axes);
  if (!size) throw std::overflow_error("trial_count(): the grid has more than 2^63 - 1 points");
  return *size;
}

}  // namespace

int64_t trial_count(const SearchSettings& search) { return trial_count(search, axes_of(search)); }

std::vector<ParamAssignment> trial_values(const SearchSettings& search, int64_t id) {
  const std::vector<GridAxis> axes = axes_of(search);
  const int64_t count = trial_count(search, axes);
  if (id < 0 || id >= count)
    throw std::out_of_range("trial_values(): trial id " + std::to_string(id) + " is outside [0, " +
                            std::to_string(count) + ")");
  if (search.strategy != SearchStrategy::kGrid) return random_values(search.space, search.seed, id);
  // Mixed radix, last axis fastest: fill from the back, then the order is the space's.
  std::vector<int64_t> digits(search.space.size(), 0);
  int64_t rest = id;
  for (std::size_t a = axes.size(); a-- > 0;) {
    const GridAxis& axis = axes[a];
    const int64_t digit = rest % axis.size;
    rest /= axis.size;
    if (axis.specs.size() == 1) {
      digits[axis.specs[0]] = digit;
    } else {
      digits[axis.specs[0]] = axis.pairs[static_cast<std::size_t>(digit)].first;
      digits[axis.specs[1]] = axis.pairs[static_cast<std::size_t>(digit)].second;
    }
  }
  std::vector<ParamAssignment> values;
  values.reserve(search.space.size());
  for (std::size_t i = 0; i < search.space.size(); ++i)
    values.emplace_back(search.space[i].name, grid_value(search.space[i], digits[i]));
  return values;
}

std::vector<ParamAssignment> random_values(const std::vector<ParamSpec>& space, uint64_t seed,
                                           int64_t id) {
  std::vector<ParamAssignment> values;
  values.reserve(space.size());
  Rng rng(derive_seed(derive_seed(seed, SeedStream::kTrialSample), static_cast<uint64_t>(id)));
  for (const ParamSpec& spec : space) values.emplace_back(spec.name, draw(spec, rng));
  return values;
}

TrialAssignment make_trial(const SearchConfig& config, int64_t id) {
  return make_trial(config, id, trial_values(config.search, id));
}

TrialAssignment make_trial(const SearchConfig& config, int64_t id,
                           const std::vector<ParamAssignment>& values) {
  const TrainConfig& base = config.base;
  TrialAssignment trial;
  trial.trial_id = id;
  trial.seed = derive_seed(derive_seed(config.search.seed, SeedStream::kTrialSeed),
                           static_cast<uint64_t>(id));
  trial.model = base.model;
  trial.training = base.training;
  trial.early_stopping = base.early_stopping;
  trial.report_epochs = config.search.scheduler.kind != SchedulerKind::kNone;

  ModelConfig& model = trial.model;
  TrainingConfig& training = trial.training;
  std::optional<int64_t> layers, units;
  bool has_hidden = false;
  for (const auto& [name, value] : values) {
    // Specs built by hand skip the parser's checks; a bad value must not reach a worker.
    const ParamDef* def = find_param(name);
    const auto fail = [&](const std::string& problem) {
      const ParamSpec* spec = find_spec(config.search.space, name);
      throw_config_error(base.source_name, spec ? spec->line : 0, "search.space." + name,
                         "trial " + std::to_string(id) + ": " + problem);
    };
    if (!def) fail("unknown parameter");
    if (const std::string problem = value_problem(*def, value); !problem.empty()) fail(problem);

    if (name == "hidden") {
      const auto& widths = std::get<std::vector<int64_t>>(value);
      model.hidden.assign(widths.begin(), widths.end());
      has_hidden = true;
    } else if (name == "layers") {
      layers = std::get<int64_t>(value);
    } else if (name == "units") {
      units = std::get<int64_t>(value);
    } else if (name == "learning_rate") {
      training.optimizer.learning_rate = std::get<double>(value);
    } else if (name == "batch_size") {
      training.batch_size = static_cast<Index>(std::get<int64_t>(value));
    } else if (name == "dropout") {
      model.dropout = std::get<double>(value);
    } else if (name == "l1") {
      training.l1 = std::get<double>(value);
    } else if (name == "l2") {
      training.l2 = std::get<double>(value);
    } else if (name == "optimizer") {
      training.optimizer.kind = *lookup(optimizer_choices(), std::get<std::string>(value));
    } else if (name == "activation") {
      // model.init stays as the base gives it: unset, initialization() follows the activation.
      model.activation = *lookup(activation_choices(), std::get<std::string>(value));
    } else if (name == "momentum") {
      training.optimizer.momentum = std::get<double>(value);
    } else if (name == "max_epochs") {
      training.max_epochs = static_cast<int>(std::get<int64_t>(value));
    } else if (name == "patience") {
      trial.early_stopping.patience = static_cast<int>(std::get<int64_t>(value));
    }
    if ((layers || units) && has_hidden) fail("hidden cannot be combined with layers or units");
  }

  if (layers || units) {
    if ((!layers || !units) && base.model.hidden.empty())
      throw_config_error(base.source_name, 0,
                         "search.space." + std::string(layers ? "layers" : "units"),
                         "model.hidden is empty, so layers and units must both be searched");
    const int64_t count = layers ? *layers : static_cast<int64_t>(base.model.hidden.size());
    const Index width = units ? static_cast<Index>(*units) : base.model.hidden.front();
    model.hidden.assign(static_cast<std::size_t>(count), width);
  }
  return trial;
}

}  // namespace hps
