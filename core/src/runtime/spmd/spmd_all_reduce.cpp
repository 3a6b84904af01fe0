// spmd_all_reduce.cpp — the data-parallel gradient all-reduce between processes
// (spmd_all_reduce.h): rank r is replica r, holding the whole model's gradients.
//
// In one process the device threads sum the replicas' gradients themselves (a
// reduce-scatter and an all-gather: backends/cpu/cpu_all_reduce.cpp); here MPI sums each
// gradient tensor across the ranks, in place: MPI_Iallreduce(MPI_IN_PLACE, MPI_SUM), the
// non-blocking MPI_Allreduce, so the wait polls under the watchdog as every wait of a rank
// does (mpi_comm.h). Nothing is scaled after the sum, as in the threaded path: the loss
// scales every row by 1/B, so the sum of the R replicas' gradients is the batch's.
//
// Timed like the threaded all-reduce, whose span starts once every device has met: an
// MPI_Ibarrier first (every replica's gradients are final), then the span, from the
// barrier's end to this rank having the sum. Waiting for the slowest replica is idle
// time on the compute lane, not communication.
//
// Numerics. The threaded path sums replica by replica, ((g0 + g1) + g2) + g3; MPI picks
// its own order (Open MPI: recursive doubling for small tensors, (g0 + g1) + (g2 + g3),
// a ring for large). With R = 2 both are g0 + g1, the same bits; with R > 2 an element
// may differ in its last bits (about R · 2^-24 relative), far inside the transparency
// tolerance (1e-5). Every rank receives the same bits (a float sum of two is the same in
// either order, and each partial sum is computed once per pair): spmd_numerics checks it.
#include "spmd_all_reduce.h"

#include <vector>

#include "mpi_comm.h"
#include "pipelab/error.h"
#include "pipelab/schedule/data_parallel.h"

namespace pipelab::spmd {

Transfer all_reduce_grads(Backend& backend, const Action& action, int replicas, double seconds,
                          const std::function<double()>& now_us, const std::string& who) {
  const std::vector<WireBytes> gradients = backend.gradient_wire(action.stage);  // one per tensor
  Transfer t;
  t.send = action;
  // 1. Every replica has reached AllReduceGrads: its gradients are final.
  Request arrived;
  check(MPI_Ibarrier(comm(), arrived.out()), "MPI_Ibarrier");
  wait(arrived, seconds, [&] { return who + " waiting at " + to_string(action) + " for every replica to reach it"; });
  t.span.start_us = now_us();
  // 2. Each tensor summed over the ranks, all in flight at once (MPI matches them in the
  // order every rank posts them: the backend's tensor order, the same on every rank).
  std::vector<Request> sums(gradients.size());
  std::uint64_t gradient_bytes = 0;
  for (std::size_t i = 0; i < gradients.size(); ++i) {
    check(MPI_Iallreduce(MPI_IN_PLACE, gradients[i].data, static_cast<int>(gradients[i].bytes / sizeof(float)),
                         MPI_FLOAT, MPI_SUM, comm(), sums[i].out()),
          "MPI_Iallreduce");
    gradient_bytes += gradients[i].bytes;
  }
  for (std::size_t i = 0; i < sums.size(); ++i)
    wait(sums[i], seconds, [&] {
      return who + " in " + to_string(action) + ", summing gradient tensor " + std::to_string(i) + " of " +
             std::to_string(sums.size()) + " with the other replicas";
    });
  t.span.end_us = now_us();
  t.bytes = static_cast<std::uint64_t>(ring_all_reduce_bytes(replicas, static_cast<double>(gradient_bytes)));
  return t;
}

}  // namespace pipelab::spmd
