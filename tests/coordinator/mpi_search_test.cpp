// The whole search under real mpirun, with 1, 2 and 3 (oversubscribed) ranks, checked through
// the result file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/model_io.hpp"
#include "core/output_path.hpp"
#include "core/results_file.hpp"
#include "core/rng.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using hps::testing::TempDir;
using hps::testing::write_text;
using ::testing::HasSubstr;
using ::testing::Not;

using hps::testing::CommandResult;

CommandResult shell(const std::string& command) { return testing::run_command(command); }

std::string mpirun(int ranks) { return testing::mpirun_hpsearch(ranks); }

void write_data(const TempDir& dir) {
  Rng rng(5);
  std::ostringstream csv;
  csv << "f1,f2,f3,f4,label\n";
  for (int i = 0; i < 300; ++i) {
    const int label = i % 3;
    csv << label + 0.7 * rng.normal() << "," << rng.normal() << "," << -label + 0.7 * rng.normal()
        << "," << 0.5 * label * rng.normal() << "," << label << "\n";
  }
  write_text(dir.file("train.csv"), csv.str());
}

const char* kRandomSearch = R"(seed: 3
data:
  task: classification
  validation_fraction: 0.25
  train: {format: csv, path: train.csv, label_column: label}
model: {hidden: [16]}
training: {optimizer: adam, batch_size: 32, max_epochs: 8}
early_stopping: {monitor: val_accuracy, patience: 3}
search:
  strategy: random
  trials: 7
  keep_weights: 3
  space:
    learning_rate: {log_uniform: [1.0e-3, 3.0e-2]}
    hidden: [[8], [16, 8]]
    dropout: {uniform: [0.0, 0.3]}
    batch_size: [16, 32]
    l2: [0.0, 0.001]
)";

std::map<int64_t, SummaryRow> by_trial(const std::vector<SummaryRow>& rows) {
  std::map<int64_t, SummaryRow> m;
  for (const auto& r : rows) m[r.trial] = r;
  return m;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class MpiSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    if (shell("command -v mpirun").exit_code != 0) GTEST_SKIP() << "mpirun is not installed";
    write_data(dir_);
    write_text(dir_.file("search.yaml"), kRandomSearch);
  }
  CommandResult run(int ranks, const std::string& out, const std::string& extra = "") {
    return shell(mpirun(ranks) + " run " + dir_.file("search.yaml") + " --out " + out + " " +
                 extra);
  }
  TempDir dir_;
};

TEST_F(MpiSearch, SameSummaryWithOneTwoAndThreeRanks) {
  std::map<int, std::map<int64_t, SummaryRow>> results;
  std::map<int, std::optional<int64_t>> best;
  for (int ranks : {1, 2, 3}) {
    const std::string out = dir_.file("np" + std::to_string(ranks) + ".h5");
    const CommandResult r = run(ranks, out);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("[7/7]"));
    const ResultsReader reader(out);
    EXPECT_EQ(reader.attribute("status"), "finished");
    const auto rows = reader.summary();
    ASSERT_EQ(rows.size(), 7u) << "every trial once";
    std::set<int64_t> ids;
    std::set<int64_t> ranks_used;
    for (const auto& row : rows) {
      ids.insert(row.trial);
      ranks_used.insert(row.rank);
      EXPECT_THAT(row.status, ::testing::AnyOf("completed", "early_stopped")) << row.trial;
    }
    EXPECT_EQ(ids.size(), 7u);
    EXPECT_EQ(static_cast<int>(ranks_used.size()), ranks) << "every rank trains";
    results[ranks] = by_trial(rows);
    best[ranks] = reader.best_trial();
    ASSERT_TRUE(best[ranks].has_value());
    EXPECT_TRUE(reader.has_model(*best[ranks]));
  }
  for (int ranks : {2, 3}) {
    EXPECT_EQ(best[ranks], best[1]);
    for (const auto& [id, row] : results[1]) {
      const SummaryRow& other = results[ranks].at(id);
      EXPECT_EQ(other.params, row.params) << "trial " << id;
      EXPECT_EQ(other.best_val_loss, row.best_val_loss) << "trial " << id;
      EXPECT_EQ(other.best_val_metric, row.best_val_metric) << "trial " << id;
      EXPECT_EQ(other.epochs_run, row.epochs_run) << "trial " << id;
      EXPECT_EQ(other.best_epoch, row.best_epoch) << "trial " << id;
    }
  }
}

// A result too large for one MPI message goes as a header and pieces. With 64-byte pieces
// every result of this search takes that path; its summary and stored weights must equal a
// one-rank run's, which never uses MPI messages.
TEST_F(MpiSearch, ResultsSentInPiecesArriveWhole) {
  const CommandResult one = run(1, dir_.file("np1.h5"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const CommandResult pieces = shell("HPSEARCH_MPI_PIECE_BYTES=64 " + mpirun(3) + " run " +
                                     dir_.file("search.yaml") + " --out " + dir_.file("pieces.h5"));
  ASSERT_EQ(pieces.exit_code, 0) << pieces.output;
  const ResultsReader a(dir_.file("np1.h5"));
  const ResultsReader b(dir_.file("pieces.h5"));
  const auto rows_a = by_trial(a.summary());
  const auto rows_b = by_trial(b.summary());
  ASSERT_EQ(rows_b.size(), rows_a.size());
  std::set<int64_t> ranks_used;
  int compared = 0;
  for (const auto& [id, row] : rows_a) {
    const SummaryRow& other = rows_b.at(id);
    ranks_used.insert(other.rank);
    EXPECT_EQ(other.params, row.params) << "trial " << id;
    EXPECT_EQ(other.best_val_loss, row.best_val_loss) << "trial " << id;
    ASSERT_EQ(b.has_model(id), a.has_model(id)) << "trial " << id;
    if (!a.has_model(id)) continue;
    const StoredModel wa = read_model(a.trial_group(id).open_group("model"));
    const StoredModel wb = read_model(b.trial_group(id).open_group("model"));
    EXPECT_TRUE(wa.model.parameters() == wb.model.parameters()) << "trial " << id;
    ++compared;
  }
  EXPECT_GT(compared, 0);
  EXPECT_GT(ranks_used.size(), 1u) << "results came from workers, not only rank 0";
}

// TPE sampling with ASHA over real ranks: epoch reports travel to rank 0 and back.
const char* kTpeAshaSearch = R"(seed: 4
data:
  task: classification
  validation_fraction: 0.25
  train: {format: csv, path: train.csv, label_column: label}
model: {hidden: [16]}
training: {optimizer: adam, batch_size: 32, max_epochs: 9}
early_stopping: {monitor: val_accuracy, patience: 4}
search:
  strategy: tpe
  trials: 14
  tpe: {startup_trials: 4}
  scheduler: asha
  asha: {reduction_factor: 3, min_epochs: 1}
  space:
    learning_rate: {log_uniform: [1.0e-4, 3.0e-2]}
    hidden: [[4], [16, 8]]
    dropout: {uniform: [0.0, 0.3]}
)";

TEST_F(MpiSearch, TpeWithAshaPrunesAtRungsAndIsReproducibleOnOneRank) {
  write_text(dir_.file("tpe.yaml"), kTpeAshaSearch);
  const auto search = [&](int ranks, const std::string& out, const std::string& env = "") {
    const CommandResult r =
        shell(env + mpirun(ranks) + " run " + dir_.file("tpe.yaml") + " --out " + dir_.file(out));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("(tpe + asha)"));
    return ResultsReader(dir_.file(out)).summary();
  };
  // -np 1: one trial at a time, so the sequence of points and verdicts repeats exactly.
  const auto a = search(1, "a.h5");
  const auto b = search(1, "b.h5");
  ASSERT_EQ(a.size(), 14u);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].trial, b[i].trial);
    EXPECT_EQ(a[i].params, b[i].params) << "trial " << a[i].trial;
    EXPECT_EQ(a[i].status, b[i].status) << "trial " << a[i].trial;
    EXPECT_EQ(a[i].best_val_metric, b[i].best_val_metric) << "trial " << a[i].trial;
  }
  // -np 2: every trial once; pruned ones stop exactly at a rung (1 or 3 epochs) and keep their
  // history, and their message says why. Every message over 64 bytes (assignments, epoch
  // reports, verdicts, results) travels as a header and pieces, as one over 1 GiB would.
  const auto rows = search(2, "np2.h5", "HPSEARCH_MPI_PIECE_BYTES=64 ");
  ASSERT_EQ(rows.size(), 14u);
  std::set<int64_t> ids;
  int pruned = 0;
  const ResultsReader reader(dir_.file("np2.h5"));
  for (const SummaryRow& row : rows) {
    ids.insert(row.trial);
    if (row.status != "pruned") continue;
    ++pruned;
    EXPECT_THAT(row.epochs_run, ::testing::AnyOf(1, 3)) << "trial " << row.trial;
    EXPECT_EQ(row.rung, row.epochs_run == 1 ? 0 : 1) << "trial " << row.trial;
    const h5::Group group = reader.trial_group(row.trial);
    EXPECT_THAT(group.read_attribute<std::string>("message"), HasSubstr("pruned at rung"));
    EXPECT_EQ(read_history(group.open_group("history")).epochs.size(),
              static_cast<size_t>(row.epochs_run));
  }
  EXPECT_EQ(ids.size(), 14u);
  EXPECT_GT(pruned, 0);
  EXPECT_EQ(reader.attribute("strategy"), "tpe");
  EXPECT_EQ(reader.attribute("scheduler"), "asha");
  const CommandResult inspect =
      shell(std::string(HPSEARCH_BINARY) + " inspect " + dir_.file("np2.h5"));
  EXPECT_EQ(inspect.exit_code, 0);
  EXPECT_THAT(inspect.output, HasSubstr("tpe + asha search"));
  EXPECT_THAT(inspect.output, HasSubstr(" rung "));
}

TEST_F(MpiSearch, MedianRuleStopsTrialsBelowTheMedian) {
  std::string median = kRandomSearch;
  median.replace(median.find("trials: 7"), 9,
                 "trials: 12\n  scheduler: median\n  median: {warmup_epochs: 1, min_trials: 2}");
  write_text(dir_.file("median.yaml"), median);
  const std::string out = dir_.file("median.h5");
  const CommandResult r = shell(mpirun(2) + " run " + dir_.file("median.yaml") + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int pruned = 0;
  const ResultsReader reader(out);
  for (const SummaryRow& row : reader.summary()) {
    if (row.status != "pruned") continue;
    ++pruned;
    EXPECT_GE(row.epochs_run, 2) << "warm-up: never before the second epoch";
    EXPECT_EQ(row.rung, -1);
    EXPECT_THAT(reader.trial_group(row.trial).read_attribute<std::string>("message"),
                HasSubstr("is worse than the median"));
  }
  EXPECT_GT(pruned, 0);
  EXPECT_EQ(reader.attribute("scheduler"), "median");
}

// --time-limit: no trial starts after it, running ones finish, exit 0, and --resume goes on.
TEST_F(MpiSearch, TimeLimitStopsStartingTrialsAndResumeGoesOn) {
  std::string many = kRandomSearch;
  many.replace(many.find("trials: 7"), 9, "trials: 5000");
  write_text(dir_.file("many.yaml"), many);
  const std::string out = dir_.file("limited.h5");
  const std::string command = mpirun(2) + " run " + dir_.file("many.yaml") + " --out " + out;
  const CommandResult first = shell(command + " --time-limit 1.5");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_THAT(first.output, HasSubstr("time limit of 1.5s reached"));
  size_t recorded = 0;
  {
    const ResultsReader reader(out);
    EXPECT_EQ(reader.attribute("status"), "time_limit");
    recorded = reader.summary().size();
    EXPECT_GT(recorded, 0u);
    EXPECT_LT(recorded, 5000u);
  }
  const CommandResult more = shell(command + " --resume --time-limit 1");
  ASSERT_EQ(more.exit_code, 0) << more.output;
  const ResultsReader reader(out);
  EXPECT_GT(reader.summary().size(), recorded);
  EXPECT_EQ(reader.integer_attribute("resumes"), 1);
  const CommandResult bad = shell(command + " --force --time-limit 0");
  EXPECT_NE(bad.exit_code, 0);
}

// A project moved elsewhere resumes: the recorded config's data paths are where the search
// ran, and only the data's contents (its fingerprint) must match.
TEST_F(MpiSearch, AMovedProjectResumes) {
  std::string many = kRandomSearch;
  many.replace(many.find("trials: 7"), 9, "trials: 5000");
  const std::string before = dir_.file("before"), after = dir_.file("after");
  std::filesystem::create_directory(before);
  std::filesystem::rename(dir_.file("train.csv"), before + "/train.csv");
  write_text(before + "/many.yaml", many);
  const auto command = [](const std::string& project) {
    return mpirun(1) + " run " + project + "/many.yaml --out " + project + "/r.h5";
  };
  const CommandResult first = shell(command(before) + " --time-limit 1");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const size_t recorded = ResultsReader(before + "/r.h5").summary().size();
  std::filesystem::rename(before, after);
  const CommandResult more = shell(command(after) + " --resume --time-limit 1");
  ASSERT_EQ(more.exit_code, 0) << more.output;
  EXPECT_THAT(more.output, HasSubstr("resuming: " + std::to_string(recorded) + " trials recorded"));
  EXPECT_GT(ResultsReader(after + "/r.h5").summary().size(), recorded);
}

// An error while trials run (here the result file cannot be replaced: a directory took its
// place) ends the job at once with the error, the trials recorded so far kept in OUT.live, not
// when rank 0's own trial ends: trial 0 here (three layers of 1024 on rank 0's thread) would
// take many minutes, and `timeout` would end the job with 124.
TEST_F(MpiSearch, AWriteErrorEndsTheJobWithoutWaitingForRankZerosTrial) {
  write_text(dir_.file("slow.yaml"), R"(seed: 1
data:
  task: classification
  train: {format: csv, path: train.csv, label_column: label}
training: {optimizer: adam, batch_size: 8, max_epochs: 5000}
early_stopping: {enabled: false}
search:
  strategy: grid
  space:
    learning_rate: [1.0e-3, 2.0e-3]
    hidden: [[1024, 1024, 1024], [4]]
)");
  const std::string out = dir_.file("slow.h5");
  const CommandResult r = shell("timeout 120 " + mpirun(2) + " run " + dir_.file("slow.yaml") +
                                " --out " + out + " 2>&1 & job=$!; for i in $(seq 1500); do [ -f " +
                                out + " ] && break; sleep 0.02; done; mv " + out + " " + out +
                                ".first && mkdir " + out + "; wait $job");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("hpsearch: rank 0: error: cannot replace '" + out + "'"));
  const auto kept_rows = [&] { return ResultsReader(out + ".live").summary(); };
  ASSERT_EQ(kept_rows().size(), 1u) << "trial 1 (one layer of 4, on rank 1)";
  EXPECT_EQ(kept_rows()[0].trial, 1);

  // OUT.live now holds the only copy of trial 1: neither a new search nor a resume of the
  // older OUT (the file as first published, with no trial) discards it.
  std::filesystem::remove(out);
  const std::string command = mpirun(1) + " run " + dir_.file("slow.yaml") + " --out " + out;
  const std::string refusal = "'" + out +
                              ".live' holds 1 recorded trial that a search could "
                              "not publish as '" +
                              out + "'";
  const CommandResult fresh = shell(command);
  EXPECT_EQ(fresh.exit_code, 2) << fresh.output;
  EXPECT_THAT(fresh.output, HasSubstr(refusal));
  std::filesystem::rename(out + ".first", out);
  const CommandResult resumed = shell(command + " --resume");
  EXPECT_EQ(resumed.exit_code, 2) << resumed.output;
  EXPECT_THAT(resumed.output, HasSubstr(refusal));
  EXPECT_EQ(kept_rows().size(), 1u);
  // Moved over OUT, as the message says, it is the search's result file.
  std::filesystem::rename(out + ".live", out);
  EXPECT_EQ(ResultsReader(out).summary().size(), 1u);
}

TEST_F(MpiSearch, DivergedTrialsAreRecordedAndTheSearchGoesOn) {
  write_text(dir_.file("grid.yaml"), R"(seed: 1
data:
  task: classification
  train: {format: csv, path: train.csv, label_column: label}
training: {optimizer: sgd, batch_size: 16, max_epochs: 4}
search:
  strategy: grid
  space:
    learning_rate: [0.05, 1.0e+12]
    hidden: [[8], [4, 4]]
)");
  const std::string out = dir_.file("grid.h5");
  const CommandResult r = shell(mpirun(2) + " run " + dir_.file("grid.yaml") + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto rows = by_trial(ResultsReader(out).summary());
  ASSERT_EQ(rows.size(), 4u);
  int diverged = 0;
  for (const auto& [id, row] : rows) diverged += row.status == "diverged";
  EXPECT_EQ(diverged, 2);
  EXPECT_THAT(r.output, HasSubstr("failed/diverged 2"));
}

TEST_F(MpiSearch, ExistingOutputIsKeptWithoutForce) {
  const std::string out = dir_.file("taken.h5");
  write_text(out, "precious");
  const CommandResult r = run(2, out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("already exists; pass --force"));
  EXPECT_EQ(std::filesystem::file_size(out), 8u);
  const CommandResult forced = run(1, out, "--force");
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_EQ(ResultsReader(out).summary().size(), 7u);
}

// --force replaces the old result when the new search first publishes, not before: a search
// that fails on the way (here its working file cannot be made) leaves the old one. It used
// to be deleted as the search was planned.
TEST_F(MpiSearch, ForceKeepsTheOldResultUntilTheNewSearchPublishes) {
  const std::string out = dir_.file("old.h5");
  ASSERT_EQ(run(1, out).exit_code, 0);
  std::filesystem::create_directories(out + ".live/in_the_way");
  const CommandResult r = run(1, out, "--force");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("cannot remove the leftover working file '" + out + ".live'"));
  EXPECT_EQ(ResultsReader(out).summary().size(), 7u);
  std::filesystem::remove_all(out + ".live");
  const CommandResult again = run(1, out, "--force");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(ResultsReader(out).attribute("status"), "finished");
}

// --force once overwrote the search's own config and training data with HDF5, and replaced
// FIFOs and links (or what they point to); a refused output gets no lock file either.
TEST_F(MpiSearch, ForceNeverReplacesInputsSpecialFilesOrLinks) {
  const std::string config = file_text(dir_.file("search.yaml"));
  const std::string data = file_text(dir_.file("train.csv"));
  const CommandResult own_config = run(2, dir_.file("search.yaml"), "--force");
  EXPECT_EQ(own_config.exit_code, 2) << own_config.output;
  EXPECT_THAT(own_config.output, HasSubstr("is the config file '" + dir_.file("search.yaml") +
                                           "': writing there would destroy an input"));
  const CommandResult own_data = run(1, dir_.file("./train.csv"), "--force");
  EXPECT_EQ(own_data.exit_code, 2) << own_data.output;
  EXPECT_THAT(own_data.output,
              HasSubstr("output '" + dir_.file("./train.csv") + "' is the training data '" +
                        dir_.file("train.csv") + "' named at data.train.path (line 5 of " +
                        dir_.file("search.yaml") + ")"));
  ASSERT_EQ(mkfifo(dir_.file("pipe.h5").c_str(), 0644), 0);
  const CommandResult fifo = run(1, dir_.file("pipe.h5"), "--force");
  EXPECT_EQ(fifo.exit_code, 2) << fifo.output;
  EXPECT_THAT(fifo.output, HasSubstr("is a FIFO (named pipe), not a regular file"));
  std::filesystem::create_symlink("/proc/self/fd/1", dir_.file("stdout.h5"));
  const CommandResult link = run(1, dir_.file("stdout.h5"), "--force");
  EXPECT_EQ(link.exit_code, 2) << link.output;
  EXPECT_THAT(link.output, HasSubstr("is a symbolic link to '/proc/self/fd/1'"));

  EXPECT_EQ(file_text(dir_.file("search.yaml")), config);
  EXPECT_EQ(file_text(dir_.file("train.csv")), data);
  EXPECT_TRUE(std::filesystem::is_fifo(dir_.file("pipe.h5")));
  EXPECT_TRUE(std::filesystem::is_symlink(dir_.file("stdout.h5")));
  for (const char* name : {"search.yaml.lock", "train.csv.lock", "pipe.h5.lock", "stdout.h5.lock"})
    EXPECT_FALSE(std::filesystem::exists(dir_.file(name))) << name;
}

// predict --force once replaced the result file it read or its --data file, and ignored the
// lock of another command writing its output.
TEST_F(MpiSearch, PredictNeverReplacesItsInputsOrABusyOutput) {
  const std::string out = dir_.file("result.h5");
  ASSERT_EQ(run(1, out).exit_code, 0);
  const std::string result = file_text(out), data = file_text(dir_.file("train.csv"));
  const std::string predict =
      std::string(HPSEARCH_BINARY) + " predict " + out + " --data " + dir_.file("train.csv");
  const CommandResult own_result = shell(predict + " --force --out " + out);
  EXPECT_EQ(own_result.exit_code, 2) << own_result.output;
  EXPECT_THAT(own_result.output, HasSubstr("output '" + out + "' is the result file '" + out +
                                           "' being read: writing there would destroy an input"));
  const CommandResult own_data = shell(predict + " --force --out " + dir_.file("train.csv"));
  EXPECT_EQ(own_data.exit_code, 2) << own_data.output;
  EXPECT_THAT(own_data.output, HasSubstr("is the --data file '" + dir_.file("train.csv") + "'"));
  ASSERT_EQ(mkfifo(dir_.file("pipe.csv").c_str(), 0644), 0);
  const CommandResult fifo = shell(predict + " --force --out " + dir_.file("pipe.csv"));
  EXPECT_EQ(fifo.exit_code, 2) << fifo.output;
  EXPECT_THAT(fifo.output, HasSubstr("is a FIFO (named pipe), not a regular file"));
  write_text(dir_.file("busy.csv"), "being written");
  {
    const OutputLock other(dir_.file("busy.csv"));
    const CommandResult busy = shell(predict + " --force --out " + dir_.file("busy.csv"));
    EXPECT_EQ(busy.exit_code, 2) << busy.output;
    EXPECT_THAT(busy.output, HasSubstr("is being written by another hpsearch command"));
  }
  EXPECT_EQ(file_text(dir_.file("busy.csv")), "being written");
  // Inputs are read before the output is locked: refused ones leave no lock file.
  const CommandResult no_result =
      shell(std::string(HPSEARCH_BINARY) + " predict " + dir_.file("none.h5") + " --data " +
            dir_.file("train.csv") + " --out " + dir_.file("p.csv"));
  EXPECT_EQ(no_result.exit_code, 2) << no_result.output;
  const CommandResult no_data =
      shell(std::string(HPSEARCH_BINARY) + " predict " + out + " --data " + dir_.file("none.csv") +
            " --out " + dir_.file("q.csv"));
  EXPECT_EQ(no_data.exit_code, 2) << no_data.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("p.csv.lock")));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("q.csv.lock")));
  // A link planted at the working name: predict writes a file of its own, not through it.
  write_text(dir_.file("precious.txt"), "keep me");
  std::filesystem::create_symlink(dir_.file("precious.txt"), dir_.file("new.csv.partial"));
  const CommandResult planted = shell(predict + " --out " + dir_.file("new.csv"));
  EXPECT_EQ(planted.exit_code, 0) << planted.output;
  EXPECT_EQ(file_text(dir_.file("precious.txt")), "keep me");
  EXPECT_THAT(file_text(dir_.file("new.csv")), HasSubstr("row,predicted"));
  EXPECT_EQ(file_text(out), result);
  EXPECT_EQ(file_text(dir_.file("train.csv")), data);
  EXPECT_TRUE(std::filesystem::is_fifo(dir_.file("pipe.csv")));
}

TEST_F(MpiSearch, ConfigErrorEndsEveryRankAndWritesNothing) {
  std::string bad = kRandomSearch;
  bad.replace(bad.find("learning_rate: {log"), 14, "learnig_rate: ");
  write_text(dir_.file("search.yaml"), bad);
  const std::string out = dir_.file("bad.h5");
  const CommandResult r = run(3, out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("search.yaml:"));
  EXPECT_THAT(r.output, HasSubstr("learnig_rate"));
  EXPECT_THAT(r.output, HasSubstr("did you mean 'learning_rate'"));
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(MpiSearch, InspectEvaluateAndPredictReadTheResult) {
  const std::string out = dir_.file("result.h5");
  ASSERT_EQ(run(2, out).exit_code, 0);
  const std::string bin = HPSEARCH_BINARY;

  const CommandResult inspect = shell(bin + " inspect " + out + " --top 3");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_THAT(inspect.output, HasSubstr("random search, finished, 7/7 trials done"));
  EXPECT_THAT(inspect.output, HasSubstr("ranked by best val_accuracy (higher is better)"));

  // evaluate reproduces the validation score stored during the search, from stored weights.
  const ResultsReader reader(out);
  const int64_t best = *reader.best_trial();
  double stored_loss = 0.0;
  for (const auto& row : reader.summary())
    if (row.trial == best) stored_loss = row.best_val_loss;
  const CommandResult evaluate = shell(bin + " evaluate " + out);
  ASSERT_EQ(evaluate.exit_code, 0) << evaluate.output;
  char expected[64];
  std::snprintf(expected, sizeof expected, "loss %.4f", stored_loss);
  EXPECT_THAT(evaluate.output, HasSubstr(std::string("validation (75 samples): ") + expected));
  EXPECT_THAT(evaluate.output, HasSubstr("(stored: " + std::string(expected)));
  EXPECT_THAT(evaluate.output, HasSubstr("the config names no test set"));

  const CommandResult unknown = shell(bin + " evaluate " + out + " --trial 99");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.output, HasSubstr("no trial 99"));

  const CommandResult predict = shell(bin + " predict " + out + " --data " +
                                      dir_.file("train.csv") + " --out " + dir_.file("p.csv"));
  ASSERT_EQ(predict.exit_code, 0) << predict.output;
  std::ifstream csv(dir_.file("p.csv"));
  std::string header, line;
  std::getline(csv, header);
  EXPECT_EQ(header, "row,predicted,p0,p1,p2");
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, 300);
  const CommandResult again = shell(bin + " predict " + out + " --data " + dir_.file("train.csv") +
                                    " --out " + dir_.file("p.csv"));
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.output, HasSubstr("already exists"));

  // Columns are matched by name: the same data with its columns reversed predicts the same.
  {
    std::ifstream in(dir_.file("train.csv"));
    std::ofstream reversed(dir_.file("reversed.csv")), renamed(dir_.file("renamed.csv"));
    bool header_line = true;
    while (std::getline(in, line)) {
      std::vector<std::string> fields;
      std::stringstream split(line);
      for (std::string field; std::getline(split, field, ',');) fields.push_back(field);
      for (size_t i = fields.size(); i-- > 0;) reversed << fields[i] << (i ? "," : "\n");
      if (header_line) fields[0] = "g1";
      for (size_t i = 0; i < fields.size(); ++i) renamed << (i ? "," : "") << fields[i];
      renamed << "\n";
      header_line = false;
    }
  }
  const auto read_all = [](const std::string& path) {
    std::ifstream f(path);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  };
  const CommandResult by_name = shell(bin + " predict " + out + " --data " +
                                      dir_.file("reversed.csv") + " --out " + dir_.file("r.csv"));
  ASSERT_EQ(by_name.exit_code, 0) << by_name.output;
  EXPECT_EQ(read_all(dir_.file("r.csv")), read_all(dir_.file("p.csv")));
  const CommandResult wrong = shell(bin + " predict " + out + " --data " +
                                    dir_.file("renamed.csv") + " --out " + dir_.file("w.csv"));
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_THAT(wrong.output, HasSubstr("renamed.csv: feature columns do not match the training "
                                      "data's ('f1', 'f2', 'f3', 'f4'); missing 'f1'; not in the "
                                      "training data 'g1'"));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("w.csv")));

  // predict needs only what the result file holds; evaluate needs the data and says so.
  std::filesystem::rename(dir_.file("train.csv"), dir_.file("moved.csv"));
  const CommandResult moved = shell(bin + " predict " + out + " --data " +
                                    dir_.file("reversed.csv") + " --out " + dir_.file("m.csv"));
  ASSERT_EQ(moved.exit_code, 0) << moved.output;
  EXPECT_EQ(read_all(dir_.file("m.csv")), read_all(dir_.file("p.csv")));
  const CommandResult no_data = shell(bin + " evaluate " + out);
  EXPECT_EQ(no_data.exit_code, 2);
  EXPECT_THAT(no_data.output, HasSubstr("train.csv' does not exist"));
  std::filesystem::rename(dir_.file("moved.csv"), dir_.file("train.csv"));
}

// Without restore_best_weights the kept weights are the last epoch's, and evaluate compares
// them with the last epoch's stored scores, not the best epoch's.
TEST_F(MpiSearch, EvaluateWithoutRestoreComparesTheLastEpoch) {
  std::string text = kRandomSearch;
  text.replace(text.find("patience: 3}"), 12, "patience: 1, restore_best_weights: false}");
  write_text(dir_.file("search.yaml"), text);
  const std::string out = dir_.file("last.h5");
  ASSERT_EQ(run(1, out).exit_code, 0);
  const CommandResult evaluate = shell(std::string(HPSEARCH_BINARY) + " evaluate " + out);
  ASSERT_EQ(evaluate.exit_code, 0) << evaluate.output;
  const ResultsReader reader(out);
  const int64_t best = *reader.best_trial();
  const History history = read_history(reader.trial_group(best).open_group("history"));
  char expected[64];
  std::snprintf(expected, sizeof expected, "loss %.4f", history.epochs.back().val_loss);
  EXPECT_THAT(evaluate.output, HasSubstr(std::string("validation (75 samples): ") + expected));
  EXPECT_THAT(evaluate.output, HasSubstr(std::string("(stored, last epoch: ") + expected));
}

struct BadConfig {
  const char* name;
  const char* from;  // text in kRandomSearch to replace
  const char* to;
  const char* expected;  // in the error message, with the key path
  int line;
};

// Names the case in test listings instead of dumping the struct's bytes.
void PrintTo(const BadConfig& c, std::ostream* os) { *os << c.name; }

class MpiSearchBadConfig : public MpiSearch, public ::testing::WithParamInterface<BadConfig> {};

TEST_P(MpiSearchBadConfig, NamesKeyAndLineExitsNonZeroAndWritesNothing) {
  const BadConfig& c = GetParam();
  std::string text = kRandomSearch;
  text.replace(text.find(c.from), std::string(c.from).size(), c.to);
  write_text(dir_.file("search.yaml"), text);
  const std::string out = dir_.file("bad.h5");
  const CommandResult r = run(1, out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("search.yaml:" + std::to_string(c.line) + ":")) << r.output;
  EXPECT_THAT(r.output, HasSubstr(c.expected)) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MpiSearchBadConfig,
    ::testing::Values(
        BadConfig{"UnknownKey", "dropout: {uniform", "dropuot: {uniform", "did you mean 'dropout'",
                  16},
        BadConfig{"WrongType", "batch_size: [16, 32]", "batch_size: [16, big]",
                  "search.space.batch_size[1]: expected an integer", 17},
        BadConfig{"LoAboveHi", "uniform: [0.0, 0.3]", "uniform: [0.3, 0.0]", "has lo > hi", 16},
        BadConfig{"LogRangeTouchingZero", "log_uniform: [1.0e-3, 3.0e-2]",
                  "log_uniform: [0.0, 3.0e-2]", "must be > 0 at both ends", 14},
        BadConfig{"DropoutOutOfRange", "uniform: [0.0, 0.3]", "uniform: [0.0, 1.0]",
                  "must be in [0, 1)", 16},
        BadConfig{"BatchSizeZero", "batch_size: [16, 32]", "batch_size: [0, 32]",
                  "search.space.batch_size[0]: must be >= 1", 17},
        BadConfig{"EmptyChoices", "l2: [0.0, 0.001]", "l2: []", "empty list of choices", 18},
        BadConfig{"GridWithRange", "strategy: random\n  trials: 7", "strategy: grid",
                  "strategy grid needs a list of values", 13},
        BadConfig{"MissingDataFile", "path: train.csv", "path: nowhere.csv",
                  "data.train.path: file", 5}),
    [](const ::testing::TestParamInfo<BadConfig>& info) { return info.param.name; });

TEST_F(MpiSearch, CheckPrintsThePlanWithoutTraining) {
  const CommandResult r =
      shell(std::string(HPSEARCH_BINARY) + " check " + dir_.file("search.yaml"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("strategy: random, 7 trials"));
  EXPECT_THAT(r.output, HasSubstr("train: 225 samples x 4 features, 3 classes"));
  EXPECT_THAT(r.output, HasSubstr("trial 0: learning_rate="));
  EXPECT_THAT(r.output, HasSubstr("... 2 more"));
  std::string univariate = kTpeAshaSearch;
  univariate.replace(univariate.find("tpe: {startup_trials: 4}"), 24,
                     "tpe: {startup_trials: 4, multivariate: false}");
  write_text(dir_.file("univariate.yaml"), univariate);
  const CommandResult tpe =
      shell(std::string(HPSEARCH_BINARY) + " check " + dir_.file("univariate.yaml"));
  EXPECT_EQ(tpe.exit_code, 0) << tpe.output;
  EXPECT_THAT(tpe.output, HasSubstr("tpe: startup_trials 4, gamma 0.1, candidates 24, ranking "
                                    "equal_budget, univariate"));

  // A grid over optimizer and momentum: momentum's values only with optimizer momentum, and
  // "-" where a trial's optimizer ignores it.
  std::string grid = kRandomSearch;
  grid.replace(grid.find("optimizer: adam, "), 17, "");
  grid.replace(grid.find("strategy: random\n  trials: 7"), 28, "strategy: grid");
  grid.replace(grid.find("    learning_rate:"), std::string::npos,
               "    optimizer: [sgd, adam, momentum]\n    momentum: [0.5, 0.9, 0.99]\n");
  write_text(dir_.file("grid_momentum.yaml"), grid);
  const CommandResult g =
      shell(std::string(HPSEARCH_BINARY) + " check " + dir_.file("grid_momentum.yaml"));
  EXPECT_EQ(g.exit_code, 0) << g.output;
  EXPECT_THAT(g.output, HasSubstr("strategy: grid, 5 trials"));
  EXPECT_THAT(g.output, HasSubstr("grid: 5 of the product's 9 points; momentum's values only "
                                  "with optimizer momentum, which alone uses it"));
  EXPECT_THAT(g.output, HasSubstr("trial 0: optimizer=sgd momentum=-\n"));
  EXPECT_THAT(g.output, HasSubstr("trial 1: optimizer=adam momentum=-\n"));
  EXPECT_THAT(g.output, HasSubstr("trial 4: optimizer=momentum momentum=0.99\n"));
  EXPECT_THAT(r.output, Not(HasSubstr("grid:")));
}

}  // namespace
}  // namespace hps
