// zbv.cpp — ZB-V, zero bubble in a V of two chunks per device (schedule/zbv.h).
#include "pipelab/schedule/zbv.h"

#include <algorithm>
#include <string>

#include "pipelab/error.h"

namespace pipelab {

namespace {

constexpr int kDown = 0;  // chunk 0: virtual stage d, on the way down the devices
constexpr int kUp = 1;    // chunk 1: virtual stage 2K - 1 - d, on the way back up

// One device's program as it is written: the next F, I and W index of each chunk, and the
// actions of micro-batches >= M left out (the order is built for n >= 2K - 1 of them).
class VProgram {
 public:
  VProgram(std::vector<Action>& program, const ChunkMap& map, int device, int microbatches)
      : program_(program), map_(map), device_(device), microbatches_(microbatches) {}

  void forward(int chunk) {
    const int mb = next_[chunk].f++;
    if (mb < microbatches_) append_chunk_forward(program_, map_, device_, chunk, mb);
  }
  void input(int chunk) {
    const int mb = next_[chunk].i++;
    if (mb < microbatches_) append_chunk_backward_input(program_, map_, device_, chunk, mb);
  }
  void weight(int chunk) {
    const int mb = next_[chunk].w++;
    if (mb < microbatches_) program_.push_back({ActionKind::BackwardWeight, device_, mb, chunk});
  }
  int forwards(int chunk) const { return next_[chunk].f; }
  int inputs(int chunk) const { return next_[chunk].i; }
  int weights(int chunk) const { return next_[chunk].w; }

 private:
  struct Next {
    int f = 0, i = 0, w = 0;
  };
  std::vector<Action>& program_;
  const ChunkMap& map_;
  int device_, microbatches_;
  Next next_[2];
};

}  // namespace

Schedule zbv_schedule(int devices, int microbatches) {
  Schedule s = start_schedule(ScheduleKind::Zbv, "zbv_schedule", devices, microbatches);
  s.chunks = 2;
  s.placement = ChunkPlacement::VShape;
  const ChunkMap map = s.chunk_map();
  const int k = devices;
  const int n = std::max(microbatches, 2 * k - 1);  // the micro-batches the order counts
  for (int d = 0; d < k; ++d) {
    VProgram p(s.per_stage[d], map, d, microbatches);
    // 1-3. Warm-up: down until the first micro-batch could come back past d, then both
    // chunks, then the way up with each backward right after its forward.
    for (int x = 0; x < 2 * (k - d) - 1; ++x) p.forward(kDown);
    for (int x = 0; x < d; ++x) {
      p.forward(kUp);
      p.forward(kDown);
    }
    for (int x = 0; x < k - d; ++x) {
      p.forward(kUp);
      p.input(kUp);
      p.weight(kUp);
    }
    // 4. Steady state: the up chunk has K forwards, so n - K rounds bring it to n; the
    // down chunk's forwards (2K - 1 - d so far) run out first.
    for (int round = 0; round < n - k; ++round) {
      if (p.forwards(kDown) < n) p.forward(kDown);
      p.input(kDown);
      p.weight(kDown);
      p.forward(kUp);
      p.input(kUp);
      p.weight(kUp);
    }
    // 5. Cool-down: the I's left (d of each chunk, then K - d down with their W's, which
    // the last gradients on their way to device 0 wait for none of), then every W left.
    for (int x = 0; x < d; ++x) {
      p.input(kDown);
      p.input(kUp);
    }
    for (int x = 0; x < k - d; ++x) {
      p.input(kDown);
      p.weight(kDown);
    }
    while (p.weights(kUp) < n) p.weight(kUp);
    while (p.weights(kDown) < n) p.weight(kDown);
    if (p.forwards(kDown) != n || p.inputs(kDown) != n || p.forwards(kUp) != n || p.inputs(kUp) != n)
      PIPELAB_THROW("zbv_schedule built a device program that misses an F or an I (device " + std::to_string(d) +
                        ")",
                    "this is a bug in pipelab: report it with K and M");
    s.per_stage[d].push_back({ActionKind::OptimizerStep, d, -1});
  }
  return s;
}

Theory zbv_theory(int devices, int microbatches) {
  if (devices < 1 || microbatches < 1)
    PIPELAB_THROW("zbv_theory needs devices >= 1 and microbatches >= 1, got devices=" + std::to_string(devices) +
                      ", microbatches=" + std::to_string(microbatches),
                  "pass the K and M of the run");
  const double k = devices, m = microbatches;
  // Units of one chunk's forward, t_f = t_i = t_w = 1: every device runs F, I and W of M
  // micro-batches on each of its 2 chunks, busy 6M. Idle per device (the unit-time event
  // simulation of tests/unit/test_zbv.cpp measures it for every K and M; a closed form
  // read off it, like zb_h1_bubble's):
  //   K - 1 once the V fills (M >= (3K - 1)/2): device K - 1, at the bottom of the V,
  //     waits K - 1 chunk forwards for its first input and is then never idle; half of
  //     ZB-H1's one-step (K - 1)·t_f, since a chunk is half a stage;
  //   4K - 2 - 2M below that: too few micro-batches to cover the round trip down the V
  //     and back (2K forwards and 2K - 1 input gradients), whose wait the W's cannot fill.
  const double idle = std::max(k - 1.0, 4.0 * k - 2.0 - 2.0 * m);
  const double busy = 6.0 * m;
  Theory theory;
  theory.utilization = busy / (busy + idle);
  theory.bubble_fraction = idle / (busy + idle);
  // Naive runs the same F, I and W of the whole batch one device at a time: K·busy.
  theory.ideal_speedup = k * theory.utilization;
  // Device d holds min(2K, 2M, M + 1 + d) (chunk, micro-batch) pairs at its peak (its
  // warm-up forwards down and up, then one pair freed per W): the most on device K - 1,
  // min(2K, 2M, M + K), which is 2K (K stages' activations) once M >= K.
  theory.peak_stash_microbatches = std::min({2 * devices, 2 * microbatches, microbatches + devices});
  theory.schedule = "ZB-V";
  theory.formula = "6M/(6M+max(K-1, 4K-2-2M))";
  return theory;
}

}  // namespace pipelab
