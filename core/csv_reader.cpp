// CSV reader: a header row of distinct, non-empty column names, then one sample per line.
// Fields may be quoted ("a,b", with "" for a literal quote) but may not span lines. Blank lines
// are skipped wherever they are, and CRLF line ends and a UTF-8 byte-order mark are accepted.
// Numbers are parsed with std::from_chars, so the result never depends on the locale.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/data_loader.hpp"
#include "core/dataset_checks.hpp"

namespace hps {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& problem,
                       const std::string& setting = "") {
  throw DataError(path + ": " + problem, setting);
}

std::string read_whole_file(const std::string& path) {
  require_regular_file(path, "a CSV file");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) fail(path, "no such file");
    fail(path, std::string("cannot open (") +
                   (errno != 0 ? std::strerror(errno) : "unknown error") + ")");
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  std::string text;
  if (size > 0) {
    text.resize(static_cast<size_t>(size));
    in.read(text.data(), size);
  }
  if (size < 0 || (!in && !in.eof())) fail(path, "read error");
  return text;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_blank(std::string_view line) { return trim(line).empty(); }

/// Splits `line` at commas into `fields`, which view either `line` or, for quoted fields,
/// `storage`. Returns false on an unterminated quote.
bool split_fields(std::string_view line, std::vector<std::string_view>& fields,
                  std::vector<std::string>& storage) {
  fields.clear();
  if (line.find('"') == std::string_view::npos) {
    // Fast path for the usual all-numeric line.
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      if (comma == std::string_view::npos) {
        fields.push_back(trim(line.substr(start)));
        return true;
      }
      fields.push_back(trim(line.substr(start, comma - start)));
      start = comma + 1;
    }
  }
  storage.clear();
  storage.reserve(line.size() + 1);  // no reallocation: the views below must stay valid
  size_t pos = 0;
  while (true) {
    while (pos < line.size() && is_space(line[pos])) ++pos;
    if (pos < line.size() && line[pos] == '"') {
      std::string value;
      ++pos;
      bool closed = false;
      while (pos < line.size()) {
        if (line[pos] == '"') {
          if (pos + 1 < line.size() && line[pos + 1] == '"') {
            value += '"';
            pos += 2;
            continue;
          }
          ++pos;
          closed = true;
          break;
        }
        value += line[pos++];
      }
      if (!closed) return false;
      while (pos < line.size() && is_space(line[pos])) ++pos;
      // Text after the closing quote joins the field, as most spreadsheets do.
      const size_t comma = line.find(',', pos);
      const size_t end = comma == std::string_view::npos ? line.size() : comma;
      value += std::string(trim(line.substr(pos, end - pos)));
      storage.push_back(std::move(value));
      fields.push_back(storage.back());
      if (comma == std::string_view::npos) return true;
      pos = comma + 1;
    } else {
      const size_t comma = line.find(',', pos);
      const size_t end = comma == std::string_view::npos ? line.size() : comma;
      fields.push_back(trim(line.substr(pos, end - pos)));
      if (comma == std::string_view::npos) return true;
      pos = comma + 1;
    }
  }
}

enum class Parse { kOk, kEmpty, kNotNumber, kNotFinite, kOutOfRange };

/// Whether a decimal number that from_chars found out of range is below 1 in magnitude, that
/// is, underflows rather than overflows. `text` is one from_chars has read whole, so it is
/// digits with at most one point and an optional exponent, after an optional sign.
bool below_one(std::string_view text) {
  if (!text.empty() && text[0] == '-') text.remove_prefix(1);
  const size_t e = text.find_first_of("eE");
  const std::string_view mantissa = text.substr(0, e);
  long long exponent = 0;  // saturates: only its sign against the digits' position matters
  if (e != std::string_view::npos) {
    std::string_view digits = text.substr(e + 1);
    const bool negative = !digits.empty() && digits[0] == '-';
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
    for (char c : digits) exponent = std::min(exponent * 10 + (c - '0'), 1'000'000'000'000LL);
    if (negative) exponent = -exponent;
  }
  const size_t point = std::min(mantissa.find('.'), mantissa.size());
  const size_t first = mantissa.find_first_not_of("0.");
  if (first == std::string_view::npos) return true;  // all zeros: never out of range
  // The first significant digit stands for 10^position.
  const long long position = first < point ? static_cast<long long>(point - first - 1)
                                           : -static_cast<long long>(first - point);
  return position + exponent < 0;
}

Parse parse_number(std::string_view text, double& value) {
  // A quoted field keeps its spaces; Python's float() and pandas read " 1.5" as 1.5 too.
  text = trim(text);
  if (text.empty()) return Parse::kEmpty;
  // from_chars rejects a leading '+', which CSV writers sometimes emit.
  if (text.size() > 1 && text[0] == '+' && text[1] != '-' && text[1] != '+') text.remove_prefix(1);
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (result.ec == std::errc::result_out_of_range && result.ptr == end) {
    if (!below_one(text)) return Parse::kOutOfRange;
    // Too small for a double (below 4.9e-324): zero, as Python, NumPy and pandas read it.
    value = text[0] == '-' ? -0.0 : 0.0;
    return Parse::kOk;
  }
  if (result.ec != std::errc() || result.ptr != end) return Parse::kNotNumber;
  if (!std::isfinite(value)) return Parse::kNotFinite;
  return Parse::kOk;
}

/// Reads lines one at a time, counting them from 1, without the line end.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {
    constexpr std::string_view kBom = "\xEF\xBB\xBF";
    if (text_.substr(0, kBom.size()) == kBom) text_.remove_prefix(kBom.size());
  }

  /// The next line that is not blank; false at the end of the text.
  bool next_non_blank(std::string_view& line) {
    while (next(line))
      if (!is_blank(line)) return true;
    return false;
  }

  size_t line_number() const { return line_number_; }

 private:
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    line = text_.substr(pos_, end - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = end + 1;
    ++line_number_;
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t line_number_ = 0;
};

/// "1 and 2", "1, 2 and 5": 1-based column positions as messages list them.
std::string listed_positions(const std::vector<size_t>& positions) {
  std::string text;
  for (size_t i = 0; i < positions.size(); ++i) {
    if (i > 0) text += i + 1 == positions.size() ? " and " : ", ";
    text += std::to_string(positions[i]);
  }
  return text;
}

/// Refuses a header with an empty or repeated column name. Columns are found by name (the
/// label, and a test set's or predict's columns against the training data's), so a name that
/// picks out no column, or two, would make that matching arbitrary.
void check_header(const std::vector<std::string>& header, const std::string& path, size_t line) {
  const std::string at = "line " + std::to_string(line) + ": ";
  std::map<std::string, std::vector<size_t>> positions;
  for (size_t c = 0; c < header.size(); ++c) {
    if (header[c].empty())
      fail(path, at + "column " + std::to_string(c + 1) + " of the header has no name");
    positions[header[c]].push_back(c + 1);
  }
  for (const std::string& name : header) {
    const std::vector<size_t>& at_columns = positions[name];
    if (at_columns.size() > 1)
      fail(path, at + "column name '" + name + "' appears more than once in the header (columns " +
                     listed_positions(at_columns) + ")");
  }
}

constexpr const char* kUnterminated =
    "unterminated quoted field (a quoted field cannot span lines here)";

/// Refuses what is not CSV text before its bytes reach a message as column names: a gzip or
/// HDF5 file given as CSV, a header line with control characters (binary data), or a file
/// whose lines end in CR alone (classic Mac), which reads as one long header line.
void refuse_binary(const std::string& text, const std::string& path) {
  if (text.rfind("\x1f\x8b", 0) == 0)
    fail(path, "gzip-compressed, not CSV text: decompress it first (gunzip)");
  if (text.rfind("\x89HDF\r\n\x1a\n", 0) == 0)
    fail(path, "an HDF5 file, not CSV text (for HDF5 data use format: hdf5)");
  // The header line (data lines name the line and column of a bad field themselves).
  const std::size_t first_newline = text.find('\n');
  const std::size_t checked = std::min<std::size_t>({text.size(), first_newline, 1 << 16});
  for (std::size_t i = 0; i < checked; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') {
      char code[8];
      std::snprintf(code, sizeof code, "0x%02x", byte);
      fail(path, "not CSV text: byte " + std::to_string(i) + " is the control character " + code +
                     " (binary data, or another format)");
    }
  }
  if (first_newline == std::string::npos && text.find('\r') != std::string::npos)
    fail(path,
         "its lines end in CR alone (classic Mac line ends): save it with LF or CRLF "
         "line ends");
}

}  // namespace

namespace {

// A parsed CSV: features (features x samples) and, when the label column was found, targets.
struct CsvTable {
  Matrix x;
  std::vector<double> targets;
  bool has_label = false;
  std::vector<std::string> feature_names;
};

CsvTable read_csv_table(const std::string& path, const std::string& label_column,
                        bool label_required, Task task, int num_classes, Index max_samples) {
  if (max_samples < 0)
    throw std::invalid_argument("load_csv(): max_samples must be >= 0, got " +
                                std::to_string(max_samples));
  const std::string text = read_whole_file(path);
  refuse_binary(text, path);
  LineReader lines(text);
  std::string_view line;
  if (!lines.next_non_blank(line)) fail(path, "empty file (expected a header row)");

  std::vector<std::string_view> fields;
  std::vector<std::string> storage;
  if (!split_fields(line, fields, storage))
    fail(path, "line " + std::to_string(lines.line_number()) + ": " + kUnterminated);
  const std::vector<std::string> header(fields.begin(), fields.end());
  check_header(header, path, lines.line_number());
  const size_t columns = header.size();

  const std::string listing = quoted_names(header);
  if (label_column.empty() && label_required)
    fail(path, "no label column given; columns are " + listing, "label_column");
  size_t label_index = columns;
  for (size_t c = 0; c < columns; ++c)
    if (header[c] == label_column) label_index = c;
  if (label_index == columns && label_required)
    fail(path,
         "no column named '" + label_column + "' in the header (line " +
             std::to_string(lines.line_number()) + "); columns are " + listing,
         "label_column");
  const bool has_label = label_index != columns;
  if (columns < (has_label ? 2u : 1u))
    fail(path, "no feature columns besides the label column '" + label_column + "'");
  const size_t features = columns - (has_label ? 1 : 0);

  std::vector<float> values;  // sample after sample: the column-major features x samples layout
  std::vector<double> targets;
  constexpr double kFloatMax = std::numeric_limits<float>::max();
  Index samples = 0;
  while ((max_samples == 0 || samples < max_samples) && lines.next_non_blank(line)) {
    const std::string at = "line " + std::to_string(lines.line_number());
    if (!split_fields(line, fields, storage)) fail(path, at + ": " + kUnterminated);
    if (fields.size() != columns)
      fail(path, at + " has " + std::to_string(fields.size()) + " field" +
                     (fields.size() == 1 ? "" : "s") + ", header has " + std::to_string(columns));
    for (size_t c = 0; c < columns; ++c) {
      // Features alone are read for predict: a label column there (often blank in new data)
      // is left as it is.
      if (c == label_index && !label_required) continue;
      double value = 0.0;
      const Parse parsed = parse_number(fields[c], value);
      if (parsed != Parse::kOk) {
        const std::string where = at + ", column '" + header[c] + "': ";
        const std::string quoted = "'" + std::string(fields[c]) + "'";
        switch (parsed) {
          case Parse::kEmpty:
            fail(path, where + "empty field (missing value)");
          case Parse::kNotNumber:
            fail(path, where + quoted + " is not a number");
          case Parse::kNotFinite:
            fail(path, where + quoted + " is not a finite number");
          case Parse::kOutOfRange:
            fail(path, where + quoted + " is out of range");
          case Parse::kOk:
            break;
        }
      }
      if ((c != label_index || task == Task::kRegression) && std::abs(value) > kFloatMax)
        fail(path, at + ", column '" + header[c] + "': '" + std::string(fields[c]) +
                       "' is out of the 32-bit float range");
      if (c == label_index) {
        if (task == Task::kClassification) {
          // Checked here as well as in make_checked_dataset so the message names the line.
          const std::string where =
              at + ", column '" + header[c] + "': label " + std::string(fields[c]);
          if (std::floor(value) != value)
            fail(path, where + " is not an integer class index", "task");
          if (num_classes > 0 && (value < 0 || value >= num_classes))
            fail(path,
                 where + " is outside the class range [0, " + std::to_string(num_classes) + ")",
                 "num_classes");
          if (value < 0) fail(path, where + " is negative; class indices start at 0");
          if (value >= kMaxClasses)
            fail(path, where + " is larger than " + std::to_string(kMaxClasses - 1) +
                           ", the largest class index (at most " + std::to_string(kMaxClasses) +
                           " classes); is the label column the class index?");
        }
        targets.push_back(value);
      } else {
        values.push_back(static_cast<float>(value));
      }
    }
    ++samples;
  }

  if (samples == 0) fail(path, "no samples");
  CsvTable table;
  table.x = Eigen::Map<const Matrix>(values.data(), static_cast<Index>(features), samples);
  table.targets = std::move(targets);
  table.has_label = has_label;
  for (size_t c = 0; c < columns; ++c)
    if (c != label_index) table.feature_names.push_back(header[c]);
  return table;
}

}  // namespace

Dataset load_csv(const std::string& path, const std::string& label_column, Task task,
                 int num_classes, Index max_samples) {
  CsvTable table = read_csv_table(path, label_column, true, task, num_classes, max_samples);
  Dataset out = make_checked_dataset(std::move(table.x), table.targets, 1, task, num_classes, path);
  out.feature_names = std::move(table.feature_names);
  return out;
}

Matrix load_csv_features(const std::string& path, const std::string& label_column,
                         std::vector<std::string>* names) {
  CsvTable table = read_csv_table(path, label_column, false, Task::kRegression, 0, 0);
  if (names) *names = std::move(table.feature_names);
  return std::move(table.x);
}

}  // namespace hps
