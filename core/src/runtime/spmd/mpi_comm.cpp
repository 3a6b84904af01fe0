// mpi_comm.cpp — requests, polled waits and byte collectives (mpi_comm.h).
#include "mpi_comm.h"

#include <chrono>
#include <cstdint>
#include <thread>

#include "pipelab/error.h"

namespace pipelab::spmd {

void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  PIPELAB_THROW(std::string(call) + " failed: " + std::string(text, length),
                "a rank may have died (see mpirun's message above); rerun, and see docs/distributed.md");
}

Request::~Request() {
  if (request_ == MPI_REQUEST_NULL) return;
  // An aborted step: nobody will wait for it. Cancel, then free (MPI_Request_free
  // lets MPI finish or drop it without us).
  MPI_Cancel(&request_);
  MPI_Request_free(&request_);
}

Request::Request(Request&& other) noexcept : request_(other.request_) { other.request_ = MPI_REQUEST_NULL; }

Request& Request::operator=(Request&& other) noexcept {
  if (this != &other) {
    Request dropped(std::move(*this));  // the old request, cancelled by its destructor
    request_ = other.request_;
    other.request_ = MPI_REQUEST_NULL;
  }
  return *this;
}

bool Request::done() {
  if (request_ == MPI_REQUEST_NULL) return true;
  int flag = 0;
  check(MPI_Test(&request_, &flag, MPI_STATUS_IGNORE), "MPI_Test");  // frees it when complete
  return flag != 0;
}

void wait(Request& request, double seconds, const std::function<std::string()>& what,
          const std::function<void()>& between, double spin_us) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  // Spin for the first spin_us (a message that is nearly there), then sleep 20 µs between
  // tests, so a waiting rank leaves the core to a computing one (mpi_comm.h).
  const auto spin = std::chrono::duration<double, std::micro>(spin_us);
  const auto limit = std::chrono::duration<double>(seconds);
  while (!request.done()) {
    if (between) between();
    const auto waited = Clock::now() - start;
    if (waited > limit)
      PIPELAB_THROW("watchdog: " + what() + " for " + std::to_string(static_cast<int>(seconds)) + " s",
                    "the rank it waits for died or is stuck (see the other ranks' messages); a slow "
                    "machine may need a larger --watchdog-s");
    if (waited > spin)
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    else
      std::this_thread::yield();
  }
}

std::vector<std::vector<char>> allgather_bytes(const std::vector<char>& mine, double seconds,
                                               const std::string& what) {
  const int n = ranks();
  // Sizes first (each rank's count), then the bytes at their offsets (MPI counts are int:
  // a step's data is far below 2 GiB).
  const int my_size = static_cast<int>(mine.size());
  std::vector<int> sizes(n);
  Request sizes_request;
  check(MPI_Iallgather(&my_size, 1, MPI_INT, sizes.data(), 1, MPI_INT, comm(), sizes_request.out()),
        "MPI_Iallgather");
  wait(sizes_request, seconds, [&] { return "rank " + std::to_string(rank()) + " gathering " + what; });
  std::vector<int> offsets(n, 0);
  for (int r = 1; r < n; ++r) offsets[r] = offsets[r - 1] + sizes[r - 1];
  std::vector<char> all(static_cast<std::size_t>(offsets[n - 1]) + sizes[n - 1]);
  Request data_request;
  check(MPI_Iallgatherv(mine.data(), my_size, MPI_BYTE, all.data(), sizes.data(), offsets.data(), MPI_BYTE,
                        comm(), data_request.out()),
        "MPI_Iallgatherv");
  wait(data_request, seconds, [&] { return "rank " + std::to_string(rank()) + " gathering " + what; });
  std::vector<std::vector<char>> out(n);
  for (int r = 0; r < n; ++r) out[r].assign(all.begin() + offsets[r], all.begin() + offsets[r] + sizes[r]);
  return out;
}

void broadcast_bytes(std::vector<char>& bytes, int root, double seconds, const std::string& what) {
  auto describe = [&] { return "rank " + std::to_string(rank()) + " waiting for " + what + " from rank " +
                               std::to_string(root); };
  std::uint64_t size = bytes.size();
  Request size_request;
  check(MPI_Ibcast(&size, 1, MPI_UINT64_T, root, comm(), size_request.out()), "MPI_Ibcast");
  wait(size_request, seconds, describe);
  bytes.resize(size);
  Request data_request;
  check(MPI_Ibcast(bytes.data(), static_cast<int>(size), MPI_BYTE, root, comm(), data_request.out()),
        "MPI_Ibcast");
  wait(data_request, seconds, describe);
}

}  // namespace pipelab::spmd
