#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace hps {

/// `hpsearch evaluate FILE [--trial ID]`: loads a trial's stored best weights (default: the
/// /best trial), prepares the data as the search did from the stored config, and reports loss
/// and metric on its validation split (next to the values stored during the search) and on
/// the config's test set. Throws DataError when the data's fingerprint differs from the one
/// the file records (a file without one is scored with a note), and on other bad input.
int evaluate_result(const std::string& file, std::optional<int64_t> trial);

/// `hpsearch predict FILE --data CSV --out CSV [--trial ID] [--force]`: predictions of a
/// stored model for every row of a CSV file (its columns: the model's features, plus the
/// config's label column if present, which is ignored). Writes row, predicted class and class
/// probabilities (classification) or row and prediction (regression). The output is checked
/// (check_output_path: never FILE or the --data file) and locked (OutputLock) before anything
/// is read.
int predict_result(const std::string& file, const std::string& data, const std::string& out,
                   std::optional<int64_t> trial, bool force);

}  // namespace hps
