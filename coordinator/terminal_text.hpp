#pragma once
#include <string>

namespace hps {

/// `text` with every control character but newline and tab written as \xNN, for messages that
/// quote what a user's file holds: an escape sequence in a CSV header must not reach the
/// terminal (it could clear the screen or retitle the window) when an error quotes it.
std::string printable(const std::string& text);

}  // namespace hps
