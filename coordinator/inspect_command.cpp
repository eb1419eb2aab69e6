#include "coordinator/inspect_command.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include "coordinator/resume_check.hpp"
#include "coordinator/terminal_text.hpp"
#include "core/config.hpp"
#include "core/search_space.hpp"

namespace hps {
namespace {

// Statuses in the order counts are shown; a status this list does not know follows them.
constexpr const char* kStatuses[] = {"completed", "early_stopped", "pruned", "diverged", "failed"};

// A small streaming JSON writer: it places commas and colons and escapes strings; the caller
// nests the calls correctly.
class JsonWriter {
 public:
  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }

  JsonWriter& key(const std::string& name) {
    separate();
    quote(name);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonWriter& string(const std::string& text) {
    separate();
    quote(text);
    return *this;
  }
  JsonWriter& integer(int64_t value) {
    separate();
    out_ += std::to_string(value);
    return *this;
  }
  /// JSON has no NaN or infinity: those become null.
  JsonWriter& number(double value) {
    separate();
    if (!std::isfinite(value)) {
      out_ += "null";
      return *this;
    }
    char text[32];
    const auto result = std::to_chars(text, text + sizeof text, value);  // shortest round trip
    out_.append(text, result.ptr);
    return *this;
  }
  JsonWriter& boolean(bool value) {
    separate();
    out_ += value ? "true" : "false";
    return *this;
  }
  JsonWriter& null() {
    separate();
    out_ += "null";
    return *this;
  }

  const std::string& text() const { return out_; }

 private:
  JsonWriter& open(char bracket) {
    separate();
    out_ += bracket;
    first_.push_back(true);
    return *this;
  }
  JsonWriter& close(char bracket) {
    first_.pop_back();
    out_ += bracket;
    return *this;
  }
  // A comma before every element of a container but its first; none after a key.
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
  // The length of the well-formed UTF-8 sequence starting at text[i] (RFC 3629: no overlong
  // forms, no surrogates, nothing past U+10FFFF); 0 if the bytes there are not one.
  static size_t utf8_length(const std::string& text, size_t i) {
    const auto at = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = at(i);
    size_t n = 0;
    unsigned char low = 0x80, high = 0xbf;  // the allowed range of the second byte
    if (lead >= 0xc2 && lead <= 0xdf) {
      n = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      n = 3;
      if (lead == 0xe0) low = 0xa0;
      if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      n = 4;
      if (lead == 0xf0) low = 0x90;
      if (lead == 0xf4) high = 0x8f;
    } else {
      return 0;
    }
    if (i + n > text.size() || at(i + 1) < low || at(i + 1) > high) return 0;
    for (size_t k = 2; k < n; ++k)
      if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
    return n;
  }

  void quote(const std::string& text) {
    out_ += '"';
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (static_cast<unsigned char>(c) >= 0x80) {
        // JSON is UTF-8; a byte that starts no character (a Latin-1 file name) becomes U+FFFD.
        const size_t n = utf8_length(text, i);
        if (n == 0) {
          out_ += "\\ufffd";
        } else {
          out_.append(text, i, n);
          i += n - 1;
        }
        continue;
      }
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\b':
          out_ += "\\b";
          break;
        case '\f':
          out_ += "\\f";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
            out_ += escaped;
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

// One leaderboard line.
struct Entry {
  std::size_t row = 0;          // index into Leaderboard::rows
  std::optional<int64_t> rank;  // 1-based; nullopt: not ranked
  bool has_model = false;
};

// Everything both renderings show, read once.
struct Leaderboard {
  std::string file, status, strategy, scheduler, task, metric, monitor, monitor_mode;
  int64_t trials_total = 0;
  std::optional<int64_t> best_trial;
  std::vector<SummaryRow> rows;
  std::vector<Entry> entries;         // sorted best first; with `top`, the best `top` ranked trials
  std::size_t unranked_left_out = 0;  // diverged or failed trials that `top` leaves out
  std::vector<std::pair<std::string, int64_t>> counts;
};

// A file whose root attributes or /summary say what no search wrote is refused rather than
// shown wrong: a flipped monitor_mode would turn the leaderboard upside down, a trial listed
// twice would be counted twice.
void refuse_contradictions(const ResultsReader& reader, const std::vector<SummaryRow>& rows,
                           int64_t trials_total) {
  std::vector<std::string> problems = summary_problems(rows, trials_total);
  try {
    const SearchConfig config = recorded_search_config(reader);
    for (std::string& p : summary_bound_problems(rows, config)) problems.push_back(std::move(p));
    for (std::string& p : reader.contradicted_attributes(config)) problems.push_back(std::move(p));
  } catch (const ConfigError&) {
    // A config today's parser refuses leaves nothing to compare with; the leaderboard needs
    // no config.
  }
  if (problems.empty()) return;
  std::string text = reader.path() + ": damaged file:";
  for (const std::string& p : problems) text += "\n  " + p;
  throw h5::Error(text);
}

Leaderboard build(const ResultsReader& reader, int top) {
  Leaderboard board;
  board.file = reader.path();
  board.status = reader.attribute("status");
  board.strategy = reader.attribute("strategy");
  board.scheduler = reader.has_attribute("scheduler") ? reader.attribute("scheduler") : "none";
  board.task = reader.attribute("task");
  board.metric = reader.attribute("metric");
  board.monitor = reader.attribute("monitor");
  board.monitor_mode = reader.attribute("monitor_mode");
  board.trials_total = reader.integer_attribute("trials_total");
  board.rows = reader.summary();
  refuse_contradictions(reader, board.rows, board.trials_total);
  // After: a root attribute that contradicts the config (monitor_mode) misranks /best too.
  board.best_trial = reader.best_trial(board.rows);

  for (const char* status : kStatuses) board.counts.emplace_back(status, 0);
  for (const SummaryRow& row : board.rows) {
    auto count = std::find_if(board.counts.begin(), board.counts.end(),
                              [&](const auto& c) { return c.first == row.status; });
    if (count == board.counts.end()) {
      board.counts.emplace_back(row.status, 0);
      count = board.counts.end() - 1;
    }
    ++count->second;
  }

  const bool by_loss = board.monitor == "val_loss";
  const bool maximize = board.monitor_mode == "max";
  auto key = [&](const SummaryRow& row) { return monitored_value(row, by_loss); };
  auto ranked = [&](const SummaryRow& row) { return is_ranked(row, by_loss); };
  std::vector<std::size_t> order(board.rows.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) {
    const SummaryRow& a = board.rows[i];
    const SummaryRow& b = board.rows[j];
    const bool ra = ranked(a), rb = ranked(b);
    if (ra != rb) return ra;
    if (ra && key(a) != key(b)) return maximize ? key(a) > key(b) : key(a) < key(b);
    return a.trial < b.trial;
  });
  // --top asks for the best trials: unranked ones (diverged or failed, whatever their best
  // value before that) are not among them, however few ranked trials there are.
  const auto ranked_count =
      static_cast<std::size_t>(std::count_if(board.rows.begin(), board.rows.end(), ranked));
  std::size_t shown = order.size();
  if (top > 0) {
    shown = std::min(ranked_count, static_cast<std::size_t>(top));
    // Said only where they would have filled rows the ranked trials left empty.
    if (ranked_count < static_cast<std::size_t>(top))
      board.unranked_left_out = order.size() - ranked_count;
  }
  for (std::size_t i = 0; i < shown; ++i) {
    Entry entry;
    entry.row = order[i];
    if (ranked(board.rows[order[i]])) entry.rank = static_cast<int64_t>(i) + 1;
    entry.has_model = reader.has_model(board.rows[order[i]].trial);
    board.entries.push_back(entry);
  }
  return board;
}

std::string format(const char* pattern, double value) {
  if (!std::isfinite(value)) return std::isnan(value) ? "-" : (value > 0 ? "inf" : "-inf");
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

// A loss or metric cell: "-" where there is none (NaN).
std::string value_text(double value) { return std::isnan(value) ? "-" : decimal4(value); }

std::string layers_text(const std::vector<int64_t>& widths) {
  std::string text = "[";
  for (std::size_t i = 0; i < widths.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(widths[i]);
  }
  return text + "]";
}

std::string param_text(const ParamValue& value) {
  if (const auto* real = std::get_if<double>(&value)) return format("%.4g", *real);
  if (const auto* integer = std::get_if<int64_t>(&value)) return std::to_string(*integer);
  if (const auto* name = std::get_if<std::string>(&value)) return *name;
  return layers_text(std::get<std::vector<int64_t>>(value));
}

std::string render_json(const Leaderboard& board) {
  JsonWriter json;
  json.begin_object();
  json.key("file").string(board.file);
  json.key("status").string(board.status);
  json.key("strategy").string(board.strategy);
  json.key("scheduler").string(board.scheduler);
  json.key("task").string(board.task);
  json.key("metric").string(board.metric);
  json.key("monitor").string(board.monitor);
  json.key("monitor_mode").string(board.monitor_mode);
  json.key("trials_total").integer(board.trials_total);
  json.key("trials_done").integer(static_cast<int64_t>(board.rows.size()));
  json.key("best_trial");
  if (board.best_trial) {
    json.integer(*board.best_trial);
  } else {
    json.null();
  }
  json.key("counts").begin_object();
  for (const auto& [status, n] : board.counts) json.key(status).integer(n);
  json.end_object();
  json.key("leaderboard").begin_array();
  for (const Entry& entry : board.entries) {
    const SummaryRow& row = board.rows[entry.row];
    json.begin_object();
    json.key("rank");
    if (entry.rank) {
      json.integer(*entry.rank);
    } else {
      json.null();
    }
    json.key("trial").integer(row.trial);
    json.key("status").string(row.status);
    json.key("params").begin_object();
    for (const auto& [name, value] : row.params) {
      json.key(name);
      if (!takes_effect(row.params, name)) {
        json.null();  // drawn, but this trial's optimizer has no use for it
      } else if (const auto* real = std::get_if<double>(&value)) {
        json.number(*real);
      } else if (const auto* integer = std::get_if<int64_t>(&value)) {
        json.integer(*integer);
      } else if (const auto* text = std::get_if<std::string>(&value)) {
        json.string(*text);
      } else {
        json.begin_array();
        for (const int64_t width : std::get<std::vector<int64_t>>(value)) json.integer(width);
        json.end_array();
      }
    }
    json.end_object();
    json.key("best_val_loss").number(row.best_val_loss);
    json.key("best_val_" + board.metric).number(row.best_val_metric);
    json.key("best_epoch").integer(row.best_epoch);
    json.key("epochs_run").integer(row.epochs_run);
    json.key("final_train_loss").number(row.final_train_loss);
    json.key("final_train_" + board.metric).number(row.final_train_metric);
    json.key("seconds").number(row.seconds);
    json.key("worker_rank").integer(row.rank);
    json.key("test_loss").number(row.test_loss);
    json.key("test_" + board.metric).number(row.test_metric);
    json.key("finished_at").number(row.finished_at);
    json.key("rung").integer(row.rung);
    json.key("has_model").boolean(entry.has_model);
    json.end_object();
  }
  json.end_array();
  json.end_object();
  return json.text() + "\n";
}

std::string render_text(const Leaderboard& board) {
  const bool asha = board.scheduler == "asha";
  std::string out = board.file + ": " + board.strategy +
                    (board.scheduler == "none" ? "" : " + " + board.scheduler) + " search, " +
                    board.status + ", " + std::to_string(board.rows.size()) + "/" +
                    std::to_string(board.trials_total) + " trials done";
  std::string counts;
  for (const auto& [status, n] : board.counts) {
    if (n == 0) continue;
    counts += counts.empty() ? "" : ", ";
    counts += std::to_string(n) + " " + status;
  }
  if (!counts.empty()) out += " (" + counts + ")";
  out += "\n";
  const std::string left_out =
      board.unranked_left_out == 0
          ? ""
          : std::to_string(board.unranked_left_out) + " diverged or failed trial" +
                (board.unranked_left_out == 1 ? " is" : "s are") +
                " not ranked and not shown; without --top they are listed last\n";
  if (board.entries.empty())
    return out + (board.rows.empty() ? "no trial has finished yet\n" : left_out);
  out += "ranked by best " + board.monitor + " (" +
         (board.monitor_mode == "max" ? "higher" : "lower") + " is better)\n\n";

  // Columns: header, then one cell per entry; numbers align right, words left.
  struct TableColumn {
    std::string header;
    bool right = true;
    std::vector<std::string> cells;
  };
  std::vector<TableColumn> columns;
  auto add_column = [&](std::string header, bool right) {
    columns.push_back({std::move(header), right, {}});
    return columns.size() - 1;
  };
  const std::size_t rank = add_column("rank", true);
  const std::size_t trial = add_column("trial", true);
  const std::size_t status = add_column("status", false);
  std::vector<std::size_t> params;
  for (const auto& param : board.rows[board.entries.front().row].params) {
    const bool numeric = std::holds_alternative<double>(param.second) ||
                         std::holds_alternative<int64_t>(param.second);
    params.push_back(add_column(param.first, numeric));
  }
  const std::size_t metric = add_column("val_" + board.metric, true);
  const std::size_t loss = add_column("val_loss", true);
  const std::size_t best_epoch = add_column("best_epoch", true);
  const std::size_t epochs = add_column("epochs", true);
  // ASHA: the highest rung a trial reached, so a pruned trial shows where it stopped.
  const std::size_t rung = asha ? add_column("rung", true) : 0;
  const bool has_test = std::any_of(board.rows.begin(), board.rows.end(), [](const SummaryRow& r) {
    return std::isfinite(r.test_metric);
  });
  const std::size_t test = has_test ? add_column("test_" + board.metric, true) : 0;
  const std::size_t seconds = add_column("seconds", true);
  const std::size_t model = add_column("model", false);

  for (const Entry& entry : board.entries) {
    const SummaryRow& row = board.rows[entry.row];
    columns[rank].cells.push_back(entry.rank ? std::to_string(*entry.rank) : "-");
    columns[trial].cells.push_back(std::to_string(row.trial));
    columns[status].cells.push_back(row.status);
    for (std::size_t i = 0; i < params.size(); ++i) {
      std::string cell;
      if (i < row.params.size())
        cell =
            takes_effect(row.params, row.params[i].first) ? param_text(row.params[i].second) : "-";
      columns[params[i]].cells.push_back(cell);
    }
    columns[metric].cells.push_back(value_text(row.best_val_metric));
    columns[loss].cells.push_back(value_text(row.best_val_loss));
    // Counted from 1, as train's epoch lines and the messages count; the file's best_epoch
    // (and --json's) is the 0-based index.
    columns[best_epoch].cells.push_back(row.best_epoch >= 0 ? std::to_string(row.best_epoch + 1)
                                                            : "-");
    columns[epochs].cells.push_back(std::to_string(row.epochs_run));
    if (asha) columns[rung].cells.push_back(row.rung >= 0 ? std::to_string(row.rung) : "-");
    if (has_test) columns[test].cells.push_back(value_text(row.test_metric));
    columns[seconds].cells.push_back(format("%.1f", row.seconds));
    columns[model].cells.push_back(entry.has_model ? "yes" : "no");
  }

  std::vector<std::size_t> widths;
  for (const TableColumn& column : columns) {
    std::size_t width = column.header.size();
    for (const std::string& cell : column.cells) width = std::max(width, cell.size());
    widths.push_back(width);
  }
  auto line = [&](auto cell_of) {
    std::string text;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const std::string& cell = cell_of(columns[c]);
      const std::string pad(widths[c] - cell.size(), ' ');
      if (c > 0) text += "  ";
      text += columns[c].right ? pad + cell : cell + pad;
    }
    text.erase(text.find_last_not_of(' ') + 1);
    return text + "\n";
  };
  out += line([](const TableColumn& column) -> const std::string& { return column.header; });
  for (std::size_t r = 0; r < board.entries.size(); ++r) {
    out += line([&](const TableColumn& column) -> const std::string& { return column.cells[r]; });
  }
  return left_out.empty() ? out : out + "\n" + left_out;
}

}  // namespace

std::string render_leaderboard(const ResultsReader& reader, int top, bool json) {
  const Leaderboard board = build(reader, top);
  return json ? render_json(board) : render_text(board);
}

}  // namespace hps
