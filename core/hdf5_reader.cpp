// hps::load_hdf5: a features dataset (samples x features) and a labels dataset (samples, or
// samples x outputs) from one HDF5 file, any numeric element type on disk.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/data_loader.hpp"
#include "core/dataset_checks.hpp"
#include "core/hdf5_file.hpp"

namespace hps {
namespace {

constexpr std::size_t kMaxListed = 20;  // datasets named in a "not found" message

// Absolute paths of the datasets under `group`, depth first, at most kMaxListed + 1 of them
// (one more than shown, so the message can say the list goes on).
void collect_datasets(const h5::Group& group, std::vector<std::string>& found) {
  for (const std::string& child : group.children()) {
    if (found.size() > kMaxListed) return;
    if (!group.exists(child)) continue;  // a dangling link
    if (group.is_group(child)) {
      collect_datasets(group.open_group(child), found);
    } else {
      found.push_back(group.child_path(child));
    }
  }
}

std::string found_datasets(const h5::Group& root) {
  std::vector<std::string> found;
  collect_datasets(root, found);
  if (found.empty()) return "found: none";
  std::string text = "found: ";
  for (std::size_t i = 0; i < std::min(found.size(), kMaxListed); ++i) {
    if (i > 0) text += ", ";
    text += found[i];
  }
  if (found.size() > kMaxListed) text += ", ...";
  return text;
}

// Opens dataset `name` and checks it is numeric with a rank in [min_rank, max_rank].
h5::DatasetInfo numeric_dataset(const h5::Group& root, const std::string& path,
                                const std::string& name, const char* role, int min_rank,
                                int max_rank, const char* expected) {
  const std::string setting = std::string(role) + "_dataset";
  if (name.empty()) {
    throw DataError(path + ": no " + role + " dataset named (" + found_datasets(root) + ")",
                    setting);
  }
  const std::string shown = root.child_path(name);
  if (!root.exists(name)) {
    throw DataError(path + ": no dataset '" + shown + "' (" + found_datasets(root) + ")", setting);
  }
  if (root.is_group(name)) {
    throw DataError(
        path + ": '" + shown + "' is a group, not a dataset (" + found_datasets(root) + ")",
        setting);
  }
  const h5::DatasetInfo info = root.dataset_info(name);
  if (info.rank() < min_rank || info.rank() > max_rank) {
    throw DataError(path + ": dataset '" + shown + "' has shape " + info.dims_string() + " (rank " +
                    std::to_string(info.rank()) + "), expected rank " + expected);
  }
  if (!info.is_numeric()) {
    throw DataError(path + ": dataset '" + shown + "' holds " + info.type_name() +
                    " values, expected numbers (integer or float)");
  }
  return info;
}

Dataset read_hdf5(const std::string& path, const std::string& features_dataset,
                  const std::string& labels_dataset, Task task, int num_classes,
                  Index max_samples) {
  const h5::File file = h5::File::open(path);
  const h5::Group root = file.root();

  const h5::DatasetInfo features =
      numeric_dataset(root, path, features_dataset, "features", 2, 2, "2 (samples x features)");
  const h5::DatasetInfo labels = numeric_dataset(root, path, labels_dataset, "labels", 1, 2,
                                                 "1 (samples) or 2 (samples x outputs)");
  // Checked here, before max_samples cuts both to the same length and would hide it.
  if (features.dims[0] != labels.dims[0]) {
    throw DataError(
        path + ": features and labels of different lengths: " + std::to_string(features.dims[0]) +
        " samples in '" + root.child_path(features_dataset) + "', " +
        std::to_string(labels.dims[0]) + " in '" + root.child_path(labels_dataset) + "'");
  }
  if (labels.rank() == 2 && labels.dims[1] == 0)
    throw DataError(path + ": dataset '" + root.child_path(labels_dataset) + "' has shape " +
                    labels.dims_string() + ": no label or target per sample");
  hsize_t samples = features.dims[0];
  if (max_samples > 0) samples = std::min(samples, static_cast<hsize_t>(max_samples));
  const auto num_features = static_cast<Index>(features.dims[1]);
  const auto outputs = labels.rank() == 2 ? static_cast<Index>(labels.dims[1]) : Index{1};

  // HDF5's row-major [samples, features] is exactly Eigen's column-major features x samples.
  Matrix x(num_features, static_cast<Index>(samples));
  root.read_rows(features_dataset, samples, x.data());
  std::vector<double> targets(static_cast<std::size_t>(samples) *
                              static_cast<std::size_t>(outputs));
  root.read_rows(labels_dataset, samples, targets.data());

  return make_checked_dataset(std::move(x), targets, outputs, task, num_classes, path);
}

}  // namespace

Dataset load_hdf5(const std::string& path, const std::string& features_dataset,
                  const std::string& labels_dataset, Task task, int num_classes,
                  Index max_samples) {
  require_regular_file(path, "an HDF5 file");
  if (!h5::File::is_hdf5(path)) throw DataError(path + ": not an HDF5 file");
  try {
    return read_hdf5(path, features_dataset, labels_dataset, task, num_classes, max_samples);
  } catch (const h5::Error& e) {
    // Already "<file>:<object>: what: HDF5's reason".
    throw DataError(e.what());
  }
}

}  // namespace hps
