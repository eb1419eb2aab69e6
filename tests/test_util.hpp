#pragma once
// Helpers shared by the tests: temporary folders and small generated data sets.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/dataset.hpp"
#include "core/hdf5_file.hpp"

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

/// Base of config-parsing tests: writes a config file named `file_name` into a fresh folder
/// and loads it with `loader` (load_train_config, load_search_config).
template <typename Config>
class ConfigFileTest : public ::testing::Test {
 protected:
  ConfigFileTest(std::string file_name, Config (*loader)(const std::string&))
      : file_name_(std::move(file_name)), loader_(loader) {}

  std::string config_path() const { return dir_.file(file_name_); }

  Config load(const std::string& text) {
    write_text(config_path(), text);
    return loader_(config_path());
  }

  /// The ConfigError message loading `text` gives; a test failure when it loads.
  std::string error(const std::string& text) {
    write_text(config_path(), text);
    try {
      loader_(config_path());
    } catch (const std::runtime_error& e) {  // ConfigError
      return e.what();
    }
    ADD_FAILURE() << "expected a ConfigError for:\n" << text;
    return "";
  }

  /// "<config path>:<line>: " — how every located error starts.
  std::string at(int line) const { return config_path() + ":" + std::to_string(line) + ": "; }

  TempDir dir_;

 private:
  std::string file_name_;
  Config (*loader_)(const std::string&);
};
/// Writes raw bytes to `path`.
void write_bytes(const std::string& path, const std::string& bytes);

/// Rewrites the /summary table of the result file at `path` with its rows as `change` leaves
/// them: a hand-damaged file, for the readers' tests.
void rewrite_summary(const std::string& path, const std::function<void(h5::TableRows&)>& change);

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
