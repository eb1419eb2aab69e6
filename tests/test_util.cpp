#include "test_util.hpp"

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/rng.hpp"

namespace hps::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "hpsearch_test_XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(const std::string& name) const { return path_ + "/" + name; }

void write_text(const std::string& path, const std::string& text) { write_bytes(path, text); }

void rewrite_summary(const std::string& path, const std::function<void(h5::TableRows&)>& change) {
  h5::File file = h5::File::open(path, true, h5::FileLocking::kOff);
  h5::Group root = file.root();
  h5::TableRows rows = root.read_table("summary");
  change(rows);
  root.delete_link("summary");
  root.create_table("summary", rows.layout());
  root.append_rows("summary", rows);
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string mpirun_hpsearch(int ranks) {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  return "mpirun --oversubscribe -np " + std::to_string(ranks) + " " + HPSEARCH_BINARY;
}

Dataset make_blobs(Index n, Index features, int classes, uint64_t seed) {
  Rng rng(seed);
  Matrix centers(features, classes);
  for (Index c = 0; c < classes; ++c)
    for (Index f = 0; f < features; ++f) centers(f, c) = static_cast<float>(4.0 * rng.normal());
  Dataset d;
  d.task = Task::kClassification;
  d.num_classes = classes;
  d.x.resize(features, n);
  d.labels.resize(static_cast<size_t>(n));
  for (Index i = 0; i < n; ++i) {
    const auto c = static_cast<int32_t>(i % classes);
    d.labels[static_cast<size_t>(i)] = c;
    for (Index f = 0; f < features; ++f)
      d.x(f, i) = centers(f, c) + static_cast<float>(rng.normal());
  }
  d.source = "blobs";
  return d;
}

Dataset make_regression(Index n, Index features, uint64_t seed) {
  Rng rng(seed);
  Dataset d;
  d.task = Task::kRegression;
  d.x.resize(features, n);
  d.y.resize(1, n);
  for (Index i = 0; i < n; ++i) {
    double target = 0.0;
    for (Index f = 0; f < features; ++f) {
      const double v = 2.0 * rng.uniform() - 1.0;
      d.x(f, i) = static_cast<float>(v);
      target += std::sin(2.0 * v);
    }
    d.y(0, i) = static_cast<float>(target + 0.05 * rng.normal());
  }
  d.source = "regression";
  return d;
}

}  // namespace hps::testing
