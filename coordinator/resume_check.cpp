#include "coordinator/resume_check.hpp"

#include <set>
#include <sstream>
#include <stdexcept>
#include <variant>

#include "core/early_stopping.hpp"
#include "core/preprocessing.hpp"
#include "core/scheduler.hpp"
#include "core/yaml_util.hpp"

namespace hps {
namespace {

std::string form_text(const ParamSpec& spec) {
  // Exact, as number_text is for ranges: to_string rounds a double to 6 digits, and a value
  // changed past them would resume unseen, mixing old and new values in one search.
  const auto value_text = [](const ParamValue& value) {
    const double* number = std::get_if<double>(&value);
    return number != nullptr ? number_text(*number) : to_string(value);
  };
  const auto values = [&spec, &value_text] {
    std::string text = "[";
    for (size_t i = 0; i < spec.choices.size(); ++i)
      text += (i ? ", " : "") + value_text(spec.choices[i]);
    return text + "]";
  };
  const auto range = [&spec](const char* name) {
    return std::string(name) + " [" + number_text(spec.low) + ", " + number_text(spec.high) + "]";
  };
  switch (spec.form) {
    case ParamForm::kFixed:
      return "fixed " + values();
    case ParamForm::kChoice:
      return "choice " + values();
    case ParamForm::kUniform:
      return range("uniform");
    case ParamForm::kLogUniform:
      return range("log_uniform");
    case ParamForm::kIntUniform:
      return range("int_uniform");
  }
  return "?";
}

/// A data source's settings under `key` ("data.train"), as configs name them. Its file paths
/// are left out: the fingerprint of the prepared data ("data (contents)") says whether the
/// data is the same, so a project moved or copied elsewhere still resumes.
void add_source(std::map<std::string, std::string>& id, const std::string& key,
                const DataSource& s) {
  static const char* kFormats[] = {"idx", "csv", "hdf5"};
  id[key + ".format"] = kFormats[static_cast<int>(s.format)];
  if (s.format == DataFormat::kCsv) id[key + ".label_column"] = s.label_column;
  if (s.format == DataFormat::kHdf5) {
    id[key + ".features_dataset"] = s.features_dataset;
    id[key + ".labels_dataset"] = s.labels_dataset;
  }
  id[key + ".max_samples"] = std::to_string(s.max_samples);
}

}  // namespace

std::map<std::string, std::string> search_identity(const SearchConfig& config,
                                                   const std::string& data_fingerprint) {
  std::map<std::string, std::string> id;
  const SearchSettings& search = config.search;
  id["search.strategy"] = to_string(search.strategy);
  if (search.strategy == SearchStrategy::kTpe) {
    id["search.tpe.startup_trials"] = std::to_string(search.tpe.startup_trials);
    id["search.tpe.gamma"] = number_text(search.tpe.gamma);
    id["search.tpe.candidates"] = std::to_string(search.tpe.candidates);
    id["search.tpe.ranking"] = to_string(search.tpe.ranking);
    id["search.tpe.multivariate"] = search.tpe.multivariate ? "true" : "false";
  }
  const SchedulerSettings& s = search.scheduler;
  id["search.scheduler"] = to_string(s.kind);
  if (s.kind == SchedulerKind::kAsha) {
    id["search.asha.reduction_factor"] = std::to_string(s.reduction_factor);
    id["search.asha.min_epochs"] = std::to_string(s.min_epochs);
    id["search.asha.max_epochs"] = std::to_string(s.max_epochs);
    id["search.asha.grace"] = std::to_string(s.grace);
  } else if (s.kind == SchedulerKind::kMedian) {
    id["search.median.warmup_epochs"] = std::to_string(s.warmup_epochs);
    id["search.median.min_trials"] = std::to_string(s.min_trials);
  }
  id["search.trials"] = std::to_string(search.trials);
  id["search.seed"] = std::to_string(search.seed);
  id["search.keep_weights"] =
      search.keep_weights < 0 ? "all" : std::to_string(search.keep_weights);  // as configs say
  for (const ParamSpec& spec : search.space) id["search.space." + spec.name] = form_text(spec);

  const TrainConfig& base = config.base;
  std::string hidden = "[";
  for (size_t i = 0; i < base.model.hidden.size(); ++i)
    hidden += (i ? ", " : "") + std::to_string(base.model.hidden[i]);
  id["model.hidden"] = hidden + "]";
  id["model.activation"] = to_string(base.model.activation);
  id["model.init"] = to_string(base.model.initialization());
  id["model.dropout"] = number_text(base.model.dropout);
  const TrainingConfig& t = base.training;
  id["training.optimizer"] = to_string(t.optimizer.kind);
  id["training.learning_rate"] = number_text(t.optimizer.learning_rate);
  id["training.momentum"] = number_text(t.optimizer.momentum);
  id["training.beta1"] = number_text(t.optimizer.beta1);
  id["training.beta2"] = number_text(t.optimizer.beta2);
  id["training.epsilon"] = number_text(t.optimizer.epsilon);
  id["training.batch_size"] = std::to_string(t.batch_size);
  id["training.max_epochs"] = std::to_string(t.max_epochs);
  id["training.l1"] = number_text(t.l1);
  id["training.l2"] = number_text(t.l2);
  const LrPlateauConfig& p = t.reduce_lr_on_plateau;
  id["training.reduce_lr_on_plateau"] = p.enabled ? "factor " + number_text(p.factor) +
                                                        ", patience " + std::to_string(p.patience) +
                                                        ", min_lr " + number_text(p.min_lr)
                                                  : "off";
  const EarlyStoppingConfig& e = base.early_stopping;
  id["early_stopping.enabled"] = e.enabled ? "true" : "false";
  id["early_stopping.monitor"] = monitor_name(e.monitor);
  // The direction it watches: mode auto with val_accuracy is max, so changing one to the
  // other changes nothing and is no reason to refuse.
  id["early_stopping.mode"] = maximizes(e) ? "max" : "min";
  id["early_stopping.min_delta"] = number_text(e.min_delta);
  id["early_stopping.patience"] = std::to_string(e.patience);
  id["early_stopping.restore_best_weights"] = e.restore_best_weights ? "true" : "false";
  const DataConfig& d = base.data;
  id["data.task"] = task_name(d.task);
  id["data.num_classes"] = std::to_string(d.num_classes);
  id["data.validation_fraction"] = number_text(d.validation_fraction);
  id["data.scaling"] = scaling_name(d.scaling);
  add_source(id, "data.train", d.train);
  id["data.test"] = d.test ? "given" : "none";
  if (d.test) add_source(id, "data.test", *d.test);
  id["data (contents)"] = data_fingerprint.empty() ? "unknown" : "fingerprint " + data_fingerprint;
  return id;
}

bool began_before_0_3(const std::string& version) {
  int major = 0, minor = 0;
  char dot = 0;
  std::istringstream text(version);
  if (!(text >> major >> dot >> minor) || dot != '.') return true;  // none: the oldest files
  return major == 0 && minor < 3;
}

TpeRanking legacy_tpe_ranking(const TpeSettings& tpe) {
  return tpe.ranking_written ? tpe.ranking : TpeRanking::kFinishedFirst;
}

TpeRanking recorded_tpe_ranking(const std::string& attribute, const TpeSettings& tpe,
                                const std::string& where) {
  if (attribute.empty()) return legacy_tpe_ranking(tpe);
  if (const auto ranking = tpe_ranking_named(attribute)) return *ranking;
  throw std::runtime_error(where + ": attribute 'tpe_ranking' is '" + attribute +
                           "', not equal_budget or finished_first (a damaged file, or one from a "
                           "newer hpsearch)");
}

SearchConfig recorded_search_config(const ResultsReader& recorded) {
  SearchConfig config =
      parse_search_config(recorded.attribute("config"), recorded.path() + " (recorded config)",
                          recorded.attribute("config_dir"), DataFiles::kSkip);
  if (config.search.strategy == SearchStrategy::kTpe)
    config.search.tpe.ranking = recorded_tpe_ranking(
        recorded.has_attribute("tpe_ranking") ? recorded.attribute("tpe_ranking") : "",
        config.search.tpe, recorded.path());
  // hpsearch before 0.3.0 ran a grid's whole product, momentum's values for every optimizer.
  if (config.search.strategy == SearchStrategy::kGrid &&
      began_before_0_3(
          recorded.has_attribute("hpsearch_version") ? recorded.attribute("hpsearch_version") : ""))
    keep_every_grid_point(config.search);
  return config;
}

std::vector<std::string> summary_problems(const std::vector<SummaryRow>& rows,
                                          int64_t trials_total) {
  std::vector<std::string> problems;
  std::set<int64_t> seen;
  for (const SummaryRow& row : rows) {
    if (row.trial < 0 || row.trial >= trials_total)
      problems.push_back("/summary lists trial " + std::to_string(row.trial) +
                         ", outside the search's trials 0 to " + std::to_string(trials_total - 1));
    else if (!seen.insert(row.trial).second)
      problems.push_back("/summary lists trial " + std::to_string(row.trial) + " twice");
  }
  return problems;
}

std::vector<std::string> summary_bound_problems(const std::vector<SummaryRow>& rows,
                                                const SearchConfig& config) {
  const int64_t most = most_epochs(config);
  const SchedulerSettings& scheduler = config.search.scheduler;
  const auto rungs = static_cast<int64_t>(
      scheduler.kind == SchedulerKind::kAsha ? Scheduler(scheduler, true, most).rungs().size() : 0);
  std::vector<std::string> problems;
  for (const SummaryRow& row : rows) {
    const std::string trial = "/summary lists trial " + std::to_string(row.trial);
    if (row.epochs_run > most)
      problems.push_back(trial + " with " + std::to_string(row.epochs_run) +
                         " epochs run, more than any trial of this search trains (" +
                         std::to_string(most) + ")");
    if (row.rung >= rungs)
      problems.push_back(trial + " at ASHA rung " + std::to_string(row.rung) + ", but " +
                         (rungs == 0 ? std::string("the search has no ASHA rungs")
                                     : "its rungs are 0 to " + std::to_string(rungs - 1)));
  }
  return problems;
}

std::vector<std::string> identity_changes(const std::map<std::string, std::string>& recorded,
                                          const std::map<std::string, std::string>& now) {
  std::set<std::string> keys;
  for (const auto& [k, v] : recorded) keys.insert(k);
  for (const auto& [k, v] : now) keys.insert(k);
  std::vector<std::string> changes;
  for (const std::string& key : keys) {
    const auto a = recorded.find(key);
    const auto b = now.find(key);
    // Only a parameter can be "not searched"; a scheduler's or sampler's option is not used.
    const std::string absent = key.rfind("search.space.", 0) == 0 ? "(not searched)" : "(not used)";
    const std::string before = a == recorded.end() ? absent : a->second;
    const std::string after = b == now.end() ? absent : b->second;
    if (before != after) changes.push_back(key + ": " + before + " -> " + after);
  }
  return changes;
}

}  // namespace hps
