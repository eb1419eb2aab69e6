#include "core/model_io.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "test_util.hpp"

namespace hps {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A network with every parameter (biases included) set to a distinct random value.
StoredModel make_stored_model(MlpShape shape, Task task, uint64_t seed) {
  StoredModel stored;
  stored.task = task;
  stored.num_classes = task == Task::kClassification ? static_cast<int>(shape.outputs) : 0;
  const Index inputs = shape.inputs;
  stored.model = Mlp(std::move(shape));
  Rng rng(seed);
  for (Index i = 0; i < stored.model.num_parameters(); ++i) {
    stored.model.parameters()[i] = static_cast<float>(rng.normal());
  }
  stored.scaler.kind = ScalingKind::kStandardize;
  stored.scaler.offset.resize(inputs);
  stored.scaler.factor.resize(inputs);
  for (Index f = 0; f < inputs; ++f) {
    stored.scaler.offset[f] = static_cast<float>(rng.normal());
    stored.scaler.factor[f] = static_cast<float>(0.5 + rng.uniform());
  }
  return stored;
}

MlpShape shape_of(Index inputs, std::vector<Index> hidden, Index outputs, Activation activation) {
  MlpShape shape;
  shape.inputs = inputs;
  shape.hidden = std::move(hidden);
  shape.outputs = outputs;
  shape.activation = activation;
  return shape;
}

void expect_same_model(const StoredModel& read, const StoredModel& written) {
  EXPECT_EQ(read.task, written.task);
  EXPECT_EQ(read.num_classes, written.num_classes);
  EXPECT_EQ(read.model.shape().inputs, written.model.shape().inputs);
  EXPECT_EQ(read.model.shape().hidden, written.model.shape().hidden);
  EXPECT_EQ(read.model.shape().outputs, written.model.shape().outputs);
  EXPECT_EQ(read.model.shape().activation, written.model.shape().activation);
  // Bit-identical: float32 on disk, no arithmetic on the way.
  EXPECT_EQ(read.model.parameters(), written.model.parameters());
  EXPECT_EQ(read.scaler.kind, written.scaler.kind);
  EXPECT_EQ(read.scaler.offset, written.scaler.offset);
  EXPECT_EQ(read.scaler.factor, written.scaler.factor);
}

// Writes `stored` as group /model of a new file at `path`.
void write_model_file(const std::string& path, const StoredModel& stored) {
  h5::File file = h5::File::create(path);
  h5::Group group = file.root().create_group("model");
  write_model(group, stored);
}

TEST(ModelIo, ClassifierRoundTripsBitIdentical) {
  testing::TempDir dir;
  const std::string path = dir.file("model.h5");
  const StoredModel written =
      make_stored_model(shape_of(4, {5, 3}, 3, Activation::kTanh), Task::kClassification, 1);
  write_model_file(path, written);

  const h5::File file = h5::File::open(path);
  expect_same_model(read_model(file.root().open_group("model")), written);
}

TEST(ModelIo, RegressionWithoutHiddenLayersOrScalingRoundTrips) {
  testing::TempDir dir;
  const std::string path = dir.file("linear.h5");
  StoredModel written =
      make_stored_model(shape_of(3, {}, 2, Activation::kRelu), Task::kRegression, 2);
  written.scaler = Scaler{};  // kNone, no statistics
  write_model_file(path, written);

  const h5::File file = h5::File::open(path);
  const h5::Group group = file.root().open_group("model");
  EXPECT_TRUE(group.read_attribute<std::vector<int64_t>>("hidden").empty());
  expect_same_model(read_model(group), written);
}

TEST(ModelIo, LayoutIsDocumented) {
  testing::TempDir dir;
  const std::string path = dir.file("layout.h5");
  const StoredModel written =
      make_stored_model(shape_of(4, {6}, 2, Activation::kRelu), Task::kClassification, 3);
  write_model_file(path, written);

  const h5::File file = h5::File::open(path);
  const h5::Group g = file.root().open_group("model");
  EXPECT_EQ(g.read_attribute<int64_t>("inputs"), 4);
  EXPECT_EQ(g.read_attribute<int64_t>("outputs"), 2);
  EXPECT_THAT(g.read_attribute<std::vector<int64_t>>("hidden"), ElementsAre(6));
  EXPECT_EQ(g.read_attribute<std::string>("activation"), "relu");
  EXPECT_EQ(g.read_attribute<std::string>("task"), "classification");
  EXPECT_EQ(g.read_attribute<int64_t>("num_classes"), 2);
  EXPECT_EQ(g.read_attribute<int64_t>("num_layers"), 2);
  EXPECT_THAT(g.dataset_info("layer_0/weight").dims, ElementsAre(6u, 4u));
  EXPECT_THAT(g.dataset_info("layer_1/weight").dims, ElementsAre(2u, 6u));
  EXPECT_THAT(g.dataset_info("layer_1/bias").dims, ElementsAre(2u));
  // Row-major: element (o, i) of the weight matrix is at o * inputs + i.
  const RowMajorMatrix w = g.read_matrix("layer_0/weight");
  EXPECT_EQ(w(5, 1), written.model.weight(0)(5, 1));
  std::vector<float> flat(24);
  g.read_rows("layer_0/weight", 6, flat.data());
  EXPECT_EQ(flat[5 * 4 + 1], written.model.weight(0)(5, 1));
  EXPECT_EQ(g.open_group("scaler").read_attribute<std::string>("kind"), "standardize");
  EXPECT_THAT(g.dataset_info("scaler/offset").dims, ElementsAre(4u));
}

TEST(ModelIo, WrongShapeIsNamed) {
  testing::TempDir dir;
  const std::string path = dir.file("bad.h5");
  write_model_file(
      path, make_stored_model(shape_of(4, {5}, 3, Activation::kRelu), Task::kClassification, 4));
  {
    h5::File file = h5::File::open(path, true);
    h5::Group layer = file.root().open_group("model/layer_1");
    ASSERT_GE(H5Ldelete(layer.id(), "weight", H5P_DEFAULT), 0);
    layer.write_matrix("weight", RowMajorMatrix::Zero(3, 4));
  }
  const h5::File file = h5::File::open(path);
  try {
    read_model(file.root().open_group("model"));
    FAIL() << "expected h5::Error";
  } catch (const h5::Error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr(path + ":/model/layer_1/weight: has shape [3, 4], expected [3, 5]"));
  }
}

TEST(ModelIo, NonFiniteWeightsAreRefused) {
  testing::TempDir dir;
  const std::string path = dir.file("nan.h5");
  write_model_file(
      path, make_stored_model(shape_of(4, {5}, 3, Activation::kRelu), Task::kClassification, 4));
  {
    h5::File file = h5::File::open(path, true);
    h5::Group layer = file.root().open_group("model/layer_1");
    ASSERT_GE(H5Ldelete(layer.id(), "weight", H5P_DEFAULT), 0);
    RowMajorMatrix weight = RowMajorMatrix::Zero(3, 5);
    weight(2, 4) = std::numeric_limits<float>::quiet_NaN();
    layer.write_matrix("weight", weight);
    ASSERT_GE(H5Ldelete(layer.id(), "bias", H5P_DEFAULT), 0);
    layer.write_vector("bias", Vector::Constant(3, std::numeric_limits<float>::infinity()));
  }
  const h5::File file = h5::File::open(path);
  try {
    read_model(file.root().open_group("model"));
    FAIL() << "expected h5::Error";
  } catch (const h5::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ":/model/layer_1/weight: holds a non-finite value"));
  }
}

// A scaler no fitting gives would turn every prediction into the same or NaN.
TEST(ModelIo, DamagedScalerIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.file("scaler.h5");
  const auto message = [&](float offset, float factor) -> std::string {
    StoredModel stored =
        make_stored_model(shape_of(4, {5}, 3, Activation::kRelu), Task::kClassification, 4);
    stored.scaler.offset[1] = offset;
    stored.scaler.factor[2] = factor;
    std::filesystem::remove(path);
    write_model_file(path, stored);
    const h5::File file = h5::File::open(path);
    try {
      read_model(file.root().open_group("model"));
    } catch (const h5::Error& e) {
      return e.what();
    }
    return "(read)";
  };
  EXPECT_EQ(message(0.5f, 2.0f), "(read)");
  EXPECT_EQ(message(std::numeric_limits<float>::quiet_NaN(), 2.0f),
            path +
                ":/model/scaler/offset: holds a non-finite value (NaN or infinity): a damaged "
                "model, which cannot make predictions");
  EXPECT_THAT(message(0.5f, std::numeric_limits<float>::infinity()),
              HasSubstr(path + ":/model/scaler/factor: holds a non-finite value"));
  EXPECT_EQ(message(0.5f, 0.0f), path +
                                     ":/model/scaler/factor: holds a factor of 0 or below, "
                                     "which fitting never gives: damaged file");
}

TEST(ModelIo, MissingOrUnknownAttributeIsNamed) {
  testing::TempDir dir;
  const std::string path = dir.file("bad.h5");
  write_model_file(
      path, make_stored_model(shape_of(2, {}, 2, Activation::kRelu), Task::kClassification, 5));
  {
    h5::File file = h5::File::open(path, true);
    h5::Group model = file.root().open_group("model");
    model.write_attribute("activation", "gelu");
    ASSERT_GE(H5Adelete(model.open_group("scaler").id(), "kind"), 0);
  }
  h5::File file = h5::File::open(path, true);
  h5::Group model = file.root().open_group("model");
  try {
    read_model(model);
    FAIL() << "expected h5::Error";
  } catch (const h5::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ":/model: attribute 'activation' is 'gelu'"));
    EXPECT_THAT(e.what(), HasSubstr("'relu', 'tanh'"));
  }
  model.write_attribute("activation", "tanh");
  try {
    read_model(model);
    FAIL() << "expected h5::Error";
  } catch (const h5::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ":/model/scaler: cannot open attribute 'kind'"));
  }
}

TEST(ModelIo, HistoryRoundTripsBitIdentical) {
  History history;
  for (int e = 0; e < 4; ++e) {
    EpochRecord r;
    r.epoch = e;
    r.train_loss = 1.0 / (e + 3);
    r.train_total_loss = r.train_loss + 1e-17;
    r.train_metric = 0.1 * e;
    r.val_loss = 2.0 / (e + 7);
    r.val_metric = 0.3 + e / 11.0;
    r.seconds = 0.001 * (e + 1) / 3;
    r.learning_rate = 1e-3 / (e + 1);
    history.epochs.push_back(r);
  }
  for (const Task task : {Task::kClassification, Task::kRegression}) {
    testing::TempDir dir;
    const std::string path = dir.file("history.h5");
    {
      h5::File file = h5::File::create(path);
      h5::Group group = file.root().create_group("history");
      write_history(group, history, task);
    }
    const h5::File file = h5::File::open(path);
    const h5::Group group = file.root().open_group("history");
    const std::string metric = task == Task::kClassification ? "accuracy" : "mae";
    EXPECT_EQ(group.read_attribute<std::string>("metric"), metric);
    std::vector<std::string> columns = {"epoch",    "train_loss",      "train_total_loss",
                                        "val_loss", "train_" + metric, "val_" + metric,
                                        "seconds",  "learning_rate"};
    std::sort(columns.begin(), columns.end());
    EXPECT_EQ(group.children(), columns);  // children() lists in name order
    const History read = read_history(group);
    ASSERT_EQ(read.epochs.size(), history.epochs.size());
    for (size_t i = 0; i < read.epochs.size(); ++i) {
      const EpochRecord& a = read.epochs[i];
      const EpochRecord& b = history.epochs[i];
      EXPECT_EQ(a.epoch, b.epoch);
      EXPECT_EQ(a.train_loss, b.train_loss);
      EXPECT_EQ(a.train_total_loss, b.train_total_loss);
      EXPECT_EQ(a.train_metric, b.train_metric);
      EXPECT_EQ(a.val_loss, b.val_loss);
      EXPECT_EQ(a.val_metric, b.val_metric);
      EXPECT_EQ(a.seconds, b.seconds);
      EXPECT_EQ(a.learning_rate, b.learning_rate);
    }
  }
}

TEST(ModelIo, EmptyHistoryRoundTrips) {
  testing::TempDir dir;
  h5::File file = h5::File::create(dir.file("empty.h5"));
  h5::Group group = file.root().create_group("history");
  write_history(group, History{}, Task::kRegression);
  EXPECT_TRUE(read_history(group).epochs.empty());
}

TEST(ModelIo, HistoryColumnsOfDifferentLengthsAreNamed) {
  testing::TempDir dir;
  const std::string path = dir.file("history.h5");
  h5::File file = h5::File::create(path);
  h5::Group group = file.root().create_group("history");
  History history;
  history.epochs.resize(3);
  write_history(group, history, Task::kClassification);
  ASSERT_GE(H5Ldelete(group.id(), "val_loss", H5P_DEFAULT), 0);
  group.write_vector("val_loss", std::vector<double>{1.0});
  try {
    read_history(group);
    FAIL() << "expected h5::Error";
  } catch (const h5::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(path + ":/history/val_loss: has 1 entries"));
  }
}

// What numpy users do with the file: W @ x + b layer after layer must give Mlp::predict.
constexpr const char* kNumpyForward = R"(import sys
import h5py
import numpy as np

with h5py.File(sys.argv[1], "r") as f:
    m = f["model"]
    activation = m.attrs["activation"]
    assert isinstance(activation, str), type(activation)
    assert isinstance(m.attrs["task"], str)
    x = f["sample"][()].astype(np.float64)
    n = int(m.attrs["num_layers"])
    shapes = []
    for l in range(n):
        w = m["layer_%d/weight" % l][()]
        b = m["layer_%d/bias" % l][()]
        shapes.append("%dx%d" % w.shape)
        x = w.astype(np.float64) @ x + b.astype(np.float64)
        if l + 1 < n:
            x = np.maximum(x, 0.0) if activation == "relu" else np.tanh(x)
    print(" ".join(shapes))
    print(" ".join(repr(float(v)) for v in x))
)";

TEST(ModelIo, H5pySeesOutputsByInputsWeights) {
  if (std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with h5py and numpy is not available";
  }
  testing::TempDir dir;
  const std::string path = dir.file("model.h5");
  const StoredModel stored =
      make_stored_model(shape_of(5, {7, 4}, 3, Activation::kRelu), Task::kClassification, 6);
  Vector sample(5);
  sample << 0.5f, -1.0f, 0.25f, 2.0f, -0.75f;
  {
    h5::File file = h5::File::create(path);
    h5::Group root = file.root();
    h5::Group group = root.create_group("model");
    write_model(group, stored);
    root.write_vector("sample", sample);
  }
  const std::string script = dir.file("forward.py");
  testing::write_text(script, kNumpyForward);
  const std::string output = dir.file("out.txt");
  const std::string command =
      "/usr/bin/python3 '" + script + "' '" + path + "' > '" + output + "' 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(output);
  std::stringstream text;
  text << in.rdbuf();
  ASSERT_EQ(status, 0) << text.str();

  std::string shapes;
  std::getline(text, shapes);
  EXPECT_EQ(shapes, "7x5 4x7 3x4");  // (outputs, inputs) per layer
  const Matrix expected = stored.model.predict(Matrix(sample));
  ASSERT_EQ(expected.rows(), 3);
  for (Index o = 0; o < expected.rows(); ++o) {
    double value = 0.0;
    ASSERT_TRUE(text >> value) << "numpy printed too few outputs";
    EXPECT_NEAR(value, expected(o, 0), 1e-5) << "output " << o;
  }
}

}  // namespace
}  // namespace hps
