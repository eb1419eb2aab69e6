#include "coordinator/messages.hpp"

#include "coordinator/wire.hpp"

namespace hps {
namespace {

void put_dataset(ByteWriter& w, const Dataset& d) {
  w.put<int32_t>(static_cast<int32_t>(d.task));
  w.put<int32_t>(d.num_classes);
  w.put_string(d.source);
  w.put_matrix(d.x);
  w.put_vector(d.labels);
  w.put_matrix(d.y);
}

Dataset get_dataset(ByteReader& r) {
  Dataset d;
  d.task = static_cast<Task>(r.get<int32_t>());
  d.num_classes = r.get<int32_t>();
  d.source = r.get_string();
  d.x = r.get_matrix();
  d.labels = r.get_vector<int32_t>();
  d.y = r.get_matrix();
  return d;
}

void finish(const ByteReader& r, const char* what) {
  if (!r.done()) throw WireError(std::string(what) + " message has trailing bytes");
}

}  // namespace

std::vector<char> pack(const TrialAssignment& t) {
  ByteWriter w;
  w.put(t.trial_id);
  w.put(t.seed);
  std::vector<int64_t> hidden(t.model.hidden.begin(), t.model.hidden.end());
  w.put_vector(hidden);
  w.put(static_cast<int32_t>(t.model.activation));
  w.put<int32_t>(t.model.init ? static_cast<int32_t>(*t.model.init) : -1);
  w.put(t.model.dropout);
  const OptimizerConfig& o = t.training.optimizer;
  w.put(static_cast<int32_t>(o.kind));
  w.put(o.learning_rate);
  w.put(o.momentum);
  w.put(o.beta1);
  w.put(o.beta2);
  w.put(o.epsilon);
  w.put<int64_t>(t.training.batch_size);
  w.put<int32_t>(t.training.max_epochs);
  w.put(t.training.l1);
  w.put(t.training.l2);
  const LrPlateauConfig& p = t.training.reduce_lr_on_plateau;
  w.put<uint8_t>(p.enabled);
  w.put(p.factor);
  w.put<int32_t>(p.patience);
  w.put(p.min_lr);
  const EarlyStoppingConfig& e = t.early_stopping;
  w.put<uint8_t>(e.enabled);
  w.put(static_cast<int32_t>(e.monitor));
  w.put(static_cast<int32_t>(e.mode));
  w.put(e.min_delta);
  w.put<int32_t>(e.patience);
  w.put<uint8_t>(e.restore_best_weights);
  w.put<uint8_t>(t.report_epochs);
  return std::move(w.bytes());
}

TrialAssignment unpack_assignment(const std::vector<char>& bytes) {
  ByteReader r(bytes);
  TrialAssignment t;
  t.trial_id = r.get<int64_t>();
  t.seed = r.get<uint64_t>();
  const auto hidden = r.get_vector<int64_t>();
  t.model.hidden.assign(hidden.begin(), hidden.end());
  t.model.activation = static_cast<Activation>(r.get<int32_t>());
  const auto init = r.get<int32_t>();
  if (init >= 0) t.model.init = static_cast<Initialization>(init);
  t.model.dropout = r.get<double>();
  OptimizerConfig& o = t.training.optimizer;
  o.kind = static_cast<OptimizerKind>(r.get<int32_t>());
  o.learning_rate = r.get<double>();
  o.momentum = r.get<double>();
  o.beta1 = r.get<double>();
  o.beta2 = r.get<double>();
  o.epsilon = r.get<double>();
  t.training.batch_size = r.get<int64_t>();
  t.training.max_epochs = r.get<int32_t>();
  t.training.l1 = r.get<double>();
  t.training.l2 = r.get<double>();
  LrPlateauConfig& p = t.training.reduce_lr_on_plateau;
  p.enabled = r.get<uint8_t>() != 0;
  p.factor = r.get<double>();
  p.patience = r.get<int32_t>();
  p.min_lr = r.get<double>();
  EarlyStoppingConfig& e = t.early_stopping;
  e.enabled = r.get<uint8_t>() != 0;
  e.monitor = static_cast<Monitor>(r.get<int32_t>());
  e.mode = static_cast<MonitorMode>(r.get<int32_t>());
  e.min_delta = r.get<double>();
  e.patience = r.get<int32_t>();
  e.restore_best_weights = r.get<uint8_t>() != 0;
  t.report_epochs = r.get<uint8_t>() != 0;
  finish(r, "assignment");
  return t;
}

std::vector<char> pack(const TrialOutcome& o) {
  ByteWriter w;
  w.put(o.trial_id);
  w.put(o.rank);
  w.put(static_cast<int32_t>(o.status));
  w.put_string(o.message);
  w.put(o.seconds);
  w.put(o.best_epoch);
  w.put(o.best_value);
  static_assert(std::is_trivially_copyable_v<EpochRecord>);
  w.put_vector(o.history.epochs);
  w.put(o.test_loss);
  w.put(o.test_metric);
  w.put_floats(o.weights.data(), o.weights.size());
  return std::move(w.bytes());
}

TrialOutcome unpack_outcome(const std::vector<char>& bytes) {
  ByteReader r(bytes);
  TrialOutcome o;
  o.trial_id = r.get<int64_t>();
  o.rank = r.get<int32_t>();
  o.status = static_cast<TrialStatus>(r.get<int32_t>());
  o.message = r.get_string();
  o.seconds = r.get<double>();
  o.best_epoch = r.get<int32_t>();
  o.best_value = r.get<double>();
  o.history.epochs = r.get_vector<EpochRecord>();
  o.test_loss = r.get<double>();
  o.test_metric = r.get<double>();
  o.weights = r.get_floats();
  finish(r, "result");
  return o;
}

std::vector<char> pack(const EpochReport& report) {
  ByteWriter w;
  w.put(report.trial_id);
  w.put(report.record);
  return std::move(w.bytes());
}

EpochReport unpack_epoch_report(const std::vector<char>& bytes) {
  ByteReader r(bytes);
  EpochReport report;
  report.trial_id = r.get<int64_t>();
  report.record = r.get<EpochRecord>();
  finish(r, "epoch report");
  return report;
}

std::vector<char> pack(const EpochVerdict& verdict) {
  ByteWriter w;
  w.put<uint8_t>(verdict.prune);
  w.put_string(verdict.reason);
  return std::move(w.bytes());
}

EpochVerdict unpack_verdict(const std::vector<char>& bytes) {
  ByteReader r(bytes);
  EpochVerdict verdict;
  verdict.prune = r.get<uint8_t>() != 0;
  verdict.reason = r.get_string();
  finish(r, "verdict");
  return verdict;
}

std::vector<char> pack(const PreparedData& data) {
  ByteWriter w;
  put_dataset(w, data.train);
  put_dataset(w, data.validation);
  w.put<uint8_t>(data.test.has_value());
  if (data.test) put_dataset(w, *data.test);
  w.put(static_cast<int32_t>(data.scaler.kind));
  w.put_floats(data.scaler.offset.data(), data.scaler.offset.size());
  w.put_floats(data.scaler.factor.data(), data.scaler.factor.size());
  return std::move(w.bytes());
}

PreparedData unpack_data(const std::vector<char>& bytes) {
  ByteReader r(bytes);
  PreparedData data;
  data.train = get_dataset(r);
  data.validation = get_dataset(r);
  if (r.get<uint8_t>() != 0) data.test = get_dataset(r);
  data.scaler.kind = static_cast<ScalingKind>(r.get<int32_t>());
  data.scaler.offset = r.get_floats();
  data.scaler.factor = r.get_floats();
  finish(r, "data");
  return data;
}

}  // namespace hps
