#include "core/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "core/config_parser.hpp"
#include "core/yaml_util.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using testing::TempDir;
using testing::write_text;

// The smallest valid config: lines 1-5. Tests append the block under test from line 6 on.
const std::string kData =
    "data:\n"
    "  train:\n"
    "    format: idx\n"
    "    images: train-images.idx\n"
    "    labels: train-labels.idx\n";

/// A folder with placeholder data files (config parsing only checks that they exist) and a
/// config file written per test.
class LoadTrainConfig : public testing::ConfigFileTest<TrainConfig> {
 protected:
  LoadTrainConfig() : ConfigFileTest("config.yaml", load_train_config) {}
  void SetUp() override {
    for (const char* name : {"train-images.idx", "train-labels.idx", "test.csv", "data.h5"})
      write_text(dir_.file(name), "placeholder");
  }
};

TEST_F(LoadTrainConfig, ReadsEveryKey) {
  const std::string text =
      "seed: 1234\n"
      "data:\n"
      "  task: classification\n"
      "  num_classes: 10\n"
      "  validation_fraction: 0.2\n"
      "  scaling: minmax\n"
      "  train:\n"
      "    format: idx\n"
      "    images: train-images.idx\n"
      "    labels: train-labels.idx\n"
      "    max_samples: 5000\n"
      "  test:\n"
      "    format: csv\n"
      "    path: test.csv\n"
      "    label_column: digit\n"
      "model:\n"
      "  hidden: [256, 128]\n"
      "  activation: tanh\n"
      "  init: he\n"
      "  dropout: 0.25\n"
      "training:\n"
      "  optimizer: momentum\n"
      "  learning_rate: 0.05\n"
      "  momentum: 0.8\n"
      "  beta1: 0.85\n"
      "  beta2: 0.99\n"
      "  epsilon: 1.0e-7\n"
      "  batch_size: 64\n"
      "  max_epochs: 20\n"
      "  l1: 0.001\n"
      "  l2: 0.01\n"
      "early_stopping:\n"
      "  enabled: false\n"
      "  monitor: val_accuracy\n"
      "  mode: max\n"
      "  min_delta: 0.001\n"
      "  patience: 3\n"
      "  restore_best_weights: false\n";
  // Adam's keys under optimizer: momentum are refused in a config about to run
  // (UnusedSettingsAreRefused); read back from a result file, every key still parses.
  const TrainConfig c = parse_train_config(text, config_path(), dir_.path());

  EXPECT_EQ(c.seed, 1234u);
  EXPECT_EQ(c.source_name, config_path());
  EXPECT_EQ(c.text, text);

  EXPECT_EQ(c.data.task, Task::kClassification);
  EXPECT_EQ(c.data.num_classes, 10);
  EXPECT_DOUBLE_EQ(c.data.validation_fraction, 0.2);
  EXPECT_EQ(c.data.scaling, ScalingKind::kMinMax);
  EXPECT_EQ(c.data.train.format, DataFormat::kIdx);
  EXPECT_EQ(c.data.train.images, dir_.file("train-images.idx"));
  EXPECT_EQ(c.data.train.labels, dir_.file("train-labels.idx"));
  EXPECT_EQ(c.data.train.max_samples, 5000);
  ASSERT_TRUE(c.data.test.has_value());
  EXPECT_EQ(c.data.test->format, DataFormat::kCsv);
  EXPECT_EQ(c.data.test->path, dir_.file("test.csv"));
  EXPECT_EQ(c.data.test->label_column, "digit");
  EXPECT_EQ(c.data.test->max_samples, 0);

  EXPECT_EQ(c.model.hidden, (std::vector<Index>{256, 128}));
  EXPECT_EQ(c.model.activation, Activation::kTanh);
  ASSERT_TRUE(c.model.init.has_value());
  EXPECT_EQ(c.model.initialization(), Initialization::kHe);
  EXPECT_DOUBLE_EQ(c.model.dropout, 0.25);

  EXPECT_EQ(c.training.optimizer.kind, OptimizerKind::kMomentum);
  EXPECT_DOUBLE_EQ(c.training.optimizer.learning_rate, 0.05);
  EXPECT_DOUBLE_EQ(c.training.optimizer.momentum, 0.8);
  EXPECT_DOUBLE_EQ(c.training.optimizer.beta1, 0.85);
  EXPECT_DOUBLE_EQ(c.training.optimizer.beta2, 0.99);
  EXPECT_DOUBLE_EQ(c.training.optimizer.epsilon, 1e-7);
  EXPECT_EQ(c.training.batch_size, 64);
  EXPECT_EQ(c.training.max_epochs, 20);
  EXPECT_DOUBLE_EQ(c.training.l1, 0.001);
  EXPECT_DOUBLE_EQ(c.training.l2, 0.01);

  EXPECT_FALSE(c.early_stopping.enabled);
  EXPECT_EQ(c.early_stopping.monitor, Monitor::kValAccuracy);
  EXPECT_EQ(c.early_stopping.mode, MonitorMode::kMax);
  EXPECT_DOUBLE_EQ(c.early_stopping.min_delta, 0.001);
  EXPECT_EQ(c.early_stopping.patience, 3);
  EXPECT_FALSE(c.early_stopping.restore_best_weights);
}

TEST_F(LoadTrainConfig, FillsDefaultsForAbsentKeys) {
  const TrainConfig c = load(kData);
  const TrainConfig defaults;

  EXPECT_EQ(c.seed, 0u);
  EXPECT_EQ(c.data.task, Task::kClassification);
  EXPECT_EQ(c.data.num_classes, 0);
  EXPECT_DOUBLE_EQ(c.data.validation_fraction, 0.1);
  EXPECT_EQ(c.data.scaling, ScalingKind::kStandardize);
  EXPECT_EQ(c.data.train.max_samples, 0);
  EXPECT_FALSE(c.data.test.has_value());

  EXPECT_EQ(c.model.hidden, defaults.model.hidden);
  EXPECT_EQ(c.model.activation, Activation::kRelu);
  EXPECT_FALSE(c.model.init.has_value());
  EXPECT_EQ(c.model.initialization(), Initialization::kHe);
  EXPECT_DOUBLE_EQ(c.model.dropout, 0.0);

  EXPECT_EQ(c.training.optimizer.kind, OptimizerKind::kAdam);
  EXPECT_DOUBLE_EQ(c.training.optimizer.learning_rate, 1e-3);
  EXPECT_DOUBLE_EQ(c.training.optimizer.beta2, 0.999);
  EXPECT_DOUBLE_EQ(c.training.optimizer.epsilon, 1e-8);
  EXPECT_EQ(c.training.batch_size, 128);
  EXPECT_EQ(c.training.max_epochs, 50);
  EXPECT_DOUBLE_EQ(c.training.l1, 0.0);
  EXPECT_DOUBLE_EQ(c.training.l2, 0.0);

  EXPECT_TRUE(c.early_stopping.enabled);
  EXPECT_EQ(c.early_stopping.monitor, Monitor::kValLoss);
  EXPECT_EQ(c.early_stopping.mode, MonitorMode::kAuto);
  EXPECT_DOUBLE_EQ(c.early_stopping.min_delta, 0.0);
  EXPECT_EQ(c.early_stopping.patience, 5);
  EXPECT_TRUE(c.early_stopping.restore_best_weights);
}

TEST_F(LoadTrainConfig, EmptyBlocksKeepDefaults) {
  const TrainConfig c = load(kData + "model:\ntraining:\nearly_stopping:\n");
  EXPECT_EQ(c.model.hidden, TrainConfig().model.hidden);
  EXPECT_EQ(c.training.batch_size, 128);
  EXPECT_TRUE(c.early_stopping.enabled);
}

TEST_F(LoadTrainConfig, EmptyHiddenListMeansNoHiddenLayer) {
  const TrainConfig c = load(kData + "model:\n  hidden: []\n  activation: tanh\n");
  EXPECT_TRUE(c.model.hidden.empty());
  EXPECT_EQ(c.model.initialization(), Initialization::kGlorot);
}

TEST_F(LoadTrainConfig, ReadsHdf5AndCsvSources) {
  const TrainConfig c = load(
      "data:\n"
      "  task: regression\n"
      "  train:\n"
      "    format: hdf5\n"
      "    path: data.h5\n"
      "    features_dataset: /x\n"
      "    labels_dataset: /y\n"
      "  test: {format: csv, path: test.csv, label_column: target, max_samples: 10}\n");
  EXPECT_EQ(c.data.task, Task::kRegression);
  EXPECT_EQ(c.data.train.format, DataFormat::kHdf5);
  EXPECT_EQ(c.data.train.path, dir_.file("data.h5"));
  EXPECT_EQ(c.data.train.features_dataset, "/x");
  EXPECT_EQ(c.data.train.labels_dataset, "/y");
  ASSERT_TRUE(c.data.test.has_value());
  EXPECT_EQ(c.data.test->label_column, "target");
  EXPECT_EQ(c.data.test->max_samples, 10);
}

TEST_F(LoadTrainConfig, ResolvesRelativePathsAgainstTheConfigFolder) {
  std::filesystem::create_directory(dir_.file("configs"));
  const std::string path = dir_.file("configs/run.yaml");
  write_text(path,
             "data:\n  train: {format: idx, images: ../train-images.idx, "
             "labels: " +
                 dir_.file("train-labels.idx") + "}\n");
  const TrainConfig c = load_train_config(path);
  EXPECT_EQ(c.data.train.images, dir_.file("train-images.idx"));
  EXPECT_EQ(c.data.train.labels, dir_.file("train-labels.idx"));
}

TEST(ParseTrainConfig, ResolvesAgainstBaseDirAndKeepsText) {
  TempDir dir;
  write_text(dir.file("a.idx"), "x");
  write_text(dir.file("b.idx"), "x");
  const std::string text = "data:\n  train: {format: idx, images: a.idx, labels: b.idx}\n";
  const TrainConfig c = parse_train_config(text, "inline.yaml", dir.path());
  EXPECT_EQ(c.data.train.images, dir.file("a.idx"));
  EXPECT_EQ(c.source_name, "inline.yaml");
  EXPECT_EQ(c.text, text);
}

TEST(ParseTrainConfigNode, AcceptsTheCallersExtraTopLevelKeys) {
  TempDir dir;
  write_text(dir.file("a.idx"), "x");
  write_text(dir.file("b.idx"), "x");
  const YAML::Node root = parse_yaml(
      "data:\n  train: {format: idx, images: a.idx, labels: b.idx}\n"
      "search:\n  trials: 10\n",
      "search.yaml");
  const KeyLines lines(root, "search.yaml");
  EXPECT_NO_THROW(parse_train_config_node(root, lines, dir.path(), {"search"}));
  try {
    parse_train_config_node(root, lines, dir.path(), {});
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("search.yaml:3: unknown key 'search' at the top level"));
  }
}

TEST_F(LoadTrainConfig, UnknownTopLevelKeySuggestsTheNearest) {
  EXPECT_THAT(error(kData + "trainig:\n  batch_size: 32\n"),
              HasSubstr(at(6) + "unknown key 'trainig' at the top level (did you mean "
                                "'training'?)"));
}

TEST_F(LoadTrainConfig, UnknownNestedKeySuggestsTheNearest) {
  EXPECT_THAT(error(kData + "training:\n  batchsize: 32\n"),
              HasSubstr(at(7) + "unknown key 'batchsize' in 'training' (did you mean "
                                "'batch_size'?)"));
  EXPECT_THAT(error("data:\n  train:\n    format: idx\n    image: a\n"),
              HasSubstr(at(4) + "unknown key 'image' in 'data.train' (did you mean 'images'?)"));
}

TEST_F(LoadTrainConfig, UnknownKeyFarFromAnyListsTheKnownKeys) {
  const std::string message = error(kData + "model:\n  colour: blue\n");
  EXPECT_THAT(message, HasSubstr(at(7) + "unknown key 'colour' in 'model'"));
  EXPECT_THAT(message, HasSubstr("known keys: hidden, activation, init, dropout"));
  EXPECT_THAT(message, Not(HasSubstr("did you mean")));
}

TEST_F(LoadTrainConfig, DuplicateKeyIsAnError) {
  EXPECT_THAT(error(kData + "training:\n  l2: 0.1\n  l2: 0.2\n"),
              HasSubstr(at(8) + "training.l2: duplicate key (first given at line 7)"));
}

// As the README says: a quoted number reads as the number, as typed config loaders read it.
TEST_F(LoadTrainConfig, AQuotedNumberReadsAsTheNumber) {
  const TrainConfig config =
      load(kData + "training:\n  max_epochs: \"15\"\n  learning_rate: '0.02'\n");
  EXPECT_EQ(config.training.max_epochs, 15);
  EXPECT_DOUBLE_EQ(config.training.optimizer.learning_rate, 0.02);
  EXPECT_THAT(error(kData + "training:\n  max_epochs: \"fifteen\"\n"),
              HasSubstr(at(7) + "training.max_epochs: expected an integer, got 'fifteen'"));
}

TEST_F(LoadTrainConfig, NonIntegerIsAnError) {
  EXPECT_THAT(error(kData + "training:\n  batch_size: abc\n"),
              HasSubstr(at(7) + "training.batch_size: expected an integer, got 'abc'"));
  EXPECT_THAT(error(kData + "training:\n  max_epochs: 2.5\n"),
              HasSubstr(at(7) + "training.max_epochs: expected an integer, got '2.5'"));
}

// An integer past the range a key is read in is named as too large or too small: the message
// used to give the reading range, "in [-2147483648, 2147483647]", offering negative values to
// keys that refuse them.
TEST_F(LoadTrainConfig, IntegerOutOfRangeNamesNoRangeTheKeyRefuses) {
  EXPECT_EQ(error(kData + "training:\n  max_epochs: 3000000000\n"),
            at(7) +
                "training.max_epochs: got '3000000000', which is too large (at most "
                "2147483647)");
  EXPECT_EQ(error(kData + "training:\n  max_epochs: -99999999999999999999\n"),
            at(7) +
                "training.max_epochs: got '-99999999999999999999', a number too far below "
                "zero for any setting");
  EXPECT_EQ(error(kData + "model:\n  hidden: [8, 99999999999999999999]\n"),
            at(7) +
                "model.hidden[1]: got '99999999999999999999', which is too large (at most "
                "9223372036854775807)");
  // In range for the reading, the key's own check gives its range.
  EXPECT_EQ(error(kData + "training:\n  max_epochs: -3\n"),
            at(7) + "training.max_epochs: must be >= 1, got -3");
}

TEST_F(LoadTrainConfig, NonNumberIsAnError) {
  EXPECT_THAT(error(kData + "training:\n  learning_rate: fast\n"),
              HasSubstr(at(7) + "training.learning_rate: expected a number, got 'fast'"));
  EXPECT_THAT(error(kData + "training:\n  learning_rate: .inf\n"),
              HasSubstr(at(7) + "training.learning_rate: expected a finite number"));
}

// from_chars reports underflow as out of range: 1e-400 is finite, only too small to hold.
TEST_F(LoadTrainConfig, NumbersTooCloseToZeroAreNamedSoAndLongValuesAreCut) {
  EXPECT_THAT(error(kData + "training:\n  l2: 1e-400\n"),
              HasSubstr(at(7) + "training.l2: got '1e-400', which is too close to zero for a "
                                "double"));
  EXPECT_THAT(error(kData + "training:\n  learning_rate: 1e999\n"),
              HasSubstr("expected a finite number, got '1e999'"));
  const std::string tiny = "0." + std::string(100000, '0') + "1";
  const std::string message = error(kData + "training:\n  l1: " + tiny + "\n");
  EXPECT_THAT(message, HasSubstr("got '0." + std::string(38, '0') +
                                 "...' (100003 characters), which is too close to zero"));
  EXPECT_LT(message.size(), 400u);
}

TEST_F(LoadTrainConfig, MergeKeysAreRefusedByName) {
  EXPECT_THAT(error(kData + "early_stopping: &b {patience: 3}\ntraining:\n  <<: *b\n"),
              HasSubstr(at(8) + "YAML merge keys ('<<') are not supported in 'training'"));
  // Quoted, it is an ordinary (unknown) key.
  EXPECT_THAT(error(kData + "training:\n  \"<<\": 3\n"),
              HasSubstr(at(7) + "unknown key '<<' in 'training'"));
}

// yaml-cpp's own depth limit says "bad file"; the message says what is wrong.
TEST_F(LoadTrainConfig, YamlNestedBeyondTheParsersLimitSaysSo) {
  const std::string deep = std::string(1000, '[') + "0.1" + std::string(1000, ']');
  EXPECT_THAT(error(kData + "training:\n  l2: " + deep + "\n"), HasSubstr(":7:"));
  EXPECT_THAT(error(kData + "training:\n  l2: " + deep + "\n"),
              HasSubstr("invalid YAML: nested too deeply (yaml-cpp stops at 500 levels"));
}

TEST_F(LoadTrainConfig, NonBooleanIsAnError) {
  EXPECT_THAT(error(kData + "early_stopping:\n  enabled: sometimes\n"),
              HasSubstr(at(7) + "early_stopping.enabled: expected a boolean (true/false), got "
                                "'sometimes'"));
}

TEST_F(LoadTrainConfig, HiddenMustBeAListOfIntegers) {
  EXPECT_THAT(error(kData + "model:\n  hidden: 256\n"),
              HasSubstr(at(7) + "model.hidden: expected a list of integers, got '256'"));
  EXPECT_THAT(error(kData + "model:\n  hidden:\n    - 256\n    - wide\n"),
              HasSubstr(at(9) + "model.hidden[1]: expected a list of integers, got 'wide'"));
}

TEST_F(LoadTrainConfig, BlockGivenAsScalarIsAnError) {
  EXPECT_THAT(error(kData + "training: adam\n"),
              HasSubstr(at(6) + "training: expected a map of keys, got 'adam'"));
}

TEST_F(LoadTrainConfig, SeedMustBeNonNegative) {
  EXPECT_THAT(error("seed: -1\n" + kData),
              HasSubstr(at(1) + "seed: expected a non-negative integer, got '-1'"));
}

TEST_F(LoadTrainConfig, DropoutOfOneIsOutOfRange) {
  EXPECT_THAT(error(kData + "model:\n  dropout: 1.0\n"),
              HasSubstr(at(7) + "model.dropout: must be in [0, 1), got 1"));
}

TEST_F(LoadTrainConfig, BatchSizeZeroIsOutOfRange) {
  EXPECT_THAT(error(kData + "training:\n  batch_size: 0\n"),
              HasSubstr(at(7) + "training.batch_size: must be >= 1, got 0"));
}

TEST_F(LoadTrainConfig, NegativeL2IsOutOfRange) {
  EXPECT_THAT(error(kData + "training:\n  l2: -0.5\n"),
              HasSubstr(at(7) + "training.l2: must be >= 0, got -0.5"));
}

TEST_F(LoadTrainConfig, LearningRateZeroIsOutOfRange) {
  EXPECT_THAT(error(kData + "training:\n  learning_rate: 0\n"),
              HasSubstr(at(7) + "training.learning_rate: must be > 0, got 0"));
}

TEST_F(LoadTrainConfig, ReduceLrOnPlateauIsOffUnlessGivenAndReadsItsKeys) {
  EXPECT_FALSE(load(kData).training.reduce_lr_on_plateau.enabled);
  const LrPlateauConfig defaults =
      load(kData + "training:\n  reduce_lr_on_plateau: {}\n").training.reduce_lr_on_plateau;
  EXPECT_TRUE(defaults.enabled);
  EXPECT_EQ(defaults.factor, 0.3);
  EXPECT_EQ(defaults.patience, 3);
  EXPECT_EQ(defaults.min_lr, 0.0);
  const LrPlateauConfig given =
      load(kData + "training:\n  reduce_lr_on_plateau: {factor: 0.5, patience: 2, min_lr: 1e-6}\n")
          .training.reduce_lr_on_plateau;
  EXPECT_TRUE(given.enabled);
  EXPECT_EQ(given.factor, 0.5);
  EXPECT_EQ(given.patience, 2);
  EXPECT_EQ(given.min_lr, 1e-6);
  EXPECT_FALSE(load(kData + "training:\n  reduce_lr_on_plateau: {enabled: false}\n")
                   .training.reduce_lr_on_plateau.enabled);
}

TEST_F(LoadTrainConfig, ReduceLrOnPlateauOutOfRangeNamesTheKeyAndLine) {
  EXPECT_THAT(error(kData + "training:\n  reduce_lr_on_plateau:\n    factor: 1.0\n"),
              HasSubstr(at(8) + "training.reduce_lr_on_plateau.factor: must be in (0, 1), got 1"));
  EXPECT_THAT(error(kData + "training:\n  reduce_lr_on_plateau:\n    min_lr: -1\n"),
              HasSubstr(at(8) + "training.reduce_lr_on_plateau.min_lr: must be >= 0, got -1"));
  EXPECT_THAT(error(kData + "training:\n  reduce_lr_on_plateau:\n    factr: 0.5\n"),
              HasSubstr("unknown key 'factr' in 'training.reduce_lr_on_plateau' (did you mean "
                        "'factor'?)"));
}

TEST_F(LoadTrainConfig, ReduceLrOnPlateauMustActBeforeEarlyStoppingEnds) {
  const std::string plateau = kData + "training:\n  reduce_lr_on_plateau:\n    patience: 5\n";
  EXPECT_THAT(error(plateau + "early_stopping:\n  patience: 5\n"),
              HasSubstr(at(8) + "training.reduce_lr_on_plateau.patience: must be less than "
                                "early_stopping.patience (5), got 5"));
  // A default on either side is named as one.
  EXPECT_THAT(error(kData + "training:\n  reduce_lr_on_plateau: {}\nearly_stopping:\n  "
                            "patience: 3\n"),
              HasSubstr("training.reduce_lr_on_plateau.patience: must be less than "
                        "early_stopping.patience (3), got 3, its default: early stopping"));
  EXPECT_THAT(error(plateau + "early_stopping:\n  min_delta: 0.01\n"),
              HasSubstr("must be less than early_stopping.patience (5, its default), got 5:"));
  // Without early stopping, any patience works; early stopping's own patience is then unused
  // (min_delta and restore_best_weights still pick the best epoch).
  EXPECT_EQ(load(plateau + "early_stopping:\n  enabled: false\n  min_delta: 0.01\n")
                .training.reduce_lr_on_plateau.patience,
            5);
  EXPECT_THAT(error(plateau + "early_stopping:\n  patience: 5\n  enabled: false\n"),
              HasSubstr(at(10) + "early_stopping.patience: only applies with early stopping "
                                 "(early_stopping.enabled is false)"));
}

TEST_F(LoadTrainConfig, ValidationFractionOutsideZeroOneIsOutOfRange) {
  EXPECT_THAT(error("data:\n  validation_fraction: 1.5\n" + kData.substr(6)),
              HasSubstr(at(2) + "data.validation_fraction: must be in (0, 1), got 1.5"));
  EXPECT_THAT(error("data:\n  validation_fraction: 0\n" + kData.substr(6)),
              HasSubstr("need a validation set"));
}

TEST_F(LoadTrainConfig, HiddenWidthZeroIsOutOfRange) {
  EXPECT_THAT(error(kData + "model:\n  hidden: [64, 0]\n"),
              HasSubstr(at(7) + "model.hidden[1]: must be >= 1, got 0"));
}

TEST_F(LoadTrainConfig, RecursiveAliasIsAConfigError) {
  // yaml-cpp resolves an alias inside the node it names into a cycle.
  EXPECT_THAT(error(kData + "model: &m {hidden: [*m]}\n"),
              HasSubstr("nested more than 32 levels deep (an alias used inside the node it "
                        "names?)"));
}

TEST_F(LoadTrainConfig, ExplodingAliasesAreAConfigError) {
  // Each level repeats the one before ten times: 10^6 list items from six short lines.
  std::string text = kData + "l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n";
  for (int level = 1; level <= 5; ++level) {
    const std::string previous = "*l" + std::to_string(level - 1);
    text += "l" + std::to_string(level) + ": &l" + std::to_string(level) + " [" + previous;
    for (int k = 1; k < 10; ++k) text += ", " + previous;
    text += "]\n";
  }
  EXPECT_THAT(error(text), HasSubstr("the document expands to more than 200000 keys and list "
                                     "items (aliases of aliases?)"));
}

TEST_F(LoadTrainConfig, SingleClassIsOutOfRange) {
  EXPECT_THAT(error("data:\n  num_classes: 1\n" + kData.substr(6)),
              HasSubstr(at(2) + "data.num_classes: must be in [2, 100000] for classification"));
}

TEST_F(LoadTrainConfig, UnknownChoiceListsTheChoices) {
  EXPECT_THAT(error(kData + "training:\n  optimizer: adamw\n"),
              HasSubstr(at(7) + "training.optimizer: must be one of: sgd, momentum, adam "
                                "(got 'adamw')"));
  EXPECT_THAT(error(kData + "early_stopping:\n  mode: maximize\n"),
              HasSubstr(at(7) + "early_stopping.mode: must be one of: auto, min, max"));
}

TEST_F(LoadTrainConfig, MissingDataBlockIsAnError) {
  EXPECT_THAT(error("seed: 3\nmodel:\n  hidden: [8]\n"),
              HasSubstr(at(1) + "missing required key 'data'"));
}

TEST_F(LoadTrainConfig, MissingTrainSourceIsAnError) {
  EXPECT_THAT(error("data:\n  task: regression\n"),
              HasSubstr(at(1) + "data: missing required key 'train'"));
}

TEST_F(LoadTrainConfig, MissingFormatKeyIsAnError) {
  EXPECT_THAT(error("data:\n  train:\n    format: csv\n    path: test.csv\n"),
              HasSubstr(at(2) + "data.train: missing required key 'label_column' (needed for "
                                "format: csv)"));
  EXPECT_THAT(error("data:\n  train:\n    images: a\n"),
              HasSubstr(at(2) + "data.train: missing required key 'format'"));
}

TEST_F(LoadTrainConfig, KeyOfAnotherFormatIsAnError) {
  EXPECT_THAT(error(kData + "    label_column: digit\n"),
              HasSubstr(at(6) + "data.train.label_column: only applies to format: csv (this "
                                "source has format: idx)"));
  EXPECT_THAT(error(kData + "    path: x.csv\n"),
              HasSubstr(at(6) + "data.train.path: only applies to format: csv or hdf5"));
}

TEST_F(LoadTrainConfig, MissingDataFileIsAnError) {
  const std::string missing = dir_.file("nope-images.idx");
  EXPECT_THAT(error("data:\n  train:\n    format: idx\n    images: nope-images.idx\n"
                    "    labels: train-labels.idx\n"),
              HasSubstr(at(4) + "data.train.images: file '" + missing + "' does not exist"));
  EXPECT_THAT(
      error(kData + "  test: {format: csv, path: gone.csv, label_column: y}\n"),
      HasSubstr(at(6) + "data.test.path: file '" + dir_.file("gone.csv") + "' does not exist"));
}

TEST_F(LoadTrainConfig, DataFileThatIsAPipeOrDeviceIsAnError) {
  ASSERT_EQ(mkfifo(dir_.file("pipe.csv").c_str(), 0600), 0);
  EXPECT_THAT(error(kData + "  test: {format: csv, path: pipe.csv, label_column: y}\n"),
              HasSubstr(at(6) + "data.test.path: '" + dir_.file("pipe.csv") +
                        "' is not a regular file (a pipe, device or socket)"));
  EXPECT_THAT(error(kData + "  test: {format: csv, path: /dev/zero, label_column: y}\n"),
              HasSubstr(at(6) + "data.test.path: '/dev/zero' is not a regular file"));
}

// Settings the run would not use are refused where they are written
// (check_settings_take_effect); the same keys where they apply load.
TEST_F(LoadTrainConfig, UnusedSettingsAreRefused) {
  EXPECT_THAT(error(kData + "training:\n  optimizer: adam\n  momentum: 0.9\n"),
              HasSubstr(at(8) + "training.momentum: only applies to optimizer: momentum "
                                "(training.optimizer is adam)"));
  EXPECT_THAT(error(kData + "training:\n  optimizer: sgd\n  beta1: 0.8\n"),
              HasSubstr(at(8) + "training.beta1: only applies to optimizer: adam "
                                "(training.optimizer is sgd)"));
  EXPECT_THAT(error(kData + "training:\n  optimizer: momentum\n  epsilon: 1.0e-7\n"),
              HasSubstr(at(8) + "training.epsilon: only applies to optimizer: adam"));
  EXPECT_THAT(error(kData + "model:\n  hidden: []\n  dropout: 0.5\n"),
              HasSubstr(at(8) + "model.dropout: dropout applies to hidden layers, and "
                                "model.hidden is empty"));
  EXPECT_THAT(error(kData + "training:\n  learning_rate: 0.001\n"
                            "  reduce_lr_on_plateau: {patience: 2, min_lr: 0.5}\n"),
              HasSubstr(at(8) + "training.reduce_lr_on_plateau.min_lr: is 0.5, not below the "
                                "learning rate (0.001), so the plateau rule would never lower it"));
  EXPECT_THAT(error(kData + "early_stopping:\n  monitor: val_accuracy\n  mode: min\n"),
              HasSubstr(at(8) + "early_stopping.mode: min contradicts the monitor val_accuracy "
                                "(higher is better); leave mode out (auto)"));
  EXPECT_THAT(error(kData + "early_stopping:\n  mode: max\n"),
              HasSubstr(at(7) + "early_stopping.mode: max contradicts the monitor val_loss "
                                "(lower is better)"));

  const TrainConfig used = load(kData +
                                "model:\n  hidden: [8]\n  dropout: 0.5\n"
                                "training:\n  optimizer: momentum\n  momentum: 0.8\n"
                                "  reduce_lr_on_plateau: {patience: 2, min_lr: 1.0e-4}\n"
                                "early_stopping:\n  monitor: val_accuracy\n  mode: max\n");
  EXPECT_DOUBLE_EQ(used.training.optimizer.momentum, 0.8);
  EXPECT_DOUBLE_EQ(used.model.dropout, 0.5);
  // Read back from a result file, a config that ran is not refused.
  EXPECT_NO_THROW(
      parse_train_config(kData + "training:\n  momentum: 0.9\n", config_path(), dir_.path()));
  // From text, as load_train_config reads it, the same refusal when asked for.
  try {
    parse_train_config(kData + "training:\n  momentum: 0.9\n", "text.yaml", dir_.path(),
                       UnusedSettings::kRefuse);
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("text.yaml:7: training.momentum: only applies to optimizer: "
                                    "momentum"));
  }
}

TEST_F(LoadTrainConfig, InvalidYamlReportsLineAndColumn) {
  const std::string message = error(kData + "model:\n  hidden: [256, 128\n");
  EXPECT_THAT(message, HasSubstr(config_path() + ":"));
  EXPECT_THAT(message, HasSubstr("invalid YAML"));
  EXPECT_THAT(message, MatchesRegex(".*config\\.yaml:[0-9]+:[0-9]+: invalid YAML: .+"));
  EXPECT_THAT(error(kData + "training:\n  l1: 1\n   l2: 2\n"),
              HasSubstr(config_path() + ":8:6: invalid YAML: illegal map value"));
  // yaml-cpp notices a missing ] or } lines later; the message also says where it opened,
  // skipping brackets in quotes and comments and the pairs that close.
  EXPECT_THAT(error(kData + "model:\n  hidden: [256, 128\ntraining:\n  l2: 0.1\n"),
              HasSubstr("invalid YAML: end of sequence flow not found (the '[' at line 7, "
                        "column 11 is not closed)"));
  EXPECT_THAT(error(kData + "model: {hidden: [8], activation: relu  # {\n"
                            "training: {l2: 0.1, optimizer: \"[adam\"}\n"),
              HasSubstr("invalid YAML: end of map flow not found (the '{' at line 6, column 8 "
                        "is not closed)"));
  // An apostrophe inside a plain value starts no quote.
  EXPECT_THAT(error(kData + "model:\n  hidden: [4, 8\n  activation: it's\ntraining: {l2: 1}\n"),
              HasSubstr("(the '[' at line 7, column 11 is not closed)"));
}

// A binary file, or a stray control character, is named, not printed raw.
TEST_F(LoadTrainConfig, ControlCharactersMeanNotAYamlTextFile) {
  EXPECT_THAT(error(std::string("seed: 1\n\x7f"
                                "ELF\0\x01",
                                14)),
              HasSubstr(config_path() + ":2: not a YAML text file: byte 8 is the control "
                                        "character 0x7f"));
  EXPECT_THAT(error("seed: \"a\x01\"\n"),
              HasSubstr(config_path() + ":1: not a YAML text file: byte 8 is the control "
                                        "character 0x01"));
  EXPECT_EQ(load(kData + "model:\r\n  hidden: [4]\t# a tab\r\n").model.hidden.size(), 1u)
      << "tabs and CRLF line ends are text";
  // yaml-cpp would decode what follows a UTF-16 byte order mark into other characters.
  EXPECT_EQ(error("\xff\xfe" + kData),
            config_path() +
                ":1: not UTF-8 text: it starts with a UTF-16 byte order mark (save "
                "the config as UTF-8)");
  EXPECT_THAT(error("\xfe\xff" + kData), HasSubstr(":1: not UTF-8 text"));
}

TEST_F(LoadTrainConfig, EmptyFileIsAnError) {
  EXPECT_THAT(error(""), HasSubstr(config_path() + ": the config is empty"));
  EXPECT_THAT(error("# nothing yet\n"), HasSubstr(config_path() + ": the config is empty"));
}

TEST_F(LoadTrainConfig, TopLevelListIsAnError) {
  EXPECT_THAT(error("- data\n- model\n"), HasSubstr(at(1) + "expected a map of keys, got a list"));
}

TEST_F(LoadTrainConfig, ValAccuracyNeedsClassification) {
  EXPECT_THAT(error("data:\n  task: regression\n" + kData.substr(6) +
                    "early_stopping:\n  monitor: val_accuracy\n"),
              HasSubstr(at(8) + "early_stopping.monitor: val_accuracy only applies to task: "
                                "classification"));
}

TEST_F(LoadTrainConfig, NumClassesWithRegressionIsAnError) {
  EXPECT_THAT(error("data:\n  task: regression\n  num_classes: 3\n" + kData.substr(6)),
              HasSubstr(at(3) + "data.num_classes: only applies to task: classification"));
}

TEST(LoadTrainConfigFile, MissingFileNamesPathAndReason) {
  TempDir dir;
  const std::string path = dir.file("absent.yaml");
  try {
    load_train_config(path);
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("cannot read config file '" + path + "': No such file or directory"));
  }
}

TEST(LoadTrainConfigFile, DirectoryIsUnreadable) {
  TempDir dir;
  try {
    load_train_config(dir.path());
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot read config file '" + dir.path() + "': "));
  }
}

std::string read_error(const std::string& path) {
  try {
    read_config_file(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(read)";
}

// Opening a FIFO with nothing writing to it used to wait forever, and a device such as
// /dev/zero was read until the memory ran out.
TEST(ReadConfigFile, RefusesWhatWouldHangOrNeverEnd) {
  TempDir dir;
  const std::string fifo = dir.file("config.yaml");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  EXPECT_EQ(read_error(fifo), "cannot read config file '" + fifo +
                                  "': a pipe with nothing written to it (hpsearch does not "
                                  "wait for a writer)");
  EXPECT_EQ(read_error("/dev/zero"),
            "cannot read config file '/dev/zero': not a regular file or a pipe (a device or "
            "socket)");
  const std::string big = dir.file("big.yaml");
  testing::write_text(big, std::string((16u << 20) + 1, 'a'));
  EXPECT_EQ(read_error(big), "cannot read config file '" + big +
                                 "': it is larger than 16 MiB, which no config is (is it the "
                                 "right file?)");
  EXPECT_EQ(read_error(dir.path()),
            "cannot read config file '" + dir.path() + "': it is a directory");
}

// A pipe with a writer (a shell's <(...), /dev/stdin) is read to its end, and its relative
// paths are resolved against the working directory.
TEST(ReadConfigFile, ReadsAPipeWhole) {
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  const std::string text = "seed: 3\n";
  ASSERT_EQ(write(ends[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(ends[1]);
  const std::string path = "/dev/fd/" + std::to_string(ends[0]);
  EXPECT_EQ(read_config_file(path), text);
  // Its relative data paths are the working directory's, not /dev/fd's.
  EXPECT_EQ(config_dir_of(path), ".");
  EXPECT_EQ(config_dir_of("configs/run.yaml"), "configs");
  close(ends[0]);
}

}  // namespace
}  // namespace hps
