// cli/schedule_list.h — `compare --schedules naive,gpipe,1f1b` → the schedule kinds.
//
//   --schedules text → split at commas → each name through the registry → [ScheduleKind]
//
// The kinds then go to schedule_comparison_configs (runtime/compare_schedules.h), which
// refuses fewer than 2 or a duplicate; here are the refusals only the text can tell:
// an empty item, an unknown name, and compare's --schedule / --schedule-file.
#pragma once

#include <vector>

#include "cli/command_line.h"

namespace pipelab::cli {

/// The kinds `compare --schedules` lists, in order; empty when --schedules was not typed.
/// UsageError naming the flag for an empty item, an unknown name (the registry's own
/// message and hint), and for --schedule or --schedule-file typed on compare: it runs
/// naive vs GPipe, or the list --schedules gives.
std::vector<ScheduleKind> finish_schedule_list(const CommonFlags& compare_flags);

}  // namespace pipelab::cli
