#include "core/preprocessing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "test_util.hpp"

namespace hps {
namespace {

/// A classification set whose feature 0 holds each sample's index, so a split can be traced.
Dataset indexed_classes(const std::vector<int>& class_sizes) {
  Dataset d;
  d.task = Task::kClassification;
  d.num_classes = static_cast<int>(class_sizes.size());
  d.source = "indexed";
  for (int c = 0; c < d.num_classes; ++c)
    for (int k = 0; k < class_sizes[static_cast<size_t>(c)]; ++k) d.labels.push_back(c);
  // Interleave the classes so that a split by position would not be stratified.
  std::vector<int32_t> shuffled;
  for (size_t k = 0; shuffled.size() < d.labels.size(); ++k)
    for (int c = 0; c < d.num_classes; ++c)
      if (k < static_cast<size_t>(class_sizes[static_cast<size_t>(c)])) shuffled.push_back(c);
  d.labels = shuffled;
  const auto n = static_cast<Index>(d.labels.size());
  d.x.resize(2, n);
  for (Index i = 0; i < n; ++i) {
    d.x(0, i) = static_cast<float>(i);
    d.x(1, i) = static_cast<float>(d.labels[static_cast<size_t>(i)]);
  }
  return d;
}

std::vector<int> class_counts(const Dataset& d) {
  std::vector<int> counts(static_cast<size_t>(d.num_classes), 0);
  for (int32_t label : d.labels) ++counts[static_cast<size_t>(label)];
  return counts;
}

std::vector<Index> sample_ids(const Dataset& d) {
  std::vector<Index> ids;
  for (Index i = 0; i < d.size(); ++i) ids.push_back(static_cast<Index>(d.x(0, i)));
  return ids;
}

TEST(DatasetSubset, CopiesSamplesInTheGivenOrder) {
  Dataset d = indexed_classes({3, 3});
  const Dataset s = d.subset({4, 0, 4});
  ASSERT_EQ(s.size(), 3);
  EXPECT_EQ(sample_ids(s), (std::vector<Index>{4, 0, 4}));
  EXPECT_EQ(s.labels, (std::vector<int32_t>{d.labels[4], d.labels[0], d.labels[4]}));
  EXPECT_EQ(s.num_classes, 2);
  EXPECT_EQ(s.source, "indexed");
  EXPECT_THROW(d.subset({6}), std::out_of_range);
  EXPECT_THROW(d.subset({-1}), std::out_of_range);
}

TEST(DatasetSubset, CopiesRegressionTargets) {
  const Dataset d = testing::make_regression(10, 3, 7);
  const Dataset s = d.subset({9, 2});
  ASSERT_EQ(s.y.rows(), 1);
  ASSERT_EQ(s.y.cols(), 2);
  EXPECT_EQ(s.y(0, 0), d.y(0, 9));
  EXPECT_EQ(s.x.col(1), d.x.col(2));
  EXPECT_TRUE(s.labels.empty());
  const Dataset none = d.subset({});
  EXPECT_EQ(none.size(), 0);
  EXPECT_EQ(none.num_features(), 3);
  EXPECT_EQ(none.num_outputs(), 1);
}

TEST(SplitTrainValidation, StratificationKeepsClassProportions) {
  const Dataset d = indexed_classes({600, 300, 100});
  const TrainValidationSplit split = split_train_validation(d, 0.2, 42);
  EXPECT_EQ(class_counts(split.validation), (std::vector<int>{120, 60, 20}));
  EXPECT_EQ(class_counts(split.train), (std::vector<int>{480, 240, 80}));
  // Features still belong to their labels.
  for (Index i = 0; i < split.validation.size(); ++i)
    EXPECT_EQ(split.validation.x(1, i),
              static_cast<float>(split.validation.labels[static_cast<size_t>(i)]));
}

TEST(SplitTrainValidation, PartsAreDisjointCoverEverythingAndKeepOrder) {
  const Dataset d = indexed_classes({50, 30, 20});
  const TrainValidationSplit split = split_train_validation(d, 0.3, 5);
  std::vector<Index> train = sample_ids(split.train);
  std::vector<Index> validation = sample_ids(split.validation);
  EXPECT_TRUE(std::is_sorted(train.begin(), train.end()));
  EXPECT_TRUE(std::is_sorted(validation.begin(), validation.end()));
  std::vector<Index> all = train;
  all.insert(all.end(), validation.begin(), validation.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 100u);
  for (Index i = 0; i < 100; ++i) EXPECT_EQ(all[static_cast<size_t>(i)], i);
}

TEST(SplitTrainValidation, SmallClassesKeepSamplesOnBothSides) {
  // Class 1 has two samples: one goes to validation even at 10%. Class 2 has one: it stays
  // in training, which must see every class.
  const Dataset d = indexed_classes({20, 2, 1});
  const TrainValidationSplit split = split_train_validation(d, 0.1, 3);
  EXPECT_EQ(class_counts(split.validation), (std::vector<int>{2, 1, 0}));
  EXPECT_EQ(class_counts(split.train), (std::vector<int>{18, 1, 1}));
}

TEST(SplitTrainValidation, SameSeedSameSplit) {
  const Dataset d = indexed_classes({40, 40, 40});
  const TrainValidationSplit a = split_train_validation(d, 0.25, 11);
  const TrainValidationSplit b = split_train_validation(d, 0.25, 11);
  EXPECT_EQ(sample_ids(a.validation), sample_ids(b.validation));
  EXPECT_EQ(sample_ids(a.train), sample_ids(b.train));
  EXPECT_EQ(a.validation.labels, b.validation.labels);
}

TEST(SplitTrainValidation, DifferentSeedDifferentSplit) {
  const Dataset d = indexed_classes({40, 40, 40});
  const TrainValidationSplit a = split_train_validation(d, 0.25, 11);
  const TrainValidationSplit b = split_train_validation(d, 0.25, 12);
  EXPECT_EQ(a.validation.size(), b.validation.size());
  EXPECT_NE(sample_ids(a.validation), sample_ids(b.validation));
}

TEST(SplitTrainValidation, ZeroFractionKeepsEverythingForTraining) {
  const Dataset d = indexed_classes({5, 5});
  const TrainValidationSplit split = split_train_validation(d, 0.0, 1);
  EXPECT_EQ(split.validation.size(), 0);
  EXPECT_EQ(split.validation.num_features(), 2);
  EXPECT_EQ(split.validation.num_classes, 2);
  EXPECT_EQ(split.train.x, d.x);
  EXPECT_EQ(split.train.labels, d.labels);
}

TEST(SplitTrainValidation, FractionMustBeInZeroToOne) {
  const Dataset d = indexed_classes({5, 5});
  EXPECT_THROW(split_train_validation(d, 1.0, 1), std::invalid_argument);
  EXPECT_THROW(split_train_validation(d, -0.1, 1), std::invalid_argument);
  EXPECT_THROW(split_train_validation(d, std::numeric_limits<double>::quiet_NaN(), 1),
               std::invalid_argument);
}

TEST(SplitTrainValidation, RegressionPlainRandomSplit) {
  const Dataset d = testing::make_regression(100, 2, 3);
  const TrainValidationSplit a = split_train_validation(d, 0.25, 9);
  const TrainValidationSplit b = split_train_validation(d, 0.25, 10);
  ASSERT_EQ(a.validation.size(), 25);
  ASSERT_EQ(a.train.size(), 75);
  EXPECT_EQ(a.validation.y.cols(), 25);
  EXPECT_EQ(a.train.y.cols(), 75);
  EXPECT_NE(a.validation.x, b.validation.x);
  // Each target still sits with its features.
  for (Index i = 0; i < a.validation.size(); ++i) {
    Index original = -1;
    for (Index j = 0; j < d.size(); ++j)
      if (d.x.col(j) == a.validation.x.col(i)) original = j;
    ASSERT_GE(original, 0);
    EXPECT_EQ(a.validation.y(0, i), d.y(0, original));
  }
}

TEST(Scaler, StandardizedTrainingFeaturesHaveZeroMeanUnitStd) {
  Dataset d = testing::make_blobs(500, 6, 3, 17);
  d.x.row(2) = d.x.row(2) * 100.0f + Eigen::RowVectorXf::Constant(d.size(), 1000.0f);
  const Scaler scaler = Scaler::fit(ScalingKind::kStandardize, d.x);
  Matrix x = d.x;
  scaler.apply(x);
  const auto n = static_cast<float>(x.cols());
  for (Index f = 0; f < x.rows(); ++f) {
    const float mean = x.row(f).mean();
    const float variance = (x.row(f).array() - mean).square().sum() / n;  // population
    EXPECT_NEAR(mean, 0.0f, 1e-4f) << "feature " << f;
    EXPECT_NEAR(std::sqrt(variance), 1.0f, 1e-4f) << "feature " << f;
  }
}

TEST(Scaler, StatisticsComeFromTheFittedDataOnly) {
  Matrix train(1, 4);
  train << 1, 2, 3, 4;  // mean 2.5, population std sqrt(1.25)
  Matrix other(1, 2);
  other << 100, 2.5;
  const Scaler scaler = Scaler::fit(ScalingKind::kStandardize, train);
  EXPECT_FLOAT_EQ(scaler.offset(0), 2.5f);
  EXPECT_FLOAT_EQ(scaler.factor(0), 1.0f / std::sqrt(1.25f));
  scaler.apply(other);
  EXPECT_FLOAT_EQ(other(0, 0), (100.0f - 2.5f) / std::sqrt(1.25f));
  EXPECT_FLOAT_EQ(other(0, 1), 0.0f);

  const Scaler minmax = Scaler::fit(ScalingKind::kMinMax, train);
  Matrix more(1, 2);
  more << 7, 0;
  minmax.apply(more);
  EXPECT_FLOAT_EQ(more(0, 0), 2.0f);  // (7 - 1) / 3: outside [0, 1], as it should be
  EXPECT_FLOAT_EQ(more(0, 1), -1.0f / 3.0f);
}

TEST(Scaler, MinMaxMapsTrainingDataToUnitInterval) {
  const Dataset d = testing::make_blobs(200, 4, 2, 5);
  const Scaler scaler = Scaler::fit(ScalingKind::kMinMax, d.x);
  Matrix x = d.x;
  scaler.apply(x);
  for (Index f = 0; f < x.rows(); ++f) {
    EXPECT_NEAR(x.row(f).minCoeff(), 0.0f, 1e-6f);
    EXPECT_NEAR(x.row(f).maxCoeff(), 1.0f, 1e-6f);
  }
}

TEST(Scaler, ConstantFeaturesGetFactorOne) {
  Matrix x(2, 3);
  x << 5, 5, 5,  //
      1, 2, 3;
  for (ScalingKind kind : {ScalingKind::kStandardize, ScalingKind::kMinMax}) {
    const Scaler scaler = Scaler::fit(kind, x);
    EXPECT_FLOAT_EQ(scaler.offset(0), 5.0f);
    EXPECT_FLOAT_EQ(scaler.factor(0), 1.0f);
    Matrix scaled = x;
    scaler.apply(scaled);
    EXPECT_TRUE(scaled.row(0).isZero());
    EXPECT_TRUE(scaled.allFinite());
  }
}

// Features near the float range: x - offset once overflowed to infinity in float, and the
// trial was reported as diverged rather than trained.
TEST(Scaler, FeaturesNearTheFloatRangeScaleToFiniteValues) {
  Matrix x(1, 4);
  x << -3e38f, 3e38f, 0.0f, 3e38f;
  for (ScalingKind kind : {ScalingKind::kStandardize, ScalingKind::kMinMax}) {
    const Scaler scaler = Scaler::fit(kind, x);
    Matrix scaled = x;
    scaler.apply(scaled);
    EXPECT_TRUE(scaled.allFinite()) << scaled;
    if (kind == ScalingKind::kMinMax) {
      EXPECT_NEAR(scaled(0, 0), 0.0f, 1e-6f);
      EXPECT_NEAR(scaled(0, 1), 1.0f, 1e-6f);
      EXPECT_NEAR(scaled(0, 2), 0.5f, 1e-6f);
    }
  }
}

// Values that scale to finite floats are scaled in float, bit for bit as before: the data
// fingerprint of every recorded search (resume, evaluate) covers them.
TEST(Scaler, OrdinaryFeaturesScaleInFloatBitForBit) {
  const Dataset d = testing::make_blobs(300, 6, 3, 21);
  for (ScalingKind kind : {ScalingKind::kStandardize, ScalingKind::kMinMax}) {
    const Scaler scaler = Scaler::fit(kind, d.x);
    Matrix expected = d.x;
    expected.array() =
        (expected.array().colwise() - scaler.offset.array()).colwise() * scaler.factor.array();
    Matrix scaled = d.x;
    scaler.apply(scaled);
    EXPECT_TRUE(scaled == expected);
  }
}

TEST(Scaler, NoneLeavesDataAlone) {
  const Matrix x = Matrix::Random(3, 4);
  const Scaler scaler = Scaler::fit(ScalingKind::kNone, x);
  Matrix y = x;
  scaler.apply(y);
  EXPECT_EQ(y, x);
}

TEST(Scaler, ApplyChecksTheFeatureCount) {
  const Scaler scaler = Scaler::fit(ScalingKind::kStandardize, Matrix::Random(3, 4));
  Matrix wrong = Matrix::Zero(2, 4);
  EXPECT_THROW(scaler.apply(wrong), std::invalid_argument);
  EXPECT_THROW(Scaler::fit(ScalingKind::kMinMax, Matrix(3, 0)), std::invalid_argument);
}

}  // namespace
}  // namespace hps
