#include "coordinator/terminal_text.hpp"

#include <cmath>
#include <cstdio>

#include "core/config.hpp"
#include "core/data_loader.hpp"
#include "core/hdf5_file.hpp"
#include "core/output_path.hpp"
#include "core/results_file.hpp"

namespace hps {

std::string printable(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\n' && c != '\t') || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

std::string decimal4(double value) {
  if (std::isnan(value)) return "nan";  // not "-nan", which printf writes for some NaNs
  char text[32];
  std::snprintf(text, sizeof text, std::abs(value) < 1e9 ? "%.4f" : "%.4e", value);
  return text;
}

int report_error(const std::exception& e, std::FILE* stream) {
  const char* kind = "";
  int code = kExitFailure;
  if (dynamic_cast<const ConfigError*>(&e) != nullptr) {
    kind = "config ";
    code = kExitBadInput;
  } else if (dynamic_cast<const DataError*>(&e) != nullptr) {
    kind = "data ";
    code = kExitBadInput;
  } else if (dynamic_cast<const OutputError*>(&e) != nullptr) {
    kind = "output ";
    code = kExitBadInput;
  } else if (dynamic_cast<const UsageError*>(&e) != nullptr) {
    kind = "usage ";
    code = kExitBadInput;
  } else if (dynamic_cast<const NotAResultFile*>(&e) != nullptr) {
    kind = "input ";
    code = kExitBadInput;
  } else if (dynamic_cast<const h5::Error*>(&e) != nullptr) {
    kind = "HDF5 ";
  }
  std::fprintf(stream, "hpsearch: %serror: %s\n", kind, printable(e.what()).c_str());
  return code;
}

}  // namespace hps
