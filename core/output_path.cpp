#include "core/output_path.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace hps {
namespace fs = std::filesystem;

void check_output_path(const std::string& path, bool overwrite) {
  const fs::path p(path);
  if (p.filename().empty()) throw std::runtime_error("output '" + path + "' names a directory");
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw std::runtime_error("output directory '" + dir.string() + "' does not exist");
  if (access(dir.c_str(), W_OK) != 0)
    throw std::runtime_error("output directory '" + dir.string() +
                             "' is not writable: " + std::strerror(errno));
  if (fs::is_directory(p, ec)) throw std::runtime_error("output '" + path + "' is a directory");
  if (fs::exists(p, ec) && !overwrite)
    throw std::runtime_error("output '" + path + "' already exists; pass --force to replace it");
}

OutputLock::OutputLock(const std::string& path) {
  const std::string lock_path = path + ".lock";
  fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw std::runtime_error("cannot create lock file '" + lock_path +
                             "': " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char holder[32] = {};
    const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(
        "output '" + path + "' is being written by another search" +
        (n > 0 ? " (pid " + std::string(holder, static_cast<size_t>(n)) + ")" : std::string()) +
        "; wait for it to end or choose another --out");
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for the message above; the lock itself holds.
  }
}

OutputLock::~OutputLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock; the file stays, harmless
}

}  // namespace hps
