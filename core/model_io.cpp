#include "core/model_io.hpp"

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace hps {
namespace {

// Names as stored in files. Kept here rather than borrowed from the to_string functions so
// that the file format does not change when a display name does.
struct NamedActivation {
  Activation value;
  const char* name;
};
constexpr NamedActivation kActivations[] = {{Activation::kRelu, "relu"},
                                            {Activation::kTanh, "tanh"}};

struct NamedTask {
  Task value;
  const char* name;
};
constexpr NamedTask kTasks[] = {{Task::kClassification, "classification"},
                                {Task::kRegression, "regression"}};

struct NamedScaling {
  ScalingKind value;
  const char* name;
};
constexpr NamedScaling kScalings[] = {{ScalingKind::kNone, "none"},
                                      {ScalingKind::kStandardize, "standardize"},
                                      {ScalingKind::kMinMax, "minmax"}};

template <typename Table, typename Value>
const char* name_of(const Table& table, Value value) {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  throw std::invalid_argument("model_io: unknown enumerator " +
                              std::to_string(static_cast<int>(value)));
}

// The value stored as string attribute `attribute` of `group`, which must be one of `table`.
template <typename Table>
auto value_of(const Table& table, const h5::Group& group, const std::string& attribute) {
  const auto text = group.read_attribute<std::string>(attribute);
  std::string known;
  for (const auto& entry : table) {
    if (text == entry.name) return entry.value;
    known += known.empty() ? "" : ", ";
    known += std::string("'") + entry.name + "'";
  }
  throw h5::Error(group.describe() + ": attribute '" + attribute + "' is '" + text +
                  "', expected one of " + known);
}

std::string layer_name(Index layer) { return "layer_" + std::to_string(layer); }

// Checks that dataset `name` is numeric with exactly `dims`.
void expect_shape(const h5::Group& group, const std::string& name,
                  const std::vector<hsize_t>& dims) {
  const h5::DatasetInfo info = group.dataset_info(name);
  if (!info.is_numeric()) {
    throw h5::Error(group.describe(name) + ": holds " + info.type_name() +
                    " values, expected numbers");
  }
  if (info.dims != dims) {
    const h5::DatasetInfo expected{dims, info.type_class};
    throw h5::Error(group.describe(name) + ": has shape " + info.dims_string() + ", expected " +
                    expected.dims_string());
  }
}

// Throws unless the values of dataset `name` are `all_finite`.
void expect_finite(const h5::Group& group, const std::string& name, bool all_finite) {
  if (!all_finite)
    throw h5::Error(group.describe(name) + ": holds a non-finite value (NaN or infinity): " +
                    "a damaged model, which cannot make predictions");
}

// A positive count stored as int64 attribute `attribute`.
Index positive_attribute(const h5::Group& group, const std::string& attribute) {
  const auto value = group.read_attribute<int64_t>(attribute);
  if (value < 1) {
    throw h5::Error(group.describe() + ": attribute '" + attribute + "' is " +
                    std::to_string(value) + ", expected at least 1");
  }
  return static_cast<Index>(value);
}

Scaler read_scaler(const h5::Group& group, Index inputs) {
  Scaler scaler;
  scaler.kind = value_of(kScalings, group, "kind");
  const h5::DatasetInfo offset = group.dataset_info("offset");
  // kNone carries no statistics; a file may still hold them for every input.
  const hsize_t size = scaler.kind == ScalingKind::kNone && offset.dims == std::vector<hsize_t>{0}
                           ? 0
                           : static_cast<hsize_t>(inputs);
  expect_shape(group, "offset", {size});
  expect_shape(group, "factor", {size});
  scaler.offset.resize(static_cast<Index>(size));
  scaler.factor.resize(static_cast<Index>(size));
  group.read_rows("offset", size, scaler.offset.data());
  group.read_rows("factor", size, scaler.factor.data());
  expect_finite(group, "offset", scaler.offset.allFinite());
  expect_finite(group, "factor", scaler.factor.allFinite());
  // Fitting gives every feature a factor above 0 (1 for a constant one: core/preprocessing.cpp);
  // a factor of 0 would turn the feature into a constant.
  if ((scaler.factor.array() <= 0.0f).any())
    throw h5::Error(group.describe("factor") +
                    ": holds a factor of 0 or below, which fitting "
                    "never gives: damaged file");
  return scaler;
}

}  // namespace

void write_model(h5::Group& group, const StoredModel& stored) {
  const MlpShape& shape = stored.model.shape();
  const Scaler& scaler = stored.scaler;
  if (stored.model.num_parameters() == 0) {
    throw std::invalid_argument("write_model(): the network has no parameters (not constructed)");
  }
  const bool scaled = scaler.offset.size() > 0 || scaler.kind != ScalingKind::kNone;
  if (scaled && (scaler.offset.size() != shape.inputs || scaler.factor.size() != shape.inputs)) {
    throw std::invalid_argument("write_model(): scaler has " +
                                std::to_string(scaler.offset.size()) + " offsets and " +
                                std::to_string(scaler.factor.size()) + " factors for " +
                                std::to_string(shape.inputs) + " inputs");
  }

  group.write_attribute("inputs", static_cast<int64_t>(shape.inputs));
  group.write_attribute("outputs", static_cast<int64_t>(shape.outputs));
  group.write_attribute("hidden", std::vector<int64_t>(shape.hidden.begin(), shape.hidden.end()));
  group.write_attribute("activation", name_of(kActivations, shape.activation));
  group.write_attribute("task", name_of(kTasks, stored.task));
  group.write_attribute("num_classes", static_cast<int64_t>(stored.num_classes));
  group.write_attribute("num_layers", static_cast<int64_t>(shape.num_layers()));
  if (!stored.feature_names.empty()) {
    if (static_cast<Index>(stored.feature_names.size()) != shape.inputs)
      throw std::invalid_argument("write_model(): " + std::to_string(stored.feature_names.size()) +
                                  " feature names for " + std::to_string(shape.inputs) + " inputs");
    std::string names;
    for (const auto& name : stored.feature_names) {
      if (name.find('\n') != std::string::npos)
        throw std::invalid_argument("write_model(): feature name '" + name + "' holds a newline");
      names += (names.empty() ? "" : "\n") + name;
    }
    group.write_attribute("feature_names", names);
  }

  for (Index l = 0; l < shape.num_layers(); ++l) {
    h5::Group layer = group.create_group(layer_name(l));
    // Eigen stores the weights column-major; HDF5 and numpy read row-major.
    layer.write_matrix("weight", RowMajorMatrix(stored.model.weight(l)));
    layer.write_vector("bias", Vector(stored.model.bias(l)));
  }

  h5::Group scaler_group = group.create_group("scaler");
  scaler_group.write_attribute("kind", name_of(kScalings, scaler.kind));
  scaler_group.write_vector("offset", scaler.offset);
  scaler_group.write_vector("factor", scaler.factor);
}

StoredModel read_model(const h5::Group& group) {
  MlpShape shape;
  shape.inputs = positive_attribute(group, "inputs");
  shape.outputs = positive_attribute(group, "outputs");
  for (const int64_t width : group.read_attribute<std::vector<int64_t>>("hidden")) {
    if (width < 1) {
      throw h5::Error(group.describe() + ": attribute 'hidden' has a layer of " +
                      std::to_string(width) + " units");
    }
    shape.hidden.push_back(static_cast<Index>(width));
  }
  shape.activation = value_of(kActivations, group, "activation");
  const auto num_layers = group.read_attribute<int64_t>("num_layers");
  if (num_layers != shape.num_layers()) {
    throw h5::Error(group.describe() + ": attribute 'num_layers' is " + std::to_string(num_layers) +
                    " but 'hidden' lists " + std::to_string(shape.hidden.size()) +
                    " hidden layers");
  }

  StoredModel stored;
  stored.task = value_of(kTasks, group, "task");
  const auto num_classes = group.read_attribute<int64_t>("num_classes");
  if (stored.task == Task::kClassification && num_classes != shape.outputs) {
    throw h5::Error(group.describe() + ": attribute 'num_classes' is " +
                    std::to_string(num_classes) + " but the network has " +
                    std::to_string(shape.outputs) + " outputs");
  }
  stored.num_classes = static_cast<int>(num_classes);

  stored.model = Mlp(shape);
  for (Index l = 0; l < shape.num_layers(); ++l) {
    const std::string name = layer_name(l);
    const auto outputs = static_cast<hsize_t>(shape.layer_outputs(l));
    const auto inputs = static_cast<hsize_t>(shape.layer_inputs(l));
    expect_shape(group, name + "/weight", {outputs, inputs});
    expect_shape(group, name + "/bias", {outputs});
    stored.model.weight(l) = group.read_matrix(name + "/weight");
    group.read_rows(name + "/bias", outputs, stored.model.bias(l).data());
    // A network that diverged is never stored, so NaN or infinity is damage; predictions made
    // with it would be NaN without a word.
    expect_finite(group, name + "/weight", stored.model.weight(l).allFinite());
    expect_finite(group, name + "/bias", stored.model.bias(l).allFinite());
  }

  stored.scaler = read_scaler(group.open_group("scaler"), shape.inputs);
  if (group.has_attribute("feature_names")) {
    const auto names = group.read_attribute<std::string>("feature_names");
    size_t start = 0;
    for (size_t end; (end = names.find('\n', start)) != std::string::npos; start = end + 1)
      stored.feature_names.push_back(names.substr(start, end - start));
    stored.feature_names.push_back(names.substr(start));
    if (static_cast<Index>(stored.feature_names.size()) != shape.inputs)
      throw h5::Error(group.describe() + ": attribute 'feature_names' names " +
                      std::to_string(stored.feature_names.size()) +
                      " features, but the network has " + std::to_string(shape.inputs) + " inputs");
  }
  return stored;
}

void write_history(h5::Group& group, const History& history, Task task) {
  const std::size_t n = history.epochs.size();
  std::vector<int64_t> epoch(n);
  std::vector<double> train_loss(n), train_total_loss(n), train_metric(n), val_loss(n),
      val_metric(n), seconds(n), learning_rate(n);
  for (std::size_t i = 0; i < n; ++i) {
    const EpochRecord& r = history.epochs[i];
    epoch[i] = r.epoch;
    train_loss[i] = r.train_loss;
    train_total_loss[i] = r.train_total_loss;
    train_metric[i] = r.train_metric;
    val_loss[i] = r.val_loss;
    val_metric[i] = r.val_metric;
    seconds[i] = r.seconds;
    learning_rate[i] = r.learning_rate;
  }
  const std::string metric = metric_name(task);
  group.write_attribute("metric", metric);
  group.write_vector("epoch", epoch);
  group.write_vector("train_loss", train_loss);
  group.write_vector("train_total_loss", train_total_loss);
  group.write_vector("train_" + metric, train_metric);
  group.write_vector("val_loss", val_loss);
  group.write_vector("val_" + metric, val_metric);
  group.write_vector("seconds", seconds);
  group.write_vector("learning_rate", learning_rate);
}

History read_history(const h5::Group& group) {
  const std::string metric = group.read_attribute<std::string>("metric");
  if (metric != metric_name(Task::kClassification) && metric != metric_name(Task::kRegression)) {
    throw h5::Error(group.describe() + ": attribute 'metric' is '" + metric +
                    "', expected 'accuracy' or 'mae'");
  }
  const std::vector<double> epoch = group.read_vector("epoch");
  auto column = [&](const std::string& name) {
    std::vector<double> values = group.read_vector(name);
    if (values.size() != epoch.size()) {
      throw h5::Error(group.describe(name) + ": has " + std::to_string(values.size()) +
                      " entries, '" + group.child_path("epoch") + "' has " +
                      std::to_string(epoch.size()));
    }
    return values;
  };
  const std::vector<double> train_loss = column("train_loss");
  const std::vector<double> train_total_loss = column("train_total_loss");
  const std::vector<double> train_metric = column("train_" + metric);
  const std::vector<double> val_loss = column("val_loss");
  const std::vector<double> val_metric = column("val_" + metric);
  const std::vector<double> seconds = column("seconds");
  // Files from before learning rates were recorded have no such column.
  const std::vector<double> learning_rate = group.exists("learning_rate")
                                                ? column("learning_rate")
                                                : std::vector<double>(epoch.size(), std::nan(""));

  History history;
  history.epochs.resize(epoch.size());
  for (std::size_t i = 0; i < epoch.size(); ++i) {
    EpochRecord& r = history.epochs[i];
    r.epoch = static_cast<int>(epoch[i]);
    r.train_loss = train_loss[i];
    r.train_total_loss = train_total_loss[i];
    r.train_metric = train_metric[i];
    r.val_loss = val_loss[i];
    r.val_metric = val_metric[i];
    r.seconds = seconds[i];
    r.learning_rate = learning_rate[i];
  }
  return history;
}

}  // namespace hps
