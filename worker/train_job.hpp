#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/data_pipeline.hpp"
#include "core/trainer.hpp"

namespace hps {

/// What `hpsearch train` produced.
struct TrainJobResult {
  TrainResult training;
  /// Of the returned (best or last) model; NaN when no epoch ended with finite weights.
  Evaluation validation;
  std::optional<Evaluation> test;  ///< when the config names a test set
  Index train_samples = 0;
  Index validation_samples = 0;
  Index test_samples = 0;
};

/// Trains the one model `config` describes: loads and splits the data (split fixed by
/// config.seed), trains with early stopping, scores the returned model on the validation and
/// test sets, and writes model and history to `output_path` (see write_train_output).
/// The output is written to a temporary file next to it and renamed into place at the end,
/// so an interrupted job never leaves a partial file; an existing file is replaced only with
/// `overwrite`, and never when it is one of the job's inputs (config.source_name and its data
/// files; see check_output_path), all checked before any training. The output's lock
/// (OutputLock) is held throughout, as a search holds it. Throws ConfigError, DataError,
/// h5::Error or std::runtime_error with a message naming what is wrong.
TrainJobResult run_train_job(const TrainConfig& config, const std::string& output_path,
                             bool overwrite, const EpochCallback& on_epoch = {});

/// Writes one trained model and its history to a new HDF5 file at `path`:
///   /            attributes format, format_version, hpsearch_version, config (YAML text), seed,
///                status, message, best_epoch, epochs_run, task, metric
///   /metrics     attributes val_loss, val_<metric>, train_samples, validation_samples and,
///                with a test set, test_loss, test_<metric>, test_samples
///   /model       the network, its feature scaler and the training data's feature names
///                (see write_model)
///   /history     per-epoch learning curves (see write_history)
void write_train_output(const std::string& path, const TrainConfig& config,
                        const TrainJobResult& result, const Scaler& scaler, int num_classes,
                        const std::vector<std::string>& feature_names = {});

}  // namespace hps
