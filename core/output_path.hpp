#pragma once
#include <string>

namespace hps {

/// Fails (std::runtime_error saying what and where) unless a result file can be written at
/// `path`: its directory exists and is writable, and the file does not exist unless
/// `overwrite`. Callers check before any work, so nothing is trained for a file that cannot
/// be written and no existing result is replaced without being asked.
void check_output_path(const std::string& path, bool overwrite);

}  // namespace hps
