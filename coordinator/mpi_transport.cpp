#include "coordinator/mpi_transport.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
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

void send(const std::vector<char>& bytes, int rank, Tag tag) {
  check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, rank,
                 static_cast<int>(tag), MPI_COMM_WORLD),
        "MPI_Send");
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
    int flag = 0;
    MPI_Status status;
    check(MPI_Iprobe(MPI_ANY_SOURCE, static_cast<int>(Tag::kEpoch), MPI_COMM_WORLD, &flag, &status),
          "MPI_Iprobe");
    if (flag) {  // a worker waits for its verdict: answer at once
      const EpochReport report = unpack_epoch_report(receive(status));
      send(pack(judge_ ? judge_(report) : EpochVerdict{}), status.MPI_SOURCE, Tag::kVerdict);
      backoff = Backoff();
      continue;
    }
    check(
        MPI_Iprobe(MPI_ANY_SOURCE, static_cast<int>(Tag::kResult), MPI_COMM_WORLD, &flag, &status),
        "MPI_Iprobe");
    if (flag) {
      worker = status.MPI_SOURCE;
      return unpack_outcome(receive(status));
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
    const MPI_Status status = probe(0, MPI_ANY_TAG);
    const std::vector<char> bytes = receive(status);
    if (status.MPI_TAG == static_cast<int>(Tag::kStop)) return;
    const TrialAssignment trial = unpack_assignment(bytes);
    const EpochJudge ask_rank0 = [](const EpochReport& report) {
      send(pack(report), 0, Tag::kEpoch);
      return unpack_verdict(receive(probe(0, static_cast<int>(Tag::kVerdict))));
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
