#include "core/yaml_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/depthguard.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <system_error>

#include "core/config.hpp"

namespace hps {
namespace {

/// yaml-cpp marks are 0-based and -1 when unknown.
int line_of(const YAML::Node& node, int fallback) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : fallback;
}

/// Drops one leading '+', which YAML allows on numbers and std::from_chars does not.
std::string_view unsigned_text(const std::string& text) {
  std::string_view view = text;
  if (!view.empty() && view.front() == '+') view.remove_prefix(1);
  return view;
}

/// The whole of `text` as a base-10 integer; ec is result_out_of_range past int64's range.
template <typename Int>
std::errc parse_integer(const std::string& text, Int& out) {
  const std::string_view view = unsigned_text(text);
  if (view.empty()) return std::errc::invalid_argument;
  const auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), out);
  if (ec == std::errc() && end != view.data() + view.size()) return std::errc::invalid_argument;
  return ec;
}

/// `text` in quotes for a message; a very long value (a number with 100,000 digits) is cut to
/// its start, with its length.
std::string quoted(const std::string& text) {
  constexpr std::size_t kShown = 40;
  if (text.size() <= kShown + 20) return "'" + text + "'";
  return "'" + text.substr(0, kShown) + "...' (" + std::to_string(text.size()) + " characters)";
}

/// Why an integer `text` is refused for the range [min, max] it is outside of: "expected an
/// integer in [1, 100], got '0'". A bound at a type's limit (the int64 or int range a key is
/// read in, when a later check gives its real range) says nothing about the key, so a value
/// past one is named alone: "too large" rather than "in [-2147483648, 2147483647]", which
/// offered negative values to keys that refuse them.
std::string out_of_range(const std::string& text, int64_t min, int64_t max) {
  constexpr int64_t kTypeLimit = std::numeric_limits<int32_t>::max();
  if (min < -kTypeLimit)
    return "got " + quoted(text) +
           (text.rfind('-', 0) == 0 ? ", a number too far below zero for any setting"
                                    : ", which is too large (at most " + std::to_string(max) + ")");
  return "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
         quoted(text);
}

// Where the innermost `want` (`[` or `{`) still open before line `line` (1-based) was opened,
// as " (the '[' at line 5, column 11 is not closed)", or "" if none is. yaml-cpp reports a
// missing `]` or `}` where it gave up looking, often lines later. Quoted scalars (a quote that
// starts a value) and comments are skipped; a bracket inside a plain scalar (`name: a[1]`) can
// mislead it, so it only adds to yaml-cpp's message.
std::string unclosed_flow(const std::string& text, int line, char want) {
  struct Open {
    char bracket;
    int line, column;
  };
  std::vector<Open> open;
  int at_line = 1, column = 0;
  char quote = 0;
  bool comment = false, escaped = false;
  char previous = '\n', last_token = '\n';  // the character before; the last non-blank one
  for (const char c : text) {
    if (c == '\n') {
      if (++at_line > line) break;
      column = 0;
      comment = false;
      previous = last_token = c;
      continue;
    }
    ++column;
    if (comment) continue;
    if (quote != 0) {
      if (escaped)
        escaped = false;
      else if (quote == '"' && c == '\\')
        escaped = true;
      else if (c == quote)
        quote = 0;
    } else if ((c == '\'' || c == '"') &&
               std::string_view("\n:,[{-?").find(last_token) != std::string_view::npos) {
      quote = c;
    } else if (c == '#' && (previous == ' ' || previous == '\t' || previous == '\n')) {
      comment = true;
    } else if (c == '[' || c == '{') {
      open.push_back({c, at_line, column});
    } else if ((c == ']' || c == '}') && !open.empty()) {
      open.pop_back();
    }
    previous = c;
    if (c != ' ' && c != '\t') last_token = c;
  }
  for (auto it = open.rbegin(); it != open.rend(); ++it)
    if (it->bracket == want)
      return std::string(" (the '") + want + "' at line " + std::to_string(it->line) + ", column " +
             std::to_string(it->column) + " is not closed)";
  return "";
}

}  // namespace

YAML::Node parse_yaml(const std::string& text, const std::string& source_name) {
  // yaml-cpp decodes a UTF-16 byte order mark and turns the rest into other characters, which
  // the messages below would quote as such.
  if (text.rfind("\xff\xfe", 0) == 0 || text.rfind("\xfe\xff", 0) == 0)
    throw ConfigError(source_name +
                      ":1: not UTF-8 text: it starts with a UTF-16 byte order mark (save the "
                      "config as UTF-8)");
  // YAML allows no control characters but tab and line breaks. Refusing them here keeps a
  // binary file's bytes out of the messages below, which would print them raw.
  const auto control = std::find_if(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\t' && c != '\n' && c != '\r') || byte == 0x7f;
  });
  if (control != text.end()) {
    char code[8];
    std::snprintf(code, sizeof code, "0x%02x", static_cast<unsigned char>(*control));
    throw ConfigError(source_name + ":" +
                      std::to_string(1 + std::count(text.begin(), control, '\n')) +
                      ": not a YAML text file: byte " + std::to_string(control - text.begin()) +
                      " is the control character " + code);
  }
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp calls this "bad file".
    throw ConfigError(source_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                      std::to_string(e.mark.column + 1) +
                      ": invalid YAML: nested too deeply (yaml-cpp stops at " +
                      std::to_string(e.depth()) + " levels; a config needs a few)");
  } catch (const YAML::ParserException& e) {
    // Keep yaml-cpp's own position: the column matters for flow syntax like [1, 2.
    // yaml-cpp's "end of sequence flow not found" / "end of map flow not found".
    std::string where;
    if (e.msg.find("sequence flow") != std::string::npos)
      where = unclosed_flow(text, e.mark.line + 1, '[');
    else if (e.msg.find("map flow") != std::string::npos)
      where = unclosed_flow(text, e.mark.line + 1, '{');
    throw ConfigError(source_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                      std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg + where);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source_name + ": invalid YAML: " + e.what());
  }
  if (documents.empty() || (documents.size() == 1 && documents.front().IsNull()))
    throw ConfigError(source_name + ": the config is empty (expected a YAML map of settings)");
  if (documents.size() > 1)
    throw ConfigError(source_name + ":" + std::to_string(line_of(documents[1], 1)) +
                      ": expected one YAML document, found " + std::to_string(documents.size()) +
                      " (separated by '---')");
  return documents.front();
}

void throw_config_error(const std::string& source_name, int line, const std::string& path,
                        const std::string& problem) {
  std::string message = source_name;
  if (line > 0) message += ":" + std::to_string(line);
  message += ": ";
  if (!path.empty()) message += path + ": ";
  throw ConfigError(message + problem);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Two rows of the classic dynamic programme: row[j] is the distance between the first i
  // characters of a and the first j of b.
  std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitute});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::string nearest_match(std::string_view word, const std::vector<std::string>& candidates) {
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string join_words(const std::vector<std::string>& words) {
  std::string joined;
  for (const std::string& word : words) {
    if (!joined.empty()) joined += ", ";
    joined += word;
  }
  return joined;
}

ConfigNode::ConfigNode(YAML::Node root, std::string source_name)
    : node_(std::move(root)), source_name_(std::move(source_name)), line_(line_of(node_, 1)) {}

ConfigNode::ConfigNode(YAML::Node node, std::string source_name, std::string path, int line,
                       bool present)
    : node_(std::move(node)),
      source_name_(std::move(source_name)),
      path_(std::move(path)),
      line_(line),
      present_(present) {}

void ConfigNode::fail(const std::string& problem) const {
  throw_config_error(source_name_, line_, path_, problem);
}

bool ConfigNode::is_scalar() const { return present_ && node_.IsScalar(); }

std::string ConfigNode::describe() const {
  if (!present_ || !node_.IsDefined() || node_.IsNull()) return "an empty value";
  if (node_.IsSequence()) return "a list";
  if (node_.IsMap()) return "a map";
  return quoted(node_.Scalar());
}

void ConfigNode::expect_map() const {
  if (!present_ || node_.IsNull() || node_.IsMap()) return;
  fail("expected a map of keys, got " + describe());
}

void ConfigNode::check_keys(const std::vector<std::string>& known) const {
  expect_map();
  if (!present_ || !node_.IsMap()) return;
  std::unordered_map<std::string, int> seen;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const YAML::Node key = it->first;
    const int line = line_of(key, line_);
    if (!key.IsScalar())
      throw_config_error(
          source_name_, line, path_,
          "keys must be plain names, got " + ConfigNode(key, source_name_).describe());
    const std::string& name = key.Scalar();
    if (const auto [first, inserted] = seen.emplace(name, line); !inserted)
      throw_config_error(
          source_name_, line, child_path(name),
          "duplicate key (first given at line " + std::to_string(first->second) + ")");
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    const std::string where = path_.empty() ? "at the top level" : "in '" + path_ + "'";
    // yaml-cpp reads a merge key as a key named "<<", which no edit distance explains.
    if (name == "<<" && key.Tag() == "?")
      throw_config_error(
          source_name_, line, "",
          "YAML merge keys ('<<') are not supported " + where + "; write the keys out");
    const std::string suggestion = nearest_match(name, known);
    throw_config_error(source_name_, line, "",
                       "unknown key '" + name + "' " + where +
                           (suggestion.empty() ? " (known keys: " + join_words(known) + ")"
                                               : " (did you mean '" + suggestion + "'?)"));
  }
}

std::vector<std::string> ConfigNode::keys() const {
  std::vector<std::string> names;
  if (!present_ || !node_.IsMap()) return names;
  for (auto it = node_.begin(); it != node_.end(); ++it)
    if (it->first.IsScalar()) names.push_back(it->first.Scalar());
  return names;
}

bool ConfigNode::has(const std::string& key) const { return child(key).present(); }

std::string ConfigNode::child_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

ConfigNode ConfigNode::child(const std::string& key) const {
  expect_map();
  if (present_ && node_.IsMap()) {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key)
        return ConfigNode(it->second, source_name_, child_path(key), line_of(it->first, line_),
                          true);
    }
  }
  return ConfigNode(YAML::Node(), source_name_, child_path(key), line_, false);
}

ConfigNode ConfigNode::require(const std::string& key, const std::string& note) const {
  ConfigNode value = child(key);
  if (!value.present()) fail("missing required key '" + key + "'" + note);
  return value;
}

std::vector<ConfigNode> ConfigNode::items(const std::string& what) const {
  if (!present_ || !node_.IsSequence()) fail("expected " + what + ", got " + describe());
  std::vector<ConfigNode> result;
  result.reserve(node_.size());
  for (std::size_t i = 0; i < node_.size(); ++i) {
    const YAML::Node item = node_[i];
    result.push_back(ConfigNode(item, source_name_, path_ + "[" + std::to_string(i) + "]",
                                line_of(item, line_), true));
  }
  return result;
}

const std::string& ConfigNode::scalar(const std::string& kind) const {
  if (!is_scalar()) fail("expected " + kind + ", got " + describe());
  return node_.Scalar();
}

bool ConfigNode::as_bool() const {
  const std::string& text = scalar("a boolean (true/false)");
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  fail("expected a boolean (true/false), got " + quoted(text));
}

int64_t ConfigNode::as_int64(int64_t min, int64_t max) const {
  const std::string& text = scalar("an integer");
  int64_t value = 0;
  const std::errc ec = parse_integer(text, value);
  if (ec == std::errc::invalid_argument) fail("expected an integer, got " + quoted(text));
  if (ec != std::errc() || value < min || value > max) fail(out_of_range(text, min, max));
  return value;
}

uint64_t ConfigNode::as_uint64(uint64_t max) const {
  const std::string& text = scalar("a non-negative integer");
  uint64_t value = 0;
  const std::errc ec =
      text.rfind('-', 0) == 0 ? std::errc::invalid_argument : parse_integer(text, value);
  if (ec == std::errc::invalid_argument)
    fail("expected a non-negative integer, got " + quoted(text));
  if (ec != std::errc() || value > max)
    fail("expected an integer in [0, " + std::to_string(max) + "], got " + quoted(text));
  return value;
}

double ConfigNode::as_double() const {
  const std::string& text = scalar("a number");
  const std::string_view view = unsigned_text(text);
  double value = 0.0;
  const auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), value);
  const bool whole = ec == std::errc() && end == view.data() + view.size() && !view.empty();
  // YAML spells infinity .inf and not-a-number .nan; no setting here accepts either.
  const bool yaml_special = text == ".inf" || text == "-.inf" || text == "+.inf" ||
                            text == ".Inf" || text == ".INF" || text == ".nan" || text == ".NaN" ||
                            text == ".NAN";
  const bool out_of_range = ec == std::errc::result_out_of_range;
  // from_chars says out of range for underflow too: 1e-400 is finite, only too small.
  if (out_of_range && std::fabs(std::strtod(std::string(view).c_str(), nullptr)) < 1.0)
    fail("got " + quoted(text) +
         ", which is too close to zero for a double (the smallest is about 4.9e-324); "
         "write 0 or a larger number");
  if (yaml_special || out_of_range || (whole && !std::isfinite(value)))
    fail("expected a finite number, got " + quoted(text));
  if (!whole) fail("expected a number, got " + quoted(text));
  return value;
}

std::string ConfigNode::as_string() const { return scalar("a string"); }

std::vector<int64_t> ConfigNode::as_int64_list(int64_t min, int64_t max) const {
  const std::string what = "a list of integers";
  std::vector<int64_t> values;
  for (const ConfigNode& item : items(what)) {
    if (!item.is_scalar()) item.fail("expected " + what + ", got " + item.describe());
    int64_t value = 0;
    const std::errc ec = parse_integer(item.node_.Scalar(), value);
    if (ec == std::errc::invalid_argument)
      item.fail("expected " + what + ", got " + item.describe());
    if (ec != std::errc() || value < min || value > max)
      item.fail(out_of_range(item.node_.Scalar(), min, max));
    values.push_back(value);
  }
  return values;
}

KeyLines::KeyLines(const YAML::Node& root, std::string source_name)
    : source_name_(std::move(source_name)), root_line_(line_of(root, 1)) {
  index(root, "", 0);
}

void KeyLines::index(const YAML::Node& node, const std::string& path, int depth) {
  const int parent_line = path.empty() ? root_line_ : lines_.at(path);
  // An alias inside the node it names (x: &a [*a]) makes the document infinite, and aliases
  // of aliases make it exponential: no config needs more than a few levels or this many keys.
  constexpr int kMaxDepth = 32;
  constexpr std::size_t kMaxEntries = 200000;
  if (depth > kMaxDepth)
    throw_config_error(source_name_, parent_line, path,
                       "nested more than " + std::to_string(kMaxDepth) +
                           " levels deep (an alias used inside the node it names?)");
  if (lines_.size() > kMaxEntries)
    throw_config_error(source_name_, parent_line, path,
                       "the document expands to more than " + std::to_string(kMaxEntries) +
                           " keys and list items (aliases of aliases?)");
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) continue;
      const std::string child = path.empty() ? it->first.Scalar() : path + "." + it->first.Scalar();
      // A duplicate key keeps its first line, matching the value ConfigNode::child() reads.
      if (lines_.emplace(child, line_of(it->first, parent_line)).second)
        index(it->second, child, depth + 1);
    }
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string child = path + "[" + std::to_string(i) + "]";
      lines_.emplace(child, line_of(node[i], parent_line));
      index(node[i], child, depth + 1);
    }
  }
}

int KeyLines::line(const std::string& path) const {
  std::string current = path;
  while (!current.empty()) {
    if (const auto found = lines_.find(current); found != lines_.end()) return found->second;
    const std::size_t cut = current.find_last_of(".[");
    current.resize(cut == std::string::npos ? 0 : cut);
  }
  return root_line_;
}

std::map<std::string, int> KeyLines::under(const std::string& prefix) const {
  std::map<std::string, int> found;
  for (const auto& [path, line] : lines_) {
    const bool below = path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
                       (path[prefix.size()] == '.' || path[prefix.size()] == '[');
    if (path == prefix || below) found.emplace(path, line);
  }
  return found;
}

void KeyLines::fail(const std::string& path, const std::string& problem) const {
  throw_config_error(source_name_, line(path), path, problem);
}

std::string read_config_file(const std::string& path) {
  const auto fail = [&path](const std::string& why) {
    throw ConfigError("cannot read config file '" + path + "': " + why);
  };
  // O_NONBLOCK: opening a FIFO that nothing writes to would otherwise wait for a writer
  // forever. Reading blocks again below, so a pipe (`<(...)`, /dev/stdin) is read whole.
  struct Descriptor {
    int fd;
    ~Descriptor() {
      if (fd >= 0) ::close(fd);
    }
  } const file{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  const int fd = file.fd;
  if (fd < 0) fail(std::generic_category().message(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0) fail(std::generic_category().message(errno));
  if (S_ISDIR(info.st_mode)) fail("it is a directory");
  const bool fifo = S_ISFIFO(info.st_mode);
  // A device (a terminal, /dev/zero) could be read forever, a socket not at all.
  if (!S_ISREG(info.st_mode) && !fifo) fail("not a regular file or a pipe (a device or socket)");
  if (fifo && ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
    fail(std::generic_category().message(errno));
  // A config is a few kilobytes; a pipe that never ends must not fill the memory.
  constexpr std::size_t kMaxBytes = std::size_t{16} << 20;
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(std::generic_category().message(errno));
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxBytes)
      fail("it is larger than " + std::to_string(kMaxBytes >> 20) +
           " MiB, which no config is (is it the right file?)");
  }
  if (fifo && text.empty())
    fail("a pipe with nothing written to it (hpsearch does not wait for a writer)");
  return text;
}

std::string config_dir_of(const std::string& path) {
  // A config from a pipe (`<(...)` is /dev/fd/63) has no folder of its own: its paths are
  // relative to where the command runs, as they were where the pipe's text came from.
  std::error_code ec;
  if (std::filesystem::is_fifo(path, ec)) return ".";
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

std::string number_text(double value) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

}  // namespace hps
