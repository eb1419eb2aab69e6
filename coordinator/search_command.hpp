#pragma once
#include <exception>
#include <functional>
#include <string>

namespace hps {

class MpiSession;

/// Exit codes of `hpsearch run`, the same on every rank.
enum RunExit : int {
  kRunFinished = 0,     ///< the search finished (or, with --resume, had already finished)
  kRunBadInput = 2,     ///< config, data or output refused; nothing written
  kRunInterrupted = 4,  ///< SIGTERM/SIGUSR1: the file is closed as "interrupted"; --resume goes on
};

/// Options of `hpsearch run`.
struct RunOptions {
  std::string config;
  std::string output;               ///< default results/<config stem>.h5
  bool force = false;               ///< replace an existing result file
  bool resume = false;              ///< continue the search recorded in output
  double grace_seconds = 5.0;       ///< after a stop signal, how long running trials may finish
  double time_limit_seconds = 0.0;  ///< > 0: no trial starts after this much search time
};

/// Records SIGTERM, SIGUSR1 and SIGINT as a request to stop the search (run_search says what
/// follows). main() calls it before MPI starts, so a signal during MPI_Init (a fraction of a
/// second) is not the default action that kills the rank.
void install_stop_handlers();

/// `hpsearch run`, on every rank of the job. Rank 0 takes the output's lock, reads and checks
/// the config and the data (and, with resume, the recorded search), broadcasts the prepared
/// data, writes the result file and dispatches trials to every rank including itself; the
/// others serve trials. On SIGTERM, SIGUSR1 or SIGINT rank 0 stops dispatching, gives running
/// trials grace_seconds, closes the file as "interrupted" and ends the job with kRunInterrupted.
/// Past time_limit_seconds no trial starts; running ones finish, the file is closed as "time_limit"
/// (resumable) and the exit code is kRunFinished.
int run_search(const MpiSession& mpi, RunOptions options);

/// Ends the job after an error past the search's start, on any rank: prints "hpsearch: rank R:
/// error: WHAT", runs `last` (saving what can be saved; its own errors are not told) and calls
/// MPI_Abort(1), since such a rank cannot tell the others and the job must not hang.
[[noreturn]] void abort_search(int rank, const std::exception& error,
                               const std::function<void()>& last = {});

/// `hpsearch check CONFIG`: validates the config and the data without training and prints
/// the plan (trial count, the first trials, the data set shapes). Throws on bad input.
int check_search(const std::string& config_path, int show_trials);

}  // namespace hps
