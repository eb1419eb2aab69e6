#pragma once
// Reading YAML config files. Every error these helpers throw is a ConfigError (core/config.hpp)
// whose message reads "<file>:<line>: <key.path>: <problem>", lines 1-based, so a config parser
// built on them gets precise messages without formatting any itself.
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace hps {

/// Parses `text` as exactly one YAML document. Throws ConfigError naming `source_name` for a
/// syntax error (with yaml-cpp's line and column), an empty document or several documents.
YAML::Node parse_yaml(const std::string& text, const std::string& source_name);

/// Throws ConfigError "<source>:<line>: <path>: <problem>" ("<source>:<line>: <problem>" when
/// `path` is empty). `line` is 1-based; 0 leaves it out.
[[noreturn]] void throw_config_error(const std::string& source_name, int line,
                                     const std::string& path, const std::string& problem);

/// The whole text of config file `path`; ConfigError "cannot read config file '<path>': <why>".
std::string read_config_file(const std::string& path);

/// The folder relative paths in config file `path` are resolved against: its own, or the
/// working directory for a config read from a pipe.
std::string config_dir_of(const std::string& path);

/// Shortest text that reads back as `value` (0.1, not 0.10000000000000001), for messages.
std::string number_text(double value);

/// Levenshtein distance: the fewest single-character insertions, deletions and substitutions
/// that turn `a` into `b`.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate nearest to `word`, if it is within max(2, |word| / 3) edits; otherwise "".
/// Ties go to the earlier candidate.
std::string nearest_match(std::string_view word, const std::vector<std::string>& candidates);

/// "a, b, c"
std::string join_words(const std::vector<std::string>& words);

/// The accepted spellings of an enumerated setting and the value each one means, in the order
/// an error message should list them.
template <typename E>
using Choices = std::vector<std::pair<std::string, E>>;

/// A YAML node together with where it is: the file, its dotted key path (`training.batch_size`,
/// `model.hidden[1]`) and the 1-based line of its key. A key that is absent from its map is still
/// a ConfigNode, one that is not present() and that reports its parent's line, so optional
/// blocks read like present ones: reading from an absent or empty (`model:`) block finds no keys.
class ConfigNode {
 public:
  /// The root of a document read from `source_name`.
  ConfigNode(YAML::Node root, std::string source_name);

  /// False for a key the map does not have.
  bool present() const { return present_; }
  const YAML::Node& yaml() const { return node_; }
  const std::string& path() const { return path_; }
  const std::string& source_name() const { return source_name_; }
  /// 1-based line of the key (of the item, for a list item).
  int line() const { return line_; }

  /// Throws ConfigError "<file>:<line>: <path>: <problem>".
  [[noreturn]] void fail(const std::string& problem) const;

  /// Requires a map (or nothing: absent and empty blocks are empty maps). A scalar or a list
  /// fails with "expected a map of keys, got ...".
  void expect_map() const;
  /// Rejects duplicate keys and keys outside `known`; an unknown key's error suggests the
  /// nearest known key ("unknown key 'batchsize' in 'training' (did you mean 'batch_size'?)").
  /// Implies expect_map().
  void check_keys(const std::vector<std::string>& known) const;
  /// The keys of this map, in document order (empty unless it is a map).
  std::vector<std::string> keys() const;
  bool has(const std::string& key) const;
  /// The value under `key`; not present() when the map lacks it.
  ConfigNode child(const std::string& key) const;
  /// The value under `key`; fails "missing required key '<key>'<note>" when the map lacks it.
  ConfigNode require(const std::string& key, const std::string& note = "") const;

  /// The items of a list; fails "expected <what>, got ..." for anything else.
  std::vector<ConfigNode> items(const std::string& what = "a list") const;

  /// Scalar readers. Each fails "expected <kind>, got '<text>'" when the value does not parse.
  bool as_bool() const;  ///< true/false (also True/TRUE/False/FALSE)
  /// Base-10 integer within [min, max]; a value outside fails as out of range.
  int64_t as_int64(int64_t min = std::numeric_limits<int64_t>::min(),
                   int64_t max = std::numeric_limits<int64_t>::max()) const;
  uint64_t as_uint64(uint64_t max = std::numeric_limits<uint64_t>::max()) const;
  double as_double() const;  ///< finite; integers are numbers too
  std::string as_string() const;
  /// A list of integers, each within [min, max]; fails "expected a list of integers".
  std::vector<int64_t> as_int64_list(int64_t min = std::numeric_limits<int64_t>::min(),
                                     int64_t max = std::numeric_limits<int64_t>::max()) const;

  /// One of `choices`; fails "must be one of: a, b, c (got 'd')".
  template <typename E>
  E as_choice(const Choices<E>& choices) const {
    if (is_scalar())
      for (const auto& [name, value] : choices)
        if (name == node_.Scalar()) return value;
    std::vector<std::string> names;
    for (const auto& choice : choices) names.push_back(choice.first);
    fail("must be one of: " + join_words(names) + " (got " + describe() + ")");
  }

  /// The value as T: bool, any integer type (checked against its range), float or double,
  /// std::string, or a std::vector of an integer type.
  template <typename T>
  T as() const {
    if constexpr (std::is_same_v<T, bool>) {
      return as_bool();
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      return static_cast<T>(as_int64(std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
    } else if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(as_uint64(std::numeric_limits<T>::max()));
    } else if constexpr (std::is_floating_point_v<T>) {
      return static_cast<T>(as_double());
    } else if constexpr (std::is_same_v<T, std::string>) {
      return as_string();
    } else {
      static_assert(is_integer_vector<T>::value, "ConfigNode::as<T>: unsupported type");
      using Item = typename T::value_type;
      const std::vector<int64_t> values =
          as_int64_list(std::numeric_limits<Item>::min(), std::numeric_limits<Item>::max());
      return T(values.begin(), values.end());
    }
  }

  /// Stores the value under `key` in `out` when the map has it; otherwise leaves `out` (its
  /// default) alone. Returns whether the key was there.
  template <typename T>
  bool read(const std::string& key, T& out) const {
    const ConfigNode value = child(key);
    if (!value.present()) return false;
    out = value.as<T>();
    return true;
  }

  /// read() for an enumerated setting.
  template <typename E>
  bool read_choice(const std::string& key, const Choices<E>& choices, E& out) const {
    const ConfigNode value = child(key);
    if (!value.present()) return false;
    out = value.as_choice(choices);
    return true;
  }

 private:
  template <typename T>
  struct is_integer_vector : std::false_type {};
  template <typename Item>
  struct is_integer_vector<std::vector<Item>>
      : std::bool_constant<std::is_integral_v<Item> && !std::is_same_v<Item, bool>> {};

  ConfigNode(YAML::Node node, std::string source_name, std::string path, int line, bool present);
  std::string child_path(const std::string& key) const;
  bool is_scalar() const;
  /// What the value is, for "got ..." in messages: 'text', a list, a map or an empty value.
  std::string describe() const;
  /// The scalar text, failing "expected <kind>, got ..." for a list, a map or nothing.
  const std::string& scalar(const std::string& kind) const;

  YAML::Node node_;
  std::string source_name_;
  std::string path_;
  int line_ = 1;
  bool present_ = true;
};

/// The 1-based line of every key path in a document (`data.train.images`, `model.hidden[1]`).
/// Checks made after parsing, on plain structs, use it to say where a value was written.
class KeyLines {
 public:
  KeyLines(const YAML::Node& root, std::string source_name);

  bool has(const std::string& path) const { return lines_.count(path) != 0; }
  /// The line of `path`, else of its nearest ancestor in the document, else of the root.
  int line(const std::string& path) const;
  const std::string& source_name() const { return source_name_; }
  /// The line of every key path that starts with `prefix` ("data" gives "data", "data.task",
  /// "data.train.path", ...).
  std::map<std::string, int> under(const std::string& prefix) const;

  /// Throws ConfigError "<file>:<line(path)>: <path>: <problem>".
  [[noreturn]] void fail(const std::string& path, const std::string& problem) const;

 private:
  void index(const YAML::Node& node, const std::string& path, int depth);

  std::string source_name_;
  std::unordered_map<std::string, int> lines_;
  int root_line_ = 1;
};

}  // namespace hps
