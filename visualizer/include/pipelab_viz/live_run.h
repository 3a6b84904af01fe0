// pipelab_viz/live_run.h — the live demo: settings → runs → panels, on a worker thread.
//
// The classroom demo is naive model parallelism (top) and a pipeline schedule
// (bottom) for the same model, K and backend. `sim` is instant and re-runs on every
// change on the UI thread; `cpu` computes for real, so it runs on a BackgroundRun
// thread while the UI keeps drawing and shows its progress.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pipelab/model/config.h"
#include "pipelab_viz/panel.h"

namespace pipelab::viz {

/// Largest K the live controls and `-K` accept (the classroom limit; also the
/// length of LiveSettings::stage_skew).
constexpr int kMaxLiveDevices = 8;
/// Largest M the live controls and `-M` accept (the classroom limit).
constexpr int kMaxLiveMicrobatches = 64;

/// What the controls column sets for a live run.
struct LiveSettings {
  int devices = 4;                              ///< K
  int microbatches = 4;                         ///< M
  ScheduleKind schedule = ScheduleKind::Gpipe;  ///< the bottom panel (or the only one)
  int chunks = 2;                               ///< model chunks per device, for a schedule that takes them
  bool compare_with_naive = true;               ///< add naive model parallelism on top
  bool remat = false;                           ///< re-materialization (Recompute before each B)
  BackendKind backend = BackendKind::Sim;       ///< sim instantly; cpu/cuda in the background
  float link_gbps = 0.0f;                       ///< sim: 0 = ideal links
  float link_latency_us = 0.0f;                 ///< sim
  std::array<float, kMaxLiveDevices> stage_skew{1, 1, 1, 1, 1, 1, 1, 1};  ///< sim, per stage

  bool operator==(const LiveSettings& o) const;                           ///< same settings (re-run needed when not)
  bool operator!=(const LiveSettings& o) const { return !(*this == o); }  ///< settings differ
};

/// The live schedule picker's entries: every schedule_registry() row's CLI name, in its
/// order (a schedule added to the registry shows up by itself).
std::vector<const char*> schedule_picker_names();
/// Index of `kind` in schedule_picker_names() (0 when it is not a registry row).
int schedule_picker_index(ScheduleKind kind);
/// The picker's help text: one "name: title" line per registry row.
std::string schedule_picker_help();

/// The RunConfig of the bottom panel (the top one is the same with schedule naive).
RunConfig to_run_config(const LiveSettings& settings);

/// Run what the settings ask for: [naive, schedule] or [schedule]. `progress` (may be
/// empty) gets a short message before each run. Throws pipelab::Error from the runtime
/// (invalid setting, unimplemented exercise, unavailable backend).
std::vector<Panel> run_live(const LiveSettings& settings, const std::function<void(const std::string&)>& progress = {});

/// One run_live on a worker thread. Owned by the app; joins in its destructor.
class BackgroundRun {
 public:
  /// Idle: no run started, take() returns ready = false.
  BackgroundRun() = default;
  /// Waits for a run in flight to finish (joins the worker).
  ~BackgroundRun();
  BackgroundRun(const BackgroundRun&) = delete;
  BackgroundRun& operator=(const BackgroundRun&) = delete;

  /// Start a run (ignored, returning false, while one is in flight).
  bool start(const LiveSettings& settings);
  bool running() const { return running_.load(); }  ///< a run is in flight
  /// "naive model parallelism (1/2)" while running.
  std::string progress() const;
  /// Runs the current start() does: 2 with the naive comparison, else 1
  /// (the progress bar shows phases_done() / phases_total()).
  int phases_total() const { return phases_total_.load(); }
  int phases_done() const { return phases_done_.load(); }  ///< runs finished so far
  /// Seconds since start() (of the current or last run).
  double elapsed_seconds() const;

  /// What a finished run hands back.
  struct Outcome {
    bool ready = false;         ///< a finished run not yet taken
    std::vector<Panel> panels;  ///< [naive, schedule] or [schedule]; empty on error
    std::string error;          ///< non-empty when the run threw
    LiveSettings settings;      ///< what was run
  };
  /// Take the finished result (ready = false when none); joins the finished thread.
  Outcome take();

 private:
  std::thread worker_;
  std::chrono::steady_clock::time_point started_{};
  std::atomic<bool> running_{false};
  std::atomic<int> phases_total_{0};
  std::atomic<int> phases_done_{0};
  mutable std::mutex mutex_;
  std::string progress_;
  Outcome outcome_;
};

}  // namespace pipelab::viz
