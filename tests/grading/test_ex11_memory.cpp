// test_ex11_memory.cpp — graded (bonus): ex11 data_parallel_peak_memory and
// pipeline_peak_memory (lab 00).
// Oracles: bytes worked out by hand for lab 00's model (the numbers its handout prints),
// and the allocators of real sim and cpu steps (DeviceMemory, runtime/memory.h), never the
// kit's StageMemoryPlan or its --device-memory-mib prediction. Inputs are hand-built:
// data_parallel_schedule (the kit's, not an exercise), fixture_fill_drain(_remat) and
// hand-written partitions, so only split_microbatches (ex03), which both backends split
// the batch with, is another exercise under these tests (prerequisites.h).
#include <algorithm>
#include <sstream>

#include "grading.h"
#include "prerequisites.h"
#include "pipelab/backends/backends.h"
#include "pipelab/runtime/executor.h"
#include "pipelab/runtime/memory_cap.h"
#include "pipelab/schedule/data_parallel.h"

namespace pipelab::grading {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// L, d, h, B (and seed 7: the values do not matter here, only the shapes).
ModelSpec model_of(int layers, int width, int hidden, int batch) { return ModelSpec{layers, width, hidden, batch, 7}; }

std::string model_text(const ModelSpec& m) {
  std::ostringstream os;
  os << "L=" << m.layers << " d=" << m.width << " h=" << m.hidden << " B=" << m.batch;
  return os.str();
}

std::uint64_t at(const MemoryBytes& bytes, MemoryCategory c) { return bytes[static_cast<int>(c)]; }

// "" when `got` equals the three literals, else the first difference.
std::string literal_difference(const PeakMemory& got, std::uint64_t params, std::uint64_t stash,
                               const std::string& call, const std::string& why_stash) {
  std::ostringstream os;
  if (got.params != params) os << call << ".params = " << got.params << " bytes, expected " << params;
  else if (got.grads != params) os << call << ".grads = " << got.grads << " bytes, expected " << params << " (= params)";
  else if (got.stash != stash) os << call << ".stash = " << got.stash << " bytes, expected " << stash << " = " << why_stash;
  return os.str();
}

// ---------------------------------------------------------------- lab 00's model by hand

TEST(PeakMemory, Lab00Literals) {
  // L=16 d=192 h=768 B=512. One block: 2·192·768 + 768 + 192 = 295 872 floats = 1 183 488
  // bytes. Stash per row and block: x (192) + a, g (768 each) = 1728 floats = 6912 bytes;
  // the logits 192 floats = 768 bytes per row on a last stage.
  const ModelSpec lab00 = model_of(16, 192, 768, 512);
  const Partition four{{0, 4, 8, 12, 16}};
  // Data parallelism, K = 4: 16 blocks (18.06 MiB) each; 128 rows · (16 · 6912 + 768).
  for (int d = 0; d < 4; ++d) {
    const std::string call = "data_parallel_peak_memory(" + model_text(lab00) + ", K=4, device " + std::to_string(d) + ")";
    const std::string diff = literal_difference(data_parallel_peak_memory(lab00, 4, d), 18935808, 14254080, call,
                                                "128 rows x 16 blocks x (x, a, g) + the logits (13.59 MiB)");
    GRADE_EXPECT(diff.empty(), diff);
  }
  // K = 3: shares 171, 171, 170 rows.
  GRADE_EXPECT(data_parallel_peak_memory(lab00, 3, 2).stash == 170ull * (16 * 6912 + 768),
               "data_parallel_peak_memory(" << model_text(lab00) << ", K=3, device 2).stash = "
                                            << data_parallel_peak_memory(lab00, 3, 2).stash << " bytes, expected "
                                            << 170ull * (16 * 6912 + 768) << ": share 2 has 170 rows (512 = 171 + 171 + 170)");
  // GPipe (and naive), K = 4: 4 blocks (4.51 MiB); every micro-batch held after the last F:
  // 512 rows · 4 · 6912 (13.50 MiB), + 512 · 768 of logits on the last stage (13.88 MiB).
  for (int m : {1, 8}) {
    for (int s = 0; s < 4; ++s) {
      const std::string call = "pipeline_peak_memory(" + model_text(lab00) + ", 4 stages of 4, stage " +
                               std::to_string(s) + ", M=" + std::to_string(m) + ", remat=false)";
      const std::uint64_t stash = 512ull * 4 * 6912 + (s == 3 ? 512ull * 768 : 0);
      const std::string diff =
          literal_difference(pipeline_peak_memory(lab00, four, s, m, false), 4733952, stash, call,
                             s == 3 ? "512 rows x 4 blocks x (x, a, g) + the logits: every micro-batch after the last F"
                                    : "512 rows x 4 blocks x (x, a, g): every micro-batch after the last F");
      GRADE_EXPECT(diff.empty(), diff);
    }
  }
  // GPipe + remat, M = 8 (64 rows each): 8 inputs (64 · 768 bytes each) + what R rebuilds
  // for one micro-batch, 64 · (4 · 6912 − 768) (+ 64 · 768 of logits on the last stage).
  for (int s = 0; s < 4; ++s) {
    const std::string call = "pipeline_peak_memory(" + model_text(lab00) + ", 4 stages of 4, stage " +
                             std::to_string(s) + ", M=8, remat=true)";
    const std::uint64_t stash = 8ull * 64 * 768 + 64ull * (4 * 6912 - 768) + (s == 3 ? 64ull * 768 : 0);
    const std::string diff = literal_difference(pipeline_peak_memory(lab00, four, s, 8, true), 4733952, stash, call,
                                                "8 stage inputs + one micro-batch's rebuilt stash");
    GRADE_EXPECT(diff.empty(), diff);
  }
}

TEST(PeakMemory, RejectsBadArguments) {
  const ModelSpec m = model_of(4, 8, 16, 6);
  const Partition two{{0, 2, 4}};
  const std::vector<std::pair<std::string, std::function<void()>>> calls = {
      {"data_parallel_peak_memory(B=6, K=0, device 0)", [&] { data_parallel_peak_memory(m, 0, 0); }},
      {"data_parallel_peak_memory(B=6, K=7, device 0)", [&] { data_parallel_peak_memory(m, 7, 0); }},
      {"data_parallel_peak_memory(B=6, K=2, device 2)", [&] { data_parallel_peak_memory(m, 2, 2); }},
      {"data_parallel_peak_memory(B=6, K=2, device -1)", [&] { data_parallel_peak_memory(m, 2, -1); }},
      {"pipeline_peak_memory(2 stages, stage 2)", [&] { pipeline_peak_memory(m, two, 2, 1, false); }},
      {"pipeline_peak_memory(2 stages, stage -1)", [&] { pipeline_peak_memory(m, two, -1, 1, false); }},
      {"pipeline_peak_memory(B=6, M=0)", [&] { pipeline_peak_memory(m, two, 0, 0, false); }},
      {"pipeline_peak_memory(B=6, M=7)", [&] { pipeline_peak_memory(m, two, 0, 7, true); }},
  };
  for (const auto& [call, run] : calls) {
    const std::string why = throws_error(run);
    GRADE_EXPECT(why.empty(), call << " must throw a pipelab::Error: " << why);
  }
}

// ---------------------------------------------------------------- against the allocators

// One step of `schedule` on a fresh sim or cpu backend; each device's allocator is kept.
struct MeasuredStep {
  std::unique_ptr<Backend> backend;
  Trace trace;
};

// A fresh sim or cpu backend for `schedule` of `model` on `partition` (the backends read
// only the model and remat from the config; the devices and M come from their arguments).
std::unique_ptr<Backend> backend_of(BackendKind kind, const ModelSpec& model, bool remat, const Partition& partition,
                                    const Schedule& schedule) {
  RunConfig c;
  c.model = model;
  c.remat = remat;
  return kind == BackendKind::Sim ? make_sim_backend(c, partition, schedule.microbatches)
                                  : make_cpu_backend(c, partition, schedule.microbatches);
}

// A tiny step ends in milliseconds: a hang is a bug, reported well inside the test's timeout.
ExecutorOptions watchdog() {
  ExecutorOptions options;
  options.watchdog_seconds = 10;
  return options;
}

MeasuredStep measure(BackendKind kind, const ModelSpec& model, bool remat, const Partition& partition,
                     const Schedule& schedule) {
  MeasuredStep run;
  run.backend = backend_of(kind, model, remat, partition, schedule);
  run.trace = execute(schedule, *run.backend, watchdog());
  return run;
}

// "" when `predicted` is what device `device`'s allocator saw, else the first difference.
// Params, grads and the stash must be exact; the total must be the allocator's peak on
// the sim (which holds no buffers), and on the cpu at most its buffers below it.
std::string allocator_difference(const PeakMemory& predicted, const MeasuredStep& run, int device, const std::string& call) {
  const MemoryBytes& peak = run.trace.peak_memory.at(device);
  const std::uint64_t total = run.backend->memory(device).peak_total();
  const std::uint64_t buffers = at(peak, MemoryCategory::Buffers);
  const std::string where = " on the " + run.backend->name() + " allocator of device " + std::to_string(device);
  std::ostringstream os;
  if (predicted.params != at(peak, MemoryCategory::Params))
    os << call << ".params = " << predicted.params << " bytes, measured " << at(peak, MemoryCategory::Params) << where;
  else if (predicted.grads != at(peak, MemoryCategory::Grads))
    os << call << ".grads = " << predicted.grads << " bytes, measured " << at(peak, MemoryCategory::Grads) << where;
  else if (predicted.stash != at(peak, MemoryCategory::Stash))
    os << call << ".stash = " << predicted.stash << " bytes, measured peak " << at(peak, MemoryCategory::Stash) << where;
  else if (predicted.total() > total || total > predicted.total() + buffers)
    os << call << ".total() = " << predicted.total() << " bytes, measured peak " << total << " with " << buffers
       << " bytes of buffers" << where << " (expected total <= peak <= total + buffers)";
  return os.str();
}

TEST(PeakMemory, DataParallelMatchesTheAllocator) {
  GRADE_REQUIRE(valid_split_microbatches());  // the backends split the batch with it (ex03)
  // B = 13: most K give uneven shares, so device 0 holds one row more than the last.
  const ModelSpec model = model_of(3, 12, 20, 13);
  for (BackendKind backend : {BackendKind::Sim, BackendKind::Cpu}) {
    for (int k = 1; k <= 4; ++k) {
      Partition replicas{{0, model.layers}};
      replicas.replicas = k;
      const MeasuredStep run = measure(backend, model, false, replicas, data_parallel_schedule(k));
      for (int d = 0; d < k; ++d) {
        const std::string call = "data_parallel_peak_memory(" + model_text(model) + ", K=" + std::to_string(k) +
                                 ", device " + std::to_string(d) + ")";
        const std::string diff = allocator_difference(data_parallel_peak_memory(model, k, d), run, d, call);
        GRADE_ASSERT(diff.empty(), diff);
      }
    }
  }
}

TEST(PeakMemory, PipelineMatchesTheAllocator) {
  GRADE_REQUIRE(valid_split_microbatches());  // the backends split the batch with it (ex03)
  // Uneven stages (1, 2, 1 blocks), even ones, and one stage holding every layer. The sim
  // runs B = 13 (uneven micro-batches); the cpu B = 12, which every M here divides: with
  // remat and uneven micro-batches the cpu's F briefly holds a whole micro-batch's stash
  // while later inputs may already have arrived, so its peak depends on the timing.
  const std::vector<Partition> partitions = {Partition{{0, 1, 3, 4}}, Partition{{0, 2, 4}}, Partition{{0, 4}}};
  for (BackendKind backend : {BackendKind::Sim, BackendKind::Cpu}) {
    const ModelSpec model = model_of(4, 12, 20, backend == BackendKind::Sim ? 13 : 12);
    for (const Partition& partition : partitions) {
      const int k = partition.stages();
      for (int m : {1, 3, 4}) {
        for (bool remat : {false, true}) {
          const Schedule schedule = remat ? fixture_fill_drain_remat(k, m) : fixture_fill_drain(k, m);
          const MeasuredStep run = measure(backend, model, remat, partition, schedule);
          for (int s = 0; s < k; ++s) {
            const std::string call = "pipeline_peak_memory(" + model_text(model) + ", partition " +
                                     describe(partition) + ", stage " + std::to_string(s) + ", M=" +
                                     std::to_string(m) + ", remat=" + (remat ? "true" : "false") + ")";
            const std::string diff =
                allocator_difference(pipeline_peak_memory(model, partition, s, m, remat), run, s, call);
            GRADE_ASSERT(diff.empty(), diff);
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------- the refusal story

// The Error a capped step of `schedule` stops with ("" if it runs to the end).
std::string capped_step_error(BackendKind kind, const ModelSpec& model, const Partition& partition,
                              const Schedule& schedule, std::uint64_t cap) {
  auto backend = backend_of(kind, model, false, partition, schedule);
  for (int d = 0; d < partition.devices(); ++d) backend->memory(d).set_cap(cap);
  try {
    execute(schedule, *backend, watchdog());
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

TEST(PeakMemory, CapBetweenThePeaksRefusesOnlyDataParallelism) {
  GRADE_REQUIRE(valid_split_microbatches());  // the backends split the batch with it (ex03)
  // Lab 00's Part 3 in small: K = 4 devices whose memory lies between your two predictions.
  // The allocators must agree: data parallelism runs out of memory, GPipe fits (on the cpu
  // with its buffers too: they are a few (b, d) tensors, far below the gap).
  const int k = 4, m = 4;
  const ModelSpec model = model_of(8, 16, 64, 16);
  Partition replicas{{0, model.layers}};
  replicas.replicas = k;
  const Partition stages = fixture_partition(k, model.layers / k);
  std::uint64_t data_parallel = 0, pipeline = 0;
  for (int d = 0; d < k; ++d) {
    data_parallel = std::max(data_parallel, data_parallel_peak_memory(model, k, d).total());
    pipeline = std::max(pipeline, pipeline_peak_memory(model, stages, d, m, false).total());
  }
  GRADE_ASSERT(pipeline < data_parallel, "for " << model_text(model) << ", K=" << k << ", you predict GPipe (M=" << m
                                                << ") needs " << pipeline << " bytes on its fullest device and data "
                                                << "parallelism " << data_parallel
                                                << ": a replica holds all 8 layers, a stage 2");
  const std::uint64_t cap = (pipeline + data_parallel) / 2;
  for (BackendKind backend : {BackendKind::Sim, BackendKind::Cpu}) {
    const std::string refused = capped_step_error(backend, model, replicas, data_parallel_schedule(k), cap);
    GRADE_EXPECT(refused.find("out of memory") != std::string::npos,
                 "data parallelism on the " << to_string(backend) << " backend "
                                            << (refused.empty() ? "ran" : "stopped with: " + refused)
                                            << " under a cap of " << cap << " bytes per device, halfway between your "
                                            << pipeline << " (GPipe) and " << data_parallel
                                            << " (data parallelism): it must run out of memory");
    const std::string fits = capped_step_error(backend, model, stages, fixture_fill_drain(k, m), cap);
    GRADE_EXPECT(fits.empty(), "GPipe (M=" << m << ") on the " << to_string(backend) << " backend under a cap of " << cap
                                           << " bytes per device, above your prediction " << pipeline
                                           << ", stopped: " << fits);
  }
  // The kit's own check before a run (--device-memory-mib, the sim's prediction) agrees.
  RunConfig dp;
  dp.model = model;
  dp.schedule = ScheduleKind::DataParallel;
  dp.device_memory_mib = static_cast<double>(cap) / kMiB;
  GRADE_EXPECT(throws_error([&] { check_memory_cap(dp, replicas, data_parallel_schedule(k)); }).empty(),
               "--device-memory-mib " << dp.device_memory_mib << " (" << cap << " bytes, between your predictions "
                                      << pipeline << " and " << data_parallel << ") let data parallelism run");
  RunConfig gpipe = dp;
  gpipe.schedule = ScheduleKind::Gpipe;
  try {
    check_memory_cap(gpipe, stages, fixture_fill_drain(k, m));
  } catch (const Error& e) {
    ADD_FAILURE() << "--device-memory-mib " << gpipe.device_memory_mib << " (" << cap << " bytes, above your prediction "
                  << pipeline << ") refused GPipe (M=" << m << "): " << e.message();
  }
}

}  // namespace
}  // namespace pipelab::grading
