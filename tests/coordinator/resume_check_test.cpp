#include "coordinator/resume_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "core/results_file.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using ::testing::ElementsAre;

SearchConfig parse(const testing::TempDir& dir, const std::string& space, int trials = 4) {
  testing::write_text(dir.file("d.csv"), "a,b,label\n1,2,0\n2,1,1\n3,3,0\n0,1,1\n");
  return parse_search_config(
      "data:\n  train: {format: csv, path: d.csv, label_column: label}\n"
      "search:\n  strategy: random\n  trials: " +
          std::to_string(trials) + "\n  space:\n" + space,
      "s.yaml", dir.path());
}

TEST(ResumeCheck, SameSearchAndDataHaveNoChanges) {
  testing::TempDir dir;
  const auto a = search_identity(parse(dir, "    dropout: {uniform: [0.0, 0.5]}\n"), "abc");
  const auto b = search_identity(parse(dir, "    dropout: {uniform: [0.0, 0.5]}\n"), "abc");
  EXPECT_TRUE(identity_changes(a, b).empty());
}

TEST(ResumeCheck, NamesEveryChange) {
  testing::TempDir dir;
  const auto before = search_identity(parse(dir, "    dropout: {uniform: [0.0, 0.5]}\n"), "abc");
  const auto after = search_identity(
      parse(dir, "    dropout: {uniform: [0.0, 0.4]}\n    batch_size: [32, 64]\n", 6), "abd");
  EXPECT_THAT(identity_changes(before, after),
              ElementsAre("data (contents): fingerprint abc -> fingerprint abd",
                          "search.space.batch_size: (not searched) -> choice [32, 64]",
                          "search.space.dropout: uniform [0, 0.5] -> uniform [0, 0.4]",
                          "search.trials: 4 -> 6"));
}

// Choice and fixed values are compared exactly, not as the leaderboard rounds them.
TEST(ResumeCheck, NamesAChoiceOrFixedValueChangedPastItsSixthDigit) {
  testing::TempDir dir;
  const auto before = search_identity(
      parse(dir, "    learning_rate: [0.001, 0.0012345678]\n    dropout: 0.1234567\n"), "abc");
  const auto after = search_identity(
      parse(dir, "    learning_rate: [0.001, 0.0012345679]\n    dropout: 0.1234568\n"), "abc");
  EXPECT_THAT(identity_changes(before, after),
              ElementsAre("search.space.dropout: fixed [0.1234567] -> fixed [0.1234568]",
                          "search.space.learning_rate: choice [0.001, 0.0012345678] -> choice "
                          "[0.001, 0.0012345679]"));
}

// The data's paths are not the search: its contents' fingerprint is. A project moved or copied
// elsewhere resumes; a changed setting of the data is named by its key.
TEST(ResumeCheck, MovedDataIsNoChangeAndDataSettingsAreNamedByKey) {
  testing::TempDir here, there;
  const std::string space = "    dropout: {uniform: [0.0, 0.5]}\n";
  const auto before = search_identity(parse(here, space), "abc");
  EXPECT_TRUE(identity_changes(before, search_identity(parse(there, space), "abc")).empty());

  SearchConfig other = parse(there, space);
  other.base.data.train.label_column = "y";
  other.base.data.train.max_samples = 100;
  other.base.data.test = other.base.data.train;
  other.base.data.test->format = DataFormat::kIdx;
  EXPECT_THAT(
      identity_changes(before, search_identity(other, "abc")),
      ElementsAre("data.test: none -> given", "data.test.format: (not used) -> idx",
                  "data.test.max_samples: (not used) -> 100", "data.train.label_column: label -> y",
                  "data.train.max_samples: 0 -> 100"));
}

TEST(ResumeCheck, NamesAChangedLearningRatePlateau) {
  testing::TempDir dir;
  const SearchConfig off = parse(dir, "    dropout: {uniform: [0.0, 0.5]}\n");
  SearchConfig on = off;
  on.base.training.reduce_lr_on_plateau = {true, 0.3, 3, 0.0};
  SearchConfig other = on;
  other.base.training.reduce_lr_on_plateau.factor = 0.5;
  EXPECT_THAT(
      identity_changes(search_identity(off, "abc"), search_identity(on, "abc")),
      ElementsAre("training.reduce_lr_on_plateau: off -> factor 0.3, patience 3, min_lr 0"));
  EXPECT_THAT(identity_changes(search_identity(on, "abc"), search_identity(other, "abc")),
              ElementsAre("training.reduce_lr_on_plateau: factor 0.3, patience 3, min_lr 0 -> "
                          "factor 0.5, patience 3, min_lr 0"));
}

// Enumerations are named as configs spell them, and only the direction early stopping watches
// counts: mode auto with val_accuracy is max.
TEST(ResumeCheck, NamesScalingAndComparesTheEarlyStoppingDirection) {
  testing::TempDir dir;
  const SearchConfig standardize = parse(dir, "    dropout: {uniform: [0.0, 0.5]}\n");
  SearchConfig minmax = standardize;
  minmax.base.data.scaling = ScalingKind::kMinMax;
  EXPECT_THAT(identity_changes(search_identity(standardize, "abc"), search_identity(minmax, "abc")),
              ElementsAre("data.scaling: standardize -> minmax"));
  SearchConfig accuracy = standardize;
  accuracy.base.early_stopping.monitor = Monitor::kValAccuracy;
  SearchConfig accuracy_max = accuracy;
  accuracy_max.base.early_stopping.mode = MonitorMode::kMax;
  EXPECT_TRUE(
      identity_changes(search_identity(accuracy, "abc"), search_identity(accuracy_max, "abc"))
          .empty());
  SearchConfig accuracy_min = accuracy;
  accuracy_min.base.early_stopping.mode = MonitorMode::kMin;
  EXPECT_THAT(
      identity_changes(search_identity(accuracy, "abc"), search_identity(accuracy_min, "abc")),
      ElementsAre("early_stopping.mode: max -> min"));
}

TEST(ResumeCheck, NamesAChangedTpeRanking) {
  testing::TempDir dir;
  SearchConfig first = parse(dir, "    dropout: {uniform: [0.0, 0.5]}\n");
  first.search.strategy = SearchStrategy::kTpe;
  first.search.tpe.ranking = TpeRanking::kFinishedFirst;
  SearchConfig equal = first;
  equal.search.tpe.ranking = TpeRanking::kEqualBudget;
  EXPECT_THAT(identity_changes(search_identity(first, "abc"), search_identity(equal, "abc")),
              ElementsAre("search.tpe.ranking: finished_first -> equal_budget"));
  SearchConfig univariate = first;
  univariate.search.tpe.multivariate = false;
  EXPECT_THAT(identity_changes(search_identity(first, "abc"), search_identity(univariate, "abc")),
              ElementsAre("search.tpe.multivariate: true -> false"));
}

TEST(ResumeCheck, KeepWeightsAllIsNamedAsConfigsSayIt) {
  testing::TempDir dir;
  SearchConfig all = parse(dir, "    dropout: {uniform: [0.0, 0.5]}\n");
  all.search.keep_weights = -1;
  SearchConfig two = all;
  two.search.keep_weights = 2;
  EXPECT_THAT(identity_changes(search_identity(all, "abc"), search_identity(two, "abc")),
              ElementsAre("search.keep_weights: all -> 2"));
}

TEST(ResumeCheck, NamesAChangedScheduler) {
  testing::TempDir dir;
  const SearchConfig none = parse(dir, "    dropout: {uniform: [0.0, 0.5]}\n");
  SearchConfig asha = none;
  asha.search.scheduler.kind = SchedulerKind::kAsha;
  asha.search.scheduler.max_epochs = 50;
  SearchConfig faster = asha;
  faster.search.scheduler.reduction_factor = 4;
  faster.search.scheduler.grace = 1;
  SearchConfig median = none;
  median.search.scheduler.kind = SchedulerKind::kMedian;
  SearchConfig warmer = median;
  warmer.search.scheduler.warmup_epochs = 3;
  EXPECT_THAT(
      identity_changes(search_identity(none, "abc"), search_identity(asha, "abc")),
      ElementsAre("search.asha.grace: (not used) -> 0", "search.asha.max_epochs: (not used) -> 50",
                  "search.asha.min_epochs: (not used) -> 1",
                  "search.asha.reduction_factor: (not used) -> 3",
                  "search.scheduler: none -> asha"));
  EXPECT_THAT(identity_changes(search_identity(asha, "abc"), search_identity(faster, "abc")),
              ElementsAre("search.asha.grace: 0 -> 1", "search.asha.reduction_factor: 3 -> 4"));
  EXPECT_THAT(identity_changes(search_identity(median, "abc"), search_identity(warmer, "abc")),
              ElementsAre("search.median.warmup_epochs: 1 -> 3"));
}

TEST(ResumeCheck, SummaryProblemsAreIdsOutsideTheSearchOrListedTwice) {
  const auto rows = [](std::vector<int64_t> ids) {
    std::vector<SummaryRow> r(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) r[i].trial = ids[i];
    return r;
  };
  EXPECT_TRUE(summary_problems(rows({2, 0, 1}), 3).empty());
  EXPECT_THAT(summary_problems(rows({0, 3, 1, 0, -1}), 3),
              ElementsAre("/summary lists trial 3, outside the search's trials 0 to 2",
                          "/summary lists trial 0 twice",
                          "/summary lists trial -1, outside the search's trials 0 to 2"));
}

// Rows the recorded config rules out: more epochs than a trial trains, a rung it lacks.
TEST(ResumeCheck, SummaryBoundProblemsAreEpochsAndRungsTheConfigRulesOut) {
  testing::TempDir dir;
  const auto row = [](int64_t trial, int64_t epochs_run, int64_t rung) {
    SummaryRow r;
    r.trial = trial;
    r.epochs_run = epochs_run;
    r.rung = rung;
    return r;
  };
  // training.max_epochs 50 by default; searched, the largest value counts.
  const SearchConfig plain = parse(dir, "    dropout: {uniform: [0.0, 0.5]}\n");
  EXPECT_TRUE(summary_bound_problems({row(0, 50, -1), row(1, 3, -1)}, plain).empty());
  EXPECT_THAT(summary_bound_problems({row(0, 51, -1), row(1, 3, 0)}, plain),
              ElementsAre("/summary lists trial 0 with 51 epochs run, more than any trial of "
                          "this search trains (50)",
                          "/summary lists trial 1 at ASHA rung 0, but the search has no ASHA "
                          "rungs"));
  const SearchConfig searched = parse(dir, "    max_epochs: [20, 80]\n");
  EXPECT_TRUE(summary_bound_problems({row(0, 80, -1)}, searched).empty());
  EXPECT_THAT(summary_bound_problems({row(0, 81, -1)}, searched),
              ElementsAre("/summary lists trial 0 with 81 epochs run, more than any trial of "
                          "this search trains (80)"));

  // ASHA with eta 3 from 2 epochs below 60: rungs at 2, 6, 18 and 54 (indices 0 to 3).
  testing::write_text(dir.file("d.csv"), "a,b,label\n1,2,0\n2,1,1\n3,3,0\n0,1,1\n");
  const SearchConfig asha = parse_search_config(
      "data:\n  train: {format: csv, path: d.csv, label_column: label}\n"
      "training: {max_epochs: 60}\n"
      "search:\n  strategy: random\n  trials: 4\n  scheduler: asha\n  asha: {min_epochs: 2}\n"
      "  space:\n    dropout: {uniform: [0.0, 0.5]}\n",
      "s.yaml", dir.path());
  EXPECT_TRUE(summary_bound_problems({row(0, 60, 3), row(1, 2, 0), row(2, 1, -1)}, asha).empty());
  EXPECT_THAT(summary_bound_problems({row(0, 60, 4)}, asha),
              ElementsAre("/summary lists trial 0 at ASHA rung 4, but its rungs are 0 to 3"));
}

// The `tpe` settings of a TPE search config with `tpe_block` under search.
TpeSettings tpe_settings(const testing::TempDir& dir, const std::string& tpe_block) {
  testing::write_text(dir.file("d.csv"), "a,b,label\n1,2,0\n2,1,1\n3,3,0\n0,1,1\n");
  return parse_search_config(
             "data:\n  train: {format: csv, path: d.csv, label_column: label}\n"
             "search:\n  strategy: tpe\n  trials: 40\n" +
                 tpe_block + "  space:\n    dropout: {uniform: [0.0, 0.5]}\n",
             "s.yaml", dir.path())
      .search.tpe;
}

// Grids paired a searched optimizer and momentum from hpsearch 0.3.0 on.
TEST(ResumeCheck, FilesBegunBefore03AreKnownByTheirVersion) {
  EXPECT_TRUE(began_before_0_3("0.2.3"));
  EXPECT_TRUE(began_before_0_3("0.1.0"));
  EXPECT_TRUE(began_before_0_3(""));  // no version: older still
  EXPECT_TRUE(began_before_0_3("unknown"));
  EXPECT_FALSE(began_before_0_3("0.3.0"));
  EXPECT_FALSE(began_before_0_3("0.10.1"));
  EXPECT_FALSE(began_before_0_3("1.0.0"));
}

// Before hpsearch 0.2.0 a config that named no ranking ranked finished_first.
TEST(ResumeCheck, LegacyRankingIsTheNamedOneOrFinishedFirst) {
  testing::TempDir dir;
  EXPECT_EQ(legacy_tpe_ranking(tpe_settings(dir, "")), TpeRanking::kFinishedFirst);
  EXPECT_EQ(legacy_tpe_ranking(tpe_settings(dir, "  tpe: {startup_trials: 3}\n")),
            TpeRanking::kFinishedFirst);
  EXPECT_EQ(legacy_tpe_ranking(tpe_settings(dir, "  tpe: {ranking: equal_budget}\n")),
            TpeRanking::kEqualBudget);
  EXPECT_EQ(legacy_tpe_ranking(tpe_settings(dir, "  tpe:\n    ranking: finished_first\n")),
            TpeRanking::kFinishedFirst);
}

// From 0.2.0 on the file's tpe_ranking attribute says it, whatever the config and the default.
TEST(ResumeCheck, RecordedRankingIsTheAttributeWhenThereIsOne) {
  const TpeSettings unnamed;  // a config that names no ranking
  EXPECT_EQ(recorded_tpe_ranking("equal_budget", unnamed, "f.h5"), TpeRanking::kEqualBudget);
  EXPECT_EQ(recorded_tpe_ranking("finished_first", unnamed, "f.h5"), TpeRanking::kFinishedFirst);
  EXPECT_EQ(recorded_tpe_ranking("", unnamed, "f.h5"), TpeRanking::kFinishedFirst);
  try {
    recorded_tpe_ranking("bohb", unnamed, "f.h5");
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "f.h5: attribute 'tpe_ranking' is 'bohb', not equal_budget or "
                 "finished_first (a damaged file, or one from a newer hpsearch)");
  }
}

// What parsing a config that names no ranking gives today.
constexpr TpeRanking kDefault = TpeSettings{}.ranking;

// The config a file recorded, with the ranking the search ran with rather than today's default.
TEST(ResumeCheck, RecordedSearchConfigRanksAsTheSearchRan) {
  testing::TempDir dir;
  testing::write_text(dir.file("d.csv"), "a,b,label\n1,2,0\n2,1,1\n3,3,0\n0,1,1\n");
  SearchConfig config = parse_search_config(
      "data:\n  train: {format: csv, path: d.csv, label_column: label}\n"
      "search:\n  strategy: tpe\n  trials: 4\n  space:\n    dropout: {uniform: [0.0, 0.5]}\n",
      "s.yaml", dir.path());
  ASSERT_EQ(config.search.tpe.ranking, kDefault);
  config.search.tpe.ranking = TpeRanking::kFinishedFirst;  // not the text's: the attribute's
  const std::string path = dir.file("r.h5");
  {
    ResultsWriter writer(path, config, 1, Scaler{}, 2, 2, 2);
    writer.finish("interrupted", 0.0);
  }
  std::filesystem::remove(dir.file("d.csv"));  // the data moved since
  const ResultsReader recorded(path);
  const SearchConfig read = recorded_search_config(recorded);  // not looking for d.csv
  EXPECT_EQ(read.search.strategy, SearchStrategy::kTpe);
  EXPECT_EQ(read.search.tpe.ranking, TpeRanking::kFinishedFirst);
  ASSERT_EQ(read.search.space.size(), 1u);
  EXPECT_EQ(read.search.space[0].name, "dropout");
}

}  // namespace
}  // namespace hps
