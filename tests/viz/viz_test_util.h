// viz_test_util.h — panels for the pipelab-viz tests: the classroom demo and hand-made traces.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pipelab/error.h"
#include "pipelab_viz/live_run.h"
#include "pipelab_viz/panel.h"

namespace pipelab::viz::testing {

/// The classroom demo's panels (naive above GPipe, K=4, M=4, sim). On the exercises
/// track an unimplemented schedule makes `skip` say which exercise is missing.
inline std::vector<Panel> demo_panels(std::string& skip) {
  try {
    return run_live(LiveSettings{});
  } catch (const NotImplemented& e) {
    skip = "the runtime links unimplemented exercises (" + e.message() + ")";
    return {};
  }
}

/// Skips the test (with the reason) when the demo cannot run on this track.
#define PIPELAB_DEMO_PANELS(var)            \
  std::string var##_skip;                   \
  const auto var = demo_panels(var##_skip); \
  if (!var##_skip.empty()) GTEST_SKIP() << var##_skip

/// A hand-made compute span.
inline TraceEvent span(int device, ActionKind kind, int microbatch, double start_us, double dur_us,
                       Lane lane = Lane::Compute) {
  TraceEvent e;
  e.device = device;
  e.lane = lane;
  e.action = {kind, device, microbatch};
  e.start_us = start_us;
  e.dur_us = dur_us;
  return e;
}

/// A panel from hand-made events.
inline Panel synthetic_panel(int devices, int microbatches, std::vector<TraceEvent> events,
                             ScheduleKind schedule = ScheduleKind::Gpipe) {
  Trace t;
  t.meta.schedule_kind = schedule;
  t.meta.backend = "sim";
  t.meta.devices = devices;
  t.meta.microbatches = microbatches;
  t.events = std::move(events);
  return make_panel(std::move(t), "synthetic");
}

}  // namespace pipelab::viz::testing
