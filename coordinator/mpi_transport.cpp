#include "coordinator/mpi_transport.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "coordinator/messages.hpp"

namespace hps {
namespace {

// Polling sleeps grow from 50 us to 2 ms while nothing arrives: quick answers while results
// stream in, and well under 1% of a core while every worker trains.
class Backoff {
 public:
  void wait() {
    std::this_thread::sleep_for(delay_);
    delay_ = std::min(delay_ * 2, std::chrono::microseconds(2000));
  }

 private:
  std::chrono::microseconds delay_{50};
};

void check(int code, const char* what) {
  if (code != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw std::runtime_error(std::string("MPI: ") + what + ": " + std::string(text, length));
  }
}

// Waits for `request` without spinning a core.
void wait(MPI_Request& request) {
  int done = 0;
  for (Backoff backoff;; backoff.wait()) {
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
  }
}

// Waits for a message from `source` with `tag` (either may be a wildcard) without spinning.
MPI_Status probe(int source, int tag) {
  MPI_Status status;
  int flag = 0;
  for (Backoff backoff;; backoff.wait()) {
    check(MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
    if (flag) return status;
  }
}

std::vector<char> receive(const MPI_Status& status) {
  int count = 0;
  check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  std::vector<char> bytes(static_cast<size_t>(count));
  check(MPI_Recv(bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE),
        "MPI_Recv");
  return bytes;
}

// Largest message sent in one piece. MPI counts are ints, so a result with more than 2 GiB
// of weights (about 537 million parameters) goes as a kLarge header and pieces. Tests make
// the pieces tiny with HPSEARCH_MPI_PIECE_BYTES, so small searches take the same path.
uint64_t piece_bytes() {
  static const uint64_t bytes = [] {
    const char* text = std::getenv("HPSEARCH_MPI_PIECE_BYTES");
    const unsigned long long value = text != nullptr ? std::strtoull(text, nullptr, 10) : 0;
    return value > 0 && value <= (1ULL << 30) ? value : (1ULL << 30);
  }();
  return bytes;
}

void send(const std::vector<char>& bytes, int rank, Tag tag) {
  if (bytes.size() <= piece_bytes()) {
    check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, rank,
                   static_cast<int>(tag), MPI_COMM_WORLD),
          "MPI_Send");
    return;
  }
  const uint64_t header[2] = {bytes.size(), static_cast<uint64_t>(tag)};
  check(MPI_Send(header, 2, MPI_UINT64_T, rank, static_cast<int>(Tag::kLarge), MPI_COMM_WORLD),
        "MPI_Send");
  for (uint64_t offset = 0; offset < bytes.size(); offset += piece_bytes()) {
    const int n = static_cast<int>(std::min<uint64_t>(piece_bytes(), bytes.size() - offset));
    check(MPI_Send(bytes.data() + offset, n, MPI_BYTE, rank, static_cast<int>(Tag::kPiece),
                   MPI_COMM_WORLD),
          "MPI_Send");
  }
}

// The message a kLarge header (found by `status`) announces, assembled from its pieces, which
// follow it from the same rank in order; `tag` is the one it was sent with.
std::vector<char> receive_large(const MPI_Status& status, Tag& tag) {
  uint64_t header[2] = {0, 0};
  check(MPI_Recv(header, 2, MPI_UINT64_T, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE),
        "MPI_Recv");
  tag = static_cast<Tag>(header[1]);
  std::vector<char> bytes;
  bytes.reserve(header[0]);
  while (bytes.size() < header[0]) {
    const std::vector<char> piece =
        receive(probe(status.MPI_SOURCE, static_cast<int>(Tag::kPiece)));
    if (piece.empty() || piece.size() > header[0] - bytes.size())
      throw std::runtime_error("MPI: a large message from rank " +
                               std::to_string(status.MPI_SOURCE) + " does not match its size");
    bytes.insert(bytes.end(), piece.begin(), piece.end());
  }
  return bytes;
}

struct Message {
  Tag tag = Tag::kStop;
  int source = 0;
  std::vector<char> bytes;
};

// A message from `source` (or any rank) with one of `tags`, whole or in pieces, if one is
// waiting. `tags` are probed in order, so the first has priority; then a kLarge header, whose
// message must carry one of `tags` (a rank waits for one kind of answer at a time).
std::optional<Message> try_receive(int source, std::initializer_list<Tag> tags) {
  int flag = 0;
  MPI_Status status;
  for (const Tag tag : tags) {
    check(MPI_Iprobe(source, static_cast<int>(tag), MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
    if (flag) return Message{tag, status.MPI_SOURCE, receive(status)};
  }
  check(MPI_Iprobe(source, static_cast<int>(Tag::kLarge), MPI_COMM_WORLD, &flag, &status),
        "MPI_Iprobe");
  if (!flag) return std::nullopt;
  Message message;
  message.source = status.MPI_SOURCE;
  message.bytes = receive_large(status, message.tag);
  if (std::find(tags.begin(), tags.end(), message.tag) == tags.end())
    throw std::runtime_error("MPI: rank " + std::to_string(message.source) +
                             " sent a large message with unexpected tag " +
                             std::to_string(static_cast<int>(message.tag)));
  return message;
}

// Waits, without spinning, for a message from `source` with one of `tags`.
Message receive_from(int source, std::initializer_list<Tag> tags) {
  for (Backoff backoff;; backoff.wait())
    if (auto message = try_receive(source, tags)) return std::move(*message);
}

}  // namespace

MpiSession::MpiSession(int& argc, char**& argv) {
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiSession::~MpiSession() { MPI_Finalize(); }

void MpiSession::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

MpiWorkerPool::MpiWorkerPool(int ranks, TrialFunction local_train)
    : ranks_(ranks), local_(1, std::move(local_train)) {}

void MpiWorkerPool::set_judge(EpochJudge judge) {
  judge_ = judge;
  local_.set_judge(std::move(judge));
}

void MpiWorkerPool::assign(int worker, const TrialAssignment& trial) {
  if (worker == 0) {
    local_.assign(0, trial);
  } else {
    send(pack(trial), worker, Tag::kAssign);
  }
}

std::optional<TrialOutcome> MpiWorkerPool::wait_result(int& worker, double timeout_seconds) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(timeout_seconds));
  for (Backoff backoff;; backoff.wait()) {
    if (auto local = local_.poll()) {
      worker = 0;
      return std::move(local->second);
    }
    // Epoch reports first: their worker waits for the verdict.
    if (auto message = try_receive(MPI_ANY_SOURCE, {Tag::kEpoch, Tag::kResult})) {
      if (message->tag == Tag::kResult) {
        worker = message->source;
        return unpack_outcome(message->bytes);
      }
      const EpochReport report = unpack_epoch_report(message->bytes);
      send(pack(judge_ ? judge_(report) : EpochVerdict{}), message->source, Tag::kVerdict);
      backoff = Backoff();
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
  }
}

void MpiWorkerPool::stop_all() {
  for (int r = 1; r < ranks_; ++r) send({}, r, Tag::kStop);
  local_.stop_all();
}

void serve_trials(const TrialFunction& train) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  for (;;) {
    const Message message = receive_from(0, {Tag::kAssign, Tag::kStop});
    if (message.tag == Tag::kStop) return;
    const TrialAssignment trial = unpack_assignment(message.bytes);
    const EpochJudge ask_rank0 = [](const EpochReport& report) {
      send(pack(report), 0, Tag::kEpoch);
      return unpack_verdict(receive_from(0, {Tag::kVerdict}).bytes);
    };
    send(pack(train(trial, rank, ask_rank0)), 0, Tag::kResult);
  }
}

void broadcast(std::vector<char>& bytes) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  uint64_t size = bytes.size();
  MPI_Request request;
  check(MPI_Ibcast(&size, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, &request), "MPI_Ibcast");
  wait(request);
  if (rank != 0) bytes.resize(size);
  constexpr uint64_t kPiece = 1ULL << 30;
  for (uint64_t offset = 0; offset < size; offset += kPiece) {
    const int n = static_cast<int>(std::min(kPiece, size - offset));
    check(MPI_Ibcast(bytes.data() + offset, n, MPI_BYTE, 0, MPI_COMM_WORLD, &request),
          "MPI_Ibcast");
    wait(request);
  }
}

}  // namespace hps
