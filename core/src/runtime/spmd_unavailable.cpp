// spmd_unavailable.cpp — the multi-process mode in a build without MPI: main() never
// starts a session (spmd_built() is false), so the runner never calls the spmd_run.h
// hooks; each still throws, naming what to install, rather than doing something else.
#include <cstdlib>
#include <iostream>

#include "pipelab/error.h"
#include "pipelab/runtime/spmd.h"
#include "spmd_run.h"

namespace pipelab {

namespace {
[[noreturn]] void not_built() {
  PIPELAB_THROW("this build of pipelab has no multi-process mode: " + spmd_unavailable_reason(),
                "install openmpi-bin and libopenmpi-dev (scripts/install-deps), reconfigure and rebuild; "
                "or run without mpirun: the stages then run as threads of one process");
}
}  // namespace

bool spmd_built() { return false; }
std::string spmd_unavailable_reason() { return PIPELAB_MPI_STATUS; }

SpmdSession::SpmdSession(int& argc, char**& argv) {
  (void)argc;
  (void)argv;
  not_built();
}
SpmdSession::~SpmdSession() = default;

const SpmdRank* spmd_rank() { return nullptr; }

void spmd_abort(const std::string& what, int exit_code) {
  std::cerr << "pipelab: " << what << std::endl;
  std::exit(exit_code);
}

namespace detail {
void spmd_check_run(const RunConfig&) { not_built(); }
std::unique_ptr<Backend> spmd_make_backend(const RunConfig&, const Partition&, int) { not_built(); }
Trace spmd_execute(const Schedule&, Backend&, const ExecutorOptions&) { not_built(); }
StepNumerics spmd_numerics(const Backend&, const RunConfig&, const Partition&) { not_built(); }
}  // namespace detail

}  // namespace pipelab
