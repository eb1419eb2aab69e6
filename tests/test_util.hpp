#pragma once
// Helpers shared by the tests: temporary folders and small generated data sets.
#include <string>

#include "core/dataset.hpp"

namespace hps::testing {

/// A fresh empty directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  /// path() + "/" + name
  std::string file(const std::string& name) const;

 private:
  std::string path_;
};

/// Writes `text` to `path`, replacing it.
void write_text(const std::string& path, const std::string& text);
/// Writes raw bytes to `path`.
void write_bytes(const std::string& path, const std::string& bytes);

/// Exit code and output (stdout and stderr together) of a shell command.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};

/// Runs `command` with /bin/sh and collects what it prints.
CommandResult run_command(const std::string& command);

/// "mpirun --oversubscribe -np N <hpsearch>", with Open MPI allowed to run as root (CI).
std::string mpirun_hpsearch(int ranks);

/// `n` samples of `classes` Gaussian blobs in `features` dimensions, well separated.
Dataset make_blobs(Index n, Index features, int classes, uint64_t seed);

/// `n` samples of y = sum of features' sines plus noise, for regression.
Dataset make_regression(Index n, Index features, uint64_t seed);

}  // namespace hps::testing
