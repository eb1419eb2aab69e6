#pragma once
// Shared by every reader: turns raw values into a checked Dataset so that all formats
// reject the same problems with the same words.
#include <string>
#include <vector>

#include "core/dataset.hpp"

namespace hps {

/// Builds a Dataset from `x` (features x samples) and raw targets, `outputs` values per sample
/// stored sample after sample. Checks, throwing DataError that starts with `source`:
/// every feature and target finite; targets.size() == samples * outputs ("features and
/// labels of different lengths"); for classification outputs == 1 and every label an integer
/// in [0, num_classes) (num_classes 0: inferred as max + 1, labels must still be >= 0);
/// at least one sample.
/// "'a', 'b', 'c'": column names as messages list them.
std::string quoted_names(const std::vector<std::string>& names);

Dataset make_checked_dataset(Matrix x, const std::vector<double>& targets, Index outputs, Task task,
                             int num_classes, const std::string& source);

}  // namespace hps
