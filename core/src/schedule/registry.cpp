// registry.cpp — the schedule table: one row per schedule, and the theory formulas.
#include "pipelab/schedule/registry.h"

#include "pipelab/error.h"
#include "pipelab/exercise.h"

namespace pipelab {

Theory fill_drain_theory(int devices, int microbatches) {
  if (devices < 1 || microbatches < 1)
    PIPELAB_THROW("fill_drain_theory needs devices >= 1 and microbatches >= 1, got devices=" +
                      std::to_string(devices) + ", microbatches=" + std::to_string(microbatches),
                  "pass the K and M of the run (naive model parallelism is M = 1)");
  // Fill-drain with balanced stages and free links: each device works M slots out of
  // the M + K - 1 slots of the forward (and again of the backward) phase; the K - 1
  // extra slots are the fill and the drain. GPipe paper: bubble share of total time.
  const double m = microbatches;
  const double k = devices;
  Theory theory;
  theory.utilization = m / (m + k - 1.0);
  theory.bubble_fraction = (k - 1.0) / (m + k - 1.0);
  return theory;
}

namespace {

// Naive model parallelism is fill-drain with one micro-batch: utilization 1/K.
Theory naive_theory(int devices, int /*microbatches*/) { return fill_drain_theory(devices, 1); }

std::vector<ScheduleInfo> make_registry() {
  return {
      {ScheduleKind::Naive, "naive", "naive model parallelism", /*single_microbatch=*/true,
       [](int devices, int) { return naive_schedule(devices); }, naive_theory, "1/K",
       "one batch through K stages: one device busy at a time"},
      {ScheduleKind::Gpipe, "gpipe", "GPipe (fill-drain)", false, gpipe_schedule, fill_drain_theory,
       "M/(M+K-1)", "GPipe (Huang et al. 2019): bubble (K-1)/(M+K-1) of total time"},
      // 1F1B reorders the same fill-drain work: the same bubble, less stash.
      {ScheduleKind::OneFOneB, "1f1b", "1F1B (PipeDream-Flush)", false, one_f_one_b_schedule,
       fill_drain_theory, "M/(M+K-1)",
       "PipeDream-Flush (Narayanan et al. 2021): the bubble of fill-drain, at most K micro-batches stashed"},
  };
}

}  // namespace

const std::vector<ScheduleInfo>& schedule_registry() {
  static const std::vector<ScheduleInfo> registry = make_registry();
  return registry;
}

const ScheduleInfo& schedule_info(ScheduleKind kind) {
  for (const ScheduleInfo& row : schedule_registry())
    if (row.kind == kind) return row;
  PIPELAB_THROW(std::string("schedule kind '") + to_string(kind) + "' has no registry row",
                "only registry schedules (" + schedule_names() + ") can be generated");
}

ScheduleKind schedule_from_string(const std::string& name) {
  for (const ScheduleInfo& row : schedule_registry())
    if (name == row.name) return row.kind;
  PIPELAB_USAGE_ERROR("--schedule", "unknown schedule '" + name + "'", "use one of " + schedule_names());
}

std::string schedule_names(const char* separator) {
  std::string out;
  for (const ScheduleInfo& row : schedule_registry()) {
    if (!out.empty()) out += separator;
    out += row.name;
  }
  return out;
}

const char* to_string(ScheduleKind kind) {
  if (kind == ScheduleKind::Custom) return "custom";
  for (const ScheduleInfo& row : schedule_registry())
    if (row.kind == kind) return row.name;
  return "?";
}

std::string Schedule::name() const { return std::string(to_string(kind)) + (remat ? "+remat" : ""); }

Schedule generate_schedule(ScheduleKind kind, int devices, int microbatches, bool remat) {
  const ScheduleInfo& row = schedule_info(kind);
  Schedule s = row.generate(devices, row.single_microbatch ? 1 : microbatches);
  if (remat) s = with_recompute(s);
  return s;
}

Theory schedule_theory(const Schedule& schedule) {
  // A hand-built schedule has no formula of its own: it is shown against fill-drain's.
  if (schedule.kind == ScheduleKind::Custom) return fill_drain_theory(schedule.stages, schedule.microbatches);
  return schedule_info(schedule.kind).theory(schedule.stages, schedule.microbatches);
}

}  // namespace pipelab
