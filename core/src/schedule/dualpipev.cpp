// dualpipev.cpp — DualPipeV, run action by action (schedule/dualpipev.h).
#include "pipelab/schedule/dualpipev.h"

#include <algorithm>
#include <deque>
#include <string>
#include <utility>

#include "pipelab/error.h"

namespace pipelab {

namespace {

constexpr int kDown = 0;  // chunk 0: stage d
constexpr int kUp = 1;    // chunk 1: stage 2K - 1 - d

// One device's program as it is written: the next forward and backward index of each
// chunk, the queue of W's that I's left, and the actions of micro-batches >= M left out.
class DualProgram {
 public:
  DualProgram(std::vector<Action>& program, const ChunkMap& map, int device, int microbatches)
      : program_(program), map_(map), device_(device), microbatches_(microbatches) {}

  void forward(int chunk) {
    const int mb = forwards_[chunk]++;
    if (mb < microbatches_) append_chunk_forward(program_, map_, device_, chunk, mb);
  }
  // The whole backward B, or (split) its I with the W queued for later.
  void backward(int chunk, bool split) {
    const int mb = backwards_[chunk]++;
    if (split) pending_weights_.emplace_back(chunk, mb);
    if (mb >= microbatches_) return;
    if (split)
      append_chunk_backward_input(program_, map_, device_, chunk, mb);
    else
      append_chunk_backward(program_, map_, device_, chunk, mb);
  }
  // The oldest queued W, if any.
  void weight() {
    if (pending_weights_.empty()) return;
    const auto [chunk, mb] = pending_weights_.front();
    pending_weights_.pop_front();
    if (mb < microbatches_) program_.push_back({ActionKind::BackwardWeight, device_, mb, chunk});
  }
  bool weights_pending() const { return !pending_weights_.empty(); }
  int forwards(int chunk) const { return forwards_[chunk]; }
  int backwards(int chunk) const { return backwards_[chunk]; }

 private:
  std::vector<Action>& program_;
  const ChunkMap& map_;
  int device_, microbatches_;
  int forwards_[2] = {0, 0};
  int backwards_[2] = {0, 0};
  std::deque<std::pair<int, int>> pending_weights_;  // (chunk, micro-batch)
};

}  // namespace

Schedule dualpipev_schedule(int devices, int microbatches) {
  Schedule s = start_schedule(ScheduleKind::DualPipeV, "dualpipev_schedule", devices, microbatches);
  s.chunks = 2;
  s.placement = ChunkPlacement::VShape;
  const ChunkMap map = s.chunk_map();
  const int k = devices;
  const int n = std::max(microbatches, 2 * k);  // the micro-batches the order counts
  for (int d = 0; d < k; ++d) {
    DualProgram p(s.per_stage[d], map, d, microbatches);
    // 1-3. Warm-up: down, then both chunks, then the way up with zero-bubble I's.
    for (int x = 0; x < 2 * (k - 1 - d); ++x) p.forward(kDown);
    for (int x = 0; x < d + 1; ++x) {
      p.forward(kDown);
      p.forward(kUp);
    }
    for (int x = 0; x < k - 1 - d; ++x) {
      p.backward(kUp, /*split=*/true);
      p.weight();
      p.forward(kUp);
    }
    // 4. The main phase: each "F on one chunk, B on the other" is DualPipe's overlapped
    // pair, run here one action after the other.
    for (int x = 0; x < n - 2 * k + d + 1; ++x) {
      p.forward(kDown);
      p.backward(kUp, false);
      p.forward(kUp);
      p.backward(kDown, false);
    }
    // 5. The down chunk's forwards are done; the up chunk's finish.
    for (int x = 0; x < k - 1 - d; ++x) {
      p.backward(kUp, false);
      p.forward(kUp);
      p.backward(kDown, false);
    }
    // 6. Both chunks' backwards; from the middle one on as I's (their W's queued), so the
    // W's fill the drain (for odd d the switch comes before its B up, for even d after).
    bool split = false;
    const int rounds = d + 1;
    for (int x = 0; x < rounds; ++x) {
      if (x == rounds / 2 && d % 2 == 1) split = true;
      p.backward(kUp, split);
      if (x == rounds / 2 && d % 2 == 0) split = true;
      p.backward(kDown, split);
    }
    // 7-8. The last backwards down, each after a queued W; then the W's left.
    for (int x = 0; x < k - 1 - d; ++x) {
      p.weight();
      p.backward(kDown, split);
    }
    while (p.weights_pending()) p.weight();
    if (p.forwards(kDown) != n || p.forwards(kUp) != n || p.backwards(kDown) != n || p.backwards(kUp) != n)
      PIPELAB_THROW("dualpipev_schedule built a device program that misses an F or a backward (device " +
                        std::to_string(d) + ")",
                    "this is a bug in pipelab: report it with K and M");
    s.per_stage[d].push_back({ActionKind::OptimizerStep, d, -1});
  }
  return s;
}

Theory dualpipev_theory(int devices, int microbatches) {
  if (devices < 1 || microbatches < 1)
    PIPELAB_THROW("dualpipev_theory needs devices >= 1 and microbatches >= 1, got devices=" +
                      std::to_string(devices) + ", microbatches=" + std::to_string(microbatches),
                  "pass the K and M of the run");
  const double k = devices, m = microbatches;
  // Units of one chunk's forward, t_f = t_i = t_w = 1 (B = 2): busy 6M per device. Idle
  // per device, read off the unit-time simulation of tests/unit/test_dualpipev.cpp (every
  // K <= 8, M <= 20), not derived step by step:
  //   K - 1 once M >= 2K: ZB-V's, the ramp of the V (without DualPipe's overlap of F and
  //     B nothing else is gained);
  //   below, the padded order (n = 2K counted, the rest left out) idles 5K - 3 - 2M for
  //     M <= K and 5K - 1 - 2M for K < M < 2K.
  const double padded = m <= k ? 5.0 * k - 3.0 - 2.0 * m : 5.0 * k - 1.0 - 2.0 * m;
  const double idle = std::max(k - 1.0, padded);
  const double busy = 6.0 * m;
  Theory theory;
  theory.utilization = busy / (busy + idle);
  theory.bubble_fraction = idle / (busy + idle);
  theory.ideal_speedup = k * theory.utilization;  // naive: the same work, one device at a time
  // Every device warms up with 2K + 1 forwards before its first backward ends (one pair
  // more than ZB-V's 2K): min(2K + 1, 2M) pairs, each half a stage's activations.
  theory.peak_stash_microbatches = std::min(2 * devices + 1, 2 * microbatches);
  theory.schedule = "DualPipeV";
  theory.formula = "6M/(6M+max(K-1, 5K-3-2M if M<=K else 5K-1-2M))";
  return theory;
}

}  // namespace pipelab
