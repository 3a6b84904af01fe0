// pipelab/runtime/spmd.h — one process per stage (SPMD): `mpirun -np K pipelab run ...`.
//
// The way the field runs a pipeline (torchrun, Megatron-LM): rank r is a process that runs
// device r's program only (its stage, or its model chunks with interleaved 1F1B), and sends
// its activations and gradients to its neighbours' processes. main() starts an SpmdSession when a launcher (mpirun, srun) started it as one
// of several ranks; from then on run_step() and everything above it (compare, sweep,
// compare --schedules) run in lockstep on every rank: the executor runs the local stage,
// the transport is MPI (non-blocking MPI_Isend / MPI_Irecv of the boundary tensors), and
// every rank ends the step with the same merged trace (rank 0's timebase) and the same
// gathered numerics, so the reports and the transparency check are the in-process ones.
// Rank 0 prints; the others stay silent. docs/distributed.md tells how to launch it.
//
// MPI is optional at configure time: in a build without it spmd_built() is false and
// main() says what to install when it finds itself under a launcher.
#pragma once

#include <memory>
#include <string>

namespace pipelab {

/// Whether this build has the multi-process mode (MPI was found at configure time).
bool spmd_built();
/// Why the multi-process mode is not in this build ("" when it is): what to install.
std::string spmd_unavailable_reason();

/// How many ranks a launcher started, from its environment (Open MPI's
/// OMPI_COMM_WORLD_SIZE, PMI_SIZE / PMIX_SIZE, Slurm's SLURM_NTASKS under srun); 0 when
/// none did. Read before MPI starts, so a build without MPI can say what it is missing.
int launcher_ranks();

/// Where this process stands in a multi-process run.
struct SpmdRank {
  int rank = 0;      ///< this process's rank in MPI_COMM_WORLD (= the stage it runs)
  int ranks = 1;     ///< the number of ranks (must be K)
  std::string host;  ///< the host it runs on (MPI_Get_processor_name)
};

/// The multi-process mode for the lifetime of the object: MPI_Init_thread on
/// construction, MPI_Finalize on destruction (RAII). One per process, made by main().
class SpmdSession {
 public:
  /// Starts MPI (throws pipelab::Error in a build without it, naming what to install).
  SpmdSession(int& argc, char**& argv);
  ~SpmdSession();
  SpmdSession(const SpmdSession&) = delete;
  SpmdSession& operator=(const SpmdSession&) = delete;
  /// This process's place in the run.
  const SpmdRank& rank() const { return rank_; }

 private:
  SpmdRank rank_;
};

/// The session main() started, or nullptr when the stages are threads of this one
/// process. Process-wide because MPI is: MPI_Init runs once per process, and
/// MPI_COMM_WORLD is the same for every caller.
const SpmdRank* spmd_rank();

/// After an error on this rank: prints "pipelab: rank r (stage r) on HOST: <what>" on
/// stderr and ends every rank of the job with `exit_code` (MPI_Abort), so no rank waits
/// forever for a message from this one. Only main() calls it.
[[noreturn]] void spmd_abort(const std::string& what, int exit_code);

}  // namespace pipelab
