#pragma once
// Shared by every reader: turns raw values into a checked Dataset so that all formats
// reject the same problems with the same words.
#include <cstdint>
#include <string>
#include <vector>

#include "core/dataset.hpp"

namespace hps {

/// Throws DataError unless `path` is a regular file (or a link to one): "<path>: no such file",
/// "<path>: is a directory, not <kind>", or "<path>: is not a regular file (a pipe, device or
/// socket), not <kind>". A pipe would block the reader until something writes to it, and a
/// resume could not read the same data again. `kind`: "a CSV file", "an IDX file", ...
void require_regular_file(const std::string& path, const std::string& kind);

/// "'a', 'b', 'c'": column names as messages list them; past 20, "..., (N in all)".
std::string quoted_names(const std::vector<std::string>& names);

/// Builds a Dataset from `x` (features x samples) and raw targets, `outputs` values per sample
/// stored sample after sample. Checks, throwing DataError that starts with `source`:
/// every feature and target finite; targets.size() == samples * outputs ("features and
/// labels of different lengths"); for classification outputs == 1 and every label an integer
/// in [0, num_classes) (num_classes 0: inferred as max + 1, labels must still be >= 0 and
/// hold at least 2 classes); at least one sample.
Dataset make_checked_dataset(Matrix x, const std::vector<double>& targets, Index outputs, Task task,
                             int num_classes, const std::string& source);

/// Throws DataError starting with `source` when `labels` (not empty) hold only one class: a
/// model trained on them learns nothing, whatever the configured `num_classes` (0: inferred,
/// which make_checked_dataset checks this way itself). A test set may hold one class.
void check_two_classes(const std::vector<int32_t>& labels, int num_classes,
                       const std::string& source);

}  // namespace hps
