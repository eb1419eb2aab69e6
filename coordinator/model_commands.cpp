#include "coordinator/model_commands.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "coordinator/terminal_text.hpp"
#include "core/data_loader.hpp"
#include "core/data_pipeline.hpp"
#include "core/dataset_checks.hpp"
#include "core/model_io.hpp"
#include "core/output_path.hpp"
#include "core/preprocessing.hpp"
#include "core/results_file.hpp"
#include "core/rng.hpp"
#include "core/search_space.hpp"
#include "core/trainer.hpp"

namespace hps {
namespace {

struct LoadedTrial {
  SearchConfig config;
  StoredModel stored;
  int64_t id = 0;
  std::optional<SummaryRow> row;
  /// Without restore_best_weights the kept weights are the last epoch's, not the best's.
  std::optional<EpochRecord> last_epoch;
  /// The search's data fingerprint; empty in files from before it was recorded.
  std::string data_fingerprint;
};

LoadedTrial load_trial(const std::string& file, std::optional<int64_t> trial, DataFiles files) {
  const ResultsReader reader(file);
  LoadedTrial t;
  if (reader.has_attribute("data_fingerprint"))
    t.data_fingerprint = reader.attribute("data_fingerprint");
  t.config = parse_search_config(reader.attribute("config"), file + " (stored config)",
                                 reader.attribute("config_dir"), files);
  // /best is checked against /summary by the root's monitor attributes: they must be the
  // config's first, or a flipped monitor_mode would be blamed on /best.
  if (const std::vector<std::string> problems = reader.contradicted_attributes(t.config);
      !problems.empty()) {
    std::string text = file + ": damaged file:";
    for (const std::string& p : problems) text += "\n  " + p;
    throw h5::Error(text);
  }
  const std::vector<SummaryRow> rows = reader.summary();
  const std::optional<int64_t> best = reader.best_trial(rows);
  if (trial) {
    t.id = *trial;
  } else {
    if (!best) {
      // Asking for the best of a search that has none is a request the file cannot meet, like
      // an unknown --trial (exit 2); the file itself is fine.
      if (rows.empty())
        throw UsageError(file + ": no trial has finished yet, so there is no best model (/best)");
      const std::string none = rows.size() == 1
                                   ? "its one finished trial is not ranked (it failed or diverged)"
                                   : "none of its " + std::to_string(rows.size()) +
                                         " finished trials is ranked (each failed or diverged)";
      throw UsageError(file + ": " + none +
                       ", so there is no best model (/best); hpsearch inspect lists them");
    }
    t.id = *best;
  }
  for (const SummaryRow& row : rows)
    if (row.trial == t.id) t.row = row;
  if (!t.row)
    throw UsageError(file + ": --trial " + std::to_string(t.id) + ": no trial " +
                     std::to_string(t.id) + " in /summary (hpsearch inspect lists the trials)");
  if (!reader.has_model(t.id)) {
    const std::string& status = t.row->status;
    const bool broken =
        status == to_string(TrialStatus::kFailed) || status == to_string(TrialStatus::kDiverged);
    const std::string at = file + ": trial " + std::to_string(t.id) + " has no stored weights (";
    // Asking for a trial whose weights were never kept is a mistake on the command line, like
    // one the file does not hold (exit 2); a leader without them is a damaged file.
    if (broken) throw UsageError(at + "it " + status + ", so it has none worth keeping)");
    if (best == t.id && t.config.search.keep_weights != 0)
      throw h5::Error(at +
                      "it leads the search (/best), yet the file holds none for it: damaged "
                      "file)");
    if (t.config.search.keep_weights < 0)
      throw h5::Error(at + "keep_weights is all, yet the file holds none for it: damaged file)");
    throw UsageError(at + "only the best " + std::to_string(t.config.search.keep_weights) +
                     " trials (search.keep_weights) keep theirs; hpsearch inspect shows which)");
  }
  const h5::Group model = reader.trial_group(t.id).open_group("model");
  t.stored = read_model(model);
  if (t.stored.task != t.config.base.data.task)
    throw h5::Error(model.describe() + ": attribute 'task' is " + task_name(t.stored.task) +
                    ", the search's config says " + task_name(t.config.base.data.task) +
                    ": damaged file");
  if (!t.config.base.early_stopping.restore_best_weights) {
    const History history = read_history(reader.trial_group(t.id).open_group("history"));
    if (!history.epochs.empty()) t.last_epoch = history.epochs.back();
  }
  return t;
}

// Puts the feature rows of `x` (named `names`, read from `source`) in the order the model of
// trial `t` was trained with, and checks that there are as many as it has inputs.
void fit_inputs(Matrix& x, const std::vector<std::string>& names, const LoadedTrial& t,
                const std::string& source) {
  align_features(x, names, t.stored.feature_names, source);
  const Index inputs = t.stored.model.shape().inputs;
  if (x.rows() != inputs)
    throw DataError(source + ": " + std::to_string(x.rows()) +
                    " feature columns, but the model of trial " + std::to_string(t.id) + " takes " +
                    std::to_string(inputs));
}

// fit_inputs for a labelled data set, which must also have one target per model output.
void fit_dataset(Dataset& d, const LoadedTrial& t) {
  fit_inputs(d.x, d.feature_names, t, d.source);
  const Index outputs = t.stored.model.shape().outputs;
  if (d.num_outputs() != outputs)
    throw DataError(d.source + ": " + std::to_string(d.num_outputs()) +
                    " targets per sample, but the model of trial " + std::to_string(t.id) +
                    " has " + std::to_string(outputs) + " outputs");
}

// Refuses data other than the search's: the same config on changed data (rows shuffled, added
// or edited) would split and scale it otherwise, and the stored scores would compare with
// scores on other samples. The fingerprint covers the test set as well. Files from before
// fingerprints were recorded cannot be checked; they are scored as they are, with a note.
// Returns whether the data was checked (false: the file records no fingerprint).
bool check_fingerprint(const std::string& file, const std::string& recorded,
                       const PreparedData& data) {
  if (recorded.empty()) {
    std::printf(
        "note: %s records no data fingerprint (written by an older hpsearch), so the data "
        "cannot be checked against the search's; the scores assume it is unchanged\n",
        file.c_str());
    return false;
  }
  const std::string current = fingerprint(data);
  if (current == recorded) return true;
  throw DataError("data changed since " + file + " was written (fingerprint " + recorded + " -> " +
                  current +
                  "): the validation split would not be the one the trial was selected on "
                  "(the fingerprint covers " +
                  data.train.source + (data.test ? " and the test set " + data.test->source : "") +
                  "; hpsearch predict scores a stored model on other data)");
}

void print_evaluation(const char* name, Index samples, const Evaluation& e, Task task) {
  std::printf("%s (%lld samples): loss %s, %s %s", name, static_cast<long long>(samples),
              decimal4(e.loss).c_str(), metric_name(task), decimal4(e.metric).c_str());
}

// A class probability, to the 6 digits that tell classes apart.
std::string probability_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}

// A regression output, every digit the network's float holds: "%.6g" wrote 1234567.891 as
// 1.23457e+06.
std::string output_text(float v) {
  char text[32];  // the longest float, "-1.17549435e-38", takes 15
  return std::string(text, std::to_chars(text, text + sizeof text, v).ptr);
}

}  // namespace

int evaluate_result(const std::string& file, std::optional<int64_t> trial) {
  const LoadedTrial t = load_trial(file, trial, DataFiles::kCheck);
  const Task task = t.stored.task;
  // The search's own split, prepared as the search prepared it. With the fingerprint matching,
  // it is the data the trial was selected on, bit for bit, scaler included.
  PreparedData prepared =
      prepare_data(t.config.base.data, derive_seed(t.config.search.seed, SeedStream::kSplit));
  const bool same_data = check_fingerprint(file, t.data_fingerprint, prepared);
  // The fingerprint covers the values, read by position; fit_dataset below matches columns by
  // name, so a renamed header would score the weights on swapped columns.
  const std::vector<std::string>& names = prepared.train.feature_names;
  if (!names.empty() && !t.stored.feature_names.empty() && names != t.stored.feature_names)
    throw DataError("data changed since " + file + " was written: the columns of " +
                    prepared.train.source + " are now " + quoted_names(names) +
                    ", the search's were " + quoted_names(t.stored.feature_names));
  std::printf("trial %lld%s\n", static_cast<long long>(t.id), trial ? "" : " (the best)");
  Dataset& validation = prepared.validation;
  fit_dataset(validation, t);
  const Evaluation val = evaluate(t.stored.model, validation);
  print_evaluation("validation", validation.size(), val, task);
  // The stored weights are the best epoch's with restore_best_weights, else the last epoch's.
  const double stored_loss = t.last_epoch ? t.last_epoch->val_loss : t.row->best_val_loss;
  const double stored_metric = t.last_epoch ? t.last_epoch->val_metric : t.row->best_val_metric;
  std::printf(" (stored%s: loss %s, %s %s)\n", t.last_epoch ? ", last epoch" : "",
              decimal4(stored_loss).c_str(), metric_name(task), decimal4(stored_metric).c_str());
  // On the same data the same build scores the weights exactly as training did; another CPU
  // may differ in the last digits, never by a thousandth.
  if (same_data && !(std::abs(val.loss - stored_loss) <= 1e-3 * std::abs(stored_loss)))
    std::printf(
        "warning: the stored weights score validation loss %.6g, not the recorded %.6g, on the "
        "data the trial was selected on: they are not the weights that scored it (a damaged or "
        "edited file)\n",
        val.loss, stored_loss);

  if (!prepared.test) {
    std::printf("test: the config names no test set\n");
    return 0;
  }
  Dataset& test = *prepared.test;
  fit_dataset(test, t);
  print_evaluation("test", test.size(), evaluate(t.stored.model, test), task);
  std::printf("\n");
  return 0;
}

int predict_result(const std::string& file, const std::string& data, const std::string& out,
                   std::optional<int64_t> trial, bool force) {
  std::vector<CommandInput> inputs = {{file, "the result file '" + file + "' being read"},
                                      {data, "the --data file '" + data + "'"}};
  // The stored weights, scaler and feature names are all predict needs: the training data
  // may have moved since.
  const LoadedTrial t = load_trial(file, trial, DataFiles::kSkip);
  // Not read here, but the search's data, which even --force must not replace with predictions.
  for (const NamedDataFile& named : t.config.base.data_files)
    inputs.push_back({named.path, "the search's data file '" + named.path + "' (" + named.key +
                                      " in the config " + file + " records)"});
  check_output_path(out, force, inputs);
  const DataSource& source = t.config.base.data.train;
  std::vector<std::string> names;
  Matrix x =
      load_csv_features(data, source.format == DataFormat::kCsv ? source.label_column : "", &names);
  fit_inputs(x, names, t, data);
  t.stored.scaler.apply(x);
  const Matrix outputs = t.stored.model.predict(x);

  const bool classify = t.stored.task == Task::kClassification;
  std::ostringstream csv;
  csv << "row," << (classify ? "predicted" : "prediction");
  if (classify)
    for (Index c = 0; c < outputs.rows(); ++c) csv << ",p" << c;
  else
    for (Index o = 1; o < outputs.rows(); ++o) csv << ",prediction_" << o;
  csv << "\n";
  for (Index j = 0; j < outputs.cols(); ++j) {
    csv << j;
    if (classify) {
      const auto z = outputs.col(j).cast<double>();
      const Eigen::VectorXd p = (z.array() - z.maxCoeff()).exp();
      Index predicted;
      p.maxCoeff(&predicted);
      csv << "," << predicted;
      for (Index c = 0; c < p.size(); ++c) csv << "," << probability_text(p[c] / p.sum());
    } else {
      for (Index o = 0; o < outputs.rows(); ++o) csv << "," << output_text(outputs(o, j));
    }
    csv << "\n";
  }

  // Locked once the inputs are read, so that their errors leave no lock file; the output is
  // checked again under the lock, as it may have changed meanwhile.
  const OutputLock lock(out);  // as a search's, so neither replaces what the other writes
  check_output_path(out, force, inputs);
  const std::string partial = out + ".partial";
  // A leftover from a killed predict, or a link planted there, is removed (the link itself,
  // not what it points to); the file is then created exclusively, so nothing planted after
  // the removal is followed.
  remove_leftover_working_file(partial);
  write_new_file(partial, csv.str());
  std::filesystem::rename(partial, out);  // throws, naming both paths, if it cannot
  std::printf("wrote %lld predictions of trial %lld to %s\n",
              static_cast<long long>(outputs.cols()), static_cast<long long>(t.id), out.c_str());
  return 0;
}

}  // namespace hps
