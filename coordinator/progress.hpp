#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "core/trial.hpp"

namespace hps {

/// The search's progress line on stderr: trials done/total, running, failed or diverged, the best
/// monitored value so far and its trial, elapsed time and ETA. On a terminal the line is
/// rewritten in place; in a log file (SLURM output) one line is printed per finished trial.
class Progress {
 public:
  /// `already_done` trials were recorded before (a resumed search).
  Progress(int64_t total, std::string monitor, bool maximize, std::FILE* out, bool terminal,
           int64_t already_done = 0);

  /// Records a finished trial and prints.
  void finished(const TrialOutcome& outcome, int running);
  /// Counts a trial a resumed search recorded before (one of `already_done`) in the best value
  /// and the failures, without printing. `ok`: it neither failed nor diverged.
  void recorded(int64_t trial, bool ok, double best_value);
  /// Ends the in-place line.
  void close();

  /// "1h02m", "3m05s", "12s".
  static std::string format_duration(double seconds);

 private:
  std::string line(int running) const;
  void count(int64_t trial, bool ok, double best_value);

  int64_t total_;
  std::string monitor_;
  bool maximize_;
  std::FILE* out_;
  bool terminal_;
  int64_t done_ = 0;
  int64_t started_with_ = 0;
  int64_t failed_ = 0;
  int64_t best_trial_ = -1;
  double best_ = 0.0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace hps
