// Runs the real hpsearch binary the way a user does and checks exit codes, messages and files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <utility>

#include "core/rng.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using hps::testing::TempDir;
using hps::testing::write_text;
using ::testing::HasSubstr;

using hps::testing::CommandResult;

CommandResult hpsearch(const std::string& args) {
  return testing::run_command(std::string(HPSEARCH_BINARY) + " " + args);
}

void write_regression_csv(const std::string& path) {
  Rng rng(3);
  std::ostringstream csv;
  csv << "x1,x2,y\n";
  for (int i = 0; i < 200; ++i) {
    const double a = rng.uniform(), b = rng.uniform();
    csv << a << "," << b << "," << 3 * a - 2 * b + 0.01 * rng.normal() << "\n";
  }
  write_text(path, csv.str());
}

const char* kConfig = R"(seed: 1
data:
  task: regression
  train: {format: csv, path: data.csv, label_column: y}
model: {hidden: [8], activation: tanh}
training: {optimizer: adam, learning_rate: 0.01, batch_size: 32, max_epochs: 5}
)";

TEST(HpsearchCli, TrainWritesResultAndPrintsMetrics) {
  TempDir dir;
  write_regression_csv(dir.file("data.csv"));
  write_text(dir.file("run.yaml"), kConfig);
  const CommandResult run =
      hpsearch("train " + dir.file("run.yaml") + " --out " + dir.file("out.h5"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("validation (20 samples): loss"));
  EXPECT_THAT(run.output, HasSubstr("val_mae"));
  EXPECT_TRUE(std::filesystem::exists(dir.file("out.h5")));
}

TEST(HpsearchCli, ExistingOutputNeedsForce) {
  TempDir dir;
  write_regression_csv(dir.file("data.csv"));
  write_text(dir.file("run.yaml"), kConfig);
  write_text(dir.file("out.h5"), "keep me");
  const CommandResult run =
      hpsearch("train " + dir.file("run.yaml") + " --out " + dir.file("out.h5"));
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("already exists; pass --force"));
  EXPECT_EQ(std::filesystem::file_size(dir.file("out.h5")), 7u);
  EXPECT_EQ(hpsearch("train " + dir.file("run.yaml") + " --force -q --out " + dir.file("out.h5"))
                .exit_code,
            0);
}

TEST(HpsearchCli, ConfigErrorNamesKeyAndLineAndWritesNothing) {
  TempDir dir;
  write_regression_csv(dir.file("data.csv"));
  std::string bad = kConfig;
  bad.replace(bad.find("batch_size: 32"), 14, "batch_size: 0");
  write_text(dir.file("run.yaml"), bad);
  const CommandResult run =
      hpsearch("train " + dir.file("run.yaml") + " --out " + dir.file("out.h5"));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.output, HasSubstr("run.yaml:6"));
  EXPECT_THAT(run.output, HasSubstr("training.batch_size"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.h5")));
}

TEST(HpsearchCli, BadDataIsAnErrorNamingTheFile) {
  TempDir dir;
  write_text(dir.file("data.csv"), "x1,x2,y\n1,2,3\n4,five,6\n");
  write_text(dir.file("run.yaml"), kConfig);
  const CommandResult run =
      hpsearch("train " + dir.file("run.yaml") + " --out " + dir.file("out.h5"));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.output, HasSubstr("data.csv"));
  EXPECT_THAT(run.output, HasSubstr("five"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.h5")));
}

TEST(HpsearchCli, GraceAndTimeLimitMustBeFiniteSeconds) {
  // NaN passes "< 0" checks, and a huge value would overflow the deadline it becomes: both
  // would have dropped running trials at once instead of waiting.
  for (const std::string bad : {"--grace nan", "--grace 1e10", "--grace -1", "--grace soon"}) {
    const CommandResult run = hpsearch("run search.yaml " + bad);
    EXPECT_NE(run.exit_code, 0) << bad;
    EXPECT_THAT(run.output, HasSubstr("must be a number in [0, 31536000] seconds, got '" +
                                      bad.substr(bad.find(' ') + 1) + "'"));
  }
  for (const std::string bad : {"--time-limit nan", "--time-limit 0", "--time-limit inf"}) {
    const CommandResult run = hpsearch("run search.yaml " + bad);
    EXPECT_NE(run.exit_code, 0) << bad;
    EXPECT_THAT(run.output, HasSubstr("must be a number in (0, 31536000] seconds, got '" +
                                      bad.substr(bad.find(' ') + 1) + "'"));
  }
}

TEST(HpsearchCli, CommandLineMistakesExitTwoAndSayWhat) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "usage error: a command is required (commands: train, run, check"},
      {"bogus", "usage error: unknown command 'bogus' (commands: train, run"},
      {"--frob", "usage error: unknown option '--frob'"},
      {"run", "usage error: run: config is required"},
      {"inspect x.h5 --top -1", "usage error: inspect: --top: must be a whole number in [0, "},
      {"inspect x.h5 --top 1.5", "--top: must be a whole number in [0, 2147483647], got '1.5'"},
      {"evaluate x.h5 --trial 99999999999999999999",
       "--trial: must be a whole number in [0, 9223372036854775807], got "
       "'99999999999999999999'"},
      {"check c.yaml --show -2", "--show: must be a whole number in [0, 1000000], got '-2'"},
  };
  for (const auto& [args, message] : cases) {
    const CommandResult run = hpsearch(args);
    EXPECT_EQ(run.exit_code, 2) << args;
    EXPECT_THAT(run.output, HasSubstr(message)) << args;
  }
  EXPECT_EQ(hpsearch("--version").exit_code, 0);
  EXPECT_EQ(hpsearch("inspect --help").exit_code, 0);
}

TEST(HpsearchCli, MissingConfigFile) {
  const CommandResult run = hpsearch("train /nonexistent/run.yaml");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("/nonexistent/run.yaml"));
}

}  // namespace
}  // namespace hps
