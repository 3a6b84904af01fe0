// backends.cpp — which backends this build has, and making one for a config.
//
// The only place outside backends/cuda/ that knows whether the cuda backend was
// built (PIPELAB_HAVE_CUDA): the runner asks make_backend() and the Backend interface.
#include "pipelab/backends/backends.h"

#include "pipelab/error.h"

#if PIPELAB_HAVE_CUDA
#include "pipelab/backends/cuda/backend.h"
#include "pipelab/backends/cuda/environment.h"
#include "pipelab/backends/cuda/placement.h"
#endif

namespace pipelab {

Transfer Backend::all_reduce(const Action& action, Rendezvous& /*together*/) {
  PIPELAB_THROW(to_string(action) + ": the " + name() + " backend has no gradient all-reduce (data parallelism)",
                "run --schedule data-parallel with --backend cpu or --backend sim");
}

BackendAvailability backend_availability() {
  BackendAvailability a;
#if PIPELAB_HAVE_CUDA
  // Asks the CUDA runtime (cudaGetDeviceCount): safe without a GPU or driver.
  const CudaEnvironment env = probe_cuda();
  a.cuda = env.usable;
  a.cuda_reason = env.reason;
#else
  a.cuda = false;
  a.cuda_reason = std::string("this build of pipelab has no cuda backend (CUDA at configure time: ") +
                  PIPELAB_CUDA_STATUS + ")";
#endif
  return a;
}

BackendKind resolve_backend(BackendKind requested) {
  const BackendAvailability a = backend_availability();
  switch (requested) {
    case BackendKind::Auto: return a.cuda ? BackendKind::Cuda : BackendKind::Cpu;
    case BackendKind::Cuda:
      if (!a.cuda)
        PIPELAB_USAGE_ERROR("--backend", "cuda requested but no GPU is usable: " + a.cuda_reason,
                            "use --backend cpu or sim (or auto); `pipelab devices` explains");
      return BackendKind::Cuda;
    default: return requested;
  }
}

std::string describe_gpu_backend(const RunConfig& config) {
#if PIPELAB_HAVE_CUDA
  return describe_cuda(config);
#else
  (void)config;
  return "";
#endif
}

std::unique_ptr<Backend> make_backend(const RunConfig& config, const Partition& partition, int microbatches) {
  switch (config.backend) {
    case BackendKind::Sim: return make_sim_backend(config, partition, microbatches);
    case BackendKind::Cpu: return make_cpu_backend(config, partition, microbatches);
#if PIPELAB_HAVE_CUDA
    case BackendKind::Cuda: return make_cuda_backend(config, partition, microbatches);
#endif
    default: break;
  }
  PIPELAB_THROW(std::string("backend ") + to_string(config.backend) + " is not available in this build",
                "use --backend sim or cpu");
}

}  // namespace pipelab
