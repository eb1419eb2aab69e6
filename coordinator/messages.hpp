#pragma once
// The coordinator's wire messages: plain structs from core, each with one pack and one unpack.
// Tags name what a message carries; every message kind has a round-trip test.
#include <vector>

#include "core/data_pipeline.hpp"
#include "core/trial.hpp"

namespace hps {

/// MPI tags of the coordinator protocol.
enum class Tag : int {
  kAssign = 1,   ///< rank 0 -> worker: a TrialAssignment
  kResult = 2,   ///< worker -> rank 0: a TrialOutcome
  kStop = 3,     ///< rank 0 -> worker: no more trials, exit
  kEpoch = 4,    ///< worker -> rank 0: an EpochReport; the worker waits for the verdict
  kVerdict = 5,  ///< rank 0 -> worker: the EpochVerdict on its last report
  /// A message too large for one MPI send (its count is an int): this header (the total size
  /// and the message's own tag) and then the bytes in kPiece messages, in order.
  kLarge = 6,
  kPiece = 7
};

std::vector<char> pack(const TrialAssignment& trial);
TrialAssignment unpack_assignment(const std::vector<char>& bytes);

std::vector<char> pack(const TrialOutcome& outcome);
TrialOutcome unpack_outcome(const std::vector<char>& bytes);

std::vector<char> pack(const EpochReport& report);
EpochReport unpack_epoch_report(const std::vector<char>& bytes);

std::vector<char> pack(const EpochVerdict& verdict);
EpochVerdict unpack_verdict(const std::vector<char>& bytes);

/// The prepared data set, broadcast once from rank 0 to every worker.
std::vector<char> pack(const PreparedData& data);
PreparedData unpack_data(const std::vector<char>& bytes);

}  // namespace hps
