// cpu_all_reduce.cpp — the data-parallel gradient all-reduce between the cpu backend's
// device threads (cpu_stage.h). Every replica of a stage holds the same list of gradient
// tensors; seen as one flat vector of N floats, replica r owns the share
// [r·N/R, (r+1)·N/R). Each device's worker runs, between two meetings of all devices:
//   1. reduce-scatter: sum its share over the R replicas (in replica order 0..R-1, so the
//      sum is one set of bits) into its own copy;
//   2. all-gather: copy every other share from the replica that owns it.
// Each device reads (R-1)/R of the gradients in each phase: 2(R-1)/R × G bytes, what a
// ring all-reduce sends per device (docs/backends.md). Nobody writes a share another
// device reads in the same phase: a device only writes its own copy, in phase 1 only
// its own share, and the owners' shares are final before phase 2 reads them.
#include <cstring>

#include "cpu_stage.h"
#include "pipelab/error.h"
#include "pipelab/schedule/data_parallel.h"

namespace pipelab::cpu_detail {

namespace {

// Calls f(piece index, offset in the piece, length) for the part of the flat range
// [begin, end) in each piece.
template <typename F>
void for_range(const std::vector<Piece>& pieces, std::size_t begin, std::size_t end, F&& f) {
  std::size_t at = 0;  // flat offset of the current piece
  for (std::size_t p = 0; p < pieces.size() && at < end; at += pieces[p].size, ++p) {
    const std::size_t lo = std::max(begin, at), hi = std::min(end, at + pieces[p].size);
    if (lo < hi) f(p, lo - at, hi - lo);
  }
}

}  // namespace

std::vector<Piece> gradient_pieces(Stage& st) {
  std::vector<Piece> pieces;
  for (BlockParams& g : st.grads)
    for_each_tensor(g, [&](const char*, std::vector<float>& t) { pieces.push_back({t.data(), t.size()}); });
  return pieces;
}

Transfer all_reduce_grads(std::vector<Stage>& stages, const Partition& partition, const Action& action,
                          Rendezvous& together, const std::function<double()>& now_us) {
  Transfer t;
  t.send = action;
  const int device = action.stage;
  const int S = partition.stages();
  const int R = partition.replicas;
  const int stage = partition.stage_on(device);  // one chunk per device: slot = device
  const int replica = device / S;
  // The replicas of this stage: devices stage, stage + S, stage + 2S, ...
  std::vector<std::vector<Piece>> copies;
  for (int r = 0; r < R; ++r) copies.push_back(gradient_pieces(stages[static_cast<std::size_t>(r * S + stage)]));
  std::size_t n = 0;
  for (const Piece& p : copies[replica]) n += p.size;
  const auto share_begin = [&](int r) { return n * static_cast<std::size_t>(r) / static_cast<std::size_t>(R); };

  // Meeting 1: every replica's gradients are final (every B and W has run).
  if (!together.arrive_and_wait()) return t;
  t.span.start_us = now_us();
  // 1. reduce-scatter: my share, summed over the replicas in order.
  const std::vector<Piece>& mine = copies[replica];
  for_range(mine, share_begin(replica), share_begin(replica + 1), [&](std::size_t p, std::size_t off, std::size_t len) {
    for (std::size_t i = 0; i < len; ++i) {
      float sum = 0.f;
      for (int r = 0; r < R; ++r) sum += copies[r][p].data[off + i];
      mine[p].data[off + i] = sum;
    }
  });
  // Meeting 2: every share is reduced.
  if (!together.arrive_and_wait()) return t;
  // 2. all-gather: the other shares, from their owners.
  for (int r = 0; r < R; ++r) {
    if (r == replica) continue;
    for_range(mine, share_begin(r), share_begin(r + 1), [&](std::size_t p, std::size_t off, std::size_t len) {
      std::memcpy(mine[p].data + off, copies[r][p].data + off, len * sizeof(float));
    });
  }
  t.span.end_us = now_us();
  t.bytes = static_cast<std::uint64_t>(ring_all_reduce_bytes(R, static_cast<double>(float_bytes(n))));
  return t;
}

void check_replicas_agree(const std::vector<Stage>& stages, const Partition& partition) {
  const int S = partition.stages();
  for (int d = S; d < partition.devices(); ++d) {
    const Stage& a = stages[static_cast<std::size_t>(d % S)];
    const Stage& b = stages[static_cast<std::size_t>(d)];
    bool same = a.params.size() == b.params.size();
    for (std::size_t i = 0; same && i < a.params.size(); ++i)
      for_each_tensor_pair(a.params[i], b.params[i], [&](const char*, const std::vector<float>& x,
                                                         const std::vector<float>& y) { same = same && x == y; });
    for (std::size_t i = 0; same && i < a.grads.size(); ++i)
      for_each_tensor_pair(a.grads[i], b.grads[i], [&](const char*, const std::vector<float>& x,
                                                       const std::vector<float>& y) { same = same && x == y; });
    if (!same)
      PIPELAB_THROW("device " + std::to_string(d) + " (replica " + std::to_string(d / S) +
                        ") ended the step with parameters or gradients that differ from replica 0's",
                    "every replica applies the same all-reduced gradients: a backend bug, please report");
  }
}

}  // namespace pipelab::cpu_detail
