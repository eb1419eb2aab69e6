#include "core/results_file.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <set>
#include <stdexcept>
#include <utility>

#include "core/early_stopping.hpp"
#include "core/mlp.hpp"
#include "core/model_io.hpp"
#include "core/output_path.hpp"
#include "core/version.hpp"
#include "core/yaml_util.hpp"

namespace hps {
namespace {

constexpr const char* kFormat = "hpsearch-search";
constexpr int64_t kFormatVersion = 1;
constexpr hsize_t kSummaryChunkRows = 64;
constexpr std::size_t kStatusBytes = 16;
constexpr std::size_t kNameBytes = 16;    // optimizer, activation
constexpr std::size_t kLayersBytes = 64;  // hidden, unless a choice needs more

// How a searched hyperparameter is stored in /summary.
enum class ParamKind { kReal, kInteger, kName, kLayers };

struct ParamColumn {
  const char* name;
  ParamKind kind;
};

constexpr ParamColumn kParamColumns[] = {
    {"learning_rate", ParamKind::kReal},
    {"dropout", ParamKind::kReal},
    {"l1", ParamKind::kReal},
    {"l2", ParamKind::kReal},
    {"momentum", ParamKind::kReal},
    {"batch_size", ParamKind::kInteger},
    {"layers", ParamKind::kInteger},
    {"units", ParamKind::kInteger},
    {"max_epochs", ParamKind::kInteger},
    {"patience", ParamKind::kInteger},
    {"optimizer", ParamKind::kName},
    {"activation", ParamKind::kName},
    {"hidden", ParamKind::kLayers},
};

ParamKind param_kind(const std::string& name) {
  for (const ParamColumn& column : kParamColumns) {
    if (name == column.name) return column.kind;
  }
  throw std::invalid_argument("ResultsWriter: unknown hyperparameter '" + name + "'");
}

// "[256, 128]", the form the hidden column stores and the reader parses back.
std::string format_layers(const std::vector<int64_t>& widths) {
  std::string text = "[";
  for (std::size_t i = 0; i < widths.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(widths[i]);
  }
  return text + "]";
}

// Parses "[256, 128]"; nullopt when `text` is not such a list.
std::optional<std::vector<int64_t>> parse_layers(const std::string& text) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') return std::nullopt;
  std::vector<int64_t> widths;
  const std::string inner = text.substr(1, text.size() - 2);
  if (inner.find_first_not_of(' ') == std::string::npos) return widths;
  const char* cursor = inner.c_str();
  while (true) {
    char* end = nullptr;
    errno = 0;
    const long long value = std::strtoll(cursor, &end, 10);
    if (end == cursor || errno != 0) return std::nullopt;
    widths.push_back(value);
    while (*end == ' ') ++end;
    if (*end == '\0') return widths;
    if (*end != ',') return std::nullopt;
    cursor = end + 1;
  }
}

// A value for messages, doubles in full (core/trial's to_string rounds them to 6 digits).
std::string describe(const ParamValue& value) {
  if (const auto* real = std::get_if<double>(&value)) return number_text(*real);
  if (const auto* integer = std::get_if<int64_t>(&value)) return std::to_string(*integer);
  if (const auto* name = std::get_if<std::string>(&value)) return "'" + *name + "'";
  return format_layers(std::get<std::vector<int64_t>>(value));
}

// Why trial group `group` disagrees with its /summary row about searched hyperparameter
// `param` (empty when it agrees). The group records what the trial trained with; the row is
// what a resumed TPE learns from, so the two must say the same.
std::string param_disagreement(const h5::Group& group, const ParamAssignment& param) {
  const auto& [name, value] = param;
  const std::string says = ", its /summary row says " + describe(value);
  if (!group.has_attribute(name))
    return group.describe() + ": has no attribute '" + name + "'" + says;
  constexpr int64_t kExactInDouble = int64_t{1} << 53;
  ParamValue stored;
  try {
    if (std::holds_alternative<std::string>(value)) {
      stored = group.read_attribute<std::string>(name);
    } else if (std::holds_alternative<std::vector<int64_t>>(value)) {
      stored = group.read_attribute<std::vector<int64_t>>(name);
    } else if (const auto* integer = std::get_if<int64_t>(&value);
               integer && (*integer > kExactInDouble || *integer < -kExactInDouble)) {
      stored = group.read_attribute<int64_t>(name);  // past the integers doubles hold exactly
    } else {
      // Numbers compare as numbers: an integer written as a double is the same value.
      const double number = group.read_attribute<double>(name);
      if (number == (integer ? static_cast<double>(*integer) : std::get<double>(value))) return "";
      const bool whole = std::trunc(number) == number && std::abs(number) < 0x1p63;
      stored = integer && whole ? ParamValue(static_cast<int64_t>(number)) : ParamValue(number);
    }
  } catch (const h5::Error& e) {  // another type or shape
    return e.what() + says;
  }
  if (stored == value) return "";
  return group.describe() + ": attribute '" + name + "' is " + describe(stored) + says;
}

// The file's resume count, and why resuming cannot add one to it (empty when it can).
std::pair<int64_t, std::string> resume_count(const h5::Group& root) {
  const auto resumes = root.read_attribute<int64_t>("resumes");
  const std::string is = root.describe() + ": attribute 'resumes' is " + std::to_string(resumes);
  if (resumes < 0) return {resumes, is + ", not a count"};
  if (resumes == std::numeric_limits<int64_t>::max())
    return {resumes, is + ", the most resumes a file can count"};
  return {resumes, ""};
}

// The root attributes a search's config decides, as the writer records them.
struct DecidedAttributes {
  std::vector<std::pair<std::string, std::string>> text;
  std::vector<std::pair<std::string, int64_t>> integers;
};

DecidedAttributes decided_attributes(const SearchConfig& config) {
  const Task task = config.base.data.task;
  const EarlyStoppingConfig& stopping = config.base.early_stopping;
  return {{{"strategy", to_string(config.search.strategy)},
           {"scheduler", to_string(config.search.scheduler.kind)},
           {"task", task_name(task)},
           {"metric", metric_name(task)},
           {"monitor", monitor_name(stopping.monitor)},
           {"monitor_mode", maximizes(stopping) ? "max" : "min"}},
          {{"seed", static_cast<int64_t>(config.search.seed)},
           {"trials_total", config.search.trials},
           {"keep_weights", config.search.keep_weights}}};
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

std::string trial_path(int64_t id) { return "/trials/" + std::to_string(id); }

// The root attribute of a working copy (<path>.live) whose trials could not be published as
// <path>: its value is <path>.
constexpr const char* kUnpublished = "unpublished";

// A value for messages, in six significant digits: 3e-07, 0.93, nan.
std::string short_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

// The trial id a /trials/<id> group is named after; -1 for a name that is no id as hpsearch
// writes them ("007" is not trial 7's: with both, resume would count trial 7 twice).
int64_t trial_id_of(const std::string& name) {
  if (name.empty() || name.size() > 18 ||
      name.find_first_not_of("0123456789") != std::string::npos ||
      (name.size() > 1 && name[0] == '0'))
    return -1;
  return std::stoll(name);
}

// The one ranking rule, for trials being recorded, resumed and read: a trial ranks when it
// finished well (completed, early stopped or pruned) with a finite monitored value.
bool ranks_well(const std::string& status, double value) {
  return (status == to_string(TrialStatus::kCompleted) ||
          status == to_string(TrialStatus::kEarlyStopped) ||
          status == to_string(TrialStatus::kPruned)) &&
         std::isfinite(value);
}

bool is_ranked(const TrialOutcome& outcome) {
  return ranks_well(to_string(outcome.status), outcome.best_value);
}

// The history record of epoch `epoch`, if there is one.
const EpochRecord* find_epoch(const History& history, int64_t epoch) {
  for (const EpochRecord& record : history.epochs) {
    if (record.epoch == epoch) return &record;
  }
  return nullptr;
}

// Where a trial group's best epoch and value disagree with its own history or its /summary
// row `row` (read from the same trial), as the writer records them: the best epoch is the last
// one whose monitored value improved (early stopping's rule, which `watch` configures), the
// group's best_value and the row's best_val_* are that epoch's values, and no epoch improves
// on it. A resume ranks trials and replays TPE and the schedulers from these, so a file that
// was edited to disagree would carry the edit on silently.
std::vector<std::string> best_epoch_problems(const h5::Group& group, const SummaryRow& row,
                                             const History& history,
                                             const EarlyStoppingConfig& watch,
                                             const std::string& metric) {
  std::vector<std::string> problems;
  const std::string says = ", its /summary row says ";
  const auto same = [](double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); };
  const auto best_epoch = group.read_attribute<int64_t>("best_epoch");
  if (best_epoch != row.best_epoch) {
    problems.push_back(group.describe() + ": attribute 'best_epoch' is " +
                       std::to_string(best_epoch) + says + std::to_string(row.best_epoch));
    return problems;
  }
  const bool by_loss = watch.monitor == Monitor::kValLoss;
  const std::string val_metric = "val_" + metric;
  const std::string monitored = by_loss ? std::string("val_loss") : val_metric;
  const auto best_value = group.read_attribute<double>("best_value");
  for (std::size_t i = 0; i < history.epochs.size(); ++i) {
    const EpochRecord& e = history.epochs[i];
    if (e.epoch != static_cast<int>(i)) {
      problems.push_back(group.describe("history") + ": entry " + std::to_string(i) + " is epoch " +
                         std::to_string(e.epoch) + ", not " + std::to_string(i));
      return problems;
    }
  }
  if (row.best_epoch < 0) {
    // No epoch improved on the start (every one diverged or failed), so there are no values.
    if (!std::isnan(row.best_val_loss) || !std::isnan(row.best_val_metric))
      problems.push_back(group.describe() + ": no best epoch, but its /summary row has best " +
                         "values (" + number_text(row.best_val_loss) + ", " +
                         number_text(row.best_val_metric) + ")");
  } else {
    const EpochRecord* best = find_epoch(history, row.best_epoch);
    if (best == nullptr) return problems;  // summary_problems names a best epoch past the end
    const double at_best = by_loss ? best->val_loss : best->val_metric;
    if (!same(best_value, at_best))
      problems.push_back(group.describe() + ": attribute 'best_value' is " +
                         number_text(best_value) + ", its history's " + monitored +
                         " at best epoch " + std::to_string(row.best_epoch) + " is " +
                         number_text(at_best));
    const std::pair<std::string, std::pair<double, double>> columns[] = {
        {"val_loss", {best->val_loss, row.best_val_loss}},
        {val_metric, {best->val_metric, row.best_val_metric}}};
    for (const auto& [name, values] : columns)
      if (!same(values.first, values.second))
        problems.push_back(group.describe("history") + ": epoch " + std::to_string(row.best_epoch) +
                           " has " + name + " " + number_text(values.first) +
                           ", its /summary row's best_" + name + " is " +
                           number_text(values.second));
  }
  // The best epoch as the trainer finds it: every epoch through early stopping's rule but a
  // diverged one (its validation loss not finite), which ends the trial without being judged.
  EarlyStopping tracker(watch);
  for (const EpochRecord& e : history.epochs)
    if (std::isfinite(e.val_loss)) tracker.update(e.epoch, by_loss ? e.val_loss : e.val_metric);
  if (tracker.best_epoch() != row.best_epoch) {
    const std::string at = group.describe("history") + ": ";
    if (tracker.best_epoch() < 0)
      problems.push_back(at + "no epoch improves on the start, yet the trial records best epoch " +
                         std::to_string(row.best_epoch));
    else if (row.best_epoch < 0 || improves(tracker.best_value(), best_value, maximizes(watch), 0))
      problems.push_back(at + "epoch " + std::to_string(tracker.best_epoch()) + " has " +
                         monitored + " " + number_text(tracker.best_value()) +
                         (row.best_epoch < 0
                              ? ", but the trial records no best epoch"
                              : ", better than the best epoch's " + number_text(best_value) +
                                    " (epoch " + std::to_string(row.best_epoch) + ")"));
    else
      problems.push_back(at + "early stopping's rule makes epoch " +
                         std::to_string(tracker.best_epoch()) + " (" + monitored + " " +
                         number_text(tracker.best_value()) + ") the best, not the recorded epoch " +
                         std::to_string(row.best_epoch) + " (" + number_text(best_value) + ")");
  }
  return problems;
}

// The fixed /summary columns before the hyperparameters...
std::vector<h5::Column> leading_columns() {
  return {{"trial", h5::ColumnType::kInt64}, {"status", h5::ColumnType::kString, kStatusBytes}};
}

// ...and after them; `metric` is accuracy or mae.
std::vector<h5::Column> trailing_columns(const std::string& metric) {
  using h5::ColumnType;
  return {
      {"best_epoch", ColumnType::kInt64},         {"epochs_run", ColumnType::kInt64},
      {"best_val_loss", ColumnType::kFloat64},    {"best_val_" + metric, ColumnType::kFloat64},
      {"final_train_loss", ColumnType::kFloat64}, {"final_train_" + metric, ColumnType::kFloat64},
      {"seconds", ColumnType::kFloat64},          {"rank", ColumnType::kInt64},
      {"test_loss", ColumnType::kFloat64},        {"test_" + metric, ColumnType::kFloat64},
      {"finished_at", ColumnType::kFloat64},      {"rung", ColumnType::kInt64}};
}

h5::Column param_column(const ParamSpec& spec) {
  switch (param_kind(spec.name)) {
    case ParamKind::kReal:
      return {spec.name, h5::ColumnType::kFloat64};
    case ParamKind::kInteger:
      return {spec.name, h5::ColumnType::kInt64};
    case ParamKind::kName:
      return {spec.name, h5::ColumnType::kString, kNameBytes};
    case ParamKind::kLayers:
      break;
  }
  std::size_t size = kLayersBytes;
  for (const ParamValue& choice : spec.choices) {
    if (const auto* widths = std::get_if<std::vector<int64_t>>(&choice)) {
      size = std::max(size, format_layers(*widths).size());
    }
  }
  return {spec.name, h5::ColumnType::kString, size};
}

// Stores `value` of hyperparameter `name` in its column, converting an integer given for a
// real and an integral real given for an integer.
void set_param(h5::TableRows& row, const std::string& name, const ParamValue& value,
               int64_t trial) {
  const ParamKind kind = param_kind(name);
  auto wrong = [&](const char* expected) {
    return std::invalid_argument("ResultsWriter::add(): trial " + std::to_string(trial) +
                                 ": hyperparameter '" + name + "' is " + describe(value) +
                                 ", expected " + expected);
  };
  switch (kind) {
    case ParamKind::kReal:
      if (const auto* real = std::get_if<double>(&value)) return row.set(0, name, *real);
      if (const auto* integer = std::get_if<int64_t>(&value)) {
        return row.set(0, name, static_cast<double>(*integer));
      }
      throw wrong("a number");
    case ParamKind::kInteger:
      if (const auto* integer = std::get_if<int64_t>(&value)) return row.set(0, name, *integer);
      if (const auto* real = std::get_if<double>(&value)) {
        if (std::isfinite(*real) && std::trunc(*real) == *real && std::abs(*real) < 1e18) {
          return row.set(0, name, static_cast<int64_t>(*real));
        }
      }
      throw wrong("an integer");
    case ParamKind::kName:
      if (const auto* text = std::get_if<std::string>(&value)) return row.set(0, name, *text);
      throw wrong("a name");
    case ParamKind::kLayers:
      if (const auto* widths = std::get_if<std::vector<int64_t>>(&value)) {
        return row.set(0, name, format_layers(*widths));
      }
      throw wrong("a list of layer widths");
  }
}

void write_hyperparameters(h5::Group& group, const TrialAssignment& trial,
                           const std::vector<ParamAssignment>& params) {
  const ModelConfig& model = trial.model;
  const TrainingConfig& training = trial.training;
  group.write_attribute("learning_rate", training.optimizer.learning_rate);
  group.write_attribute("batch_size", static_cast<int64_t>(training.batch_size));
  group.write_attribute("dropout", model.dropout);
  group.write_attribute("l1", training.l1);
  group.write_attribute("l2", training.l2);
  group.write_attribute("optimizer", to_string(training.optimizer.kind));
  group.write_attribute("activation", to_string(model.activation));
  group.write_attribute("momentum", training.optimizer.momentum);
  group.write_attribute("max_epochs", static_cast<int64_t>(training.max_epochs));
  group.write_attribute("patience", static_cast<int64_t>(trial.early_stopping.patience));
  group.write_attribute("hidden", std::vector<int64_t>(model.hidden.begin(), model.hidden.end()));
  // Searched parameters the settings above do not name (layers, units) as sampled.
  for (const auto& [name, value] : params) {
    if (group.has_attribute(name)) continue;
    std::visit([&](const auto& v) { group.write_attribute(name, v); }, value);
  }
}

}  // namespace

// ---- ResultsWriter

struct ResultsWriter::Impl {
  struct Ranked {
    double value;
    int64_t id;
  };

  h5::File file;
  h5::Group root;
  h5::TableLayout summary_layout;
  std::vector<std::string> searched;  // hyperparameter names, in space order
  Task task;
  std::string metric;
  bool maximize;
  int64_t keep_weights;
  Scaler scaler;
  std::vector<std::string> feature_names;
  Index num_features;
  Index num_outputs;
  int num_classes;
  std::vector<Ranked> ranked;  // every ranking trial, best first
  std::optional<int64_t> best;
  std::vector<int64_t> recorded;  // every recorded trial, in arrival order
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  double elapsed_before = 0.0;  // search time recorded before a resume (largest finished_at)

  std::string published;  // <path>: always a complete file
  std::string working;    // <path>.live: the file being written
  bool dirty = false;     // changes not yet published
  std::chrono::steady_clock::time_point last_publish;
  PublishPace pace;

  Impl(h5::File opened, const SearchConfig& config, const Scaler& scaler_, Index features,
       Index outputs, int classes)
      : file(std::move(opened)),
        root(file.root()),
        task(config.base.data.task),
        metric(metric_name(task)),
        maximize(maximizes(config.base.early_stopping)),
        keep_weights(config.search.keep_weights),
        scaler(scaler_),
        num_features(features),
        num_outputs(outputs),
        num_classes(classes) {}

  bool better(const Ranked& a, const Ranked& b) const {
    if (a.value != b.value) return maximize ? a.value > b.value : a.value < b.value;
    return a.id < b.id;
  }

  bool keeps(std::size_t position) const {
    return keep_weights < 0 || position < static_cast<std::size_t>(keep_weights);
  }

  Mlp network(const TrialAssignment& trial, const Vector& weights) const {
    MlpShape shape{num_features, trial.model.hidden, num_outputs, trial.model.activation};
    Mlp model(shape);
    if (weights.size() != model.num_parameters()) {
      throw std::invalid_argument("ResultsWriter::add(): trial " + std::to_string(trial.trial_id) +
                                  " has " + std::to_string(weights.size()) +
                                  " weights, but its network has " +
                                  std::to_string(model.num_parameters()) + " parameters");
    }
    model.parameters() = weights;
    return model;
  }
};

namespace {

// `message` with every mention of the working copy `working` replaced by the user's file
// `path`: a resume that fails removes the working copy, so an error must not send the user to it.
std::string naming_the_users_file(std::string message, const std::string& working,
                                  const std::string& path) {
  for (std::size_t at = message.find(working); at != std::string::npos;
       at = message.find(working, at + path.size())) {
    message.replace(at, working.size(), path);
  }
  return message;
}

void check_sizes(const std::string& path, const Scaler& scaler, Index num_features,
                 Index num_outputs) {
  if (num_features < 1 || num_outputs < 1) {
    throw std::invalid_argument("ResultsWriter: " + path + ": models need inputs and outputs (" +
                                std::to_string(num_features) + " features, " +
                                std::to_string(num_outputs) + " outputs)");
  }
  if (scaler.offset.size() != 0 && scaler.offset.size() != num_features) {
    throw std::invalid_argument("ResultsWriter: " + path + ": the scaler has " +
                                std::to_string(scaler.offset.size()) + " entries for " +
                                std::to_string(num_features) + " features");
  }
}

// The /summary columns for `config`'s search space, and the searched names in order.
std::pair<h5::TableLayout, std::vector<std::string>> summary_layout_for(
    const SearchConfig& config) {
  std::vector<h5::Column> columns = leading_columns();
  std::vector<std::string> searched;
  for (const ParamSpec& spec : config.search.space) {
    columns.push_back(param_column(spec));
    searched.push_back(spec.name);
  }
  for (h5::Column& column : trailing_columns(metric_name(config.base.data.task)))
    columns.push_back(std::move(column));
  return {h5::TableLayout(std::move(columns)), std::move(searched)};
}

}  // namespace

ResultsWriter::ResultsWriter(const std::string& path, const SearchConfig& config, int ranks,
                             const Scaler& scaler, Index num_features, Index num_outputs,
                             int num_classes, const std::string& data_fingerprint,
                             std::vector<std::string> feature_names, bool replace) {
  check_sizes(path, scaler, num_features, num_outputs);
  if (!replace && std::filesystem::exists(path))
    throw h5::Error(path + ": already exists; a result file is never replaced by a new search");
  auto [layout, searched] = summary_layout_for(config);
  const std::string working = path + ".live";
  remove_leftover_working_file(working);  // left by a killed search: <path> is what counts
  impl_ = std::make_unique<Impl>(h5::File::create(working, h5::FileLocking::kOff), config, scaler,
                                 num_features, num_outputs, num_classes);
  impl_->feature_names = std::move(feature_names);
  impl_->summary_layout = std::move(layout);
  impl_->searched = std::move(searched);
  impl_->published = path;
  impl_->working = working;

  h5::Group& root = impl_->root;
  root.write_attribute("format", kFormat);
  root.write_attribute("format_version", kFormatVersion);
  root.write_attribute("hpsearch_version", kVersion);
  root.write_attribute("config", config.base.text);
  // Relative data paths in the config are relative to its directory; evaluate needs it.
  std::filesystem::path config_dir;
  if (!config.base.source_name.empty()) {
    config_dir =
        std::filesystem::absolute(config_dir_of(config.base.source_name)).lexically_normal();
    if (!config_dir.has_filename()) config_dir = config_dir.parent_path();  // "/work/" of "."
  }
  root.write_attribute("config_dir", config_dir.string());
  const DecidedAttributes decided = decided_attributes(config);
  for (const auto& [name, value] : decided.text) root.write_attribute(name, value);
  for (const auto& [name, value] : decided.integers) root.write_attribute(name, value);
  if (config.search.strategy == SearchStrategy::kTpe)
    root.write_attribute("tpe_ranking", to_string(config.search.tpe.ranking));
  root.write_attribute("ranks", int64_t{ranks});
  root.write_attribute("data_fingerprint", data_fingerprint);
  root.write_attribute("start_time", utc_now());
  root.write_attribute("end_time", "");
  root.write_attribute("status", "running");
  root.write_attribute("resumes", int64_t{0});
  root.write_attribute("unfinished_trials", std::vector<int64_t>{});
  root.write_attribute("coordinator_cpu_share", std::numeric_limits<double>::quiet_NaN());
  root.create_table("summary", impl_->summary_layout, kSummaryChunkRows);
  root.create_group("trials");
  publish(true);
}

std::unique_ptr<ResultsWriter> ResultsWriter::resume(const std::string& path,
                                                     const SearchConfig& config, int ranks,
                                                     const Scaler& scaler, Index num_features,
                                                     Index num_outputs, int num_classes,
                                                     std::vector<std::string> feature_names) {
  check_sizes(path, scaler, num_features, num_outputs);
  auto [layout, searched] = summary_layout_for(config);
  const std::string working = path + ".live";
  copy_to_new_file(path, working);
  // The copy has the file's mode; a file made read-only (0444) is still resumed, by rename,
  // so its working copy must open for writing.
  std::error_code mode_error;
  std::filesystem::permissions(working, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add, mode_error);
  std::unique_ptr<ResultsWriter> writer(new ResultsWriter());
  try {
    writer->impl_ = std::make_unique<Impl>(h5::File::open(working, true, h5::FileLocking::kOff),
                                           config, scaler, num_features, num_outputs, num_classes);
    Impl& s = *writer->impl_;
    s.feature_names = std::move(feature_names);
    s.summary_layout = std::move(layout);
    s.searched = std::move(searched);
    s.published = path;
    s.working = working;

    // A trial is recorded once its /summary row is, the last thing add() writes. A trial group
    // without one was cut short (by a failed write, or a kill while the file was published) and
    // is removed, so that the trial runs again.
    const h5::TableRows summary = s.root.read_table("summary");
    // Rewritten as a new search creates it, so that it takes appended rows even after a tool
    // rewrote it (h5py's f["summary"] = rows gives contiguous storage, which cannot grow, or
    // narrower column types): the columns are this config's (resume_problems checks).
    s.root.delete_link("summary");
    s.root.create_table("summary", s.summary_layout, kSummaryChunkRows);
    s.root.append_rows("summary", summary);
    std::vector<int64_t> in_summary(summary.size());
    for (std::size_t i = 0; i < summary.size(); ++i) in_summary[i] = summary.get_int64(i, "trial");
    std::sort(in_summary.begin(), in_summary.end());
    // Ranking and /best carry on from the recorded trials.
    h5::Group trials = s.root.open_group("trials");
    for (const std::string& name : trials.children()) {
      const int64_t named = trial_id_of(name);
      if (named < 0) continue;  // not a trial's
      if (!std::binary_search(in_summary.begin(), in_summary.end(), named)) {
        trials.delete_link(name);
        continue;
      }
      const h5::Group g = trials.open_group(name);
      const auto id = g.read_attribute<int64_t>("trial");
      const auto status = g.read_attribute<std::string>("status");
      const auto value = g.read_attribute<double>("best_value");
      s.recorded.push_back(id);
      if (g.has_attribute("finished_at"))
        s.elapsed_before = std::max(s.elapsed_before, g.read_attribute<double>("finished_at"));
      if (ranks_well(status, value)) s.ranked.push_back({value, id});
    }
    std::sort(s.recorded.begin(), s.recorded.end());
    std::sort(s.ranked.begin(), s.ranked.end(),
              [&s](const Impl::Ranked& a, const Impl::Ranked& b) { return s.better(a, b); });
    if (!s.ranked.empty()) s.best = s.ranked.front().id;

    const auto [resumes, problem] = resume_count(s.root);
    if (!problem.empty()) throw h5::Error(problem);
    // A working copy copied over <path> by hand keeps the mark; this search publishes anew.
    if (s.root.has_attribute(kUnpublished)) s.root.delete_attribute(kUnpublished);
    s.root.write_attribute("status", "running");
    s.root.write_attribute("end_time", "");
    s.root.write_attribute("ranks", int64_t{ranks});
    s.root.write_attribute("resumes", resumes + 1);
    s.root.write_attribute("unfinished_trials", std::vector<int64_t>{});
    writer->publish(true);
  } catch (...) {
    // Nothing of a resume that failed on the way reaches <path>: the working copy goes
    // unpublished (the destructor would publish it), and an HDF5 error names <path>.
    writer->impl_.reset();
    std::error_code ignored;
    std::filesystem::remove(working, ignored);
    try {
      throw;
    } catch (const h5::Error& e) {
      throw h5::Error(naming_the_users_file(e.what(), working, path));
    }
  }
  return writer;
}

ResultsWriter::~ResultsWriter() {
  if (!impl_) return;
  // Ending without finish() (an error on the way): publish what there is, keep <path>.
  try {
    publish(true);
    return;
  } catch (...) {
  }
  // <path> could not take them: the newest trials are in <path>.live alone, which says so,
  // so that no later run of this output takes it for a killed search's leftover and discards
  // it (unpublished_trials).
  try {
    impl_->root.write_attribute(kUnpublished, impl_->published);
  } catch (...) {
  }
}

std::optional<std::size_t> unpublished_trials(const std::string& path) {
  const std::string working = path + ".live";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(working, ec)) return std::nullopt;
  std::size_t kept = 0;
  try {
    const ResultsReader live(working);
    if (!live.has_attribute(kUnpublished)) return std::nullopt;  // a killed search's
    kept = live.summary().size();
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable: what a killed writer can leave
  }
  try {
    if (std::filesystem::exists(path, ec) && ResultsReader(path).summary().size() >= kept)
      return std::nullopt;  // copied over <path> already
  } catch (const std::exception&) {
    // <path> is no result file (a directory took its place): the trials are only in .live
  }
  return kept;
}

void ResultsWriter::publish(bool force) {
  Impl& s = *impl_;
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  if (!force && (!s.dirty || started - s.last_publish < s.pace.interval())) return;
  s.file.flush();
  const std::string tmp = s.published + ".tmp";
  // No fsync: the copy and rename protect against the job being killed at any moment (the
  // kernel keeps what was written); fsync would add protection against the machine itself
  // crashing, but on a 100 MB file it was measured to stall the coordinator for seconds.
  copy_to_new_file(s.working, tmp);
  std::error_code ec;
  std::filesystem::rename(tmp, s.published, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    // After a first publish, <path>.live holds every trial recorded so far, and an error ends
    // the search without removing it; before one, <path> itself is all there is.
    const bool published_before = s.last_publish != Clock::time_point{};
    throw std::runtime_error("cannot replace '" + s.published +
                             "' with the newest results: " + ec.message() +
                             (published_before ? "; they are kept in '" + s.working +
                                                     "' (a result file: copy it over '" +
                                                     s.published + "' once that can be written)"
                                               : std::string()));
  }
  s.dirty = false;
  s.last_publish = Clock::now();
  s.pace.record(s.last_publish - started);
}

void ResultsWriter::publish_if_due() {
  if (impl_) publish(false);
}

void ResultsWriter::publish() {
  if (impl_) publish(true);
}

std::vector<int64_t> ResultsWriter::recorded_trials() const {
  std::vector<int64_t> ids = impl_ ? impl_->recorded : std::vector<int64_t>{};
  std::sort(ids.begin(), ids.end());
  return ids;
}

void ResultsWriter::add(const TrialAssignment& trial, const std::vector<ParamAssignment>& params,
                        const TrialOutcome& outcome) {
  if (!impl_) throw std::logic_error("ResultsWriter::add(): the file is already finished");
  Impl& s = *impl_;
  const int64_t id = trial.trial_id;
  const std::string where = "ResultsWriter::add(): trial " + std::to_string(id);
  if (outcome.trial_id != id) {
    throw std::invalid_argument(where + ": the outcome is for trial " +
                                std::to_string(outcome.trial_id));
  }
  const std::string path = trial_path(id);
  if (s.root.has_link(path)) throw std::invalid_argument(where + " is already recorded");

  // Everything that can be refused is checked before the first write.
  h5::TableRows row(s.summary_layout, 1);
  for (const std::string& name : s.searched) {
    const auto found = std::find_if(params.begin(), params.end(),
                                    [&](const ParamAssignment& p) { return p.first == name; });
    if (found == params.end()) {
      throw std::invalid_argument(where + ": no value for searched hyperparameter '" + name + "'");
    }
    set_param(row, name, found->second, id);
  }
  const History& history = outcome.history;
  const EpochRecord* best = find_epoch(history, outcome.best_epoch);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  row.set(0, "trial", id);
  row.set(0, "status", to_string(outcome.status));
  row.set(0, "best_epoch", int64_t{outcome.best_epoch});
  row.set(0, "epochs_run", static_cast<int64_t>(history.epochs.size()));
  row.set(0, "best_val_loss", best != nullptr ? best->val_loss : nan);
  row.set(0, "best_val_" + s.metric, best != nullptr ? best->val_metric : nan);
  row.set(0, "final_train_loss", history.epochs.empty() ? nan : history.epochs.back().train_loss);
  row.set(0, "final_train_" + s.metric,
          history.epochs.empty() ? nan : history.epochs.back().train_metric);
  row.set(0, "seconds", outcome.seconds);
  row.set(0, "rank", int64_t{outcome.rank});
  row.set(0, "test_loss", outcome.test_loss);
  row.set(0, "test_" + s.metric, outcome.test_metric);
  const double finished_at =
      s.elapsed_before +
      std::chrono::duration<double>(std::chrono::steady_clock::now() - s.started).count();
  row.set(0, "finished_at", finished_at);
  row.set(0, "rung", outcome.rung);

  std::optional<Mlp> model;
  if (outcome.weights.size() > 0) model = s.network(trial, outcome.weights);

  // Where the trial ranks, if it does; s.ranked changes only once the trial is recorded.
  std::optional<std::size_t> position;
  const Impl::Ranked entry{outcome.best_value, id};
  if (is_ranked(outcome)) {
    position = static_cast<std::size_t>(
        std::lower_bound(
            s.ranked.begin(), s.ranked.end(), entry,
            [&](const Impl::Ranked& a, const Impl::Ranked& b) { return s.better(a, b); }) -
        s.ranked.begin());
  }

  // The trial leads if it ranks first; /best then points to it.
  const bool leads = position && *position == 0;
  const auto point_best_to = [&s](std::optional<int64_t> trial) {
    if (s.root.has_link("best")) s.root.delete_link("best");
    if (trial) s.root.create_soft_link("best", trial_path(*trial));
  };

  // The /summary row goes last: it is what makes the trial recorded (resume() drops a trial
  // group without one), so a write that fails on the way leaves no trial half recorded, and
  // /best as it was.
  try {
    h5::Group group = s.root.create_group(path);
    group.write_attribute("trial", id);
    group.write_attribute("status", to_string(outcome.status));
    group.write_attribute("message", outcome.message);
    group.write_attribute("seed", static_cast<int64_t>(trial.seed));
    group.write_attribute("rank", int64_t{outcome.rank});
    group.write_attribute("seconds", outcome.seconds);
    group.write_attribute("best_epoch", int64_t{outcome.best_epoch});
    group.write_attribute("best_value", outcome.best_value);
    group.write_attribute("epochs_run", static_cast<int64_t>(history.epochs.size()));
    group.write_attribute("test_loss", outcome.test_loss);
    group.write_attribute("test_" + s.metric, outcome.test_metric);
    group.write_attribute("finished_at", finished_at);
    group.write_attribute("rung", outcome.rung);
    write_hyperparameters(group, trial, params);
    h5::Group history_group = group.create_group("history");
    write_history(history_group, history, s.task);
    if (position && s.keeps(*position) && model) {
      h5::Group model_group = group.create_group("model");
      write_model(model_group,
                  StoredModel{std::move(*model), s.scaler, s.task, s.num_classes, s.feature_names});
    }
    if (leads) point_best_to(id);
    s.root.append_rows("summary", row);
  } catch (...) {
    // resume() would drop the partial group too; without it the published file is clean.
    try {
      if (leads) point_best_to(s.best);
      if (s.root.has_link(path)) s.root.delete_link(path);
    } catch (...) {
    }
    throw;
  }
  if (leads) s.best = id;

  if (position) {
    s.ranked.insert(s.ranked.begin() + static_cast<std::ptrdiff_t>(*position), entry);
    // The trial now just past the kept ones had weights until this one arrived.
    if (s.keeps(*position) && s.keep_weights >= 0 &&
        s.ranked.size() > static_cast<std::size_t>(s.keep_weights)) {
      const int64_t dropped = s.ranked[static_cast<std::size_t>(s.keep_weights)].id;
      // A resumed file may lack it (deleted by hand): nothing to drop then.
      if (s.root.has_link(trial_path(dropped) + "/model"))
        s.root.delete_link(trial_path(dropped) + "/model");
    }
  }
  s.recorded.push_back(id);
  s.dirty = true;
  publish(false);
}

void ResultsWriter::finish(const std::string& status, double coordinator_cpu_share,
                           const std::vector<int64_t>& unfinished) {
  if (!impl_) throw std::logic_error("ResultsWriter::finish(): the file is already finished");
  h5::Group& root = impl_->root;
  root.write_attribute("end_time", utc_now());
  root.write_attribute("status", status);
  // NaN: not measured this time; a resumed file keeps what an earlier run measured.
  if (!std::isnan(coordinator_cpu_share))
    root.write_attribute("coordinator_cpu_share", coordinator_cpu_share);
  root.write_attribute("unfinished_trials", unfinished);
  publish(true);
  const std::string working = impl_->working;
  impl_.reset();  // closes the file
  std::filesystem::remove(working);
}

// ---- ResultsReader

struct ResultsReader::Impl {
  h5::File file;
  h5::Group root;
};

namespace {

// Root string attributes with a closed set of values, checked when a file is opened: a reader
// that trusts "bogus" or a negative count shows nonsense instead of saying the file is damaged.
// The names are the writer's own (status is the caller's: see ResultsWriter::finish()).
struct KnownValues {
  const char* attribute;
  std::vector<std::string> values;
};

const std::vector<KnownValues>& known_values() {
  using S = SearchStrategy;
  using K = SchedulerKind;
  static const std::vector<KnownValues> known = {
      {"status", {"running", "finished", "interrupted", "time_limit"}},
      {"strategy", {to_string(S::kGrid), to_string(S::kRandom), to_string(S::kTpe)}},
      {"scheduler", {to_string(K::kNone), to_string(K::kAsha), to_string(K::kMedian)}},
      {"task", {task_name(Task::kClassification), task_name(Task::kRegression)}},
      {"metric", {metric_name(Task::kClassification), metric_name(Task::kRegression)}},
      {"monitor", {monitor_name(Monitor::kValLoss), monitor_name(Monitor::kValAccuracy)}},
      {"monitor_mode", {"min", "max"}},
  };
  return known;
}

// Root integer attributes and their smallest valid value.
struct IntegerBound {
  const char* attribute;
  int64_t least;
};

constexpr IntegerBound kIntegerBounds[] = {
    {"trials_total", 0}, {"ranks", 1}, {"keep_weights", -1}, {"resumes", 0}};

void check_root_attributes(const h5::Group& root) {
  for (const KnownValues& known : known_values()) {
    if (!root.has_attribute(known.attribute)) continue;  // older files lack some
    const auto value = root.read_attribute<std::string>(known.attribute);
    std::string listed;
    for (const std::string& candidate : known.values) {
      if (value == candidate) {
        listed.clear();
        break;
      }
      listed += (listed.empty() ? "'" : ", '") + candidate + "'";
    }
    if (!listed.empty())
      throw h5::Error(root.describe() + ": attribute '" + known.attribute + "' is '" + value +
                      "', expected one of " + listed + ": damaged file");
  }
  for (const IntegerBound& bound : kIntegerBounds) {
    if (!root.has_attribute(bound.attribute)) continue;
    const auto value = root.read_attribute<int64_t>(bound.attribute);
    if (value < bound.least)
      throw h5::Error(root.describe() + ": attribute '" + bound.attribute + "' is " +
                      std::to_string(value) + ", expected at least " + std::to_string(bound.least) +
                      ": damaged file");
  }
}

h5::File open_results(const std::string& path) {
  // Checked before HDF5 opens it: a FIFO would block the open, and HDF5's own text for the
  // others is its error stack (errno, flags, -1 bytes read).
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found)
    throw NotAResultFile(path + ": no such file");
  if (status.type() == std::filesystem::file_type::directory)
    throw NotAResultFile(path + ": is a directory, not a search result file");
  if (!ec && status.type() != std::filesystem::file_type::regular)
    throw NotAResultFile(path + ": not a regular file, so not a search result file");
  // HDF5 cannot tell an unreadable file from one that is not HDF5.
  if (std::FILE* probe = std::fopen(path.c_str(), "rb"); probe != nullptr) {
    std::fclose(probe);
  } else {
    throw NotAResultFile(path + ": cannot read (" + std::strerror(errno) + ")");
  }
  std::optional<h5::File> file;
  try {
    file.emplace(h5::File::open(path, false, h5::FileLocking::kOff));
  } catch (const h5::Error&) {
    if (std::filesystem::is_regular_file(path, ec) && !h5::File::is_hdf5(path)) {
      throw NotAResultFile(path + ": not an hpsearch search result (not an HDF5 file)");
    }
    throw;
  }
  const h5::Group root = file->root();
  if (!root.has_attribute("format")) {
    throw NotAResultFile(path + ": not an hpsearch search result (no format attribute)");
  }
  const std::string format = root.read_attribute<std::string>("format");
  if (format != kFormat) {
    throw NotAResultFile(path + ": not an hpsearch search result (format attribute is '" + format +
                         "')");
  }
  const auto version = root.read_attribute<int64_t>("format_version");
  if (version > kFormatVersion) {
    throw NotAResultFile(path + ": search result format_version " + std::to_string(version) +
                         " is newer than this hpsearch reads (" + std::to_string(kFormatVersion) +
                         ")");
  }
  check_root_attributes(root);
  return std::move(*file);
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

ResultsReader::ResultsReader(const std::string& path) {
  h5::File file = open_results(path);
  h5::Group root = file.root();
  impl_ = std::make_unique<Impl>(Impl{std::move(file), std::move(root)});
}

ResultsReader::ResultsReader(ResultsReader&&) noexcept = default;
ResultsReader& ResultsReader::operator=(ResultsReader&&) noexcept = default;
ResultsReader::~ResultsReader() = default;

const std::string& ResultsReader::path() const { return impl_->file.path(); }

bool ResultsReader::has_attribute(const std::string& name) const {
  return impl_->root.has_attribute(name);
}

std::string ResultsReader::attribute(const std::string& name) const {
  return impl_->root.read_attribute<std::string>(name);
}

double ResultsReader::number_attribute(const std::string& name) const {
  return impl_->root.read_attribute<double>(name);
}

int64_t ResultsReader::integer_attribute(const std::string& name) const {
  return impl_->root.read_attribute<int64_t>(name);
}

namespace {

// SummaryRow fields from the columns of `table`, found by name (ResultsReader::summary).
void read_summary_rows(const h5::TableRows& table, std::vector<SummaryRow>& rows) {
  const h5::TableLayout& layout = table.layout();
  for (const h5::Column& column : layout.columns()) {
    const std::string& name = column.name;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      SummaryRow& row = rows[i];
      if (name == "trial") {
        row.trial = table.get_int64(i, name);
      } else if (name == "status") {
        row.status = table.get_string(i, name);
      } else if (name == "best_epoch") {
        row.best_epoch = table.get_int64(i, name);
      } else if (name == "epochs_run") {
        row.epochs_run = table.get_int64(i, name);
      } else if (name == "best_val_loss") {
        row.best_val_loss = table.get_double(i, name);
      } else if (starts_with(name, "best_val_")) {
        row.best_val_metric = table.get_double(i, name);
      } else if (name == "final_train_loss") {
        row.final_train_loss = table.get_double(i, name);
      } else if (starts_with(name, "final_train_")) {
        row.final_train_metric = table.get_double(i, name);
      } else if (name == "seconds") {
        row.seconds = table.get_double(i, name);
      } else if (name == "rank") {
        row.rank = table.get_int64(i, name);
      } else if (name == "test_loss") {
        row.test_loss = table.get_double(i, name);
      } else if (starts_with(name, "test_")) {
        row.test_metric = table.get_double(i, name);
      } else if (name == "finished_at") {
        row.finished_at = table.get_double(i, name);
      } else if (name == "rung") {
        row.rung = table.get_int64(i, name);
      } else if (column.type == h5::ColumnType::kFloat64) {
        row.params.emplace_back(name, table.get_double(i, name));
      } else if (column.type == h5::ColumnType::kInt64) {
        row.params.emplace_back(name, table.get_int64(i, name));
      } else {
        std::string text = table.get_string(i, name);
        std::optional<std::vector<int64_t>> widths;
        if (name == "hidden") widths = parse_layers(text);
        if (widths) {
          row.params.emplace_back(name, std::move(*widths));
        } else {
          row.params.emplace_back(name, std::move(text));
        }
      }
    }
  }
}

}  // namespace

std::vector<SummaryRow> ResultsReader::summary() const {
  const h5::Group& root = impl_->root;
  const h5::TableRows table = root.read_table("summary");
  const h5::TableLayout& layout = table.layout();
  // A column no row could do without, missing, would read as 0 for every trial.
  const std::string metric = root.has_attribute("metric") ? attribute("metric") : "accuracy";
  for (const std::string& name :
       {std::string("trial"), std::string("status"), std::string("best_epoch"),
        std::string("epochs_run"), std::string("best_val_loss"), "best_val_" + metric})
    if (!layout.find(name))
      throw h5::Error(root.describe("summary") + ": has no column '" + name +
                      "' (a damaged file, or not written by hpsearch)");
  std::vector<SummaryRow> rows(table.size());
  try {
    read_summary_rows(table, rows);
  } catch (const std::invalid_argument& e) {  // a column of another type
    throw h5::Error(root.describe("summary") + ": " + e.what());
  }
  // Values no trial can have would be shown and ranked as if real.
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const SummaryRow& row = rows[i];
    std::string problem;
    if (row.epochs_run < 0) {
      problem = "epochs_run is " + std::to_string(row.epochs_run);
    } else if (row.best_epoch != -1 && (row.best_epoch < 0 || row.best_epoch >= row.epochs_run)) {
      problem = "best_epoch is " + std::to_string(row.best_epoch) + " of " +
                std::to_string(row.epochs_run) + " epochs run";
    } else if (row.rung < -1) {
      problem = "rung is " + std::to_string(row.rung);
    } else if (metric == "accuracy" && !(std::isnan(row.best_val_metric) ||
                                         (row.best_val_metric >= 0 && row.best_val_metric <= 1))) {
      problem = "best_val_accuracy is " + short_number(row.best_val_metric) + ", not in [0, 1]";
    }
    if (!problem.empty())
      throw h5::Error(root.describe("summary") + ": row " + std::to_string(i) + " (trial " +
                      std::to_string(row.trial) + "): " + problem + ", which no trial can have");
  }
  return rows;
}

bool ResultsReader::has_model(int64_t id) const {
  return impl_->root.exists(trial_path(id) + "/model");
}

double monitored_value(const SummaryRow& row, bool by_loss) {
  return by_loss ? row.best_val_loss : row.best_val_metric;
}

bool is_ranked(const SummaryRow& row, bool by_loss) {
  return ranks_well(row.status, monitored_value(row, by_loss));
}

std::optional<int64_t> ResultsReader::best_trial() const { return best_trial(summary()); }

std::optional<int64_t> ResultsReader::best_trial(const std::vector<SummaryRow>& rows) const {
  const h5::Group& root = impl_->root;
  if (!root.has_link("best")) {
    const bool by_loss = attribute("monitor") == monitor_name(Monitor::kValLoss);
    for (const SummaryRow& row : rows)
      if (is_ranked(row, by_loss))
        throw h5::Error(root.describe("best") + ": missing, though /summary ranks trial " +
                        std::to_string(row.trial) + ": damaged file");
    return std::nullopt;
  }
  const std::optional<std::string> target = root.soft_link_target("best");
  const std::string prefix = "/trials/";
  if (target && starts_with(*target, prefix)) {
    const int64_t id = trial_id_of(target->substr(prefix.size()));
    if (id >= 0) {
      check_best_leads(id, rows);
      return id;
    }
  }
  throw h5::Error(root.describe("best") + ": expected a soft link to /trials/<id>, found " +
                  (target ? "a link to '" + *target + "'" : std::string("a hard link")));
}

void ResultsReader::check_best_leads(int64_t id, const std::vector<SummaryRow>& rows) const {
  const bool by_loss = attribute("monitor") == monitor_name(Monitor::kValLoss);
  const bool maximize = attribute("monitor_mode") == "max";
  const auto value = [&](const SummaryRow& row) { return monitored_value(row, by_loss); };
  const auto ranked = [&](const SummaryRow& row) { return is_ranked(row, by_loss); };
  const auto better = [&](double a, double b) { return maximize ? a > b : a < b; };
  const SummaryRow* best = nullptr;
  const SummaryRow* leader = nullptr;
  for (const SummaryRow& row : rows) {
    if (row.trial == id) best = &row;
    if (ranked(row) && (leader == nullptr || better(value(row), value(*leader)))) leader = &row;
  }
  const std::string where =
      impl_->root.describe("best") + ": points to trial " + std::to_string(id) + ", ";
  const std::string monitor = attribute("monitor");
  if (best == nullptr) throw h5::Error(where + "which has no /summary row: damaged file");
  if (!ranked(*best))
    throw h5::Error(where + "which is " + best->status + " with " + monitor + " " +
                    short_number(value(*best)) + " in /summary, not a ranked trial: damaged file");
  if (better(value(*leader), value(*best)))
    throw h5::Error(where + "but /summary gives trial " + std::to_string(leader->trial) +
                    " the better " + monitor + " (" + short_number(value(*leader)) + " against " +
                    short_number(value(*best)) + "): damaged file");
}

h5::Group ResultsReader::trial_group(int64_t id) const {
  return impl_->root.open_group(trial_path(id));
}

namespace {

// How the columns of a recorded /summary differ from those a search writes: the missing and
// the extra ones by name, or, with the same names, that their order or types differ.
std::string column_difference(const h5::TableLayout& recorded, const h5::TableLayout& expected) {
  const auto names_not_in = [](const h5::TableLayout& from, const h5::TableLayout& other) {
    std::string names;
    for (const h5::Column& column : from.columns())
      if (!other.find(column.name)) names += (names.empty() ? "'" : ", '") + column.name + "'";
    return names;
  };
  const std::string missing = names_not_in(expected, recorded);
  const std::string extra = names_not_in(recorded, expected);
  std::string text;
  if (!missing.empty()) text = "lacks the columns " + missing;
  if (!extra.empty())
    text += (text.empty() ? "has " : " and has ") + std::string("the columns ") + extra;
  if (text.empty())
    return "has the columns of this config's search in another order or with other types";
  return text + ", against the columns a search of this config writes";
}

}  // namespace

std::vector<std::string> ResultsReader::contradicted_attributes(const SearchConfig& config) const {
  std::vector<std::string> problems;
  const h5::Group& root = impl_->root;
  const std::string says = ", its recorded config says ";
  const DecidedAttributes decided = decided_attributes(config);
  for (const auto& [name, value] : decided.text) {
    if (!root.has_attribute(name)) {
      // Files from before schedulers have no 'scheduler' and ran none; one that ran a
      // scheduler always wrote it.
      if (name == "scheduler" && value != to_string(SchedulerKind::kNone))
        problems.push_back(root.describe() + ": attribute 'scheduler' is missing" + says + "'" +
                           value + "'");
      continue;
    }
    const auto recorded = root.read_attribute<std::string>(name);
    if (recorded != value)
      problems.push_back(root.describe() + ": attribute '" + name + "' is '" + recorded + "'" +
                         says + "'" + value + "'");
  }
  for (const auto& [name, value] : decided.integers) {
    if (!root.has_attribute(name)) continue;
    const auto recorded = root.read_attribute<int64_t>(name);
    if (recorded != value)
      problems.push_back(root.describe() + ": attribute '" + name + "' is " +
                         std::to_string(recorded) + says + std::to_string(value));
  }
  return problems;
}

std::vector<std::string> ResultsReader::resume_problems(const SearchConfig& config,
                                                        const std::vector<SummaryRow>& rows,
                                                        const TrialVisitor& visit) const {
  std::vector<std::string> problems;
  // Each check reads on its own, so one unreadable object does not hide the others.
  const auto check = [&problems](const auto& body) {
    try {
      body();
    } catch (const std::exception& e) {
      problems.push_back(e.what());
    }
  };
  const h5::Group& root = impl_->root;
  const std::string metric = metric_name(config.base.data.task);
  check([&] {
    const std::string problem = resume_count(root).second;
    if (!problem.empty()) problems.push_back(problem);
  });
  bool columns_match = false;
  check([&] {
    const h5::TableLayout recorded = root.read_table("summary").layout();
    const h5::TableLayout expected = summary_layout_for(config).first;
    columns_match = recorded == expected;
    if (!columns_match)
      problems.push_back(root.describe("summary") + ": " + column_difference(recorded, expected));
  });
  if (!columns_match) return problems;
  // What inspect and evaluate refuse: a root attribute the config contradicts, a /best that is
  // not the leading trial. A resume would carry either into the file it finishes.
  check([&] {
    for (std::string& p : contradicted_attributes(config)) problems.push_back(std::move(p));
  });
  check([&] { best_trial(rows); });
  // A trial group without its /summary row is one whose recording failed half way (add()
  // writes the row last), and resume() drops it. One failed write leaves one; more mean the
  // table lost rows, and resuming would train those trials again over what they recorded.
  check([&] {
    std::set<int64_t> listed;
    for (const SummaryRow& row : rows) listed.insert(row.trial);
    std::set<int64_t> unlisted;  // as resume() reads the names: other names are not trials'
    for (const std::string& name : root.open_group("trials").children())
      if (const int64_t id = trial_id_of(name); id >= 0 && listed.count(id) == 0)
        unlisted.insert(id);
    if (unlisted.size() > 1) {
      std::string names;
      for (const int64_t id : unlisted) {
        if (names.size() > 40) {
          names += ", ...";
          break;
        }
        names += (names.empty() ? "" : ", ") + std::to_string(id);
      }
      problems.push_back(root.describe("trials") + ": " + std::to_string(unlisted.size()) +
                         " trial groups have no /summary row (" + names +
                         "); resuming would train them again over what they recorded");
    }
  });
  bool visit_threw = false;
  for (const SummaryRow& row : rows) {
    const std::size_t problems_before = problems.size();
    std::optional<h5::Group> opened;  // the hyperparameters' checks need the group, once it opens
    bool same_trial = false;
    std::optional<History> history;  // once read, the visitor gets it and best_value
    double best_value = 0.0;
    check([&] {
      const h5::Group& group = opened.emplace(trial_group(row.trial));
      const auto id = group.read_attribute<int64_t>("trial");
      same_trial = id == row.trial;
      const auto status = group.read_attribute<std::string>("status");
      best_value = group.read_attribute<double>("best_value");
      if (group.has_attribute("finished_at")) group.read_attribute<double>("finished_at");
      const std::string says = ", its /summary row says ";
      if (id != row.trial)
        problems.push_back(group.describe() + ": attribute 'trial' is " + std::to_string(id) +
                           says + std::to_string(row.trial));
      if (status != row.status)
        problems.push_back(group.describe() + ": attribute 'status' is '" + status + "'" + says +
                           "'" + row.status + "'");
      // A trial that failed before its first epoch may have no history.
      history = group.has_link("history") ? read_history(group.open_group("history")) : History{};
      const std::size_t epochs = history->epochs.size();
      if (row.epochs_run < 0 || epochs != static_cast<std::size_t>(row.epochs_run))
        problems.push_back(group.describe("history") + ": has " + std::to_string(epochs) +
                           " epochs" + says + std::to_string(row.epochs_run) + " ran");
      else if (id == row.trial && status == row.status &&
               row.status != to_string(TrialStatus::kFailed))
        for (std::string& p :
             best_epoch_problems(group, row, *history, config.base.early_stopping, metric))
          problems.push_back(std::move(p));
    });
    // A group of another trial would disagree on everything; a failed trial taught TPE
    // nothing, and one whose settings could not be made has the defaults in its group.
    if (opened && same_trial && row.status != to_string(TrialStatus::kFailed))
      for (const ParamAssignment& param : row.params)
        check([&] {
          if (std::string problem = param_disagreement(*opened, param); !problem.empty())
            problems.push_back(std::move(problem));
        });
    // Only rows that passed every check, and after the visitor's first error no more: one
    // cause, one line.
    if (visit && history && !visit_threw && problems.size() == problems_before)
      check([&] {
        try {
          visit(row, best_value, *history);
        } catch (...) {
          visit_threw = true;
          throw;
        }
      });
  }
  return problems;
}

}  // namespace hps
