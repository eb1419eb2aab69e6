#include "core/trial.hpp"

#include <cstdio>

namespace hps {
namespace {

struct ValuePrinter {
  std::string operator()(double value) const {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", value);
    return buffer;
  }
  std::string operator()(int64_t value) const { return std::to_string(value); }
  std::string operator()(const std::string& value) const { return value; }
  std::string operator()(const std::vector<int64_t>& widths) const {
    std::string text = "[";
    for (std::size_t i = 0; i < widths.size(); ++i)
      text += (i == 0 ? "" : ", ") + std::to_string(widths[i]);
    return text + "]";
  }
};

}  // namespace

std::string to_string(const ParamValue& value) { return std::visit(ValuePrinter{}, value); }

}  // namespace hps
