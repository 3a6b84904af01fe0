// spmd_clock.cpp — ping-pong clock offsets (spmd_clock.h).
#include "spmd_clock.h"

#include <chrono>
#include <string>

#include "bytes.h"
#include "mpi_comm.h"

namespace pipelab::spmd {


double steady_now_us() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<ClockEstimate> estimate_clocks(double seconds) {
  const int me = rank();
  const int n = ranks();
  std::vector<ClockEstimate> clocks(n);
  // The ping's and the answer's tags: the two largest, above every step tag (spmd_check_run).
  const int kPingTag = max_tag(), kPongTag = max_tag() - 1;
  char ping = 0;
  // One rank at a time, so rank 0 answers no one else while it times rank r.
  for (int r = 1; r < n; ++r) {
    if (me != 0 && me != r) continue;
    for (int i = 0; i < kClockPings; ++i) {
      double answer = 0;
      Request send, recv;
      if (me == 0) {
        check(MPI_Irecv(&answer, 1, MPI_DOUBLE, r, kPongTag, comm(), recv.out()), "MPI_Irecv");
        const double t0 = steady_now_us();
        check(MPI_Isend(&ping, 1, MPI_CHAR, r, kPingTag, comm(), send.out()), "MPI_Isend");
        wait(recv, seconds, [&] { return "rank 0 timing the clock of rank " + std::to_string(r) + " (no answer)"; },
             {}, kClockSpinUs);
        const double t1 = steady_now_us();
        wait(send, seconds, [&] { return "rank 0 pinging rank " + std::to_string(r); });
        const double round_trip = t1 - t0;
        if (i == 0 || round_trip < clocks[r].round_trip_us)
          clocks[r] = {answer - 0.5 * (t0 + t1), round_trip, 0.5 * (t0 + t1)};  // offset_r = t_r − (t0 + t1) / 2
      } else {
        check(MPI_Irecv(&ping, 1, MPI_CHAR, 0, kPingTag, comm(), recv.out()), "MPI_Irecv");
        // The first ping may come after rank 0 has timed the ranks before this one: sleep
        // through that wait; the next ones follow at once.
        wait(recv, seconds, [&] { return "rank " + std::to_string(me) + " waiting for rank 0's clock ping"; }, {},
             i == 0 ? 50 : kClockSpinUs);
        answer = steady_now_us();
        check(MPI_Isend(&answer, 1, MPI_DOUBLE, 0, kPongTag, comm(), send.out()), "MPI_Isend");
        wait(send, seconds, [&] { return "rank " + std::to_string(me) + " answering rank 0's clock ping"; });
      }
    }
  }
  // Rank 0 alone knows the estimates: it tells everyone, so every rank merges alike.
  ByteWriter out;
  out.values(clocks);
  std::vector<char>& bytes = out.bytes();
  broadcast_bytes(bytes, 0, seconds, "the clock offsets");
  ByteReader in(bytes);
  return in.values<ClockEstimate>();
}

}  // namespace pipelab::spmd
