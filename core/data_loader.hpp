#pragma once
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/dataset.hpp"

namespace hps {

/// Bad or unreadable input data. The message names the file and what is wrong with it. It
/// may quote the data, so a NUL byte in it is written as \x00: what() would end there.
/// `setting` names the config setting the data contradicts, when one does: `label_column`,
/// `features_dataset` or `labels_dataset` of the source read, or `num_classes` or `task` of
/// the data block. prepare_data adds where the config set it.
class DataError : public std::runtime_error {
 public:
  explicit DataError(const std::string& message, std::string setting = "")
      : std::runtime_error(without_nul(message)), setting_(std::move(setting)) {}

  const std::string& setting() const { return setting_; }

 private:
  static std::string without_nul(const std::string& text);
  std::string setting_;
};

/// File formats hpsearch reads.
enum class DataFormat { kIdx, kCsv, kHdf5 };

/// Where one data set comes from (the `data.train` / `data.test` block of a config).
struct DataSource {
  DataFormat format = DataFormat::kIdx;
  std::string images;            ///< idx: images file (gzipped or not)
  std::string labels;            ///< idx: labels file (gzipped or not)
  std::string path;              ///< csv and hdf5: the file
  std::string label_column;      ///< csv: name of the target column in the header row
  std::string features_dataset;  ///< hdf5: dataset holding features, samples x features
  std::string labels_dataset;    ///< hdf5: dataset holding labels, samples (or samples x outputs)
  Index max_samples = 0;         ///< keep only the first N samples (0 = all)
};

/// Loads a data set and checks it: every value finite, features and labels of equal length,
/// class labels integral and in [0, num_classes). `num_classes` 0 infers it as max label + 1.
/// Throws DataError naming the file and the problem.
Dataset load_dataset(const DataSource& source, Task task, int num_classes);

/// IDX files (the MNIST format), gzipped or not: images of any rank >= 1 per sample,
/// flattened to one column per sample; labels as a rank-1 IDX file.
Dataset load_idx(const std::string& images_path, const std::string& labels_path, Task task,
                 int num_classes, Index max_samples = 0);

/// CSV with a header row of distinct, non-empty names (anything else is a DataError naming the
/// name and its columns); every column but `label_column` is a numeric feature.
Dataset load_csv(const std::string& path, const std::string& label_column, Task task,
                 int num_classes, Index max_samples = 0);

/// The features of a CSV file with a header row, for prediction: every column except
/// `label_column`, which may be absent (unlabelled data). Same checks as load_csv.
/// `names`, when given, receives the feature columns' names.
Matrix load_csv_features(const std::string& path, const std::string& label_column,
                         std::vector<std::string>* names = nullptr);

/// Puts the feature rows of `x`, named `names`, in the order of `expected` (the names the
/// model was trained with), so a CSV with the same columns in another order is read by name.
/// Either list empty (a format without names, or a model stored before names were kept):
/// `x` stays as it is, matched by position. Throws DataError naming `source` and the columns
/// when a name is missing, extra or repeated.
void align_features(Matrix& x, const std::vector<std::string>& names,
                    const std::vector<std::string>& expected, const std::string& source);

/// HDF5 file with a features dataset (samples x features, any numeric type) and a labels
/// dataset (samples, or samples x outputs for regression).
Dataset load_hdf5(const std::string& path, const std::string& features_dataset,
                  const std::string& labels_dataset, Task task, int num_classes,
                  Index max_samples = 0);

}  // namespace hps
