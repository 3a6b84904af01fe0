// cli/schedule_list.cpp — finish_schedule_list (schedule_list.h).
#include "cli/schedule_list.h"

#include <string>

#include "pipelab/error.h"
#include "pipelab/schedule/registry.h"  // schedule_from_string, schedule_names

namespace pipelab::cli {
namespace {

/// Whether the user typed `name` on the subcommand these flags belong to.
bool typed(const CommonFlags& f, const char* name) {
  const CLI::Option* option = f.command ? f.command->get_option_no_throw(name) : nullptr;
  return option != nullptr && option->count() > 0;
}

}  // namespace

std::vector<ScheduleKind> finish_schedule_list(const CommonFlags& f) {
  const bool listed = typed(f, "--schedules");
  // compare names its schedules itself (naive and GPipe) or takes them from --schedules:
  // a single --schedule would be silently ignored, so it is refused; a --schedule-file
  // joins a --schedules list as its last row (a file's K, M and remat then hold for all).
  for (const char* single : {"--schedule", "--schedule-file"}) {
    if (!typed(f, single)) continue;
    if (listed && std::string(single) == "--schedule-file") continue;
    if (listed)
      PIPELAB_USAGE_ERROR("--schedules", std::string("conflicts with ") + single +
                                             ": --schedules names every schedule compare runs",
                          std::string("drop ") + single + ", and list its schedule in --schedules");
    PIPELAB_USAGE_ERROR(single, "`pipelab compare` takes no " + std::string(single) +
                                    ": it runs naive vs GPipe, or the schedules --schedules lists",
                        std::string("use --schedules naive,gpipe,1f1b to compare schedules (add --schedule-file FILE "
                                    "to put a file's schedule beside them), or `pipelab run ") +
                            single + " ...` to run one");
  }
  std::vector<ScheduleKind> kinds;
  if (!listed) return kinds;
  const std::string example = "e.g. --schedules naive,gpipe,1f1b (any of " + schedule_names() + ")";
  for (const std::string& name : split_commas(f.schedules)) {
    if (name.empty())
      PIPELAB_USAGE_ERROR("--schedules", "'" + f.schedules + "' has an empty item",
                          "give schedule names separated by single commas, " + example);
    try {
      kinds.push_back(schedule_from_string(name));
    } catch (const UsageError& e) {
      // The registry's message and hint (the names it knows), under this flag's name.
      PIPELAB_USAGE_ERROR("--schedules", e.message().substr(e.flag().size() + 2), e.hint());
    }
  }
  if (typed(f, "--schedule-file")) kinds.push_back(ScheduleKind::Custom);  // the file's row, last
  return kinds;
}

}  // namespace pipelab::cli
