#pragma once
#include <string>

namespace hps {

/// Fails (std::runtime_error saying what and where) unless a result file can be written at
/// `path`: its directory exists and is writable, and the file does not exist unless
/// `overwrite`. Callers check before any work, so nothing is trained for a file that cannot
/// be written and no existing result is replaced without being asked.
void check_output_path(const std::string& path, bool overwrite);

}  // namespace hps

namespace hps {

/// Holds an exclusive lock on `<path>.lock` (flock) for its lifetime, so two searches never
/// write one result file. The kernel drops the lock when the process dies, even by kill -9.
class OutputLock {
 public:
  /// Throws std::runtime_error naming the file (and the holder's pid when known) if another
  /// process holds the lock.
  explicit OutputLock(const std::string& path);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace hps
