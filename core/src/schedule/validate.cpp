// validate.cpp — prove a schedule is complete, ordered and deadlock-free (validate.h).
//
// Four passes, each O(total actions) over dense (stage, micro-batch) tables:
//   1. shape        — every action in its own stage's list, ids in range;
//   2. completeness — each needed action exactly once, nothing unneeded, Opt last, R between F and B;
//                     a micro-batch's backward is one B, or one I and one W (the split backward),
//                     or one I and the stage's whole-batch W after every I (--w-batch);
//   3. order        — within a stage, each action after the ones it consumes;
//   4. deadlock     — (validate_deadlock.cpp) symbolic execution: sends never block, a receive blocks until
//                     its matching send has executed. Each stage runs until it blocks;
//                     a send wakes the one stage waiting for it (a worklist, so every
//                     action is executed once). Stages left unfinished are deadlocked.
// Every error names the first offending action with to_string(Action) ("B3 s1"). The
// tables are per virtual stage: one per device, or K·v when devices hold v chunks.
#include "pipelab/schedule/validate.h"

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/schedule/registry.h"  // schedule_theory: the declared stash bound
#include "validate_deadlock.h"
#include "validate_replicas.h"
#include "validate_stash.h"
#include "validate_tables.h"

namespace pipelab {

namespace {

using detail::name;
using detail::on;
using detail::PositionTable;

// [SECTION] action tables -----------------------------------------------------------

bool valid_kind(ActionKind kind) {
  const int k = static_cast<int>(kind);
  return k >= 0 && k < kActionKindCount;
}

// Does stage `stage` of a `stages`-stage pipeline need this kind at all?
// Receive/send of activations exist between neighbours only; the first stage
// receives no activation and sends no gradient, the last the reverse.
bool needed(ActionKind kind, int stage, int stages) {
  switch (kind) {
    case ActionKind::RecvActivation:
    case ActionKind::SendGrad:
      return stage > 0;
    case ActionKind::SendActivation:
    case ActionKind::RecvGrad:
      return stage < stages - 1;
    default:
      return true;
  }
}

bool is_recv(ActionKind k) { return k == ActionKind::RecvActivation || k == ActionKind::RecvGrad; }
bool is_send(ActionKind k) { return k == ActionKind::SendActivation || k == ActionKind::SendGrad; }

std::string at_position(int stage, std::size_t index) {
  // Positions count from 0 within a stage's program, and the message says so.
  return "stage " + std::to_string(stage) + " action #" + std::to_string(index) + " (0-based)";
}

// [SECTION] 1. shape ----------------------------------------------------------------

void check_shape(const Schedule& sc) {
  if (sc.stages < 1)
    PIPELAB_THROW("schedule has " + std::to_string(sc.stages) + " stages",
                  "a schedule needs at least one stage (devices >= 1)");
  if (sc.microbatches < 1)
    PIPELAB_THROW("schedule has " + std::to_string(sc.microbatches) + " micro-batches",
                  "a schedule needs at least one micro-batch (naive MP has exactly one)");
  if (sc.replicas < 1 || (sc.replicas > 1 && sc.replicas != sc.stages))
    PIPELAB_THROW("schedule has " + std::to_string(sc.replicas) + " replicas on " + std::to_string(sc.stages) +
                      " devices",
                  "replicas is 1 (a pipeline) or the number of devices (data parallelism, one model per device)");
  if (sc.chunks < 1 || sc.chunks > 255 || (sc.chunks > 1 && sc.replicas > 1))
    PIPELAB_THROW("schedule has " + std::to_string(sc.chunks) + " chunks per device" +
                      (sc.replicas > 1 ? " and " + std::to_string(sc.replicas) + " replicas" : std::string()),
                  "chunks (model chunks per device) is 1..255, and 1 for data parallelism");
  if (static_cast<int>(sc.per_stage.size()) != sc.stages)
    PIPELAB_THROW("schedule has " + std::to_string(sc.per_stage.size()) + " stage programs but stages = " +
                      std::to_string(sc.stages),
                  "per_stage must hold exactly one action list per stage");

  for (int s = 0; s < sc.stages; ++s) {
    const auto& program = sc.per_stage[s];
    if (program.size() >= (std::size_t{1} << 31))
      PIPELAB_THROW("stage " + std::to_string(s) + "'s program has " + std::to_string(program.size()) + " actions",
                    "a stage's program holds fewer than 2^31 actions: use fewer micro-batches");
    for (std::size_t i = 0; i < program.size(); ++i) {
      const Action& a = program[i];
      if (!valid_kind(a.kind))
        PIPELAB_THROW(at_position(s, i) + " has an unknown action kind (" +
                          std::to_string(static_cast<int>(a.kind)) + ")",
                      "use one of the ActionKind values");
      if (a.chunk >= sc.chunks)
        PIPELAB_THROW(to_string(a) + " names chunk " + std::to_string(a.chunk) + " but the devices hold " +
                          std::to_string(sc.chunks) + " (" + at_position(s, i) + ")",
                      "chunk ids run 0..chunks-1 (Schedule::chunks)");
      if (a.stage != s)
        PIPELAB_THROW(to_string(a) + " is in stage " + std::to_string(s) + "'s program (" +
                          at_position(s, i) + ")",
                      "an action runs on its own stage: put it in per_stage[" + std::to_string(a.stage) +
                          "] or fix its stage field");
      if (a.kind == ActionKind::OptimizerStep || is_collective(a.kind)) {
        if (a.microbatch != -1)
          PIPELAB_THROW(to_string(a) + " has micro-batch " + std::to_string(a.microbatch) + " (" +
                            at_position(s, i) + ")",
                        std::string(to_string(a.kind)) + " is once per stage, not per micro-batch: use microbatch = -1");
        if (is_collective(a.kind) && sc.replicas == 1)
          PIPELAB_THROW(to_string(a) + " in a pipeline (" + at_position(s, i) +
                            "): its stages hold different layers, so there are no gradients to all-reduce",
                        "AllReduceGrads belongs to data-parallel schedules (Schedule::replicas = K)");
      } else if (is_batched_weight(a) && sc.replicas == 1) {
        // A whole-batch W (--w-batch): once per (device, chunk), checked in pass 2.
      } else if (a.microbatch < 0 || a.microbatch >= sc.microbatches) {
        PIPELAB_THROW(to_string(a) + ": micro-batch " + std::to_string(a.microbatch) +
                          " is out of range [0, " + std::to_string(sc.microbatches) + ") (" +
                          at_position(s, i) + ")",
                      "micro-batch ids run 0..microbatches-1; check the loop bounds or Schedule::microbatches");
      }
    }
  }
}

// [SECTION] 2. completeness ---------------------------------------------------------

// A missing action, explained: for a missing send, the receiver that would wait forever.
std::string missing_message(const ChunkMap& map, ActionKind kind, int vs, int m) {
  const Action a = on(map, kind, vs, m);
  std::string msg = "missing " + to_string(a) + ": stage " + std::to_string(a.stage) + " never runs it";
  if (is_send(kind)) {
    const Action recv = matching_recv(a, map);
    msg += ", so stage " + std::to_string(recv.stage) + " would wait forever at " + to_string(recv);
  } else if (is_recv(kind)) {
    const Action send = matching_send(a, map);
    msg += ", so nobody consumes " + to_string(send) + " from stage " + std::to_string(send.stage);
  }
  return msg;
}

// Fills `pos` and `opt_pos`; throws on duplicates, unneeded, missing and misplaced actions.
void check_completeness(const Schedule& sc, PositionTable& pos, std::vector<std::int32_t>& opt_pos) {
  const int K = sc.stages;
  const int M = sc.microbatches;
  const ChunkMap map = sc.chunk_map();
  const int V = map.count();  // virtual stages: K, or K·v with chunks

  // Duplicates and actions a stage must not have, in program order.
  for (int s = 0; s < K; ++s) {
    const auto& program = sc.per_stage[s];
    for (std::size_t i = 0; i < program.size(); ++i) {
      const Action& a = program[i];
      const auto here = static_cast<std::int32_t>(i);
      if (a.kind == ActionKind::OptimizerStep) {
        if (opt_pos[s] >= 0)
          PIPELAB_THROW("duplicate " + to_string(a) + " (" + at_position(s, opt_pos[s]) + " and #" +
                            std::to_string(i) + ")",
                        "each stage runs exactly one OptimizerStep, after all its backwards");
        opt_pos[s] = here;
        continue;
      }
      const int vs = map.virtual_stage(s, a.chunk);
      if (is_batched_weight(a)) {
        std::int32_t& slot = pos.batched_weight(vs);
        if (slot >= 0)
          PIPELAB_THROW("duplicate whole-batch " + to_string(a) + " (" + at_position(s, slot) + " and #" +
                            std::to_string(i) + ")",
                        "a stage runs one whole-batch W per model chunk (with_batched_weight)");
        slot = here;
        continue;
      }
      if (!needed(a.kind, vs, V)) {
        const bool first = vs == 0;
        PIPELAB_THROW(to_string(a) + " has no partner: " + (map.chunks > 1 ? "its virtual stage" : "stage " + std::to_string(s)) +
                          " is the " + (first ? "first" : "last") + " stage (" + at_position(s, i) + ")",
                      first ? "the first stage receives no activation and sends no gradient"
                            : "the last stage sends no activation and receives no gradient; "
                              "append_forward/append_backward add only the needed send/recv");
      }
      std::int32_t& slot = pos.at(a.kind, vs, a.microbatch);
      if (slot >= 0)
        PIPELAB_THROW("duplicate " + to_string(a) + " (" + at_position(s, slot) + " and #" +
                          std::to_string(i) + ")",
                      "every (stage, micro-batch) runs each of F, B (or I and W) and its send/recv exactly once");
      slot = here;
    }
  }

  // The backward of each (stage, micro-batch): one B, or the split pair I + W — never
  // both (the gradient would be accumulated twice), never half a pair.
  for (int vs = 0; vs < V; ++vs)
    for (int m = 0; m < M; ++m) detail::check_backward_form(map, pos, vs, m);
  for (int vs = 0; vs < V; ++vs) detail::check_batched_weight_place(map, pos, vs, M);

  // Missing actions, by stage then micro-batch. The backward's kind is B or I (above).
  for (int vs = 0; vs < V; ++vs)
    for (int m = 0; m < M; ++m) {
      const ActionKind backward =
          pos.at(ActionKind::BackwardInput, vs, m) >= 0 ? ActionKind::BackwardInput : ActionKind::Backward;
      const ActionKind required[] = {ActionKind::RecvActivation, ActionKind::Forward, ActionKind::SendActivation,
                                     ActionKind::RecvGrad,       backward,            ActionKind::SendGrad};
      for (ActionKind kind : required)
        if (needed(kind, vs, V) && pos.at(kind, vs, m) < 0)
          PIPELAB_THROW(missing_message(map, kind, vs, m),
                        "every stage runs F and B (or I and W) of every micro-batch; use append_forward / "
                        "append_backward (append_backward_input) so each carries its send/recv");
    }

  // OptimizerStep after all of its stage's B and W; Recompute between F and B (or I).
  for (int vs = 0; vs < V; ++vs) {
    const int s = map.device_of(vs);
    for (int m = 0; m < M; ++m) {
      const bool split = pos.at(ActionKind::BackwardInput, vs, m) >= 0;
      // The last gradient-accumulating action of (s, m): B, or W for the split pair.
      const ActionKind last_kind = split ? ActionKind::BackwardWeight : ActionKind::Backward;
      // ... or the stage's whole-batch W (--w-batch), which covers every micro-batch.
      const bool batched = split && pos.batched_weight(vs) >= 0;
      const std::int32_t last = batched ? pos.batched_weight(vs) : pos.at(last_kind, vs, m);
      if (opt_pos[s] >= 0 && opt_pos[s] < last)
        PIPELAB_THROW(to_string(Action{ActionKind::OptimizerStep, s, -1}) + " comes before " +
                          name(map, last_kind, vs, batched ? -1 : m) + " (stage " + std::to_string(s) +
                          ", actions #" + std::to_string(opt_pos[s]) + " < #" + std::to_string(last) + ", 0-based)",
                      "the optimizer step uses the gradients of every micro-batch: put it last");
      // The action that consumes the activations: B, or I for the split pair.
      const ActionKind backward_kind = split ? ActionKind::BackwardInput : ActionKind::Backward;
      const std::int32_t b = pos.at(backward_kind, vs, m);
      const std::int32_t r = pos.at(ActionKind::Recompute, vs, m);
      if (r < 0) continue;
      const std::int32_t f = pos.at(ActionKind::Forward, vs, m);
      if (r < f)
        PIPELAB_THROW(name(map, ActionKind::Recompute, vs, m) + " comes before " + name(map, ActionKind::Forward, vs, m) +
                          " (stage " + std::to_string(s) + ", actions #" + std::to_string(r) + " < #" +
                          std::to_string(f) + ", 0-based)",
                      "recompute re-runs the forward from its stashed input: it goes after F, before B");
      if (r > b)
        PIPELAB_THROW(name(map, ActionKind::Recompute, vs, m) + " comes after " + name(map, backward_kind, vs, m) +
                          " (stage " + std::to_string(s) + ", actions #" + std::to_string(r) + " > #" +
                          std::to_string(b) + ", 0-based)",
                      "B needs the recomputed activations: put Recompute before B (see with_recompute)");
    }
  }
}

// [SECTION] 3. order within a stage -------------------------------------------------

// An action of the same (stage, micro-batch) that must come earlier, and why.
struct Prerequisite {
  ActionKind kind;
  const char* why;
};

void check_order(const Schedule& sc, PositionTable& pos) {
  const int K = sc.stages;
  const ChunkMap map = sc.chunk_map();
  const int V = map.count();
  for (int s = 0; s < K; ++s) {
    const auto& program = sc.per_stage[s];
    for (std::size_t i = 0; i < program.size(); ++i) {
      const Action& a = program[i];
      if (a.kind == ActionKind::OptimizerStep || is_batched_weight(a)) continue;  // the latter: pass 2
      const int vs = map.virtual_stage(s, a.chunk);
      Prerequisite pre[2];
      int count = 0;
      switch (a.kind) {
        case ActionKind::Forward:
          if (vs > 0) pre[count++] = {ActionKind::RecvActivation, "F needs its input activation"};
          break;
        case ActionKind::SendActivation:
          pre[count++] = {ActionKind::Forward, "it sends F's output"};
          break;
        case ActionKind::Backward:
          pre[count++] = {ActionKind::Forward, "B needs F's stashed activations"};
          if (vs < V - 1) pre[count++] = {ActionKind::RecvGrad, "B needs its output-gradient"};
          break;
        case ActionKind::BackwardInput:
          pre[count++] = {ActionKind::Forward, "I needs F's stashed activations"};
          if (vs < V - 1) pre[count++] = {ActionKind::RecvGrad, "I needs its output-gradient"};
          break;
        case ActionKind::BackwardWeight:
          pre[count++] = {ActionKind::BackwardInput, "W needs the gradients I keeps"};
          break;
        case ActionKind::SendGrad:
          if (pos.at(ActionKind::BackwardInput, vs, a.microbatch) >= 0)
            pre[count++] = {ActionKind::BackwardInput, "it sends I's input-gradient"};
          else
            pre[count++] = {ActionKind::Backward, "it sends B's input-gradient"};
          break;
        default:
          break;
      }
      for (int p = 0; p < count; ++p) {
        const std::int32_t at = pos.at(pre[p].kind, vs, a.microbatch);
        if (at > static_cast<std::int32_t>(i))
          PIPELAB_THROW(to_string(a) + " comes before " + name(map, pre[p].kind, vs, a.microbatch) + " in stage " +
                            std::to_string(s) + "'s program (actions #" + std::to_string(i) + " < #" +
                            std::to_string(at) + ", 0-based): " + pre[p].why,
                        "order each micro-batch as RecvAct F SendAct ... RecvGrad B SendGrad, or ... "
                        "RecvGrad I SendGrad ... W (append_forward, append_backward, "
                        "append_backward_input and append_weight_backward do this)");
      }
    }
  }
}

}  // namespace

// [SECTION] entry points ------------------------------------------------------------

void validate(const Schedule& schedule) {
  check_shape(schedule);
  // Data parallelism: no pipeline, every device its own share and one collective.
  if (schedule.replicas > 1) return detail::validate_replicas(schedule);
  const int K = schedule.stages;
  const int M = schedule.microbatches;
  const ChunkMap map = schedule.chunk_map();

  // A complete schedule has at least one F and one B per (stage, micro-batch). When
  // fewer actions exist than (stage, micro-batch) cells, name the first missing F or B
  // without allocating tables sized by an absurd micro-batch count.
  const auto cells = static_cast<std::uint64_t>(K) * static_cast<std::uint64_t>(M);
  if (cells > schedule.size()) {
    for (int s = 0; s < K; ++s) {
      std::vector<char> has_f, has_b;
      const auto& program = schedule.per_stage[s];
      // Only micro-batches below program.size() + 1 can all be present; search that prefix.
      const int limit = static_cast<int>(std::min<std::uint64_t>(M, program.size() + 1));
      has_f.assign(limit, 0);
      has_b.assign(limit, 0);
      for (const Action& a : program) {
        if (a.microbatch < 0 || a.microbatch >= limit) continue;
        if (a.kind == ActionKind::Forward) has_f[a.microbatch] = 1;
        if (is_input_backward(a.kind)) has_b[a.microbatch] = 1;  // B, or I of the split pair
      }
      for (int m = 0; m < limit; ++m) {
        if (!has_f[m]) PIPELAB_THROW(missing_message(map, ActionKind::Forward, map.virtual_stage(s, 0), m),
                                     "every stage runs F and B of every micro-batch");
        if (!has_b[m]) PIPELAB_THROW(missing_message(map, ActionKind::Backward, map.virtual_stage(s, 0), m),
                                     "every stage runs F and B of every micro-batch");
      }
    }
  }

  PositionTable pos(map.count(), M);
  std::vector<std::int32_t> opt_pos(K, -1);
  check_completeness(schedule, pos, opt_pos);
  check_order(schedule, pos);
  detail::check_deadlock(schedule);  // validate_deadlock.cpp
  // A registry schedule declares the most micro-batches a device holds (its theory).
  if (schedule.kind != ScheduleKind::Custom)
    detail::check_stash_bound(schedule, schedule_theory(schedule).peak_stash_microbatches);
}

void validate(const Schedule& schedule, P2pModel model) {
  validate(schedule);
  if (model == P2pModel::Async) return;  // pass 4 above is the async model
  const std::string problem = deadlock_problem(schedule, model);
  if (!problem.empty()) PIPELAB_THROW(problem, deadlock_hint(model));
}

std::string validation_error(const Schedule& schedule) {
  try {
    validate(schedule);
  } catch (const Error& e) {
    return e.message();
  }
  return {};
}

}  // namespace pipelab
