// fuzz/harness/schedule.h — validate() on arbitrary schedules, and the promise it makes.
//
// The input picks a valid schedule (naive, gpipe or 1f1b; K, M <= 4; with or without
// re-materialization) and then a list of edits: swap, move, drop or duplicate an
// action, change its kind, stage or micro-batch, insert a Recompute, change the header.
// Properties:
//   1. validate() and validation_error() agree, and never crash or hang.
//   2. A schedule validate() accepts runs to the end on sim and on cpu (the watchdog
//      never fires), and every action appears in the trace exactly once.
//   3. On cpu it computes the single-device step: loss and gradients (and the updated
//      parameters, when every stage has its OptimizerStep) within 1e-5.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "pipelab/backends/backends.h"
#include "pipelab/error.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/exercise.h"
#include "pipelab/model/model.h"
#include "pipelab/runtime/run.h"
#include "pipelab/schedule/validate.h"

namespace pipelab::fuzz {

/// Reads the fuzz input a byte at a time; 0 once it is used up.
class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t next() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::size_t left() const { return size_ - pos_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

/// Applies one edit, chosen by 4 input bytes, to `s`.
inline void apply_edit(Schedule& s, ByteReader& in) {
  const int op = in.next() % 10;
  const std::uint8_t a = in.next(), b = in.next(), c = in.next();
  if (s.per_stage.empty()) return;
  std::vector<Action>& list = s.per_stage[a % s.per_stage.size()];
  const auto at = [&](std::uint8_t byte) { return static_cast<std::size_t>(byte) % list.size(); };
  switch (op) {
    case 0:  // swap two actions of a stage
      if (!list.empty()) std::swap(list[at(b)], list[at(c)]);
      break;
    case 1:  // move an action elsewhere in its stage
      if (!list.empty()) {
        const Action moved = list[at(b)];
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(at(b)));
        list.insert(list.begin() + static_cast<std::ptrdiff_t>(list.empty() ? 0 : at(c) % (list.size() + 1)), moved);
      }
      break;
    case 2:  // drop an action
      if (!list.empty()) list.erase(list.begin() + static_cast<std::ptrdiff_t>(at(b)));
      break;
    case 3:  // duplicate an action
      if (!list.empty()) list.insert(list.begin() + static_cast<std::ptrdiff_t>(at(c)), list[at(b)]);
      break;
    case 4:  // change an action's kind
      if (!list.empty()) list[at(b)].kind = static_cast<ActionKind>(c % kActionKindCount);
      break;
    case 5:  // change its micro-batch (-1 .. 5)
      if (!list.empty()) list[at(b)].microbatch = static_cast<int>(c % 7) - 1;
      break;
    case 6:  // change its stage (-1 .. 4)
      if (!list.empty()) list[at(b)].stage = static_cast<int>(c % 6) - 1;
      break;
    case 7:  // insert a Recompute of this stage
      list.insert(list.begin() + static_cast<std::ptrdiff_t>(list.empty() ? 0 : at(b)),
                  Action{ActionKind::Recompute, static_cast<int>(a % s.per_stage.size()), static_cast<int>(c % 5)});
      break;
    case 8:  // change the header
      if (b % 2 == 0) {
        s.microbatches = static_cast<int>(c % 7) - 1;
      } else {
        s.stages = static_cast<int>(c % 7) - 1;
      }
      break;
    default:  // move an action to another stage's list
      if (!list.empty()) {
        const Action moved = list[at(b)];
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(at(b)));
        s.per_stage[c % s.per_stage.size()].push_back(moved);
      }
      break;
  }
}

/// Loss and gradient difference (normwise, per tensor, like max_relative_difference)
/// without the updated parameters: `got`'s are replaced by the reference's. (Clearing
/// both instead made max_relative_difference read past the end: found by this fuzzer,
/// see tests/unit/test_fuzz_regressions.cpp.)
inline double loss_and_grad_difference(const StepNumerics& got, const StepNumerics& ref) {
  StepNumerics g = got;
  g.params = ref.params;
  return max_relative_difference(g, ref);
}

inline void fuzz_schedule(const std::uint8_t* data, std::size_t size) {
  ByteReader in(data, size);
  const int devices = 1 + in.next() % 4;
  const int microbatches = 1 + in.next() % 4;
  const int base = in.next();
  Schedule schedule = base % 3 == 0   ? naive_schedule(devices)
                      : base % 3 == 1 ? gpipe_schedule(devices, microbatches)
                                      : one_f_one_b_schedule(devices, microbatches);
  if ((base / 3) % 2 == 1) schedule = with_recompute(schedule);
  while (in.left() >= 4) apply_edit(schedule, in);

  // 1. The two entry points agree.
  const std::string why = validation_error(schedule);
  bool threw = false;
  try {
    validate(schedule);
  } catch (const Error& e) {
    threw = true;
    PIPELAB_FUZZ_CHECK(!why.empty() && why == e.message(),
                       "validate() says '" + e.message() + "', validation_error() '" + why + "'");
  }
  PIPELAB_FUZZ_CHECK(threw == !why.empty(), "validate() and validation_error() disagree: '" + why + "'");
  if (threw) return;

  // 2. and 3. Accepted: it runs on both backends and computes the one-device step.
  PIPELAB_FUZZ_CHECK(schedule.stages >= 1 && schedule.microbatches >= 1,
                     "validate() accepted a schedule with " + std::to_string(schedule.stages) + " stages and " +
                         std::to_string(schedule.microbatches) + " micro-batches\n" + describe(schedule));
  RunConfig config;
  config.devices = schedule.stages;
  config.microbatches = schedule.microbatches;
  config.model.layers = schedule.stages + 1;           // one stage holds two layers
  config.model.width = 3;
  config.model.hidden = 4;
  config.model.batch = 2 * schedule.microbatches + 1;  // uneven micro-batches
  config.remat = false;  // an R the schedule contains simply recomputes
  validate_config(config);
  const Partition partition = build_partition(config);
  ExecutorOptions options;
  options.watchdog_seconds = 20;
  bool every_stage_steps = true;
  for (const std::vector<Action>& list : schedule.per_stage)
    every_stage_steps = every_stage_steps && std::any_of(list.begin(), list.end(), [](const Action& a) {
                          return a.kind == ActionKind::OptimizerStep;
                        });
  const StepNumerics reference = reference_step(config.model);
  for (BackendKind kind : {BackendKind::Sim, BackendKind::Cpu}) {
    std::unique_ptr<Backend> backend = kind == BackendKind::Sim
                                           ? make_sim_backend(config, partition, schedule.microbatches)
                                           : make_cpu_backend(config, partition, schedule.microbatches);
    Trace trace;
    try {
      trace = execute(schedule, *backend, options);
    } catch (const Error& e) {
      PIPELAB_FUZZ_CHECK(false, std::string("a validated schedule failed on ") + to_string(kind) + ": " +
                                    e.what() + "\n" + describe(schedule));
    }
    PIPELAB_FUZZ_CHECK(trace.events.size() == schedule.size(),
                       std::to_string(trace.events.size()) + " spans for " + std::to_string(schedule.size()) +
                           " actions\n" + describe(schedule));
    if (kind != BackendKind::Cpu) continue;
    const StepNumerics got = *backend->numerics();
    const double difference = every_stage_steps ? max_relative_difference(got, reference)
                                                : loss_and_grad_difference(got, reference);
    PIPELAB_FUZZ_CHECK(difference <= kTransparencyTolerance,
                       "cpu differs from the single-device step by " + std::to_string(difference) + "\n" +
                           describe(schedule));
  }
}

}  // namespace pipelab::fuzz
