#include "coordinator/progress.hpp"

#include <cmath>

#include "coordinator/terminal_text.hpp"

namespace hps {

Progress::Progress(int64_t total, std::string monitor, bool maximize, std::FILE* out, bool terminal,
                   int64_t already_done)
    : total_(total),
      monitor_(std::move(monitor)),
      maximize_(maximize),
      out_(out),
      terminal_(terminal),
      done_(already_done),
      started_with_(already_done) {}

std::string Progress::format_duration(double seconds) {
  const auto s = static_cast<long>(std::lround(std::max(0.0, seconds)));
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, s / 60 % 60);
  } else if (s >= 60) {
    std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%lds", s);
  }
  return text;
}

std::string Progress::line(int running) const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  char text[256];
  std::string best = "none yet";
  if (best_trial_ >= 0) {
    std::snprintf(text, sizeof text, "%s (trial %lld)", decimal4(best_).c_str(),
                  static_cast<long long>(best_trial_));
    best = text;
  }
  // Rate from the trials finished in this run (a resumed search starts with some done).
  const int64_t here = done_ - started_with_;
  const std::string eta = here > 0 && done_ < total_
                              ? format_duration(elapsed / static_cast<double>(here) *
                                                static_cast<double>(total_ - done_))
                              : "-";
  std::snprintf(text, sizeof text,
                "[%lld/%lld] running %d | failed/diverged %lld | best %s %s | %s elapsed | ETA %s",
                static_cast<long long>(done_), static_cast<long long>(total_), running,
                static_cast<long long>(failed_), monitor_.c_str(), best.c_str(),
                format_duration(elapsed).c_str(), eta.c_str());
  return text;
}

void Progress::count(int64_t trial, bool ok, double best_value) {
  if (!ok) ++failed_;
  if (ok && std::isfinite(best_value) &&
      (best_trial_ < 0 || (maximize_ ? best_value > best_ : best_value < best_))) {
    best_ = best_value;
    best_trial_ = trial;
  }
}

void Progress::recorded(int64_t trial, bool ok, double best_value) { count(trial, ok, best_value); }

void Progress::finished(const TrialOutcome& outcome, int running) {
  ++done_;
  count(outcome.trial_id,
        outcome.status != TrialStatus::kFailed && outcome.status != TrialStatus::kDiverged,
        outcome.best_value);
  if (terminal_) {
    std::fprintf(out_, "\r%s\033[K", line(running).c_str());
  } else {
    // A failed trial has no value to show (its best_value is a placeholder).
    const std::string value =
        outcome.status != TrialStatus::kFailed ? decimal4(outcome.best_value) : "-";
    std::fprintf(out_, "trial %lld %s %s %s %.1fs rank %d | %s\n",
                 static_cast<long long>(outcome.trial_id), to_string(outcome.status),
                 monitor_.c_str(), value.c_str(), outcome.seconds, outcome.rank,
                 line(running).c_str());
  }
  std::fflush(out_);
}

void Progress::close() {
  if (terminal_ && done_ > started_with_) std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace hps
