// Runs the real hpsearch binary the way a user does and checks exit codes, messages and files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>

#include "core/hdf5_file.hpp"
#include "core/output_path.hpp"
#include "core/rng.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using hps::testing::TempDir;
using hps::testing::write_text;
using ::testing::HasSubstr;
using ::testing::Not;

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

// Diverged in its first epoch: no best epoch, and the non-finite weights are not scored (their
// accuracy, always one class, would pass for a model's); exit 3.
TEST(HpsearchCli, TrainThatDivergesAtOnceScoresNothing) {
  TempDir dir;
  write_regression_csv(dir.file("data.csv"));
  std::string config = kConfig;
  const std::string adam = "optimizer: adam, learning_rate: 0.01";
  config.replace(config.find(adam), adam.size(), "optimizer: sgd, learning_rate: 1.0e+30");
  write_text(dir.file("run.yaml"), config);
  const CommandResult run =
      hpsearch("train " + dir.file("run.yaml") + " --out " + dir.file("out.h5") + " -q");
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_THAT(run.output, HasSubstr("status: diverged"));
  EXPECT_THAT(run.output, HasSubstr("epochs: 0, best epoch: none\n"));
  EXPECT_THAT(run.output, HasSubstr("validation: not scored, no epoch ended with finite weights"));
  EXPECT_THAT(run.output, Not(HasSubstr("validation (")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("out.h5")));
}

// A one-trial search (hpsearch run, no mpirun) on data.csv in `dir`; its result file's path.
std::string one_trial_search(const TempDir& dir) {
  write_regression_csv(dir.file("data.csv"));
  write_text(dir.file("run.yaml"),
             std::string(kConfig) +
                 "search:\n  strategy: random\n  trials: 1\n  space:\n    learning_rate: "
                 "{log_uniform: [0.01, 0.02]}\n");
  const std::string out = dir.file("r.h5");
  const CommandResult run = hpsearch("run " + dir.file("run.yaml") + " --out " + out);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  return out;
}

// predict wrote regression outputs with "%.6g": 1234567.891 came out as 1.23457e+06 on every
// row. It now writes every digit the network's float holds.
TEST(HpsearchCli, PredictWritesRegressionOutputsWithEveryDigit) {
  TempDir dir;
  const std::string out = one_trial_search(dir);
  ASSERT_FALSE(::testing::Test::HasFailure());
  {  // shift every prediction past a million
    h5::File file = h5::File::open(out, true, h5::FileLocking::kOff);
    h5::Group layer = file.root().open_group("trials/0/model/layer_1");
    const std::vector<double> bias = layer.read_vector("bias");
    ASSERT_EQ(bias.size(), 1u);
    layer.delete_link("bias");
    layer.write_vector("bias", Vector::Constant(1, static_cast<float>(bias[0] + 1234567.891)));
  }
  const CommandResult predict = hpsearch("predict " + out + " --data " + dir.file("data.csv") +
                                         " --out " + dir.file("p.csv"));
  ASSERT_EQ(predict.exit_code, 0) << predict.output;
  std::ifstream csv(dir.file("p.csv"));
  std::string header, line;
  std::getline(csv, header);
  int rows = 0, with_fraction = 0;
  while (std::getline(csv, line)) {
    const std::string value = line.substr(line.find(',') + 1);
    EXPECT_EQ(value.find('e'), std::string::npos) << value;
    EXPECT_NEAR(std::stod(value), 1234567.891, 10.0) << value;
    ++rows;
    if (value.find('.') != std::string::npos) ++with_fraction;
  }
  EXPECT_EQ(rows, 200);
  EXPECT_GT(with_fraction, 100);  // floats there step by 0.125

  // Even with --force, predictions never replace the search's own data, though predict does
  // not read it.
  std::filesystem::copy_file(dir.file("data.csv"), dir.file("copy.csv"));
  const CommandResult over = hpsearch("predict " + out + " --data " + dir.file("copy.csv") +
                                      " --out " + dir.file("data.csv") + " --force");
  EXPECT_EQ(over.exit_code, 2) << over.output;
  EXPECT_THAT(over.output, HasSubstr("is the search's data file '" + dir.file("data.csv") +
                                     "' (data.train.path in the config " + out + " records)"));
  EXPECT_EQ(std::filesystem::file_size(dir.file("data.csv")),
            std::filesystem::file_size(dir.file("copy.csv")));
}

// The data fingerprint covers values read by position, and evaluate matches columns by name:
// a training CSV whose header was renamed passed the fingerprint and was scored on swapped
// columns ("a damaged or edited file", exit 0). It is changed data, exit 2.
TEST(HpsearchCli, EvaluateRefusesTrainingDataWhoseColumnsWereRenamed) {
  TempDir dir;
  const std::string out = one_trial_search(dir);
  ASSERT_EQ(hpsearch("evaluate " + out).exit_code, 0);
  std::ifstream in(dir.file("data.csv"));
  std::string text(std::istreambuf_iterator<char>(in), {});
  ASSERT_EQ(text.rfind("x1,x2,y\n", 0), 0u);
  text.replace(0, 5, "x2,x1");
  write_text(dir.file("data.csv"), text);
  const CommandResult renamed = hpsearch("evaluate " + out);
  EXPECT_EQ(renamed.exit_code, 2) << renamed.output;
  EXPECT_THAT(renamed.output, HasSubstr("data changed since " + out +
                                        " was written: the columns of " + dir.file("data.csv") +
                                        " are now 'x2', 'x1', the search's were 'x1', 'x2'"));
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

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// --force replaced FIFOs and links (or what they point to) with an HDF5 file, and a dangling
// link passed for a free name even without it; no lock file appears beside a refused output.
TEST(HpsearchCli, TrainRefusesFifosAndLinksEvenWithForce) {
  TempDir dir;
  write_regression_csv(dir.file("data.csv"));
  write_text(dir.file("run.yaml"), kConfig);
  write_text(dir.file("target.h5"), "keep me");
  ASSERT_EQ(mkfifo(dir.file("pipe.h5").c_str(), 0644), 0);
  std::filesystem::create_symlink("target.h5", dir.file("link.h5"));
  std::filesystem::create_symlink("nowhere.h5", dir.file("dangling.h5"));
  const std::string train = "train " + dir.file("run.yaml") + " -q --out ";
  const CommandResult fifo = hpsearch(train + dir.file("pipe.h5") + " --force");
  EXPECT_EQ(fifo.exit_code, 2);
  EXPECT_THAT(fifo.output, HasSubstr("output '" + dir.file("pipe.h5") +
                                     "' is a FIFO (named pipe), not a regular file"));
  const CommandResult link = hpsearch(train + dir.file("link.h5") + " --force");
  EXPECT_EQ(link.exit_code, 2);
  EXPECT_THAT(link.output, HasSubstr("is a symbolic link to 'target.h5'"));
  const CommandResult dangling = hpsearch(train + dir.file("dangling.h5"));
  EXPECT_EQ(dangling.exit_code, 2);
  EXPECT_THAT(dangling.output, HasSubstr("is a symbolic link to 'nowhere.h5' (dangling)"));

  EXPECT_TRUE(std::filesystem::is_fifo(dir.file("pipe.h5")));
  EXPECT_TRUE(std::filesystem::is_symlink(dir.file("link.h5")));
  EXPECT_TRUE(std::filesystem::is_symlink(dir.file("dangling.h5")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("nowhere.h5")));
  EXPECT_EQ(read_all(dir.file("target.h5")), "keep me");
  for (const char* name : {"pipe.h5.lock", "link.h5.lock", "dangling.h5.lock"})
    EXPECT_FALSE(std::filesystem::exists(dir.file(name))) << name;
}

// --force once overwrote the config or the training data with the trained model.
TEST(HpsearchCli, TrainNeverReplacesItsOwnInputs) {
  TempDir dir;
  write_regression_csv(dir.file("data.csv"));
  write_text(dir.file("run.yaml"), kConfig);
  ASSERT_EQ(link(dir.file("data.csv").c_str(), dir.file("same.csv").c_str()), 0);
  const std::string data = read_all(dir.file("data.csv"));
  const std::string train = "train " + dir.file("run.yaml") + " -q --force --out ";
  const CommandResult config = hpsearch(train + dir.file("run.yaml"));
  EXPECT_EQ(config.exit_code, 2);
  EXPECT_THAT(config.output, HasSubstr("output '" + dir.file("run.yaml") +
                                       "' is the config file '" + dir.file("run.yaml") +
                                       "': writing there would destroy an input; choose another "
                                       "--out"));
  for (const std::string& out : {dir.file("data.csv"), dir.file("same.csv")}) {
    const CommandResult r = hpsearch(train + out);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.output,
                HasSubstr("output '" + out + "' is the training data '" + dir.file("data.csv") +
                          "' named at data.train.path (line 4 of " + dir.file("run.yaml") + ")"));
  }
  EXPECT_EQ(read_all(dir.file("run.yaml")), kConfig);
  EXPECT_EQ(read_all(dir.file("data.csv")), data);
}

// train --force ignored the lock of a search still writing the file, which then overwrote the
// trained model (or was overwritten by it).
TEST(HpsearchCli, TrainRespectsTheOutputLockOfASearch) {
  TempDir dir;
  write_regression_csv(dir.file("data.csv"));
  write_text(dir.file("run.yaml"), kConfig);
  write_text(dir.file("busy.h5"), "a search writes this");
  {
    const OutputLock search(dir.file("busy.h5"));  // what `hpsearch run` holds
    const CommandResult r =
        hpsearch("train " + dir.file("run.yaml") + " -q --force --out " + dir.file("busy.h5"));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.output, HasSubstr("output '" + dir.file("busy.h5") +
                                    "' is being written by another hpsearch command (pid " +
                                    std::to_string(getpid()) + ")"));
    EXPECT_EQ(read_all(dir.file("busy.h5")), "a search writes this");
  }
  const CommandResult after =
      hpsearch("train " + dir.file("run.yaml") + " -q --force --out " + dir.file("busy.h5"));
  EXPECT_EQ(after.exit_code, 0) << after.output;
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
  // The data is read before the output is locked: a refused input leaves no lock file.
  EXPECT_FALSE(std::filesystem::exists(dir.file("out.h5.lock")));
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
      {"run c.yaml --out ''", "usage error: run: --out: must name a file"},
  };
  for (const auto& [args, message] : cases) {
    const CommandResult run = hpsearch(args);
    EXPECT_EQ(run.exit_code, 2) << args;
    EXPECT_THAT(run.output, HasSubstr(message)) << args;
  }
  EXPECT_EQ(hpsearch("--version").exit_code, 0);
  EXPECT_EQ(hpsearch("inspect --help").exit_code, 0);
}

// A path that is not a search result file is the user's mistake, like a missing config.
TEST(HpsearchCli, NotAResultFileExitsTwo) {
  TempDir dir;
  write_text(dir.file("text.h5"), "not HDF5\n");
  write_text(dir.file("x.csv"), "a\n1\n");
  for (const std::string& file : {dir.file("missing.h5"), dir.file("text.h5"), dir.path()}) {
    for (const std::string& command :
         {"inspect " + file, "evaluate " + file,
          "predict " + file + " --data " + dir.file("x.csv") + " --out " + dir.file("p.csv")}) {
      const CommandResult run = hpsearch(command);
      EXPECT_EQ(run.exit_code, 2) << command;
      EXPECT_THAT(run.output, HasSubstr("hpsearch: input error: " + file + ": ")) << command;
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("p.csv")));
}

// A file hpsearch may not read is named as unreadable, not as one of another format. Root
// reads anything, so as root the command runs as user nobody (setpriv), on a copy of the
// binary in a folder nobody may enter.
TEST(HpsearchCli, UnreadableResultFileSaysSo) {
  namespace fs = std::filesystem;
  TempDir dir;
  const std::string file = dir.file("locked.h5");
  write_text(file, "whatever is inside\n");
  fs::permissions(file, fs::perms::none);
  std::string command = std::string(HPSEARCH_BINARY) + " inspect " + file;
  if (geteuid() == 0) {
    fs::permissions(dir.path(),
                    fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    fs::copy_file(HPSEARCH_BINARY, dir.file("hpsearch"));
    fs::permissions(dir.file("hpsearch"), fs::perms::owner_all | fs::perms::others_exec);
    command = "setpriv --reuid=65534 --regid=65534 --clear-groups " + dir.file("hpsearch") +
              " inspect " + file;
  }
  const CommandResult run = testing::run_command(command);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output,
              HasSubstr("hpsearch: input error: " + file + ": cannot read (Permission denied)"));
}

TEST(HpsearchCli, MissingConfigFile) {
  const CommandResult run = hpsearch("train /nonexistent/run.yaml");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("/nonexistent/run.yaml"));
}

}  // namespace
}  // namespace hps
