// advise.cpp — every schedule × M × remat on the sim (or replayed from measured cpu
// costs), ranked by step time (advise.h).
#include "pipelab/runtime/advise.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "pipelab/error.h"
#include "pipelab/runtime/memory_cap.h"
#include "pipelab/runtime/run.h"

namespace pipelab {

namespace {

// The candidate `c` run on the sim, or on the cpu backend and replayed from its
// measured costs: its step, bubble and peaks, or why it could not run.
void try_candidate(const RunConfig& base, Candidate& c) {
  RunConfig run = base;
  const bool measured = base.backend == BackendKind::Cpu;
  run.backend = measured ? BackendKind::Cpu : BackendKind::Sim;
  run.schedule = c.schedule;
  run.microbatches = c.microbatches;
  run.remat = c.remat;
  run.device_memory_mib = 0;  // the advisor compares the peak with the cap itself
  run.trace_path.clear();
  // The sim's one step; on cpu 1 warm-up and 2 timed steps unless asked otherwise (the
  // replay takes each action's median over the timed ones: a few suffice, and the
  // advisor runs dozens of configurations).
  run.warmup_steps = measured && base.warmup_steps < 0 ? 1 : measured ? base.warmup_steps : -1;
  run.repeat_steps = measured && base.repeat_steps < 0 ? 2 : measured ? base.repeat_steps : -1;
  try {
    const RunResult r = run_step(run);
    if (measured && !r.replay)
      PIPELAB_THROW("the cpu run of " + std::string(to_string(c.schedule)) + " has no replay",
                    "this is a bug in pipelab: advise needs the replay of every cpu run");
    const StepMetrics& timed = measured ? r.replay->metrics : r.metrics;
    c.step_ms = timed.makespan_ms;
    c.bubble_fraction = timed.bubble_fraction;
    if (measured) c.measured_ms = r.metrics.makespan_ms;
    c.theory = r.theory;
    for (std::size_t d = 0; d < r.metrics.peak_memory_bytes.size(); ++d) {
      if (r.metrics.peak_memory_bytes[d] > c.peak_bytes) {
        c.peak_bytes = r.metrics.peak_memory_bytes[d];
        c.peak_device = static_cast<int>(d);
      }
      c.peak_stash_bytes = std::max(
          c.peak_stash_bytes, r.metrics.peak_memory_by_category[d][static_cast<int>(MemoryCategory::Stash)]);
    }
  } catch (const Error& e) {
    // A schedule that cannot take this M or remat (a generator's own limits): listed,
    // not fatal — the advice is about the ones that run.
    c.unavailable = e.message();
  }
}

}  // namespace

Advice advise(const RunConfig& config, const std::vector<int>& microbatch_counts,
              const std::function<void(int, int)>& progress) {
  if (microbatch_counts.empty())
    PIPELAB_USAGE_ERROR("--microbatches", "needs at least one micro-batch count", "e.g. -M 1,2,4,8,16,32");
  for (int m : microbatch_counts)
    if (m < 1) PIPELAB_USAGE_ERROR("--microbatches", "has " + std::to_string(m) + ", below 1", "e.g. -M 1,2,4,8");
  if (config.backend != BackendKind::Sim && config.backend != BackendKind::Cpu)
    PIPELAB_USAGE_ERROR("--backend", std::string("advise runs on sim (the cost model) or cpu (replayed from measured "
                                                 "costs), not ") + to_string(config.backend),
                        "use --backend sim or --backend cpu; check the advice on a GPU with `pipelab compare "
                        "--backend cuda --schedules ...`");
  Advice advice;
  advice.base = config;
  advice.cost_model = config.backend == BackendKind::Cpu ? "replay" : "sim";
  advice.cap_bytes = device_memory_cap_bytes(config);

  std::vector<Candidate> todo;
  for (const ScheduleInfo& row : schedule_registry()) {
    for (bool remat : {false, true}) {
      // A schedule that sets its own M (naive: 1, data-parallel: K) is one candidate.
      std::vector<int> ms = microbatch_counts;
      if (row.microbatch_rule != MicrobatchRule::AsGiven) ms = {scheduled_microbatches(row, config.devices, 1)};
      std::sort(ms.begin(), ms.end());
      ms.erase(std::unique(ms.begin(), ms.end()), ms.end());
      for (int m : ms) {
        if (m > config.model.batch) continue;  // a micro-batch needs at least one row
        Candidate c;
        c.schedule = row.kind;
        c.microbatches = m;
        c.remat = remat;
        c.w_batch = config.w_batch;
        // The largest micro-batch: ceil(B / M) rows (split_microbatches gives the first
        // B mod M micro-batches one more row).
        c.rows_per_microbatch = (config.model.batch + m - 1) / m;
        todo.push_back(c);
      }
    }
  }
  const int total = static_cast<int>(todo.size());
  for (int i = 0; i < total; ++i) {
    if (progress) progress(i, total);
    try_candidate(config, todo[static_cast<std::size_t>(i)]);
    Candidate& c = todo[static_cast<std::size_t>(i)];
    c.fits = c.unavailable.empty() && (advice.cap_bytes == 0 || c.peak_bytes <= advice.cap_bytes);
  }
  if (progress) progress(total, total);

  // Fitting first, then over the cap, then unavailable; fastest first within each, ties
  // by less memory (the same step in less memory is the better advice).
  const auto rank = [](const Candidate& c) { return c.fits ? 0 : c.unavailable.empty() ? 1 : 2; };
  std::stable_sort(todo.begin(), todo.end(), [&](const Candidate& a, const Candidate& b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    // Step times within a part in 1e9 are one step time (two schedules of the same idle
    // time differ only in rounding): then the one with less memory ranks first.
    if (std::abs(a.step_ms - b.step_ms) > 1e-9 * std::max(a.step_ms, b.step_ms)) return a.step_ms < b.step_ms;
    return a.peak_bytes < b.peak_bytes;
  });
  advice.candidates = std::move(todo);
  for (const Candidate& c : advice.candidates) advice.fitting += c.fits ? 1 : 0;
  return advice;
}

}  // namespace pipelab
