// mpi_comm.h — the MPI C API as the multi-process mode uses it (internal to
// core/src/runtime/spmd/): the session's communicator, requests owned by RAII objects,
// waits that poll with a deadline, and the byte collectives the step's gather needs.
//
// Why every wait polls (MPI_Test) instead of blocking in MPI_Wait: a blocked rank
// cannot notice that its partner is gone or that the watchdog's time is up, and Open
// MPI's blocking calls busy-poll a core, which on a small machine (4 ranks on 2 cores)
// takes it from a rank that computes. A poll spins for a few µs, then sleeps between
// tests; the sleep bounds how late a rank notices a message (docs/distributed.md).
#pragma once

#include <mpi.h>

#include <functional>
#include <string>
#include <vector>

namespace pipelab::spmd {

/// Throws pipelab::Error naming `call` and MPI's message unless `code` is MPI_SUCCESS.
void check(int code, const char* call);

/// The session's communicator: a duplicate of MPI_COMM_WORLD (errors return, never
/// abort by themselves), so pipelab's messages match only pipelab's receives.
MPI_Comm comm();
/// This rank in comm().
int rank();
/// The number of ranks in comm().
int ranks();
/// The largest message tag this MPI allows (MPI_TAG_UB: at least 32767, 2^31 − 1 in Open MPI).
int max_tag();

/// One non-blocking operation; the destructor cancels and frees it if it is still
/// pending (an aborted step), so no request outlives the buffers it points into.
class Request {
 public:
  Request() = default;
  ~Request();
  Request(Request&& other) noexcept;
  Request& operator=(Request&& other) noexcept;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  /// Where MPI_Isend and friends write the request.
  MPI_Request* out() { return &request_; }
  /// MPI_Test: true once complete (and then freed); true for a request never started.
  bool done();

 private:
  MPI_Request request_ = MPI_REQUEST_NULL;
};

/// Polls `request` until it completes. After `seconds` without completion throws
/// pipelab::Error "watchdog: <what()>", with a hint on what to look at. `between`
/// (may be empty) runs between polls: progress on the rank's other requests. For the
/// first `spin_us` µs the poll only yields the core (sched_yield) between tests, then it
/// sleeps 20 µs between them.
void wait(Request& request, double seconds, const std::function<std::string()>& what,
          const std::function<void()>& between = {}, double spin_us = 50);

/// Every rank's `mine`, in rank order, on every rank (MPI_Iallgather of the sizes, then
/// MPI_Iallgatherv), each wait bounded by `seconds`; `what` names it in a watchdog error.
std::vector<std::vector<char>> allgather_bytes(const std::vector<char>& mine, double seconds,
                                               const std::string& what);
/// `bytes` of rank `root` on every rank (size, then data: MPI_Ibcast), bounded by `seconds`.
void broadcast_bytes(std::vector<char>& bytes, int root, double seconds, const std::string& what);

}  // namespace pipelab::spmd
