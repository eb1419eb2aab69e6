#pragma once
#include <string>

namespace hps {

class MpiSession;

/// `hpsearch run CONFIG [--out FILE] [--force]`, on every rank of the job. Rank 0 reads and
/// checks the config and the data, broadcasts the prepared data, writes the result file and
/// dispatches trials to every rank including itself; the others serve trials. Returns the
/// process exit code (2 for a bad config or data, on every rank).
int run_search(const MpiSession& mpi, const std::string& config_path, std::string output,
               bool force);

/// `hpsearch check CONFIG`: validates the config and the data without training and prints
/// the plan (trial count, the first trials, the data set shapes). Throws on bad input.
int check_search(const std::string& config_path, int show_trials);

}  // namespace hps
