// spmd_session.cpp — MPI's lifetime in one pipelab process (runtime/spmd.h), the
// session's communicator (mpi_comm.h) and the way a failing rank ends the job.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "mpi_comm.h"
#include "pipelab/error.h"
#include "pipelab/runtime/spmd.h"

namespace pipelab {

namespace {

// A communicator of pipelab's own, freed (MPI_Comm_free) when it goes (RAII).
class Communicator {
 public:
  explicit Communicator(MPI_Comm from) { spmd::check(MPI_Comm_dup(from, &comm_), "MPI_Comm_dup"); }
  ~Communicator() { MPI_Comm_free(&comm_); }
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  MPI_Comm get() const { return comm_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

// The one session of this process (MPI is once per process: runtime/spmd.h).
struct SessionState {
  SpmdRank rank;
  Communicator comm{MPI_COMM_WORLD};
};
std::unique_ptr<SessionState> g_session;

}  // namespace

bool spmd_built() { return true; }
std::string spmd_unavailable_reason() { return ""; }

SpmdSession::SpmdSession(int& argc, char**& argv) {
  if (g_session) PIPELAB_THROW("MPI is already started in this process", "start one SpmdSession, in main()");
  // FUNNELED: only the main thread calls MPI (the rank's one worker runs on it).
  int provided = 0;
  spmd::check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // Errors come back as codes (spmd::check turns them into pipelab::Error, which main()
  // reports before MPI_Abort), instead of MPI ending the process without a word; the
  // duplicate communicator inherits the handler.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  auto state = std::make_unique<SessionState>();
  MPI_Comm_rank(state->comm.get(), &state->rank.rank);
  MPI_Comm_size(state->comm.get(), &state->rank.ranks);
  char host[MPI_MAX_PROCESSOR_NAME];
  int length = 0;
  MPI_Get_processor_name(host, &length);
  state->rank.host.assign(host, length);
  rank_ = state->rank;
  g_session = std::move(state);
}

SpmdSession::~SpmdSession() {
  if (!g_session) return;
  g_session.reset();  // its communicator first: MPI_Comm_free needs MPI
  MPI_Finalize();
}

const SpmdRank* spmd_rank() { return g_session ? &g_session->rank : nullptr; }

void spmd_abort(const std::string& what, int exit_code) {
  if (!g_session) {
    std::cerr << "pipelab: " << what << std::endl;
    std::exit(exit_code);
  }
  const SpmdRank& me = g_session->rank;
  // Rank r runs stage r (spmd_run.h): the message names both, and the host. One write of
  // the whole line, so the lines of several failing ranks do not interleave.
  const std::string line =
      "pipelab: rank " + std::to_string(me.rank) + " (stage " + std::to_string(me.rank) + ") on " + me.host + ": " + what + "\n";
  std::cerr.flush();
  if (::write(STDERR_FILENO, line.data(), line.size()) < 0) std::cerr << line;
  // Ends every rank: the others may be waiting for a message this rank will never send.
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::exit(exit_code);  // not reached: MPI_Abort does not return
}

namespace spmd {
MPI_Comm comm() { return g_session->comm.get(); }
int rank() { return g_session->rank.rank; }
int ranks() { return g_session->rank.ranks; }
int max_tag() {
  int* value = nullptr;
  int found = 0;
  MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &value, &found);
  return found && value ? *value : 32767;  // 32767: the least the MPI standard allows
}
}  // namespace spmd

}  // namespace pipelab
