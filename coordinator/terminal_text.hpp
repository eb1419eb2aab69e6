#pragma once
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

namespace hps {

/// `text` with every control character but newline and tab written as \xNN, for messages that
/// quote what a user's file holds: an escape sequence in a CSV header must not reach the
/// terminal (it could clear the screen or retitle the window) when an error quotes it.
std::string printable(const std::string& text);

/// A loss or metric for people to read: four decimals ("0.3125"), in scientific notation
/// beyond a billion ("3.4028e+38") so that a diverging loss does not print 40 digits; "nan",
/// "inf" and "-inf".
std::string decimal4(double value);

/// A command-line value the command cannot use, found only once it looked (e.g. `--trial 99`
/// where the file holds no trial 99): reported like CLI11's usage errors, with kExitBadInput.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Exit code for a bad config, data set, output path or command line, or a path that is not a
/// search result file: the user's input, nothing written.
inline constexpr int kExitBadInput = 2;
/// Exit code for anything else that stopped a command (an HDF5 or system error).
inline constexpr int kExitFailure = 1;

/// Prints `e` to `stream` as "hpsearch: <kind> error: <message>" (kinds: config, data, output,
/// usage, input (NotAResultFile), HDF5, or none) with printable() applied, and returns the
/// command's exit code for it: kExitBadInput for config, data, output, usage and input errors,
/// kExitFailure otherwise (a result file damaged inside among them).
int report_error(const std::exception& e, std::FILE* stream = stderr);

}  // namespace hps
