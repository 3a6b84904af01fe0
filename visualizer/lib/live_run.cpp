// live_run.cpp — settings → RunConfig → panels; the worker thread.
#include "pipelab_viz/live_run.h"

#include <exception>

#include "pipelab/error.h"
#include "pipelab/runtime/run.h"
#include "pipelab/schedule/registry.h"

namespace pipelab::viz {

bool LiveSettings::operator==(const LiveSettings& o) const {
  return devices == o.devices && microbatches == o.microbatches && schedule == o.schedule && chunks == o.chunks &&
         compare_with_naive == o.compare_with_naive && remat == o.remat && backend == o.backend &&
         link_gbps == o.link_gbps && link_latency_us == o.link_latency_us && stage_skew == o.stage_skew;
}

std::vector<const char*> schedule_picker_names() {
  std::vector<const char*> names;
  for (const ScheduleInfo& row : schedule_registry()) names.push_back(row.name);
  return names;
}

int schedule_picker_index(ScheduleKind kind) {
  const std::vector<ScheduleInfo>& registry = schedule_registry();
  for (std::size_t i = 0; i < registry.size(); ++i)
    if (registry[i].kind == kind) return static_cast<int>(i);
  return 0;
}

std::string schedule_picker_help() {
  std::string help;
  for (const ScheduleInfo& row : schedule_registry())
    help += std::string(help.empty() ? "" : "\n") + row.name + ": " + row.title;
  return help + "\n(the schedule registry's rows; the zero-bubble ones split B into I and W)";
}

RunConfig to_run_config(const LiveSettings& s) {
  RunConfig c;
  c.devices = s.devices;
  c.microbatches = s.microbatches;
  c.schedule = s.schedule;
  c.chunks = s.chunks;  // interleaved-1f1b; the runner gives every other schedule 1
  c.remat = s.remat;
  c.backend = s.backend;
  c.sim.link_gbps = s.link_gbps;
  c.sim.link_latency_us = s.link_latency_us;
  bool skewed = false;
  for (int d = 0; d < s.devices && d < kMaxLiveDevices; ++d)
    skewed = skewed || s.stage_skew[static_cast<std::size_t>(d)] != 1.0f;
  if (skewed)
    for (int d = 0; d < s.devices && d < kMaxLiveDevices; ++d)
      c.sim.stage_skew.push_back(s.stage_skew[static_cast<std::size_t>(d)]);
  return c;
}

std::vector<Panel> run_live(const LiveSettings& settings, const std::function<void(const std::string&)>& progress) {
  const RunConfig config = to_run_config(settings);
  const bool two = settings.compare_with_naive && settings.schedule != ScheduleKind::Naive;
  std::vector<Panel> panels;
  if (two) {
    RunConfig naive = config;
    naive.schedule = ScheduleKind::Naive;
    naive.microbatches = 1;
    if (progress) progress("naive model parallelism (K=" + std::to_string(config.devices) + ", M=1)");
    panels.push_back(make_panel(run_step(naive)));
  }
  if (progress)
    progress(schedule_title(config.schedule, /*remat=*/false) + " (K=" + std::to_string(config.devices) +
             ", M=" + std::to_string(config.microbatches) + ")");
  panels.push_back(make_panel(run_step(config)));
  return panels;
}

BackgroundRun::~BackgroundRun() {
  if (worker_.joinable()) worker_.join();
}

bool BackgroundRun::start(const LiveSettings& settings) {
  if (running_.load()) return false;
  if (worker_.joinable()) worker_.join();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    outcome_ = Outcome{};
    progress_ = "starting";
  }
  const bool two = settings.compare_with_naive && settings.schedule != ScheduleKind::Naive;
  phases_total_ = two ? 2 : 1;
  phases_done_ = 0;
  started_ = std::chrono::steady_clock::now();
  running_ = true;
  worker_ = std::thread([this, settings] {
    Outcome result;
    result.settings = settings;
    int phase = 0;
    try {
      result.panels = run_live(settings, [this, &phase](const std::string& what) {
        phases_done_ = phase++;
        std::lock_guard<std::mutex> lock(mutex_);
        progress_ = what + " (" + std::to_string(phase) + "/" + std::to_string(phases_total_.load()) + ")";
      });
    } catch (const Error& e) {
      result.error = e.message() + (e.hint().empty() ? "" : "\nhint: " + e.hint());
    } catch (const std::exception& e) {
      result.error = e.what();
    }
    result.ready = true;
    phases_done_ = phases_total_.load();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      outcome_ = std::move(result);
    }
    running_ = false;
  });
  return true;
}

double BackgroundRun::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

std::string BackgroundRun::progress() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return progress_;
}

BackgroundRun::Outcome BackgroundRun::take() {
  if (running_.load()) return {};
  if (worker_.joinable()) worker_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  Outcome out = std::move(outcome_);
  outcome_ = Outcome{};
  return out;
}

}  // namespace pipelab::viz
