// pipelab/trace/trace_json.h — the Chrome-trace writer and reader together, for code
// that uses both. Prefer the one you need: trace_writer.h or trace_reader.h (the
// format itself is in trace_format.h).
#pragma once

#include "pipelab/trace/trace_reader.h"
#include "pipelab/trace/trace_writer.h"
