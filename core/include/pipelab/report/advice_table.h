// pipelab/report/advice_table.h — the advisor's table, trade-offs and JSON (runtime/advise.h).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "pipelab/runtime/advise.h"

namespace pipelab {

/// The `top` fastest fitting configurations (nccl-tests style table, every figure the
/// sim's), the fastest one over the cap, the trade-offs spelled out from the rows, and
/// the schedules that could not be built.
std::string format_advice(const Advice& advice, int top);

/// {"device_memory_cap_bytes", "fitting", "candidates": [...]}: every candidate, ranked.
nlohmann::json advice_json(const Advice& advice);

}  // namespace pipelab
