// cli/flag_rules.h — every flag of run, compare and sweep applies, or is refused.
//
//   finish_config() → check_flags_apply(flags, config, backend that runs) → UsageError
//
// A flag counts as given only when the user typed it (CLI11's Option::count()): the
// defaults never trip a rule. A flag that would change nothing with the backend or
// schedule in force is a usage error (exit 2) naming the flag, the backend or schedule
// (and that --backend auto chose it), and the fix, so that forgetting `--backend sim`
// cannot teach a wrong lesson. The table of what applies where is in docs/cli.md
// ("Which flags apply where"); this file is that table in code (flag_rules.cpp).
#pragma once

#include "cli/command_line.h"  // CommonFlags, RunConfig, BackendKind

namespace pipelab::cli {

/// Throws UsageError for the first typed flag that would have no effect on `runs_on`
/// (the backend that will run, auto resolved) or with the schedule of `c`.
void check_flags_apply(const CommonFlags& f, const RunConfig& c, BackendKind runs_on);

}  // namespace pipelab::cli
