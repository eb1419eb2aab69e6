// Dispatch logic without MPI: workers are threads of this process.
#include "coordinator/dispatcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "coordinator/thread_worker_pool.hpp"

namespace hps {
namespace {

TrialAssignment plain_trial(int64_t id) {
  TrialAssignment t;
  t.trial_id = id;
  t.seed = static_cast<uint64_t>(id) * 7;
  return t;
}

TrialOutcome sleeping_trial(const TrialAssignment& t, int worker, int millis) {
  std::this_thread::sleep_for(std::chrono::milliseconds(millis));
  TrialOutcome o;
  o.trial_id = t.trial_id;
  o.rank = worker;
  o.best_value = static_cast<double>(t.seed);
  return o;
}

TEST(Dispatcher, EveryTrialIsReportedExactlyOnce) {
  ThreadWorkerPool pool(3, [](const TrialAssignment& t, int w, const EpochJudge&) {
    return sleeping_trial(t, w, 1);
  });
  std::multiset<int64_t> seen;
  int max_running = 0;
  dispatch_trials(all_trials(25), plain_trial, pool,
                  [&](const TrialAssignment& trial, const TrialOutcome& outcome, int running) {
                    EXPECT_EQ(trial.trial_id, outcome.trial_id);
                    EXPECT_EQ(outcome.best_value, static_cast<double>(trial.seed));
                    seen.insert(outcome.trial_id);
                    max_running = std::max(max_running, running);
                  });
  ASSERT_EQ(seen.size(), 25u);
  for (int64_t id = 0; id < 25; ++id) EXPECT_EQ(seen.count(id), 1u) << id;
  EXPECT_EQ(max_running, 2);  // three out, one just reported
}

// Blocks until `done` holds or 30 s have passed (a bound, so a failing test cannot hang): what
// the tests below wait on instead of guessing how long the other side takes.
void wait_until(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TEST(Dispatcher, ShortTrialsFlowAroundALongOne) {
  // Trial 0 runs until every other trial is reported: with dynamic dispatch the other workers
  // take all of them meanwhile instead of waiting for a static share behind trial 0.
  std::atomic<int> reported{0};
  ThreadWorkerPool pool(3, [&reported](const TrialAssignment& t, int w, const EpochJudge&) {
    if (t.trial_id == 0) wait_until([&reported] { return reported >= 29; });
    return sleeping_trial(t, w, t.trial_id == 0 ? 0 : 5);
  });
  std::map<int, int> per_worker;
  std::vector<int64_t> order;
  dispatch_trials(all_trials(30), plain_trial, pool,
                  [&](const TrialAssignment&, const TrialOutcome& o, int) {
                    ++per_worker[o.rank];
                    order.push_back(o.trial_id);
                    ++reported;
                  });
  EXPECT_EQ(order.back(), 0);  // the long trial finishes last
  int long_worker = -1;
  for (auto [w, n] : per_worker)
    if (n == 1) long_worker = w;
  ASSERT_GE(long_worker, 0) << "one worker should have run only the long trial";
}

TEST(Dispatcher, UnmakeableAndThrowingTrialsAreRecordedAsFailed) {
  ThreadWorkerPool pool(2, [](const TrialAssignment& t, int w, const EpochJudge&) -> TrialOutcome {
    if (t.trial_id == 3) throw std::runtime_error("worker blew up");
    return sleeping_trial(t, w, 0);
  });
  std::map<int64_t, TrialOutcome> outcomes;
  dispatch_trials(
      all_trials(6),
      [](int64_t id) {
        if (id == 1) throw std::invalid_argument("momentum makes no sense here");
        return plain_trial(id);
      },
      pool, [&](const TrialAssignment&, const TrialOutcome& o, int) { outcomes[o.trial_id] = o; });
  ASSERT_EQ(outcomes.size(), 6u);
  EXPECT_EQ(outcomes[1].status, TrialStatus::kFailed);
  EXPECT_EQ(outcomes[1].message, "momentum makes no sense here");
  EXPECT_EQ(outcomes[3].status, TrialStatus::kFailed);
  EXPECT_EQ(outcomes[3].message, "worker blew up");
  EXPECT_EQ(outcomes[5].status, TrialStatus::kCompleted);
}

TEST(Dispatcher, MoreWorkersThanTrialsAndNoTrials) {
  ThreadWorkerPool pool(8, [](const TrialAssignment& t, int w, const EpochJudge&) {
    return sleeping_trial(t, w, 0);
  });
  int reported = 0;
  dispatch_trials(all_trials(3), plain_trial, pool,
                  [&](const TrialAssignment&, const TrialOutcome&, int) { ++reported; });
  EXPECT_EQ(reported, 3);
  dispatch_trials(all_trials(0), plain_trial, pool,
                  [&](const TrialAssignment&, const TrialOutcome&, int) { ++reported; });
  EXPECT_EQ(reported, 3);
}

TEST(Dispatcher, StopHandsOutNoMoreAndReportsWhatStillRuns) {
  // Trial 0 runs until the dispatch has returned, outlasting any grace period; the others take
  // 20 ms.
  std::atomic<bool> returned{false};
  ThreadWorkerPool pool(2, [&returned](const TrialAssignment& t, int w, const EpochJudge&) {
    if (t.trial_id == 0) wait_until([&returned] { return returned.load(); });
    return sleeping_trial(t, w, t.trial_id == 0 ? 0 : 20);
  });
  std::atomic<int> reported{0};
  std::optional<std::chrono::steady_clock::time_point> stopped;  // when the stop was first seen
  const DispatchReport report = dispatch_trials(
      all_trials(50), plain_trial, pool,
      [&](const TrialAssignment&, const TrialOutcome&, int) { ++reported; },
      [&] {
        if (reported >= 3 && !stopped) stopped = std::chrono::steady_clock::now();
        return stopped.has_value();
      },
      1.0);
  ASSERT_TRUE(stopped.has_value());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - *stopped).count();
  returned = true;
  EXPECT_TRUE(report.interrupted);
  EXPECT_EQ(report.unfinished, std::vector<int64_t>{0});
  EXPECT_LT(reported.load(), 10) << "no new trials after the stop";
  EXPECT_GE(seconds, 1.0) << "waited out the grace period after the stop";
  // Trial 0 would hold a dispatch that waited for it 30 s; 4 s of slack for a busy machine.
  EXPECT_LT(seconds, 5.0) << "gave up on trial 0 once the grace period was over";
  pool.stop_all();  // joins once trial 0 ends
}

TEST(Dispatcher, AStopAfterTheLastTrialStartedThatCutsNothingShortIsNoInterruption) {
  ThreadWorkerPool pool(2, [](const TrialAssignment& t, int w, const EpochJudge&) {
    return sleeping_trial(t, w, 100);
  });
  std::atomic<int> started{0};
  const DispatchReport report = dispatch_trials(
      all_trials(2),
      [&](int64_t id) {
        ++started;
        return plain_trial(id);
      },
      pool, [](const TrialAssignment&, const TrialOutcome&, int) {}, [&] { return started == 2; },
      5.0);  // stop as soon as both trials run
  EXPECT_FALSE(report.interrupted) << "both trials finished within the grace period";
  EXPECT_TRUE(report.unfinished.empty());
  // A stop with a trial still waiting to be handed out is an interruption.
  std::atomic<int> reported{0};
  const DispatchReport cut = dispatch_trials(
      all_trials(3), plain_trial, pool,
      [&](const TrialAssignment&, const TrialOutcome&, int) { ++reported; }, [] { return true; },
      5.0);
  EXPECT_TRUE(cut.interrupted);
  EXPECT_TRUE(cut.unfinished.empty());
  EXPECT_EQ(reported.load(), 2);
  pool.stop_all();
}

TEST(Dispatcher, RunsOnlyTheGivenIds) {
  ThreadWorkerPool pool(2, [](const TrialAssignment& t, int w, const EpochJudge&) {
    return sleeping_trial(t, w, 0);
  });
  std::set<int64_t> seen;
  const DispatchReport report = dispatch_trials(
      {1, 4, 7}, plain_trial, pool,
      [&](const TrialAssignment&, const TrialOutcome& o, int) { seen.insert(o.trial_id); });
  EXPECT_FALSE(report.interrupted);
  EXPECT_EQ(seen, (std::set<int64_t>{1, 4, 7}));
}

}  // namespace
}  // namespace hps
