// spmd_launcher.cpp — launcher_ranks(): did mpirun or srun start this process? Built with
// or without MPI, so a build without it can tell a user under mpirun what is missing.
#include <cstdlib>
#include <string>

#include "pipelab/runtime/spmd.h"

namespace pipelab {

int launcher_ranks() {
  // Each launcher exports the job's size to every process it starts: Open MPI's mpirun,
  // PMI-1/2 and PMIx (MPICH's hydra, srun --mpi=pmi2|pmix), Slurm itself under srun.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE", "SLURM_NTASKS"}) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    const int ranks = std::atoi(value);
    if (ranks > 0) return ranks;
  }
  return 0;
}

}  // namespace pipelab
