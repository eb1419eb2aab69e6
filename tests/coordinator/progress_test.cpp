#include "coordinator/progress.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace hps {
namespace {

using ::testing::HasSubstr;

std::string read_all(std::FILE* f) {
  std::rewind(f);
  std::string text;
  char buffer[512];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
  return text;
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(Progress::format_duration(5.4), "5s");
  EXPECT_EQ(Progress::format_duration(185), "3m05s");
  EXPECT_EQ(Progress::format_duration(3725), "1h02m");
}

TEST(Progress, LogModePrintsOneLinePerTrialWithTheBestSoFar) {
  std::FILE* f = std::tmpfile();
  Progress p(4, "val_accuracy", true, f, false);
  TrialOutcome a;
  a.trial_id = 0;
  a.best_value = 0.8;
  p.finished(a, 2);
  TrialOutcome b;
  b.trial_id = 1;
  b.status = TrialStatus::kDiverged;
  b.best_value = 0.95;  // a diverged trial never leads
  p.finished(b, 1);
  TrialOutcome c;
  c.trial_id = 2;
  c.best_value = 0.9;
  p.finished(c, 0);
  p.close();
  const std::string text = read_all(f);
  std::fclose(f);
  EXPECT_THAT(
      text, HasSubstr("[1/4] running 2 | failed/diverged 0 | best val_accuracy 0.8000 (trial 0)"));
  EXPECT_THAT(
      text, HasSubstr("[2/4] running 1 | failed/diverged 1 | best val_accuracy 0.8000 (trial 0)"));
  EXPECT_THAT(
      text, HasSubstr("[3/4] running 0 | failed/diverged 1 | best val_accuracy 0.9000 (trial 2)"));
  EXPECT_THAT(text, HasSubstr("ETA"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(Progress, AFailedTrialShowsNoValue) {
  std::FILE* f = std::tmpfile();
  Progress p(2, "val_loss", false, f, false);
  TrialOutcome a;
  a.trial_id = 0;
  a.status = TrialStatus::kFailed;
  p.finished(a, 1);
  p.close();
  const std::string text = read_all(f);
  std::fclose(f);
  EXPECT_THAT(
      text,
      HasSubstr("trial 0 failed val_loss - 0.0s rank 0 | [1/2] running 1 | failed/diverged 1"));
}

// A resumed search's line starts from the recorded trials' best, not from the first new one.
TEST(Progress, RecordedTrialsCountWithoutPrinting) {
  std::FILE* f = std::tmpfile();
  Progress p(4, "val_loss", false, f, false, /*already_done=*/2);
  p.recorded(0, true, 0.25);
  p.recorded(1, false, 0.01);  // failed or diverged: counted as such, never the best
  TrialOutcome c;
  c.trial_id = 2;
  c.best_value = 0.3;
  p.finished(c, 1);
  p.close();
  const std::string text = read_all(f);
  std::fclose(f);
  EXPECT_THAT(text,
              HasSubstr("[3/4] running 1 | failed/diverged 1 | best val_loss 0.2500 (trial 0)"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

TEST(Progress, TerminalModeRewritesOneLine) {
  std::FILE* f = std::tmpfile();
  Progress p(2, "val_loss", false, f, true);
  TrialOutcome a;
  a.best_value = 0.5;
  p.finished(a, 1);
  a.trial_id = 1;
  a.best_value = 0.4;
  p.finished(a, 0);
  p.close();
  const std::string text = read_all(f);
  std::fclose(f);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 2);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  EXPECT_THAT(text, HasSubstr("best val_loss 0.4000 (trial 1)"));
}

}  // namespace
}  // namespace hps
