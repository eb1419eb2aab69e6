#pragma once
// The coordinator's wire messages: plain structs from core, each with one pack and one unpack.
// Tags name what a message carries; every message kind has a round-trip test.
#include <vector>

#include "core/data_pipeline.hpp"
#include "core/trial.hpp"

namespace hps {

/// MPI tags of the coordinator protocol.
enum class Tag : int {
  kAssign = 1,  ///< rank 0 -> worker: a TrialAssignment
  kResult = 2,  ///< worker -> rank 0: a TrialOutcome
  kStop = 3,    ///< rank 0 -> worker: no more trials, exit
};

std::vector<char> pack(const TrialAssignment& trial);
TrialAssignment unpack_assignment(const std::vector<char>& bytes);

std::vector<char> pack(const TrialOutcome& outcome);
TrialOutcome unpack_outcome(const std::vector<char>& bytes);

/// The prepared data set, broadcast once from rank 0 to every worker.
std::vector<char> pack(const PreparedData& data);
PreparedData unpack_data(const std::vector<char>& bytes);

}  // namespace hps
