// pipelab/backends/cuda_backend.h — the cuda backend, all of it: K logical devices on
// real GPUs. An umbrella over its four headers, for code that uses several:
//   cuda/environment.h  what this machine offers (probe_cuda)
//   cuda/placement.h    where the K logical devices run (plan_placement, describe_cuda)
//   cuda/allocator.h    device memory (CudaAllocator, CudaBuffer)
//   cuda/backend.h      the backend (CudaBackend, make_cuda_backend): timing and memory
//
// Nothing here needs a CUDA header: this file is safe to include in any build; the
// functions exist only when PIPELAB_HAVE_CUDA (core/src/backends/cuda/).
#pragma once

#include "pipelab/backends/cuda/allocator.h"
#include "pipelab/backends/cuda/backend.h"
#include "pipelab/backends/cuda/environment.h"
#include "pipelab/backends/cuda/placement.h"
