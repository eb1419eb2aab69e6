#include "core/output_path.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace hps {
namespace fs = std::filesystem;

namespace {

/// What a file that is not a regular one is, for "output 'x' is <this>".
std::string kind_of(fs::file_type type) {
  switch (type) {
    case fs::file_type::directory:
      return "a directory";
    case fs::file_type::block:
      return "a block device";
    case fs::file_type::character:
      return "a character device";
    case fs::file_type::fifo:
      return "a FIFO (named pipe)";
    case fs::file_type::socket:
      return "a socket";
    default:
      return "not a regular file";
  }
}

/// The chattr flag (`i`, immutable, or `a`, append-only) with which the kernel lets nobody
/// replace the regular file `path`, root included; 0 when there is none, or when the file
/// system keeps no such flags. A rename over such a file fails (EPERM) only once the work that
/// was to replace it is done.
char unreplaceable_flag(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return 0;
  int flags = 0;
  const bool known = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
  ::close(fd);
  if (!known) return 0;
  if ((flags & FS_IMMUTABLE_FL) != 0) return 'i';
  if ((flags & FS_APPEND_FL) != 0) return 'a';
  return 0;
}

}  // namespace

std::vector<CommandInput> config_inputs(const std::string& config_path, const TrainConfig& config) {
  std::vector<CommandInput> inputs = {{config_path, "the config file '" + config_path + "'"}};
  for (const NamedDataFile& file : config.data_files) {
    const bool test = file.key.rfind("data.test", 0) == 0;
    inputs.push_back({file.path, std::string(test ? "the test data" : "the training data") + " '" +
                                     file.path + "' named at " + file.key + " (line " +
                                     std::to_string(file.line) + " of " + config_path + ")"});
  }
  return inputs;
}

void check_output_path(const std::string& path, bool overwrite,
                       const std::vector<CommandInput>& inputs) {
  const fs::path p(path);
  if (path.empty()) throw OutputError("output is empty: name a file");
  if (p.filename().empty()) throw OutputError("output '" + path + "' names a directory");
  // The working files of another output: writing one would wreck the command that owns it
  // (its lock guards FILE, not FILE.live), so they are never outputs themselves.
  const std::string name = p.filename().string();
  for (const char* suffix : {".lock", ".live", ".tmp", ".partial"}) {
    const std::string ending(suffix);
    const size_t at = name.rfind(ending);
    if (at != std::string::npos && at > 0 &&
        (at + ending.size() == name.size() || (ending == ".partial" && name[at + 8] == '-')))
      throw OutputError("output '" + path + "' ends in " + ending +
                        ", the name of a working file hpsearch keeps beside an output '" +
                        name.substr(0, at) + "'; choose another --out");
  }
  // The longest working file is train's '<name>.partial-<pid>' (pids have at most 7 digits): a
  // name that leaves it no room would fail only after the model had trained.
  constexpr std::size_t kLongestSuffix = sizeof(".partial-4194304") - 1;
  if (name.size() + kLongestSuffix > NAME_MAX)
    throw OutputError("output '" + path + "': a file name of " + std::to_string(name.size()) +
                      " characters leaves no room for the working files hpsearch keeps beside "
                      "it (NAME.partial-<pid>; file names have at most " +
                      std::to_string(NAME_MAX) + " characters): use at most " +
                      std::to_string(NAME_MAX - kLongestSuffix));
  // symlink_status: the link itself, so a dangling one is not taken for a free name.
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(p, ec);
  if (ec && status.type() != fs::file_type::not_found)
    throw OutputError("cannot check output '" + path + "': " + ec.message());
  const bool exists = fs::exists(status);
  if (status.type() == fs::file_type::symlink) {
    const fs::path target = fs::read_symlink(p, ec);
    const bool dangling = !fs::exists(p, ec);
    throw OutputError(
        "output '" + path + "' is a symbolic link" +
        (target.empty() ? "" : " to '" + target.string() + "'") + (dangling ? " (dangling)" : "") +
        "; hpsearch replaces neither a link nor what it points to, even with --force: "
        "choose another --out");
  }
  if (status.type() == fs::file_type::directory)
    throw OutputError("output '" + path + "' is a directory");
  if (exists && status.type() != fs::file_type::regular)
    throw OutputError("output '" + path + "' is " + kind_of(status.type()) +
                      ", not a regular file; hpsearch does not replace it, even with "
                      "--force: choose another --out");
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    throw OutputError("output directory '" + dir.string() + "' does not exist");
  if (access(dir.c_str(), W_OK) != 0)
    throw OutputError("output directory '" + dir.string() +
                      "' is not writable: " + std::strerror(errno));
  if (!exists) return;
  // Before the --force advice, so nobody is told to force what would destroy an input.
  for (const CommandInput& input : inputs)
    if (fs::equivalent(p, input.path, ec) && !ec)
      throw OutputError("output '" + path + "' is " + input.what +
                        ": writing there would destroy an input; choose another --out");
  if (!overwrite)
    throw OutputError("output '" + path + "' already exists; pass --force to replace it");
  if (const char flag = unreplaceable_flag(path); flag != 0)
    throw OutputError("output '" + path + "' is " +
                      (flag == 'i' ? "immutable (chattr +i)" : "append-only (chattr +a)") +
                      ": nobody may replace it, hpsearch included; clear the flag (chattr -" +
                      flag + " '" + path + "') or choose another --out");
}

namespace {

/// Creates `path` exclusively (O_EXCL | O_NOFOLLOW) with `mode` before the umask: whatever
/// appears there first is never followed or truncated.
int create_new_file(const std::string& path, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0 && errno == EEXIST)
    throw OutputError("'" + path +
                      "' appeared while this command ran (another process wrote it); nothing "
                      "was written there: remove it and run again");
  if (fd < 0) throw std::runtime_error("cannot create '" + path + "': " + std::strerror(errno));
  return fd;
}

/// Writes all `size` bytes to `fd` (the file `path`); the reason when it cannot, else empty.
std::string write_all(int fd, const char* data, size_t size, const std::string& path) {
  size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, data + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "cannot write '" + path + "': " + std::strerror(n < 0 ? errno : EIO);
    written += static_cast<size_t>(n);
  }
  return "";
}

/// Closes `fd` (the new file `path`); on `failure`, or if closing fails, removes `path` and
/// throws the reason.
void close_new_file(int fd, const std::string& path, std::string failure) {
  if (::close(fd) != 0 && failure.empty())
    failure = "cannot write '" + path + "': " + std::strerror(errno);
  if (failure.empty()) return;
  ::unlink(path.c_str());
  throw std::runtime_error(failure);
}

}  // namespace

std::string default_output_path(const std::string& config_path, const std::string& suffix) {
  std::error_code ec;
  const fs::file_type type = fs::status(config_path, ec).type();
  if (type != fs::file_type::regular)
    throw OutputError("no --out given, and the config " + config_path + " is " + kind_of(type) +
                      ", not a file to name the output after; give --out");
  fs::create_directories("results");
  return "results/" + fs::path(config_path).stem().string() + suffix;
}

void write_new_file(const std::string& path, const std::string& bytes) {
  const int fd = create_new_file(path, 0666);  // 0666 before the umask, as std::ofstream does
  close_new_file(fd, path, write_all(fd, bytes.data(), bytes.size(), path));
}

void remove_leftover_working_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw OutputError("cannot remove the leftover working file '" + path +
                      "': " + std::strerror(errno) + "; remove it or choose another --out");
}

OutputLock::OutputLock(const std::string& path) {
  const std::string lock_path = path + ".lock";
  // O_NOFOLLOW and the type check: the pid written below must not truncate what a planted
  // link or special file stands for; O_NONBLOCK: opening a FIFO or device must not hang.
  fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
  if (fd_ < 0 && errno == ELOOP)
    throw OutputError("lock file '" + lock_path +
                      "' is a symbolic link; remove it or choose another --out");
  if (fd_ < 0)
    throw OutputError("cannot create lock file '" + lock_path + "': " + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd_, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw OutputError("lock file '" + lock_path +
                      "' is not a regular file; remove it or choose another --out");
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char holder[32] = {};
    const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
    ::close(fd_);
    fd_ = -1;
    throw OutputError(
        "output '" + path + "' is being written by another hpsearch command" +
        (n > 0 ? " (pid " + std::string(holder, static_cast<size_t>(n)) + ")" : std::string()) +
        "; wait for it to end or choose another --out");
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for the message above; the lock itself holds.
  }
}

void copy_to_new_file(const std::string& from, const std::string& to) {
  remove_leftover_working_file(to);
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw std::runtime_error("cannot read '" + from + "': " + std::strerror(errno));
  struct stat st {};
  const bool stated = ::fstat(in, &st) == 0;
  if (!stated || !S_ISREG(st.st_mode)) {
    const std::string reason = stated ? "not a regular file" : std::strerror(errno);
    ::close(in);
    throw std::runtime_error("cannot copy '" + from + "': " + reason);
  }
  int out = -1;
  try {
    out = create_new_file(to, st.st_mode & 07777);
  } catch (...) {
    ::close(in);
    throw;
  }
  std::string failure;
  std::vector<char> buffer(std::size_t{1} << 20);
  while (failure.empty()) {
    const ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failure = "cannot read '" + from + "': " + std::strerror(errno);
    if (n <= 0) break;
    failure = write_all(out, buffer.data(), static_cast<size_t>(n), to);
  }
  ::close(in);
  close_new_file(out, to, failure);
}

OutputLock::~OutputLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock; the file stays, harmless
}

}  // namespace hps
