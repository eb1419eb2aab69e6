#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace hps {

/// An output a command may not write (exit code 2, like a bad config): what and where.
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TrainConfig;

/// A file a command reads, which its output must never replace.
struct CommandInput {
  std::string path;
  std::string what;  ///< how a message names it: "the config file", "the --data file"
};

/// The inputs of a command that reads the config file `config_path`, parsed as `config`: the
/// file itself and every data file it names, each described by its key and line.
std::vector<CommandInput> config_inputs(const std::string& config_path, const TrainConfig& config);

/// Fails (OutputError saying what and where) unless a result file can be written at
/// `path`: its directory exists and is writable; nothing is there, or, with `overwrite`, a
/// regular file that is none of `inputs` (std::filesystem::equivalent, so another spelling
/// or a hard link of an input counts too) and that the kernel lets be replaced (not chattr +i
/// or +a, which stop root too). Symbolic links, dangling or not, directories,
/// devices, FIFOs and sockets are refused even with `overwrite`: replacing them, or what they
/// point to, is never what was asked. Callers check before any work, so nothing is trained
/// for a file that cannot be written and no existing file is replaced without being asked.
void check_output_path(const std::string& path, bool overwrite,
                       const std::vector<CommandInput>& inputs = {});

/// The output a command writes when not given one: `results/<config name><suffix>`, with
/// `results/` created. A config read from a pipe or device (`<(...)`, /dev/stdin) names no
/// file to follow, and its /dev/fd number would give every such run one name: that is an
/// OutputError asking for --out.
std::string default_output_path(const std::string& config_path, const std::string& suffix);

/// Creates `path`, which must not exist, and writes `bytes` to it. The file is created with
/// O_EXCL | O_NOFOLLOW, so whatever appears at `path` first (a link planted there, another
/// writer's file) is never followed or truncated: that is an OutputError naming the path.
/// Other failures (disk full, no permission) throw std::runtime_error with the reason.
void write_new_file(const std::string& path, const std::string& bytes);

/// Removes `path`, a working file a killed command may have left beside an output this command
/// has locked (the link itself if it is one, never what it points to); nothing there is fine.
/// Throws OutputError saying what to do when it cannot.
void remove_leftover_working_file(const std::string& path);

/// Makes `to` a copy of the regular file `from`, for a working file beside an output whose
/// lock this command holds (`<out>.live`, `<out>.tmp`). Whatever is at `to` first (left by a
/// killed run, or a link planted there) is unlinked, never followed, and the copy is created
/// with O_EXCL | O_NOFOLLOW and `from`'s permission bits: no file but `to` is ever written.
/// Throws OutputError if something reappears at `to` in between, std::runtime_error with the
/// reason on other failures (leaving no partial `to`).
void copy_to_new_file(const std::string& from, const std::string& to);

}  // namespace hps

namespace hps {

/// Holds an exclusive lock on `<path>.lock` (flock) for its lifetime, so two commands never
/// write one output file. The kernel drops the lock when the process dies, even by kill -9.
/// Take it after check_output_path, so no lock file appears beside a refused output.
class OutputLock {
 public:
  /// Throws OutputError naming the file (and the holder's pid when known) if another
  /// process holds the lock, or if `<path>.lock` is a symbolic link or not a regular file.
  explicit OutputLock(const std::string& path);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace hps
