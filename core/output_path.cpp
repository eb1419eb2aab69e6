#include "core/output_path.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

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

}  // namespace hps
