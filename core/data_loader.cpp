#include "core/data_loader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "core/dataset_checks.hpp"

namespace hps {
namespace {

/// Shortest text that reads back as `v` ("12", "2.5", "1e+300"), independent of the locale.
std::string format_number(double v) {
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, result.ptr);
}

const char* non_finite_word(double v) { return std::isnan(v) ? "NaN" : "infinite"; }

[[noreturn]] void fail(const std::string& source, const std::string& problem,
                       const std::string& setting = "") {
  throw DataError(source + ": " + problem, setting);
}

/// Finds the first non-finite feature; called only once allFinite() has said there is one,
/// so the common (clean) case costs a single vectorized pass.
[[noreturn]] void report_non_finite_feature(const Matrix& x, const std::string& source) {
  for (Index s = 0; s < x.cols(); ++s)
    for (Index f = 0; f < x.rows(); ++f)
      if (!std::isfinite(x(f, s)))
        // Features are floats: a finite double past their range (1e300 in an HDF5 or IDX
        // file of doubles) arrives here as infinite too.
        fail(source, "feature " + std::to_string(f) + " of sample " + std::to_string(s) + " is " +
                         non_finite_word(x(f, s)) +
                         (std::isinf(x(f, s)) ? " (or past the 32-bit float range, 3.4e38)" : ""));
  throw std::logic_error("report_non_finite_feature(): no non-finite value in " + source);
}

/// Turns checked class labels into int32 and settles num_classes.
void check_class_labels(const std::vector<double>& targets, int num_classes,
                        const std::string& source, Dataset& out) {
  out.labels.resize(targets.size());
  int32_t largest = -1;
  for (size_t s = 0; s < targets.size(); ++s) {
    const double v = targets[s];
    const std::string where = " at sample " + std::to_string(s);
    if (!std::isfinite(v)) fail(source, "label" + where + " is " + non_finite_word(v));
    if (std::floor(v) != v)
      fail(source, "label " + format_number(v) + where + " is not an integer class index", "task");
    if (num_classes > 0 && (v < 0 || v >= num_classes))
      fail(source,
           "label " + format_number(v) + where + " is outside the class range [0, " +
               std::to_string(num_classes) + ")",
           "num_classes");
    if (v < 0)
      fail(source, "label " + format_number(v) + where + " is negative; class indices start at 0");
    if (v >= kMaxClasses)
      fail(source, "label " + format_number(v) + where + " is larger than " +
                       std::to_string(kMaxClasses - 1) + ", the largest class index (at most " +
                       std::to_string(kMaxClasses) +
                       " classes); is the label column the class index?");
    const auto label = static_cast<int32_t>(v);
    out.labels[s] = label;
    if (label > largest) largest = label;
  }
  out.num_classes = num_classes > 0 ? num_classes : largest + 1;
  // A class count inferred from one class is no class count.
  if (num_classes == 0) check_two_classes(out.labels, 0, source);
}

void check_regression_targets(const std::vector<double>& targets, Index outputs, Index samples,
                              const std::string& source, Dataset& out) {
  constexpr double kFloatMax = std::numeric_limits<float>::max();
  for (size_t k = 0; k < targets.size(); ++k) {
    const double v = targets[k];
    if (std::isfinite(v) && std::abs(v) <= kFloatMax) continue;
    const auto s = static_cast<Index>(k) / outputs;
    const std::string what =
        outputs == 1 ? "target of sample " + std::to_string(s)
                     : "target " + std::to_string(k % outputs) + " of sample " + std::to_string(s);
    if (!std::isfinite(v)) fail(source, what + " is " + non_finite_word(v));
    fail(source, what + " (" + format_number(v) + ") does not fit a 32-bit float");
  }
  using DoubleMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>;
  out.y = Eigen::Map<const DoubleMatrix>(targets.data(), outputs, samples).cast<float>();
}

}  // namespace

std::string DataError::without_nul(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\0') {
      out += "\\x00";
    } else {
      out += c;
    }
  }
  return out;
}

void require_regular_file(const std::string& path, const std::string& kind) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found)
    throw DataError(path + ": no such file");
  if (ec) throw DataError(path + ": cannot access (" + ec.message() + ")");
  if (std::filesystem::is_directory(status))
    throw DataError(path + ": is a directory, not " + kind);
  if (!std::filesystem::is_regular_file(status))
    throw DataError(path + ": is not a regular file (a pipe, device or socket), not " + kind);
}

std::string quoted_names(const std::vector<std::string>& names) {
  constexpr std::size_t kListed = 20;  // a 200,000-column header made a 2 MB message
  std::string text;
  for (std::size_t i = 0; i < names.size() && i < kListed; ++i)
    text += (text.empty() ? "'" : ", '") + names[i] + "'";
  if (names.size() > kListed) text += ", ... (" + std::to_string(names.size()) + " in all)";
  return text;
}

void check_two_classes(const std::vector<int32_t>& labels, int num_classes,
                       const std::string& source) {
  if (labels.empty() ||
      std::any_of(labels.begin(), labels.end(), [&](int32_t l) { return l != labels.front(); }))
    return;
  const std::string given = num_classes > 0 ? " to train on, whatever num_classes (" +
                                                  std::to_string(num_classes) + ") says"
                                            : "";
  fail(source, "all " + std::to_string(labels.size()) + " labels are " +
                   std::to_string(labels.front()) + ": classification needs at least 2 classes" +
                   given +
                   " (check the label column, and max_samples if the file is sorted by label)");
}

Dataset make_checked_dataset(Matrix x, const std::vector<double>& targets, Index outputs, Task task,
                             int num_classes, const std::string& source) {
  if (outputs < 1)
    throw std::invalid_argument("make_checked_dataset(): " + source +
                                ": outputs must be >= 1, got " + std::to_string(outputs));
  if (task == Task::kClassification && outputs != 1)
    fail(source, "classification needs one label per sample, found " + std::to_string(outputs) +
                     " targets per sample");
  if (num_classes < 0)
    throw std::invalid_argument("make_checked_dataset(): " + source +
                                ": num_classes must be >= 0, got " + std::to_string(num_classes));

  const Index samples = x.cols();
  if (static_cast<Index>(targets.size()) != samples * outputs) {
    if (outputs == 1)
      fail(source, "features and labels of different lengths: " + std::to_string(samples) +
                       " samples of features, " + std::to_string(targets.size()) + " labels");
    fail(source, "features and labels of different lengths: " + std::to_string(samples) +
                     " samples of features need " + std::to_string(samples * outputs) +
                     " target values (" + std::to_string(outputs) + " per sample), found " +
                     std::to_string(targets.size()));
  }
  if (samples == 0) fail(source, "no samples");
  if (x.rows() == 0) fail(source, "no features");
  if (!x.allFinite()) report_non_finite_feature(x, source);

  Dataset out;
  out.task = task;
  out.source = source;
  if (task == Task::kClassification) {
    check_class_labels(targets, num_classes, source, out);
  } else {
    check_regression_targets(targets, outputs, samples, source, out);
  }
  out.x = std::move(x);
  return out;
}

Dataset load_dataset(const DataSource& source, Task task, int num_classes) {
  if (source.max_samples < 0)
    throw std::invalid_argument("load_dataset(): max_samples must be >= 0, got " +
                                std::to_string(source.max_samples));
  switch (source.format) {
    case DataFormat::kIdx:
      if (source.images.empty() || source.labels.empty())
        throw DataError("idx data source needs both an images file and a labels file");
      return load_idx(source.images, source.labels, task, num_classes, source.max_samples);
    case DataFormat::kCsv:
      if (source.path.empty()) throw DataError("csv data source needs a path");
      return load_csv(source.path, source.label_column, task, num_classes, source.max_samples);
    case DataFormat::kHdf5:
      if (source.path.empty()) throw DataError("hdf5 data source needs a path");
      return load_hdf5(source.path, source.features_dataset, source.labels_dataset, task,
                       num_classes, source.max_samples);
  }
  throw std::invalid_argument("load_dataset(): unknown data format " +
                              std::to_string(static_cast<int>(source.format)));
}

void align_features(Matrix& x, const std::vector<std::string>& names,
                    const std::vector<std::string>& expected, const std::string& source) {
  if (names.empty() || expected.empty() || names == expected) return;
  // CSV readers refuse repeated names now, but a model stored before they did may carry them.
  std::map<std::string, size_t> seen;
  for (size_t r = 0; r < expected.size(); ++r)
    if (const auto [at, added] = seen.emplace(expected[r], r + 1); !added)
      fail(source, "the training data's feature columns " + std::to_string(at->second) + " and " +
                       std::to_string(r + 1) + " are both named '" + expected[r] +
                       "', so columns cannot be matched by name; rename one and train again");
  std::map<std::string, Index> row_of;
  for (size_t r = 0; r < names.size(); ++r)
    if (!row_of.emplace(names[r], static_cast<Index>(r)).second)
      fail(source, "feature column '" + names[r] +
                       "' appears more than once, so columns cannot be matched by name");
  std::vector<std::string> missing, extra;
  std::vector<Index> order;
  for (const auto& name : expected) {
    const auto found = row_of.find(name);
    if (found == row_of.end()) {
      missing.push_back(name);
    } else {
      order.push_back(found->second);
      row_of.erase(found);
    }
  }
  for (const auto& name : names)
    if (row_of.count(name)) extra.push_back(name);
  if (!missing.empty() || !extra.empty())
    fail(source, "feature columns do not match the training data's (" + quoted_names(expected) +
                     ")" + (missing.empty() ? "" : "; missing " + quoted_names(missing)) +
                     (extra.empty() ? "" : "; not in the training data " + quoted_names(extra)));
  if (x.rows() != static_cast<Index>(names.size()))
    throw std::invalid_argument("align_features(): " + source + " has " + std::to_string(x.rows()) +
                                " feature rows for " + std::to_string(names.size()) + " names");
  Matrix reordered(x.rows(), x.cols());
  for (Index r = 0; r < x.rows(); ++r) reordered.row(r) = x.row(order[static_cast<size_t>(r)]);
  x = std::move(reordered);
}

}  // namespace hps
