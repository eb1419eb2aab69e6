#pragma once
#include <cstdint>

#include "core/dataset.hpp"

namespace hps {

/// A training set with a validation part held out of it.
struct TrainValidationSplit {
  Dataset train;
  Dataset validation;
};

/// Holds out `fraction` of `data` for validation, chosen by `seed`. Classification splits are
/// stratified: every class keeps its share in both parts (rounded per class, at least one
/// validation sample for any class with two or more samples).
TrainValidationSplit split_train_validation(const Dataset& data, double fraction, uint64_t seed);

/// How features are scaled before training.
enum class ScalingKind { kNone, kStandardize, kMinMax };

/// The config's name of `kind`: "none", "standardize" or "minmax".
const char* scaling_name(ScalingKind kind);

/// Per-feature affine scaling x' = (x - offset) * factor, fitted on training data only and
/// stored with the model so predictions on new data use the same statistics.
struct Scaler {
  ScalingKind kind = ScalingKind::kNone;
  Vector offset;  ///< per feature: mean (standardize) or minimum (min-max)
  Vector factor;  ///< per feature: 1/std or 1/(max-min); 1 for constant features

  /// Fits the statistics on `x` (features x samples).
  static Scaler fit(ScalingKind kind, const Matrix& x);
  /// Scales `x` in place; a no-op for kNone.
  void apply(Matrix& x) const;
};

}  // namespace hps
