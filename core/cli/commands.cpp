// cli/commands.cpp — run, compare, sweep, devices and bench (commands.h).
//
// Order inside each: finish and validate the config, check that every output file is
// writable, then run, then write files, then print — so bad input costs no run time.
#include <algorithm>
#include "cli/commands.h"
#include "cli/finite_checks.h"
#include "cli/schedule_list.h"

#include <unistd.h>

#include <filesystem>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "pipelab/backends/backends.h"
#include "pipelab/bench.h"
#include "pipelab/error.h"
#include "pipelab/report/advice_table.h"
#include "pipelab/report/report.h"
#include "pipelab/report/schedule_table.h"
#include "pipelab/report/sweep_plot.h"
#include "pipelab/runtime/advise.h"
#include "pipelab/runtime/compare_schedules.h"
#include "pipelab/runtime/memory_cap.h"
#include "pipelab/runtime/run.h"
#include "pipelab/runtime/spmd.h"  // spmd_built (devices)
#include "pipelab/schedule/schedule_file.h"  // schedule_text (--describe)
#include "pipelab/trace/trace_json.h"

namespace pipelab::cli {
namespace {

// An output path (--trace, --csv, --plot) must be writable before we spend time
// running. Its folder is created if missing (labs write to traces/, git-ignored).
void check_output_path(const char* flag, const std::string& path) {
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  std::error_code error;
  if (!folder.empty()) std::filesystem::create_directories(folder, error);
  if (error)
    PIPELAB_USAGE_ERROR(flag, "cannot create the folder '" + folder.string() + "' for '" + path + "': " +
                                  error.message(),
                        "give a path in a folder you may write to");
  std::ofstream probe(path, std::ios::app);
  if (!probe) PIPELAB_USAGE_ERROR(flag, "cannot write '" + path + "'", "check that you may write there");
}

// "out.json" + "gpipe" → "out-gpipe.json".
std::string suffixed(const std::string& path, const std::string& tag) {
  const std::string ext = ".json";
  if (path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0)
    return path.substr(0, path.size() - ext.size()) + "-" + tag + ext;
  return path + "-" + tag + ".json";
}

// A one-line progress bar on stderr: "[####------] 3/6 M=4".
void progress_bar(const CommonFlags& f, int done, int total, const std::string& what) {
  if (f.quiet) return;
  const int width = 24;
  const int filled = total > 0 ? std::clamp(done * width / total, 0, width) : width;
  std::string bar = std::string(filled, '#') + std::string(width - filled, '-');
  const bool tty = isatty(fileno(stderr));
  std::cerr << (tty ? "\r" : "") << "pipelab: [" << bar << "] " << done << "/" << total << " " << what
            << (tty && done < total ? "   " : "\n") << std::flush;
}

}  // namespace

int cmd_run(CommonFlags& f) {
  RunConfig c = finish_config(f, false);
  if (f.describe) {
    // The schedule alone, in the form --schedule-file reads: nothing runs, nothing is written.
    if (f.json)
      PIPELAB_USAGE_ERROR("--json", "has no effect with --describe: it prints the schedule-file format",
                          "drop --json, or --describe");
    if (!c.trace_path.empty())
      PIPELAB_USAGE_ERROR("--trace", "has no effect with --describe: nothing runs", "drop --trace, or --describe");
    std::cout << schedule_text(build_schedule(c));
    return 0;
  }
  validate_config(c);
  check_memory_cap(c);  // --device-memory-mib: refused before any output
  if (!c.trace_path.empty()) check_output_path("--trace", c.trace_path);
  progress(f, "running " + (c.schedule_file.empty() ? std::string(to_string(c.schedule)) : "'" + c.schedule_file + "'") +
                  " on " + to_string(resolve_backend(c.backend)));
  const RunResult r = run_step(c);
  std::optional<double> diff;
  if (r.numerics) {
    progress(f, describe(reference_kind(r.config)) + " (transparency check)");
    diff = max_relative_difference(*r.numerics, transparency_reference(r.config));
  }
  check_printable(r, diff);  // no inf or NaN in the table, the JSON or the trace
  if (!c.trace_path.empty()) {
    write_chrome_trace_file(r.trace, c.trace_path);
    progress(f, "trace written to " + c.trace_path + " (open in https://ui.perfetto.dev or pipelab-viz)");
    if (r.replay) {
      const std::string replayed = suffixed(c.trace_path, "replayed");
      write_chrome_trace_file(r.replay->trace, replayed);
      progress(f, "replayed from measured costs: " + replayed);
    }
  }
  if (f.json) {
    std::cout << single_run_json(r, diff).dump(2) << std::endl;
  } else {
    std::cout << format_run(r, diff);
  }
  return diff && *diff > transparency_tolerance(r.config) ? 1 : 0;
}

namespace {

// `compare --schedules a,b,c`: every listed schedule, paired, one row each; exit 1 if
// any run's transparency check failed.
int compare_listed_schedules(CommonFlags& f, const std::vector<ScheduleKind>& kinds) {
  RunConfig c = finish_config(f, false);
  // Each schedule's config, checked (count, duplicates, M > batch, ...) before any run.
  schedule_comparison_configs(c, kinds);
  resolve_backend(c.backend);  // cuda without a GPU fails here, before any output
  // One trace per schedule, named after it: out.json → out-naive.json, out-1f1b.json.
  std::vector<std::string> paths;
  if (!c.trace_path.empty())
    for (ScheduleKind kind : kinds) {
      paths.push_back(suffixed(c.trace_path, to_string(kind)));
      check_output_path("--trace", paths.back());
    }
  const ScheduleComparison cmp = compare_schedules(c, kinds, [&](const std::string& m) { progress(f, "running " + m); });
  check_printable(cmp);  // no inf or NaN in the table, the JSON or the traces
  if (!c.trace_path.empty()) {
    for (const ScheduleRow& row : cmp.rows) {  // the schedules that ran (none refused by the cap)
      const std::string name = to_string(row.run.config.schedule);
      write_chrome_trace_file(row.run.trace, suffixed(c.trace_path, name));
      // The replay beside it, for pipelab-viz: the same schedule on dedicated devices.
      if (row.run.replay) write_chrome_trace_file(row.run.replay->trace, suffixed(c.trace_path, name + "-replayed"));
    }
    progress(f, "traces written to " + suffixed(c.trace_path, to_string(cmp.rows.front().run.config.schedule)) +
                    " ... " + suffixed(c.trace_path, to_string(cmp.rows.back().run.config.schedule)) +
                    (cmp.rows.front().run.replay ? " (and each one's -replayed beside it)" : ""));
  }
  if (f.json) {
    std::cout << schedule_comparison_json(cmp).dump(2) << std::endl;
  } else {
    std::cout << format_schedule_comparison(cmp);
  }
  return cmp.transparency_ok() ? 0 : 1;
}

}  // namespace

int cmd_compare(CommonFlags& f) {
  // --schedules (or a refused --schedule) first: before the model line on stderr.
  const std::vector<ScheduleKind> kinds = finish_schedule_list(f);
  if (!kinds.empty()) return compare_listed_schedules(f, kinds);
  RunConfig c = finish_config(f, false);
  validate_config(c);
  resolve_backend(c.backend);  // cuda without a GPU fails here, before any output
  for (const RunConfig& run : sweep_configs(c, {c.microbatches})) check_memory_cap(run);
  std::string naive_path, gpipe_path;
  if (!c.trace_path.empty()) {
    naive_path = suffixed(c.trace_path, "naive");
    gpipe_path = suffixed(c.trace_path, "gpipe");
    check_output_path("--trace", naive_path);
    check_output_path("--trace", gpipe_path);
  }
  const Comparison cmp = compare(c, [&](const std::string& m) { progress(f, "running " + m); });
  check_printable(cmp);  // no inf or NaN in the table, the JSON or the traces
  if (!c.trace_path.empty()) {
    write_chrome_trace_file(cmp.naive.trace, naive_path);
    write_chrome_trace_file(cmp.gpipe.trace, gpipe_path);
    progress(f, "traces written to " + naive_path + " and " + gpipe_path);
    // The replays beside them, for pipelab-viz: the same schedules on dedicated devices.
    if (cmp.naive.replay && cmp.gpipe.replay) {
      const std::string naive_replay = suffixed(c.trace_path, "naive-replayed");
      const std::string gpipe_replay = suffixed(c.trace_path, "gpipe-replayed");
      write_chrome_trace_file(cmp.naive.replay->trace, naive_replay);
      write_chrome_trace_file(cmp.gpipe.replay->trace, gpipe_replay);
      progress(f, "replayed from measured costs: " + naive_replay + " and " + gpipe_replay);
    }
  }
  if (f.json) {
    std::cout << comparison_json(cmp).dump(2) << std::endl;
  } else {
    std::cout << format_comparison(cmp);
  }
  return cmp.max_rel_diff && !cmp.transparency_ok ? 1 : 0;
}

int cmd_advise(CommonFlags& f, int top) {
  // Before finish_config, which would announce another backend's default model.
  if (f.backend != "sim" && f.backend != "cpu")
    PIPELAB_USAGE_ERROR("--backend",
                        "advise predicts on the sim's cost model or replays measured cpu costs, not on " + f.backend,
                        "use --backend sim (the default) or cpu; check the advice on a GPU with `pipelab compare "
                        "--backend cuda --schedules ...`");
  RunConfig base = finish_config(f, true);
  if (!base.trace_path.empty())
    PIPELAB_USAGE_ERROR("--trace", "has no effect with advise: it writes no traces",
                        "drop --trace; `pipelab run --trace` writes the trace of the configuration you pick");
  const std::vector<int> ms = parse_int_list(f.microbatches, "--microbatches");
  validate_config(base);  // K, the model and the sim's settings, before the first run
  const Advice advice = advise(base, ms, [&](int done, int total) { progress_bar(f, done, total, "configurations"); });
  check_printable(advice);  // no inf or NaN in the table or the JSON
  if (f.json) {
    std::cout << advice_json(advice).dump(2) << std::endl;
  } else {
    std::cout << format_advice(advice, top);
  }
  return advice.fitting > 0 ? 0 : 1;
}

int cmd_sweep(CommonFlags& f, const std::string& csv_path, bool csv_flag) {
  RunConfig base = finish_config(f, true);
  const std::vector<int> ms = parse_int_list(f.microbatches, "--microbatches");
  // Checks every M (and, with --device-memory-mib, that each fits) before any output or run.
  for (const RunConfig& run : sweep_configs(base, ms)) check_memory_cap(run);
  resolve_backend(base.backend);
  if (!base.trace_path.empty()) check_output_path("--trace", suffixed(base.trace_path, "naive"));
  if (csv_flag && !csv_path.empty() && csv_path != "-") {
    check_output_path("--csv", csv_path);
  }
  if (!f.plot_path.empty()) check_output_path("--plot", f.plot_path);
  // One tick per timed step: the runs' steps alternate (paired), so the bar counts steps.
  int total = 0;
  const std::vector<RunResult> runs =
      run_sweep(base, ms, [&](std::size_t step, std::size_t steps, const RunConfig& next) {
        total = static_cast<int>(steps);
        progress_bar(f, static_cast<int>(step), total,
                     next.schedule == ScheduleKind::Naive ? "naive" : "gpipe M=" + std::to_string(next.microbatches));
      });
  progress_bar(f, total, total, "done");
  check_printable(runs);  // no inf or NaN in the table, the JSON, the CSV or the traces
  if (!base.trace_path.empty()) {
    for (const RunResult& r : runs)
      write_chrome_trace_file(r.trace, suffixed(base.trace_path, r.schedule.name() + "-M" +
                                                                     std::to_string(r.schedule.microbatches)));
  }
  if (!f.plot_path.empty()) {
    std::ofstream(f.plot_path) << sweep_plot_svg(runs);
    progress(f, "plot written to " + f.plot_path);
  }
  if (csv_flag) {
    if (csv_path.empty() || csv_path == "-") {
      std::cout << sweep_csv(runs);
    } else {
      std::ofstream(csv_path) << sweep_csv(runs);
      if (!f.json) std::cout << format_sweep(runs);
      progress(f, "CSV written to " + csv_path);
    }
  } else if (f.json) {
    std::cout << sweep_json(runs).dump(2) << std::endl;
  } else {
    std::cout << format_sweep(runs);
  }
  if (f.json && csv_flag && !csv_path.empty() && csv_path != "-") std::cout << sweep_json(runs).dump(2) << std::endl;
  return 0;
}

int cmd_devices(const RunConfig& config) {
  const BackendAvailability a = backend_availability();
  const unsigned threads = std::thread::hardware_concurrency();
  std::cout << "# backend  available  notes\n";
  std::cout << "  sim      yes        discrete-event simulation with a FLOP/bandwidth cost model; no numerics\n";
  std::cout << "  cpu      yes        one worker thread per device, real kernels; " << threads
            << " hardware threads here\n";
  std::cout << "  cuda     " << (a.cuda ? "yes        " : "no         ") << (a.cuda ? "" : a.cuda_reason) << "\n";
  // The multi-process mode (runtime/spmd.h): whether this build has it, and if not, why.
  std::cout << "# processes: "
            << (spmd_built() ? "mpirun -np K runs one stage per rank on the cpu backend (docs/distributed.md)"
                             : "not in this build: " + spmd_unavailable_reason())
            << "\n";
  std::cout << "# --backend auto picks: " << to_string(resolve_backend(BackendKind::Auto)) << "\n";
  std::cout << "# exercise track linked: " << PIPELAB_TRACK_NAME << "\n";
  // "" in a build without cuda: this file needs no #if.
  std::cout << describe_gpu_backend(config);
  return 0;
}

int cmd_bench(const BenchFlags& f) {
  const BenchOptions o = finish_bench_options(f);
  if (!f.out_path.empty()) {
    check_output_path("--out", f.out_path);
  }
  const BenchReport report = run_bench(o, [&](const std::string& m) {
    if (!f.quiet) std::cerr << "pipelab: bench: " << m << std::endl;
  });
  const nlohmann::json j = bench_json(report);
  if (!f.out_path.empty()) std::ofstream(f.out_path) << j.dump(2) << "\n";
  if (f.json)
    std::cout << j.dump(2) << std::endl;
  else
    std::cout << format_bench(report);
  return 0;
}

}  // namespace pipelab::cli
