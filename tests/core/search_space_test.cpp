#include "core/search_space.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

#include "core/rng.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;
using testing::write_text;

// The smallest valid base config: lines 1-5. Search blocks follow from line 6.
const std::string kData =
    "data:\n"
    "  train:\n"
    "    format: csv\n"
    "    path: train.csv\n"
    "    label_column: label\n";

/// A random search of 4 trials over `space` (indented 4 spaces); its first parameter is line 10.
std::string random_search(const std::string& space) {
  return kData +
         "search:\n"
         "  strategy: random\n"
         "  trials: 4\n"
         "  space:\n" +
         space;
}

/// A grid search over `space`; its first parameter is line 9.
std::string grid_search(const std::string& space) {
  return kData +
         "search:\n"
         "  strategy: grid\n"
         "  space:\n" +
         space;
}

/// A folder with a tiny CSV data set (parsing checks that it exists) and a search config
/// written per test.
class SearchSpace : public testing::ConfigFileTest<SearchConfig> {
 protected:
  SearchSpace()
      : ConfigFileTest("search.yaml",
                       [](const std::string& path) { return load_search_config(path); }) {}
  void SetUp() override {
    write_text(dir_.file("train.csv"), "a,b,label\n0.1,0.2,0\n0.3,0.4,1\n0.5,0.6,0\n0.7,0.8,1\n");
  }
};

using Widths = std::vector<int64_t>;

TEST_F(SearchSpace, ParsesEveryParamForm) {
  const std::string text = random_search(
      "    hidden: [[64], [128, 64]]\n"
      "    learning_rate: {log_uniform: [1.0e-4, 1.0e-2]}\n"
      "    batch_size: [64, 128, 256]\n"
      "    dropout: {uniform: [0.0, 0.5]}\n"
      "    l1: 1.0e-5\n"
      "    l2: [0.0, 1.0e-4, 1.0e-3]\n"
      "    optimizer: [adam, momentum]\n"
      "    activation: tanh\n"
      "    momentum: {uniform: [0.8, 0.99]}\n"
      "    max_epochs: {int_uniform: [5, 20]}\n"
      "    patience: [3, 5]\n");
  const SearchConfig c = load(text);
  EXPECT_EQ(c.search.strategy, SearchStrategy::kRandom);
  EXPECT_EQ(c.search.trials, 4);
  EXPECT_EQ(c.search.keep_weights, 5);
  EXPECT_EQ(c.search.seed, 0u);

  const std::vector<ParamSpec>& s = c.search.space;
  ASSERT_EQ(s.size(), 11u);
  const std::vector<std::string> names = {
      "hidden",    "learning_rate", "batch_size", "dropout",    "l1",      "l2",
      "optimizer", "activation",    "momentum",   "max_epochs", "patience"};
  for (std::size_t i = 0; i < s.size(); ++i) {
    EXPECT_EQ(s[i].name, names[i]);
    EXPECT_EQ(s[i].line, static_cast<int>(10 + i)) << s[i].name;
  }

  EXPECT_EQ(s[0].form, ParamForm::kChoice);
  EXPECT_EQ(s[0].choices, (std::vector<ParamValue>{Widths{64}, Widths{128, 64}}));
  EXPECT_EQ(s[1].form, ParamForm::kLogUniform);
  EXPECT_DOUBLE_EQ(s[1].low, 1e-4);
  EXPECT_DOUBLE_EQ(s[1].high, 1e-2);
  EXPECT_EQ(s[2].form, ParamForm::kChoice);
  EXPECT_EQ(s[2].choices, (std::vector<ParamValue>{int64_t{64}, int64_t{128}, int64_t{256}}));
  EXPECT_EQ(s[3].form, ParamForm::kUniform);
  EXPECT_DOUBLE_EQ(s[3].low, 0.0);
  EXPECT_DOUBLE_EQ(s[3].high, 0.5);
  EXPECT_EQ(s[4].form, ParamForm::kFixed);
  EXPECT_EQ(s[4].choices, (std::vector<ParamValue>{1e-5}));
  EXPECT_EQ(s[5].form, ParamForm::kChoice);
  EXPECT_EQ(s[5].choices, (std::vector<ParamValue>{0.0, 1e-4, 1e-3}));
  EXPECT_EQ(s[6].form, ParamForm::kChoice);
  EXPECT_EQ(s[6].choices, (std::vector<ParamValue>{std::string("adam"), std::string("momentum")}));
  EXPECT_EQ(s[7].form, ParamForm::kFixed);
  EXPECT_EQ(s[7].choices, (std::vector<ParamValue>{std::string("tanh")}));
  EXPECT_EQ(s[8].form, ParamForm::kUniform);
  EXPECT_DOUBLE_EQ(s[8].low, 0.8);
  EXPECT_DOUBLE_EQ(s[8].high, 0.99);
  EXPECT_EQ(s[9].form, ParamForm::kIntUniform);
  EXPECT_DOUBLE_EQ(s[9].low, 5);
  EXPECT_DOUBLE_EQ(s[9].high, 20);
  EXPECT_EQ(s[10].form, ParamForm::kChoice);
  EXPECT_EQ(s[10].choices, (std::vector<ParamValue>{int64_t{3}, int64_t{5}}));

  EXPECT_EQ(c.base.text, text);
  EXPECT_EQ(c.base.source_name, config_path());
  EXPECT_EQ(c.base.data.train.path, dir_.file("train.csv"));
}

TEST_F(SearchSpace, ParsesLayersAndUnits) {
  const SearchConfig c =
      load(random_search("    layers: [1, 2]\n"
                         "    units: {int_uniform: [32, 256]}\n"));
  ASSERT_EQ(c.search.space.size(), 2u);
  EXPECT_EQ(c.search.space[0].form, ParamForm::kChoice);
  EXPECT_EQ(c.search.space[0].choices, (std::vector<ParamValue>{int64_t{1}, int64_t{2}}));
  EXPECT_EQ(c.search.space[1].form, ParamForm::kIntUniform);
  EXPECT_DOUBLE_EQ(c.search.space[1].low, 32);
  EXPECT_DOUBLE_EQ(c.search.space[1].high, 256);
}

// A flat list is one architecture: read back from a stored config; a config about to run that
// writes two or more widths so is refused, since `[a, b]` means "choose" everywhere else.
TEST_F(SearchSpace, FlatHiddenListIsOneArchitecture) {
  const std::string text = random_search("    hidden: [256, 128]\n");
  const SearchConfig flat = parse_search_config(text, "text.yaml", dir_.path());
  EXPECT_EQ(flat.search.space[0].form, ParamForm::kFixed);
  EXPECT_EQ(flat.search.space[0].choices, (std::vector<ParamValue>{Widths{256, 128}}));
  EXPECT_EQ(error(text), at(10) +
                             "search.space.hidden: [256, 128] is one architecture, so the search "
                             "would not vary capacity (for the other parameters a list means "
                             "choices): write [[256], [128]] to choose between one-layer "
                             "networks, [[256, 128]] to search this architecture alone, or move "
                             "it to model.hidden");
  // One width reads the same either way.
  EXPECT_EQ(load(random_search("    hidden: [64]\n")).search.space[0].choices,
            (std::vector<ParamValue>{Widths{64}}));
  const SearchConfig alone = load(random_search("    hidden: [[256, 128]]\n"));
  EXPECT_EQ(alone.search.space[0].choices, (std::vector<ParamValue>{Widths{256, 128}}));

  const SearchConfig block =
      load(random_search("    hidden:\n"
                         "      - [64]\n"
                         "      - [128, 64]\n"));
  EXPECT_EQ(block.search.space[0].form, ParamForm::kChoice);
  EXPECT_EQ(block.search.space[0].choices, (std::vector<ParamValue>{Widths{64}, Widths{128, 64}}));
}

TEST_F(SearchSpace, SeedDefaultsToTheTopLevelSeed) {
  const SearchConfig inherited = load("seed: 42\n" + random_search("    dropout: 0.1\n"));
  EXPECT_EQ(inherited.search.seed, 42u);

  const SearchConfig own = load(kData +
                                "search:\n"
                                "  strategy: random\n"
                                "  trials: 2\n"
                                "  seed: 3\n"
                                "  keep_weights: all\n"
                                "  space:\n"
                                "    dropout: 0.1\n");
  EXPECT_EQ(own.search.seed, 3u);
  EXPECT_EQ(own.base.seed, 0u);
  EXPECT_EQ(own.search.keep_weights, -1);
}

// search.seed seeds the split and every trial, so a different top-level seed beside it would be
// ignored: refused in a config about to run, loaded from a stored one.
TEST_F(SearchSpace, ADifferentTopLevelSeedBesideSearchSeedIsRefused) {
  const std::string search = kData +
                             "search:\n"
                             "  strategy: random\n"
                             "  trials: 2\n"
                             "  seed: 3\n"
                             "  space:\n"
                             "    dropout: 0.1\n";
  EXPECT_EQ(error("seed: 42\n" + search),
            at(1) +
                "seed: 42 would not be used: search.seed (3, line 10) seeds the whole search, "
                "its validation split and every trial's initialization, shuffling and dropout; "
                "remove one of the two or make them equal");
  const SearchConfig stored = parse_search_config("seed: 42\n" + search, "text.yaml", dir_.path());
  EXPECT_EQ(stored.search.seed, 3u);
  EXPECT_EQ(load("seed: 3\n" + search).search.seed, 3u);
}

TEST_F(SearchSpace, KeepWeightsTakesZero) {
  const SearchConfig c = load(kData +
                              "search:\n"
                              "  strategy: random\n"
                              "  trials: 2\n"
                              "  keep_weights: 0\n"
                              "  space:\n"
                              "    dropout: 0.1\n");
  EXPECT_EQ(c.search.keep_weights, 0);
}

TEST_F(SearchSpace, GridCountsTheProductAndVariesTheLastParameterFastest) {
  const SearchConfig c =
      load(grid_search("    batch_size: [64, 128]\n"
                       "    dropout: 0.25\n"
                       "    optimizer: [sgd, momentum, adam]\n"));
  EXPECT_EQ(c.search.strategy, SearchStrategy::kGrid);
  EXPECT_EQ(c.search.trials, 6);
  EXPECT_EQ(trial_count(c.search), 6);

  const std::vector<std::pair<int64_t, std::string>> expected = {
      {64, "sgd"}, {64, "momentum"}, {64, "adam"}, {128, "sgd"}, {128, "momentum"}, {128, "adam"}};
  for (int64_t id = 0; id < 6; ++id) {
    const std::vector<ParamAssignment> values = trial_values(c.search, id);
    ASSERT_EQ(values.size(), 3u);
    EXPECT_EQ(values[0], ParamAssignment("batch_size", expected[id].first)) << id;
    EXPECT_EQ(values[1], ParamAssignment("dropout", 0.25)) << id;
    EXPECT_EQ(values[2], ParamAssignment("optimizer", expected[id].second)) << id;
  }
  EXPECT_THROW(trial_values(c.search, 6), std::out_of_range);
  EXPECT_THROW(trial_values(c.search, -1), std::out_of_range);
}

TEST_F(SearchSpace, GridEnumeratesIntegerRanges) {
  const SearchConfig c =
      load(grid_search("    max_epochs: {int_uniform: [5, 7]}\n"
                       "    hidden: [[8], [16, 8]]\n"));
  ASSERT_EQ(trial_count(c.search), 6);
  EXPECT_EQ(trial_values(c.search, 0)[0].second, ParamValue(int64_t{5}));
  EXPECT_EQ(trial_values(c.search, 0)[1].second, ParamValue(Widths{8}));
  EXPECT_EQ(trial_values(c.search, 1)[1].second, ParamValue(Widths{16, 8}));
  EXPECT_EQ(trial_values(c.search, 2)[0].second, ParamValue(int64_t{6}));
  EXPECT_EQ(trial_values(c.search, 5)[0].second, ParamValue(int64_t{7}));
}

TEST_F(SearchSpace, AGridOfMoreThanTwoToThe63PointsThrowsInCountAndValues) {
  // Config checks refuse such a grid; a caller that builds SearchSettings itself gets an
  // overflow_error from both functions, never a wrapped count.
  SearchConfig c =
      load(grid_search("    max_epochs: {int_uniform: [1, 2]}\n"
                       "    batch_size: {int_uniform: [1, 2]}\n"));
  ASSERT_EQ(trial_count(c.search), 4);
  for (ParamSpec& spec : c.search.space) spec.high = 4.0e9;  // (4e9)^2 > 2^63
  EXPECT_THROW(trial_count(c.search), std::overflow_error);
  EXPECT_THROW(trial_values(c.search, 0), std::overflow_error);
}

/// (optimizer, momentum if the optimizer uses it) of each of a grid's trials, in order.
std::vector<std::string> optimizer_points(const SearchSettings& search) {
  std::vector<std::string> points;
  for (int64_t id = 0; id < trial_count(search); ++id) {
    const std::vector<ParamAssignment> values = trial_values(search, id);
    std::string point;
    for (const auto& [name, value] : values)
      point += (point.empty() ? "" : " ") +
               (takes_effect(values, name) ? to_string(value) : std::string("-"));
    points.push_back(point);
  }
  return points;
}

TEST_F(SearchSpace, GridTriesMomentumOnlyWithTheMomentumOptimizer) {
  const SearchConfig c =
      load(grid_search("    batch_size: [32, 64]\n"
                       "    optimizer: [sgd, adam, momentum]\n"
                       "    momentum: [0.5, 0.9, 0.99]\n"));
  EXPECT_EQ(c.search.trials, 10);  // 2 x (2 + 1 x 3), not 2 x 3 x 3
  EXPECT_THAT(optimizer_points(c.search),
              ::testing::ElementsAre("32 sgd -", "32 adam -", "32 momentum 0.5", "32 momentum 0.9",
                                     "32 momentum 0.99", "64 sgd -", "64 adam -", "64 momentum 0.5",
                                     "64 momentum 0.9", "64 momentum 0.99"));
  // The optimizers that ignore momentum run with its first value, which the file records.
  EXPECT_EQ(trial_values(c.search, 1)[2], ParamAssignment("momentum", 0.5));
  EXPECT_THROW(trial_values(c.search, 10), std::out_of_range);

  // Apart, the pair is one axis at the earlier one's place (momentum's here), listing (0.5,
  // adam), (0.5, momentum), (0.9, momentum); dropout, after it, varies faster.
  const SearchConfig swapped =
      load(grid_search("    momentum: [0.5, 0.9]\n"
                       "    dropout: [0.1, 0.2]\n"
                       "    optimizer: [adam, momentum]\n"));
  EXPECT_EQ(swapped.search.trials, 6);
  EXPECT_THAT(optimizer_points(swapped.search),
              ::testing::ElementsAre("- 0.1 adam", "- 0.2 adam", "0.5 0.1 momentum",
                                     "0.5 0.2 momentum", "0.9 0.1 momentum", "0.9 0.2 momentum"));
}

TEST_F(SearchSpace, GridOfEveryPointRunsTheWholeProduct) {
  SearchConfig c =
      load(grid_search("    optimizer: [adam, momentum]\n"
                       "    momentum: [0.5, 0.9]\n"));
  EXPECT_EQ(c.search.trials, 3);
  EXPECT_FALSE(c.search.grid_every_point);
  keep_every_grid_point(c.search);  // as hpsearch before 0.3.0 ran it
  EXPECT_TRUE(c.search.grid_every_point);
  EXPECT_EQ(c.search.trials, 4);
  EXPECT_EQ(trial_count(c.search), 4);
  std::vector<std::string> points;
  for (int64_t id = 0; id < 4; ++id) {
    const std::vector<ParamAssignment> values = trial_values(c.search, id);
    points.push_back(to_string(values[0].second) + " " + to_string(values[1].second));
  }
  EXPECT_THAT(points,
              ::testing::ElementsAre("adam 0.5", "adam 0.9", "momentum 0.5", "momentum 0.9"));
  // Other strategies have no grid to widen.
  SearchConfig random =
      load(random_search("    optimizer: [adam, momentum]\n"
                         "    momentum: [0.5, 0.9]\n"));
  keep_every_grid_point(random.search);
  EXPECT_EQ(random.search.trials, 4);
  EXPECT_FALSE(random.search.grid_every_point);
}

// Every point whose settings differ in what takes effect runs once: the grid's points are the
// whole product's, duplicates left out, for every place of the two parameters in the space.
TEST_F(SearchSpace, GridPointsAreTheProductsDistinctTrainings) {
  const std::vector<std::string> spaces = {
      "    optimizer: [sgd, momentum, adam]\n    momentum: [0.5, 0.9]\n    l2: [0.0, 1.0]\n",
      "    momentum: [0.1, 0.5, 0.9]\n    l2: [0.0, 1.0]\n    optimizer: [momentum, adam]\n",
      "    l2: [0.0, 1.0, 2.0]\n    optimizer: [adam, sgd, momentum]\n    momentum: [0.9, 0.5]\n",
      "    optimizer: [momentum]\n    momentum: [0.5, 0.9]\n",
      "    optimizer: [adam, momentum]\n    momentum: 0.9\n"};
  for (const std::string& space : spaces) {
    SearchConfig grid = load(grid_search(space));
    const std::vector<std::string> points = optimizer_points(grid.search);
    SearchConfig every = grid;
    keep_every_grid_point(every.search);
    const std::vector<std::string> all = optimizer_points(every.search);
    EXPECT_EQ(std::set<std::string>(points.begin(), points.end()).size(), points.size()) << space;
    EXPECT_EQ(std::set<std::string>(points.begin(), points.end()),
              std::set<std::string>(all.begin(), all.end()))
        << space;
    EXPECT_EQ(grid_points(grid.search.space), static_cast<int64_t>(points.size())) << space;
    EXPECT_EQ(grid_points(grid.search.space, true), static_cast<int64_t>(all.size())) << space;
  }
}

const std::string kRandomSpace =
    "    dropout: {uniform: [0.1, 0.4]}\n"
    "    learning_rate: {log_uniform: [1.0e-4, 1.0e-1]}\n"
    "    max_epochs: {int_uniform: [5, 8]}\n"
    "    batch_size: [16, 32, 64]\n"
    "    activation: relu\n";

std::string random_search_of(int trials, uint64_t seed) {
  return kData + "search:\n  strategy: random\n  trials: " + std::to_string(trials) +
         "\n  seed: " + std::to_string(seed) + "\n  space:\n" + kRandomSpace;
}

TEST_F(SearchSpace, RandomTrialsDependOnlyOnSeedAndId) {
  const SearchConfig c = load(random_search_of(20, 7));
  const std::vector<ParamAssignment> alone = trial_values(c.search, 12);
  for (int64_t id = 0; id < 12; ++id) trial_values(c.search, id);
  EXPECT_EQ(trial_values(c.search, 12), alone);
  EXPECT_EQ(trial_values(load(random_search_of(20, 7)).search, 12), alone);
  EXPECT_NE(trial_values(load(random_search_of(20, 8)).search, 12), alone);

  // Every parameter is listed, in space order, fixed ones included.
  ASSERT_EQ(alone.size(), 5u);
  EXPECT_EQ(alone[0].first, "dropout");
  EXPECT_EQ(alone[4], ParamAssignment("activation", std::string("relu")));

  std::set<double> dropouts;
  for (int64_t id = 0; id < 20; ++id)
    dropouts.insert(std::get<double>(trial_values(c.search, id)[0].second));
  EXPECT_EQ(dropouts.size(), 20u);
}

TEST_F(SearchSpace, RandomDrawsFollowTheDocumentedRecipe) {
  const SearchConfig c = load(random_search_of(20, 7));
  Rng rng(derive_seed(derive_seed(7, SeedStream::kTrialSample), 3));
  const double dropout = 0.1 + rng.uniform() * (0.4 - 0.1);
  const double learning_rate =
      std::exp(std::log(1e-4) + rng.uniform() * (std::log(1e-1) - std::log(1e-4)));
  const int64_t max_epochs = 5 + static_cast<int64_t>(rng.below(4));
  const int64_t batch_size = std::vector<int64_t>{16, 32, 64}[rng.below(3)];

  const std::vector<ParamAssignment> values = trial_values(c.search, 3);
  EXPECT_DOUBLE_EQ(std::get<double>(values[0].second), dropout);
  EXPECT_DOUBLE_EQ(std::get<double>(values[1].second), learning_rate);
  EXPECT_EQ(std::get<int64_t>(values[2].second), max_epochs);
  EXPECT_EQ(std::get<int64_t>(values[3].second), batch_size);
}

TEST_F(SearchSpace, RandomDrawsStayInBoundsAndSpreadLogRangesOverDecades) {
  const SearchConfig c = load(random_search_of(2000, 11));
  ASSERT_EQ(trial_count(c.search), 2000);
  int decades[3] = {0, 0, 0};
  std::set<int64_t> epochs, batches;
  for (int64_t id = 0; id < 2000; ++id) {
    const std::vector<ParamAssignment> v = trial_values(c.search, id);
    const double dropout = std::get<double>(v[0].second);
    EXPECT_GE(dropout, 0.1);
    EXPECT_LE(dropout, 0.4);
    const double learning_rate = std::get<double>(v[1].second);
    ASSERT_GE(learning_rate, 1e-4);
    ASSERT_LE(learning_rate, 1e-1);
    ++decades[std::min(2, static_cast<int>(std::floor(std::log10(learning_rate) + 4)))];
    epochs.insert(std::get<int64_t>(v[2].second));
    batches.insert(std::get<int64_t>(v[3].second));
  }
  for (int count : decades) {
    EXPECT_GE(count, 400);  // 20%
    EXPECT_LE(count, 900);  // 45%
  }
  EXPECT_EQ(epochs, (std::set<int64_t>{5, 6, 7, 8}));
  EXPECT_EQ(batches, (std::set<int64_t>{16, 32, 64}));
}

TEST_F(SearchSpace, MakeTrialAppliesEveryParameter) {
  const SearchConfig c = load(kData +
                              "model:\n"
                              "  hidden: [100]\n"
                              "training:\n"
                              "  reduce_lr_on_plateau: {factor: 0.5, patience: 1}\n"
                              "early_stopping:\n"
                              "  min_delta: 0.01\n"
                              "search:\n"
                              "  strategy: random\n"
                              "  trials: 4\n"
                              "  seed: 9\n"
                              "  space:\n"
                              "    hidden: [[32, 16]]\n"
                              "    learning_rate: 0.05\n"
                              "    batch_size: 64\n"
                              "    dropout: 0.3\n"
                              "    l1: 1.0e-5\n"
                              "    l2: 1.0e-4\n"
                              "    optimizer: momentum\n"
                              "    activation: tanh\n"
                              "    momentum: 0.8\n"
                              "    max_epochs: 7\n"
                              "    patience: 2\n");
  const TrialAssignment t = make_trial(c, 2);
  EXPECT_EQ(t.trial_id, 2);
  EXPECT_EQ(t.seed, derive_seed(derive_seed(9, SeedStream::kTrialSeed), 2));
  EXPECT_EQ(t.model.hidden, (std::vector<Index>{32, 16}));
  EXPECT_EQ(t.model.activation, Activation::kTanh);
  EXPECT_FALSE(t.model.init.has_value());
  EXPECT_EQ(t.model.initialization(), Initialization::kGlorot);
  EXPECT_DOUBLE_EQ(t.model.dropout, 0.3);
  EXPECT_EQ(t.training.optimizer.kind, OptimizerKind::kMomentum);
  EXPECT_DOUBLE_EQ(t.training.optimizer.learning_rate, 0.05);
  EXPECT_DOUBLE_EQ(t.training.optimizer.momentum, 0.8);
  EXPECT_DOUBLE_EQ(t.training.reduce_lr_on_plateau.factor, 0.5);  // from the base
  EXPECT_EQ(t.training.batch_size, 64);
  EXPECT_EQ(t.training.max_epochs, 7);
  EXPECT_DOUBLE_EQ(t.training.l1, 1e-5);
  EXPECT_DOUBLE_EQ(t.training.l2, 1e-4);
  EXPECT_EQ(t.early_stopping.patience, 2);
  EXPECT_DOUBLE_EQ(t.early_stopping.min_delta, 0.01);  // from the base

  std::set<uint64_t> seeds;
  for (int64_t id = 0; id < 4; ++id) seeds.insert(make_trial(c, id).seed);
  EXPECT_EQ(seeds.size(), 4u);
}

// A searched parameter no trial would use, or one that turns a base setting off, is refused
// at its line; so is a base setting the searched values make useless.
TEST_F(SearchSpace, SettingsNoTrialUsesAreRefused) {
  EXPECT_THAT(error(random_search("    momentum: {uniform: [0.5, 0.9]}\n")),
              HasSubstr(at(10) + "search.space.momentum: only applies to optimizer: momentum "
                                 "(training.optimizer is adam)"));
  EXPECT_THAT(error(random_search("    optimizer: [sgd, adam]\n    momentum: [0.5, 0.9]\n")),
              HasSubstr(at(11) + "search.space.momentum: only applies to optimizer: momentum "
                                 "(the searched optimizers are sgd and adam)"));
  EXPECT_NO_THROW(load(random_search("    optimizer: [sgd, momentum]\n    momentum: [0.5]\n")));
  EXPECT_THAT(error(kData + "training:\n  beta2: 0.99\n" +
                    random_search("    optimizer: [sgd, momentum]\n").substr(kData.size())),
              HasSubstr(at(7) + "training.beta2: only applies to optimizer: adam (the searched "
                                "optimizers are sgd and momentum)"));

  const std::string search = random_search("").substr(kData.size());  // lines 6 to 9 after kData
  EXPECT_THAT(error(kData + "model:\n  hidden: []\n" + search + "    dropout: [0.2, 0.4]\n"),
              HasSubstr(at(12) + "search.space.dropout: dropout applies to hidden layers, and "
                                 "model.hidden is empty"));
  EXPECT_NO_THROW(load(kData + "model:\n  hidden: []\n" + search +
                       "    dropout: [0.2]\n    layers: [1]\n    units: [8]\n"));

  EXPECT_THAT(
      error(kData + "early_stopping: {enabled: false}\n" + search + "    patience: [3, 8]\n"),
      HasSubstr(at(11) + "search.space.patience: only applies with early stopping "
                         "(early_stopping.enabled is false)"));
  const std::string plateau = "training:\n  reduce_lr_on_plateau: {patience: 4}\n";
  EXPECT_THAT(error(kData + plateau + search + "    patience: {int_uniform: [4, 9]}\n"),
              HasSubstr(at(12) + "search.space.patience: includes 4, not above "
                                 "training.reduce_lr_on_plateau.patience (4): early stopping "
                                 "would end those trials before the rate is lowered"));
  EXPECT_NO_THROW(load(kData + plateau + search + "    patience: [5, 9]\n"));
  // Searched, the base early_stopping.patience (5 by default) is no trial's: not held against
  // a plateau patience the searched values exceed.
  const std::string six = "training:\n  reduce_lr_on_plateau: {patience: 6}\n";
  EXPECT_NO_THROW(load(kData + six + search + "    patience: [8, 12]\n"));
  EXPECT_THAT(error(kData + six + search + "    learning_rate: [0.01]\n"),
              HasSubstr(at(7) + "training.reduce_lr_on_plateau.patience: must be less than "
                                "early_stopping.patience (5, its default), got 6"));

  const std::string floor = "training:\n  reduce_lr_on_plateau: {patience: 2, min_lr: 0.01}\n";
  EXPECT_THAT(error(kData + floor + search + "    learning_rate: {log_uniform: [1.0e-4, 0.01]}\n"),
              HasSubstr(at(7) + "training.reduce_lr_on_plateau.min_lr: is 0.01, not below the "
                                "largest searched learning rate (0.01)"));
  EXPECT_NO_THROW(load(kData + floor + search + "    learning_rate: [1.0e-3, 0.1]\n"));
}

// A resumed search runs as recorded: what newer checks refuse still loads with kAllow.
TEST_F(SearchSpace, UnusedSettingsLoadWhenAllowed) {
  write_text(config_path(), random_search("    momentum: [0.5]\n"));
  EXPECT_THROW(load_search_config(config_path()), ConfigError);
  EXPECT_NO_THROW(load_search_config(config_path(), UnusedSettings::kAllow));
  // From text: allowed by default (a stored config), refused when asked.
  const std::string text = random_search("    momentum: [0.5]\n");
  EXPECT_NO_THROW(parse_search_config(text, "text.yaml", dir_.path()));
  EXPECT_THROW(parse_search_config(text, "text.yaml", dir_.path(), DataFiles::kCheck,
                                   UnusedSettings::kRefuse),
               ConfigError);
}

TEST_F(SearchSpace, MakeTrialBuildsHiddenFromLayersAndUnits) {
  const SearchConfig both = load(random_search("    layers: 3\n    units: 48\n"));
  EXPECT_EQ(make_trial(both, 0).model.hidden, (std::vector<Index>{48, 48, 48}));

  const std::string base = kData + "model:\n  hidden: [100, 50]\n";
  const SearchConfig layers =
      load(base + "search:\n  strategy: grid\n  space:\n    layers: [1, 3]\n");
  EXPECT_EQ(make_trial(layers, 0).model.hidden, (std::vector<Index>{100}));
  EXPECT_EQ(make_trial(layers, 1).model.hidden, (std::vector<Index>{100, 100, 100}));

  const SearchConfig units = load(base + "search:\n  strategy: grid\n  space:\n    units: 20\n");
  EXPECT_EQ(make_trial(units, 0).model.hidden, (std::vector<Index>{20, 20}));
}

TEST_F(SearchSpace, MakeTrialRejectsHandBuiltInvalidValues) {
  SearchConfig c = load(random_search("    dropout: 0.1\n"));
  c.search.space[0].choices = {1.5};
  try {
    make_trial(c, 0);
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr(at(10) + "search.space.dropout: trial 0: must be in [0, 1), got 1.5"));
  }
}

TEST(TrialValue, PrintsEachKind) {
  EXPECT_EQ(to_string(ParamValue(0.001)), "0.001");
  EXPECT_EQ(to_string(ParamValue(1e-4)), "0.0001");
  EXPECT_EQ(to_string(ParamValue(0.123456789)), "0.123457");
  EXPECT_EQ(to_string(ParamValue(int64_t{128})), "128");
  EXPECT_EQ(to_string(ParamValue(std::string("adam"))), "adam");
  EXPECT_EQ(to_string(ParamValue(Widths{256, 128})), "[256, 128]");
  EXPECT_EQ(to_string(ParamValue(Widths{})), "[]");
}

// Errors: each names the file, the line and the key path.

TEST_F(SearchSpace, RejectsUnknownParameterWithSuggestion) {
  EXPECT_THAT(error(random_search("    learning_rte: 0.01\n")),
              HasSubstr(at(10) + "unknown key 'learning_rte' in 'search.space' (did you mean "
                                 "'learning_rate'?)"));
}

TEST_F(SearchSpace, RejectsWrongTypes) {
  EXPECT_THAT(error(random_search("    batch_size: [64, big]\n")),
              HasSubstr(at(10) + "search.space.batch_size[1]: expected an integer, got 'big'"));
  EXPECT_THAT(error(random_search("    dropout: high\n")),
              HasSubstr(at(10) + "search.space.dropout: expected a number, got 'high'"));
  EXPECT_THAT(
      error(random_search("    optimizer: [adam, adamw]\n")),
      HasSubstr(at(10) + "search.space.optimizer[1]: must be one of: sgd, momentum, adam (got "
                         "'adamw')"));
  EXPECT_THAT(error(random_search("    hidden: [[64], 32]\n")),
              HasSubstr(at(10) + "search.space.hidden[1]: expected a list of layer widths"));
  EXPECT_THAT(error(random_search("    hidden: 64\n")),
              HasSubstr(at(10) + "search.space.hidden: expected a list of layer widths"));
  EXPECT_THAT(
      error(random_search("    dropout:\n")),
      HasSubstr(at(10) + "search.space.dropout: expected a value, a list of choices or a range "
                         "such as {uniform: [lo, hi]}, got an empty value"));
}

TEST_F(SearchSpace, RejectsRangeWithLoAboveHi) {
  EXPECT_THAT(error(random_search("    dropout: {uniform: [0.5, 0.1]}\n")),
              HasSubstr(at(10) + "search.space.dropout: uniform range [0.5, 0.1] has lo > hi"));
  EXPECT_THAT(error(random_search("    max_epochs: {int_uniform: [20, 5]}\n")),
              HasSubstr(at(10) + "search.space.max_epochs: int_uniform range [20, 5] has lo > hi"));
}

TEST_F(SearchSpace, RejectsLogRangeTouchingZero) {
  EXPECT_THAT(
      error(random_search("    l2: {log_uniform: [0, 0.01]}\n")),
      HasSubstr(at(10) + "search.space.l2: log_uniform range [0, 0.01] must be > 0 at both ends "
                         "(a log scale never reaches 0; list 0 as a choice instead)"));
  EXPECT_THAT(error(random_search("    learning_rate: {log_uniform: [-1, 1]}\n")),
              HasSubstr(at(10) + "search.space.learning_rate: log_uniform range [-1, 1] must be "
                                 "> 0 at both ends"));
}

TEST_F(SearchSpace, RejectsValuesOutsideTheParameterRange) {
  EXPECT_THAT(error(random_search("    dropout: 1.0\n")),
              HasSubstr(at(10) + "search.space.dropout: must be in [0, 1), got 1"));
  EXPECT_THAT(error(random_search("    batch_size:\n      - 64\n      - 0\n")),
              HasSubstr(at(12) + "search.space.batch_size[1]: must be >= 1, got 0"));
  EXPECT_THAT(error(random_search("    l2: {uniform: [-0.1, 0.1]}\n")),
              HasSubstr(at(10) + "search.space.l2.uniform[0]: must be >= 0, got -0.1"));
  EXPECT_THAT(error(random_search("    learning_rate: 0\n")),
              HasSubstr(at(10) + "search.space.learning_rate: must be > 0, got 0"));
  EXPECT_THAT(error(random_search("    dropout: {uniform: [0, 1]}\n")),
              HasSubstr(at(10) + "search.space.dropout.uniform[1]: must be in [0, 1), got 1"));
  EXPECT_THAT(error(random_search("    momentum: [0.9, 1.5]\n")),
              HasSubstr(at(10) + "search.space.momentum[1]: must be in [0, 1), got 1.5"));
  EXPECT_THAT(error(random_search("    max_epochs: {int_uniform: [0, 5]}\n")),
              HasSubstr(at(10) + "search.space.max_epochs.int_uniform[0]: must be >= 1, got 0"));
  EXPECT_THAT(error(random_search("    patience: -1\n")),
              HasSubstr(at(10) + "search.space.patience: must be >= 0, got -1"));
  EXPECT_THAT(error(random_search("    hidden: [[64], [32, 0]]\n")),
              HasSubstr(at(10) + "search.space.hidden[1][1]: must be >= 1, got 0"));
  EXPECT_THAT(error(random_search("    layers: 0\n")),
              HasSubstr(at(10) + "search.space.layers: must be >= 1, got 0"));
}

TEST_F(SearchSpace, RejectsEmptyChoiceList) {
  EXPECT_THAT(error(random_search("    batch_size: []\n")),
              HasSubstr(at(10) + "search.space.batch_size: empty list of choices"));
  EXPECT_THAT(error(random_search("    hidden: []\n")),
              HasSubstr(at(10) + "search.space.hidden: empty list of choices"));
}

TEST_F(SearchSpace, RejectsAChoiceListedTwice) {
  EXPECT_THAT(error(random_search("    batch_size: [32, 64, 32]\n")),
              HasSubstr(at(10) + "search.space.batch_size[2]: 32 is listed twice (list each "
                                 "choice once)"));
  EXPECT_THAT(error(random_search("    learning_rate: [1.0e-3, 0.001]\n")),
              HasSubstr("search.space.learning_rate[1]: 0.001 is listed twice"));
  EXPECT_THAT(error(random_search("    hidden: [[64], [128, 64], [128, 64]]\n")),
              HasSubstr("search.space.hidden[2]: [128, 64] is listed twice"));
  EXPECT_THAT(error(random_search("    optimizer: [adam, sgd, adam]\n")),
              HasSubstr("search.space.optimizer[2]: adam is listed twice"));
}

TEST_F(SearchSpace, RejectsContinuousRangeInGrid) {
  EXPECT_THAT(
      error(grid_search("    batch_size: [32, 64]\n"
                        "    learning_rate: {log_uniform: [1.0e-4, 1.0e-2]}\n")),
      HasSubstr(at(10) + "search.space.learning_rate: strategy grid needs a list of values; "
                         "log_uniform ranges only work with strategy: random or tpe"));
  EXPECT_THAT(error(grid_search("    dropout: {uniform: [0, 0.5]}\n")),
              HasSubstr(at(9) + "search.space.dropout: strategy grid needs a list of values; "
                                "uniform ranges only work with strategy: random or tpe"));
}

TEST_F(SearchSpace, RejectsMissingSearchSpaceOrStrategy) {
  EXPECT_THAT(error(kData), HasSubstr(at(1) + "missing required key 'search'"));
  EXPECT_THAT(error(kData + "search:\n  strategy: random\n  trials: 3\n"),
              HasSubstr(at(6) + "search: missing required key 'space'"));
  EXPECT_THAT(error(kData + "search:\n  trials: 3\n  space:\n    dropout: 0.1\n"),
              HasSubstr(at(6) + "search: missing required key 'strategy'"));
  EXPECT_THAT(
      error(kData + "search:\n  strategy: bayes\n  space:\n    dropout: 0.1\n"),
      HasSubstr(at(7) + "search.strategy: must be one of: grid, random, tpe (got 'bayes')"));
  EXPECT_THAT(error(kData + "search:\n  strategy: grid\n  space: {}\n"),
              HasSubstr(at(8) + "search.space: no parameters to search"));
  EXPECT_THAT(error(kData + "search: [1]\n"),
              HasSubstr(at(6) + "search: expected a map of keys, got a list"));
}

/// A TPE search of 12 trials (more than the default startup_trials, 10) with `tpe` as its
/// options block (line 9) over one parameter.
std::string tpe_search(const std::string& tpe) {
  return kData +
         "search:\n"
         "  strategy: tpe\n"
         "  trials: 12\n" +
         tpe +
         "  space:\n"
         "    dropout: {uniform: [0.0, 0.5]}\n";
}

TEST_F(SearchSpace, ParsesTpeOptionsWithOptunasDefaultsButEqualBudget) {
  const SearchConfig defaults = load(tpe_search(""));
  EXPECT_EQ(defaults.search.tpe.startup_trials, 10);
  EXPECT_DOUBLE_EQ(defaults.search.tpe.gamma, 0.1);
  EXPECT_EQ(defaults.search.tpe.candidates, 24);
  EXPECT_EQ(defaults.search.tpe.ranking, TpeRanking::kEqualBudget);
  EXPECT_TRUE(defaults.search.tpe.multivariate);
  const SearchConfig c = load(
      tpe_search("  tpe: {startup_trials: 3, gamma: 0.25, candidates: 8, ranking: finished_first,"
                 " multivariate: false}\n"));
  EXPECT_FALSE(c.search.tpe.multivariate);
  EXPECT_EQ(c.search.tpe.startup_trials, 3);
  EXPECT_DOUBLE_EQ(c.search.tpe.gamma, 0.25);
  EXPECT_EQ(c.search.tpe.candidates, 8);
  EXPECT_EQ(c.search.tpe.ranking, TpeRanking::kFinishedFirst);
  EXPECT_STREQ(to_string(c.search.tpe.ranking), "finished_first");
  const SearchConfig equal = load(tpe_search("  tpe: {ranking: equal_budget}\n"));
  EXPECT_EQ(equal.search.tpe.ranking, TpeRanking::kEqualBudget);
  EXPECT_STREQ(to_string(equal.search.tpe.ranking), "equal_budget");
}

TEST_F(SearchSpace, TpeWhoseRandomStartCoversEveryTrialIsRefused) {
  EXPECT_THAT(error(tpe_search("  tpe: {startup_trials: 12}\n")),
              HasSubstr(at(9) + "search.tpe.startup_trials: TPE draws its first 12 trials at "
                                "random (startup_trials), and the search runs 12, so no trial "
                                "would be a TPE draw: use strategy: random, or set "
                                "startup_trials below 12"));
  std::string four = tpe_search("");
  four.replace(four.find("trials: 12"), 10, "trials: 4");
  EXPECT_THAT(error(four), HasSubstr(at(6) + "search.tpe.startup_trials: TPE draws its first 10"));
  EXPECT_NO_THROW(load(tpe_search("  tpe: {startup_trials: 11}\n")));
}

TEST_F(SearchSpace, RejectsBadTpeOptions) {
  EXPECT_THAT(error(tpe_search("  tpe: {ranking: bohb}\n")),
              HasSubstr(at(9) + "search.tpe.ranking: must be one of: finished_first, "
                                "equal_budget (got 'bohb')"));
  EXPECT_THAT(error(tpe_search("  tpe: {multivariate: sometimes}\n")),
              HasSubstr(at(9) + "search.tpe.multivariate"));
  EXPECT_THAT(error(tpe_search("  tpe: {gamma: 1.5}\n")),
              HasSubstr(at(9) + "search.tpe.gamma: must be in (0, 1], got '1.5'"));
  EXPECT_THAT(error(tpe_search("  tpe: {rankng: equal_budget}\n")),
              HasSubstr(at(9) + "unknown key 'rankng' in 'search.tpe' (did you mean 'ranking'?)"));
  EXPECT_THAT(error(random_search("    dropout: 0.1\n") + "  tpe: {ranking: equal_budget}\n"),
              HasSubstr(at(11) + "search.tpe: only used with strategy: tpe"));
}

/// A random search over `space` (from line 10) with `scheduler` lines after it; the base
/// trains at most 50 epochs (the default).
std::string scheduler_search(const std::string& scheduler,
                             const std::string& space = "    dropout: 0.1\n") {
  return random_search(space) + scheduler;
}

TEST_F(SearchSpace, ParsesSchedulerOptionsWithTheirDefaults) {
  const SearchConfig none = load(scheduler_search(""));
  EXPECT_EQ(none.search.scheduler.kind, SchedulerKind::kNone);
  const SearchConfig asha = load(scheduler_search("  scheduler: asha\n"));
  EXPECT_EQ(asha.search.scheduler.kind, SchedulerKind::kAsha);
  EXPECT_EQ(asha.search.scheduler.reduction_factor, 3);
  EXPECT_EQ(asha.search.scheduler.min_epochs, 1);
  EXPECT_EQ(asha.search.scheduler.grace, 0);
  EXPECT_EQ(asha.search.scheduler.max_epochs, 50) << "training.max_epochs";
  const SearchConfig set =
      load(scheduler_search("  scheduler: asha\n  asha: {reduction_factor: 4, min_epochs: 2, "
                            "max_epochs: 50, grace: 1}\n"));
  EXPECT_EQ(set.search.scheduler.reduction_factor, 4);
  EXPECT_EQ(set.search.scheduler.min_epochs, 2);
  EXPECT_EQ(set.search.scheduler.max_epochs, 50);
  EXPECT_EQ(set.search.scheduler.grace, 1);
  // Below the most epochs a trial trains: refused in a config about to run, as it would stop
  // no trial (a Ray Tune user's max_t does); a stored one still loads, with its rungs.
  const std::string below = scheduler_search("  scheduler: asha\n  asha: {max_epochs: 40}\n");
  EXPECT_EQ(error(below),
            at(12) +
                "search.asha.max_epochs: is 40, but trials train up to 50 epochs: ASHA "
                "places its rungs below max_epochs and stops no trial at it (unlike Ray "
                "Tune's max_t); to stop every trial there, set training.max_epochs to at "
                "most 40, and leave this out");
  write_text(config_path(), below);
  EXPECT_EQ(load_search_config(config_path(), UnusedSettings::kAllow).search.scheduler.max_epochs,
            40);
  // A searched max_epochs: rungs go up to its largest value, not the base's.
  EXPECT_EQ(load(scheduler_search("  scheduler: asha\n", "    max_epochs: [20, 90]\n"))
                .search.scheduler.max_epochs,
            90);
  EXPECT_EQ(
      load(scheduler_search("  scheduler: asha\n", "    max_epochs: {int_uniform: [5, 70]}\n"))
          .search.scheduler.max_epochs,
      70);
  std::string forty = scheduler_search("  scheduler: median\n");
  forty.replace(forty.find("trials: 4"), 9, "trials: 40");  // more than min_trials (5)
  const SearchConfig median = load(forty);
  EXPECT_EQ(median.search.scheduler.kind, SchedulerKind::kMedian);
  EXPECT_EQ(median.search.scheduler.warmup_epochs, 1);
  EXPECT_EQ(median.search.scheduler.min_trials, 5);
  const SearchConfig median_set =
      load(scheduler_search("  scheduler: median\n  median: {warmup_epochs: 3, min_trials: 2}\n"));
  EXPECT_EQ(median_set.search.scheduler.warmup_epochs, 3);
  EXPECT_EQ(median_set.search.scheduler.min_trials, 2);
}

TEST_F(SearchSpace, RejectsSchedulerOptionsThatCouldNeverStopATrial) {
  EXPECT_THAT(error(scheduler_search("  scheduler: asha\n  asha: {min_epochs: 50}\n")),
              HasSubstr(at(12) + "search.asha: no ASHA rung below max_epochs 50"));
  EXPECT_THAT(error(scheduler_search("  scheduler: asha\n  asha: {max_epochs: 1000}\n")),
              HasSubstr(at(12) + "search.asha.max_epochs: is 1000, but no trial trains more than "
                                 "50 epochs (training.max_epochs), so rungs past that would never "
                                 "be reached (leave it out to use 50)"));
  EXPECT_THAT(error(scheduler_search("  scheduler: asha\n  asha: {max_epochs: 95}\n",
                                     "    max_epochs: [20, 90]\n")),
              HasSubstr("no trial trains more than 90 epochs (search.space.max_epochs)"));
  EXPECT_THAT(error(scheduler_search("  scheduler: median\n  median: {warmup_epochs: 50}\n")),
              HasSubstr(at(12) + "search.median.warmup_epochs: warmup_epochs is 50, but no trial "
                                 "trains more than 50 epochs (training.max_epochs) and a trial is "
                                 "judged only after its warm-up and before its last epoch, so no "
                                 "trial could ever be stopped (use at most 48)"));
  // Judged only at its 50th epoch, the last: refused too. 48 leaves the 49th.
  EXPECT_THAT(error(scheduler_search("  scheduler: median\n  median: {warmup_epochs: 49}\n")),
              HasSubstr("warmup_epochs is 49, but no trial trains more than 50 epochs"));
  EXPECT_NO_THROW(load(
      scheduler_search("  scheduler: median\n  median: {warmup_epochs: 48, min_trials: 3}\n")));
  EXPECT_THAT(error(scheduler_search("  scheduler: median\n  median: {min_trials: 4}\n")),
              HasSubstr(at(12) + "search.median.min_trials: min_trials is 4, but the search runs "
                                 "4 trials, so no trial meets that many others and none could "
                                 "ever be stopped"));
  // The default warm-up (1 epoch) with one-epoch trials: the error points at the scheduler.
  EXPECT_THAT(
      error(scheduler_search("  scheduler: median\n", "    max_epochs: 1\n")),
      HasSubstr(at(11) + "search.scheduler: warmup_epochs is 1, but no trial trains more "
                         "than 1 epoch (search.space.max_epochs) and a trial is judged only "
                         "after its warm-up and before its last epoch, so no trial could "
                         "ever be stopped"));
  EXPECT_THAT(error(scheduler_search("  scheduler: median\n", "    max_epochs: 1\n")),
              Not(HasSubstr("use at most")));
}

TEST_F(SearchSpace, RejectsBadSchedulerOptions) {
  EXPECT_THAT(error(scheduler_search("  scheduler: hyperband\n")),
              HasSubstr(at(11) + "search.scheduler: must be one of:"));
  EXPECT_THAT(error(scheduler_search("  scheduler: asha\n  asha: {reduction_factor: 1}\n")),
              HasSubstr(at(12) + "search.asha.reduction_factor: expected an integer in [2, "
                                 "1000], got '1'"));
  EXPECT_THAT(error(scheduler_search("  scheduler: asha\n  asha: {min_epoch: 2}\n")),
              HasSubstr(at(12) + "unknown key 'min_epoch' in 'search.asha' (did you mean "
                                 "'min_epochs'?)"));
  EXPECT_THAT(error(scheduler_search("  scheduler: asha\n  median: {min_trials: 2}\n")),
              HasSubstr(at(12) + "search.median: only used with scheduler: median (scheduler is "
                                 "asha)"));
  EXPECT_THAT(error(scheduler_search("  asha: {grace: 1}\n")),
              HasSubstr(at(11) + "search.asha: only used with scheduler: asha (scheduler is "
                                 "none)"));
  EXPECT_THAT(error(scheduler_search("  scheduler: median\n  median: {min_trials: 0}\n")),
              HasSubstr(at(12) + "search.median.min_trials:"));
}

TEST_F(SearchSpace, RejectsTrialsForGrid) {
  EXPECT_THAT(error(kData + "search:\n"
                            "  strategy: grid\n"
                            "  trials: 5\n"
                            "  space:\n"
                            "    batch_size: [32, 64]\n"
                            "    optimizer: [sgd, momentum, adam]\n"),
              HasSubstr(at(8) + "search.trials: not used with strategy: grid (the grid size is the "
                                "product of each parameter's number of values: 2 x 3 = 6 points)"));
  EXPECT_THAT(error(kData + "search:\n"
                            "  strategy: grid\n"
                            "  trials: 5\n"
                            "  space:\n"
                            "    batch_size: [32, 64]\n"
                            "    optimizer: [sgd, momentum, adam]\n"
                            "    momentum: [0.5, 0.9, 0.99]\n"),
              HasSubstr(at(8) + "search.trials: not used with strategy: grid (the grid size is the "
                                "product of each parameter's number of values: 2 x (2 + 1 x 3) "
                                "= 10 points, momentum's values counted only for optimizer "
                                "momentum)"));
}

TEST_F(SearchSpace, RejectsMissingOrTooFewTrialsForRandom) {
  EXPECT_THAT(error(kData + "search:\n  strategy: random\n  trials: 0\n  space:\n    l1: 0\n"),
              HasSubstr(at(8) + "search.trials: must be >= 1, got 0"));
  EXPECT_THAT(error(kData + "search:\n  strategy: random\n  space:\n    l1: 0\n"),
              HasSubstr(at(6) + "search: missing required key 'trials'"));
}

TEST_F(SearchSpace, RejectsMoreTrialsThanOneSearchRuns) {
  // The coordinator lists every pending trial: a typo of a few zeros must not reach it.
  EXPECT_THAT(
      error(kData + "search:\n  strategy: random\n  trials: 1000000000000\n  space:\n    l1: 0\n"),
      HasSubstr(at(8) + "search.trials: must be at most 10000000 (the most trials one search "
                        "runs), got 1000000000000"));
  EXPECT_THAT(error(grid_search("    max_epochs: {int_uniform: [1, 9000]}\n"
                                "    patience: {int_uniform: [1, 9000]}\n")),
              HasSubstr(at(8) + "search.space: the grid has 9000 x 9000 = 81000000 points; one "
                                "search runs at most 10000000 trials"));
  EXPECT_THAT(error(grid_search("    max_epochs: {int_uniform: [1, 3000]}\n"
                                "    optimizer: [sgd, adam, momentum]\n"
                                "    patience: {int_uniform: [1, 1000]}\n"
                                "    momentum: [0.5, 0.9]\n")),
              HasSubstr(at(8) + "search.space: the grid has 3000 x (2 + 1 x 2) x 1000 = "
                                "12000000 points, momentum's values counted only for optimizer "
                                "momentum; one search runs at most 10000000 trials"));
}

TEST_F(SearchSpace, RejectsInvalidKeepWeights) {
  const auto with_keep = [](const std::string& value) {
    return kData + "search:\n  strategy: random\n  trials: 2\n  keep_weights: " + value +
           "\n  space:\n    l1: 0\n";
  };
  EXPECT_THAT(
      error(with_keep("-1")),
      HasSubstr(at(9) + "search.keep_weights: expected an integer >= 0 or 'all', got '-1'"));
  EXPECT_THAT(
      error(with_keep("some")),
      HasSubstr(at(9) + "search.keep_weights: expected an integer >= 0 or 'all', got 'some'"));
  EXPECT_THAT(
      error(with_keep("2.5")),
      HasSubstr(at(9) + "search.keep_weights: expected an integer >= 0 or 'all', got '2.5'"));
}

TEST_F(SearchSpace, RejectsHiddenWithLayersOrUnits) {
  EXPECT_THAT(error(random_search("    hidden: [[64]]\n    layers: [1, 2]\n")),
              HasSubstr(at(11) + "search.space.layers: cannot be combined with hidden"));
  EXPECT_THAT(error(random_search("    units: 32\n    hidden: [[64]]\n")),
              HasSubstr(at(10) + "search.space.units: cannot be combined with hidden"));
}

TEST(TakesEffect, MomentumOnlyWithTheMomentumOptimizer) {
  const auto values = [](const char* optimizer) {
    return std::vector<ParamAssignment>{{"optimizer", std::string(optimizer)}, {"momentum", 0.9}};
  };
  EXPECT_TRUE(takes_effect(values("momentum"), "momentum"));
  EXPECT_FALSE(takes_effect(values("adam"), "momentum"));
  EXPECT_FALSE(takes_effect(values("sgd"), "momentum"));
  EXPECT_TRUE(takes_effect(values("adam"), "optimizer"));
  // With the optimizer fixed, the config check has made sure it is momentum.
  EXPECT_TRUE(takes_effect({{"momentum", 0.9}}, "momentum"));
}

TEST_F(SearchSpace, RejectsLayersAloneWithEmptyBaseHidden) {
  EXPECT_THAT(
      error(kData + "model:\n  hidden: []\n" +
            "search:\n  strategy: grid\n  space:\n    layers: [1, 2]\n"),
      HasSubstr(at(11) + "search.space.layers: model.hidden is empty, so the units per layer are "
                         "unknown; search units as well or set model.hidden"));
  EXPECT_THAT(error(kData + "model:\n  hidden: []\n" +
                    "search:\n  strategy: grid\n  space:\n    units: [8, 16]\n"),
              HasSubstr(at(11) + "search.space.units: model.hidden is empty, so the number of "
                                 "layers is unknown"));
}

TEST_F(SearchSpace, RejectsUnknownKeysWithSuggestion) {
  EXPECT_THAT(error(kData + "search:\n  strategy: random\n  trails: 3\n  space:\n    l1: 0\n"),
              HasSubstr(at(8) + "unknown key 'trails' in 'search' (did you mean 'trials'?)"));
  EXPECT_THAT(error(random_search("    dropout: {unifrom: [0, 0.5]}\n")),
              HasSubstr(at(10) + "unknown key 'unifrom' in 'search.space.dropout' (did you mean "
                                 "'uniform'?)"));
  EXPECT_THAT(error("serch:\n  strategy: random\n" + kData),
              HasSubstr(at(1) + "unknown key 'serch' at the top level (did you mean 'search'?)"));
}

TEST_F(SearchSpace, RejectsRangesThatDoNotFitTheParameter) {
  EXPECT_THAT(error(random_search("    batch_size: {uniform: [16, 256]}\n")),
              HasSubstr(at(10) + "search.space.batch_size: uniform only applies to real-valued "
                                 "parameters; batch_size is an integer"));
  EXPECT_THAT(error(random_search("    dropout: {int_uniform: [0, 1]}\n")),
              HasSubstr(at(10) + "search.space.dropout: int_uniform only applies to integer "
                                 "parameters; dropout is a real number"));
  EXPECT_THAT(error(random_search("    optimizer: {uniform: [0, 1]}\n")),
              HasSubstr(at(10) + "search.space.optimizer: ranges do not apply to optimizer"));
  EXPECT_THAT(error(random_search("    hidden: {int_uniform: [16, 64]}\n")),
              HasSubstr(at(10) + "search.space.hidden: ranges do not apply to hidden"));
  EXPECT_THAT(
      error(random_search("    dropout: {uniform: [0.1]}\n")),
      HasSubstr(at(10) + "search.space.dropout.uniform: expected a list [lo, hi] of 2 numbers, "
                         "got 1 item"));
  EXPECT_THAT(
      error(random_search("    dropout: {uniform: [0, 0.1], log_uniform: [0.1, 0.2]}\n")),
      HasSubstr(at(10) + "search.space.dropout: expected exactly one of uniform, log_uniform, "
                         "int_uniform, got uniform, log_uniform"));
  EXPECT_THAT(error(random_search("    dropout: {}\n")),
              HasSubstr(at(10) + "search.space.dropout: expected exactly one of uniform, "
                                 "log_uniform, int_uniform, got none"));
}

TEST_F(SearchSpace, ValidatesTheBaseConfig) {
  EXPECT_THAT(error(kData + "training:\n  batch_size: 0\n" + "search:\n  strategy: random\n"),
              HasSubstr(at(7) + "training.batch_size: must be >= 1, got 0"));
}

TEST_F(SearchSpace, ReportsAnUnreadableFile) {
  try {
    load_search_config(dir_.file("missing.yaml"));
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot read config file '" + dir_.file("missing.yaml") +
                                    "': No such file or directory"));
  }
}

}  // namespace
}  // namespace hps
