// pipelab/exercise.h — the functions students write.
//
// Each exercise's functions live in one file, named after the exercise, twice: a
// skeleton in exercises/ (throws NotImplemented("exNN: ...")) and a reference in
// solutions/, e.g. exercises/ex02_gpipe.cpp beside tests/grading/test_ex02_gpipe.cpp.
// The CMake option PIPELAB_TRACK=solutions|exercises picks which set the runtime
// links, so a student's code runs inside the real `pipelab` and `pipelab-viz`.
// The contracts below are the only statement of what each function must do; the lab
// handouts (labs/NN_*/README.md) add hints. The graded tests (tests/grading/) check
// the contracts against independent oracles, never against the reference solution.
//
// Every schedule generator (naive_schedule, gpipe_schedule, one_f_one_b_schedule,
// zb_h1_schedule) starts from start_schedule(kind, "function_name", K, M) (schedule.h), so all check
// their inputs the same way: pipelab::Error unless devices >= 1 and microbatches >= 1.
// Every other function here throws pipelab::Error (PIPELAB_THROW) for the inputs its
// contract rules out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "pipelab/model/config.h"
#include "pipelab/model/model.h"
#include "pipelab/model/partition.h"
#include "pipelab/schedule/schedule.h"
#include "pipelab/trace/trace.h"

// CUDA's stream and event handles (cudaStream_t is CUstream_st*, cudaEvent_t is
// CUevent_st*), declared here so this header needs no CUDA include (ex08).
struct CUstream_st;
struct CUevent_st;

namespace pipelab {

// ---------------------------------------------------------------- ex01 naive MP
/// ex01: split `layers` layers into `devices` contiguous stages whose sizes differ
/// by at most one; the first (layers % devices) stages get the extra layer. The
/// Partition's boundaries are {0, ..., layers}, devices + 1 entries.
/// Throws pipelab::Error unless 1 <= devices <= layers.
Partition even_partition(int layers, int devices);

/// ex01: naive model parallelism = one batch (micro-batch 0), forward on stage
/// 0..K-1 then backward on K-1..0, one OptimizerStep per stage at the end.
/// Use append_forward / append_backward (schedule.h) so each F and B carries its
/// send/recv. kind ScheduleKind::Naive, stages K, microbatches 1.
/// Throws pipelab::Error unless devices >= 1 (start_schedule checks it).
Schedule naive_schedule(int devices);

// ------------------------------------------------------------- ex02 GPipe
/// ex02: GPipe fill-drain. Every stage runs F for micro-batches 0..M-1 in order,
/// then B for micro-batches M-1..0 (reverse order, as in the GPipe paper's
/// figure: the last forward's activations are used first), then one OptimizerStep.
/// Each F and B carries its send/recv (append_forward / append_backward).
/// kind ScheduleKind::Gpipe, stages K, microbatches M. With M = 1 it equals the naive
/// schedule (but its kind is Gpipe). Throws pipelab::Error unless K >= 1 and M >= 1
/// (start_schedule checks it).
Schedule gpipe_schedule(int devices, int microbatches);

// -------------------------------------------------------- ex03 micro-batches
/// ex03: sizes of `microbatches` micro-batches of a batch of `batch` samples,
/// like torch.tensor_split / numpy.array_split: the first (batch % M) get one
/// more sample; the sizes add up to `batch`.
/// Throws pipelab::Error unless 1 <= microbatches <= batch.
std::vector<int> split_microbatches(int batch, int microbatches);

/// ex03: the factor each sample's loss (and so its gradient) is multiplied by
/// when a micro-batch of `microbatch_rows` rows of a batch of `batch` samples
/// runs, so that gradients accumulated over all micro-batches equal the
/// full-batch gradient of the mean loss — also when micro-batches are uneven.
float microbatch_loss_scale(int microbatch_rows, int batch);

// ---------------------------------------------------------- ex04 measuring
/// A half-open time interval [start, end).
struct Interval {
  double start = 0;  ///< first instant inside
  double end = 0;    ///< first instant after (end <= start: empty)
};

/// ex04: length of the union of `spans` (overlaps counted once, empty or
/// negative-length spans contribute nothing). Input order is arbitrary.
double busy_time(std::vector<Interval> spans);

/// What one step's trace says about utilization. Times in µs, like the trace.
struct TraceUtilization {
  double makespan_us = 0;           ///< T = max(end) - min(start) over every event, every lane
  std::vector<double> busy_us;      ///< per device: busy_time of its compute spans (F, B, R, I, W)
  std::vector<double> utilization;  ///< per device: busy_us / T (0 when T is 0)
  double mean_utilization = 0;      ///< mean over devices of utilization
  double bubble_fraction = 0;       ///< 1 - mean_utilization (0 when T is 0: no step, no bubble)
};

/// ex04: the metrics of docs/metrics.md ("Definitions for one step") for `trace`, over
/// trace.meta.devices devices (one entry per device, also for a device without events:
/// it was idle). Only F, B, Recompute, I and W are busy (is_compute, schedule.h);
/// OptimizerStep and send/recv spans are not, but every event counts for the makespan
/// (0 for a trace without events).
/// Throws pipelab::Error for an event whose device is outside [0, trace.meta.devices).
TraceUtilization measure_utilization(const Trace& trace);

// ---------------------------------------------------------- ex05 comparing
/// One row of the naive-vs-GPipe table: what one run measured, with its evidence.
struct UtilizationRow {
  std::string schedule;            ///< "naive" or "gpipe", as run
  int devices = 0;                 ///< K
  int microbatches = 0;            ///< M as run (1 for naive)
  double step_ms = 0;              ///< measured makespan
  double utilization = 0;          ///< measured mean utilization over devices
  double bubble_fraction = 0;      ///< measured: 1 - utilization
  double theory_utilization = 0;   ///< M / (M + K - 1); for naive (M = 1) that is 1 / K
  double speedup = 0;              ///< naive step_ms / this row's step_ms (1 for naive)
  Trace trace;                     ///< the run's trace: the numbers above must follow from it
};

/// ex05: run naive model parallelism once, then GPipe once per M in
/// `microbatch_counts` (in that order), all on `config`'s model, devices and
/// backend (config.schedule and config.microbatches are ignored), and return one
/// row per run, naive first. A run is one run_step (runtime/run.h); every measured
/// number of its row comes from that run's trace (measure_utilization, ex04), which
/// the row keeps.
std::vector<UtilizationRow> utilization_table(const RunConfig& config,
                                              const std::vector<int>& microbatch_counts);

// ------------------------------------------------- ex06 balanced partition
/// ex06: contiguous partition of layers (costs given per layer) into `devices`
/// non-empty stages minimizing the largest stage cost (exact; a stage's cost is the sum
/// of its layers' costs, as stage_costs() in partition.h adds them). Ties: any optimum.
/// Throws pipelab::Error unless 1 <= devices <= layer_costs.size() and every cost is
/// >= 0 (NaN is not).
Partition balanced_partition(const std::vector<double>& layer_costs, int devices);

// ------------------------------------------------ ex07 re-materialization
/// ex07: re-materialization as a schedule transform. Insert Recompute(s, m) in
/// front of each B(s, m): before the RecvGrad(s, m) that directly precedes B when
/// there is one (so the recompute overlaps the wait for the gradient), else right
/// before B. Every other action keeps its order, and so do kind, stages and
/// micro-batches; `remat` is set (the name becomes e.g. "gpipe+remat").
Schedule with_recompute(const Schedule& schedule);

/// What one stage holds between forward and backward, counted in micro-batches.
struct StashPeak {
  int inputs = 0;       ///< most micro-batches whose stage input is held at once
  int activations = 0;  ///< most micro-batches whose full activations are held at once
};

/// ex07: walk stage `stage`'s program in order. A micro-batch's input is held from
/// its F to its B. Its full activations are held from its F to its B — or, when the
/// program contains Recompute for that micro-batch, only from the R to the B (F
/// then keeps just the input). Returns the peak of each count (the count after an
/// action; B releases). Throws pipelab::Error unless 0 <= stage < schedule.stages.
StashPeak stash_peak(const Schedule& schedule, int stage);

// -------------------------------------------------------- ex08 GPU copy
/// One activation's trip from the producing stage's GPU to the consuming stage's.
struct ActivationCopy {
  void* dst = nullptr;        ///< on dst_device
  int dst_device = 0;         ///< the consuming stage's GPU
  const void* src = nullptr;  ///< on src_device
  int src_device = 0;         ///< the producing stage's GPU
  std::size_t bytes = 0;      ///< bytes to copy
  CUevent_st* ready = nullptr;            ///< recorded on the producer's stream after it wrote src
  CUstream_st* copy_stream = nullptr;     ///< the copy engine's stream (not the producer's)
  CUevent_st* copied = nullptr;           ///< to record when the bytes have arrived
  CUstream_st* consumer_stream = nullptr; ///< the consumer's compute stream
};

/// ex08 (GPU): enqueue the copy without blocking the host: the copy stream waits
/// for `ready`, copies src to dst (peer copy), records `copied`; the consumer
/// stream waits for `copied`. Throws pipelab::Error on a CUDA error. Built only
/// with CUDA (exercises/ex08_gpu_copy.cu); graded only where a GPU is present.
void copy_activation(const ActivationCopy& copy);

// ----------------------------------------------------------- ex09 1F1B (bonus)
/// ex09: the 1F1B schedule (PipeDream-Flush): stage s runs min(K - s, M)
/// warm-up forwards, then alternates one B and one F (steady state), then the
/// remaining backwards (cool-down); micro-batches in order 0..M-1 for both F and B;
/// one OptimizerStep per stage at the end. Each F and B carries its send/recv
/// (append_forward / append_backward). kind ScheduleKind::OneFOneB (name "1f1b"),
/// stages K, microbatches M. Throws pipelab::Error unless K >= 1 and M >= 1
/// (start_schedule checks it).
Schedule one_f_one_b_schedule(int devices, int microbatches);

// ------------------------------------------------------- ex10 ZB-H1 (bonus)
/// ex10: ZB-H1 (Qi et al., "Zero Bubble Pipeline Parallelism", ICLR 2024, section 2),
/// one stage per device. Every backward is split in two: I (BackwardInput: the gradient
/// of the stage's input, which stage s - 1 waits for) and W (BackwardWeight: the gradient
/// of the stage's weights, which nobody waits for). Stage s of K runs, for
/// x = 0, 1, ..., M - 1 + (K - 1), the triple
///     F(x)   I(x - (K - 1 - s))   W(x - (K - 1))
/// skipping every index outside [0, M), then one OptimizerStep. So stage s runs
/// min(K - s, M) forwards before its first I (1F1B's warm-up), W(m) runs s triples
/// after I(m) (in the same triple on stage 0), and every stage holds at most min(K, M)
/// micro-batches from F to W. Each F carries its send/recv (append_forward), each I its gradient's
/// (append_backward_input); W is local (append_weight_backward). No Backward (B) action.
/// kind ScheduleKind::ZbH1 (name "zb-h1"), stages K, microbatches M. Throws
/// pipelab::Error unless K >= 1 and M >= 1 (start_schedule checks it). The registry's
/// "zb-h1" row calls it; zb_h2_schedule (schedule/zero_bubble.h) is not an exercise.
Schedule zb_h1_schedule(int devices, int microbatches);

// ------------------------------------------- ex11 per-device memory (bonus, lab 00)
/// What one device holds at its peak, in bytes, in three of the allocator's categories
/// (MemoryCategory, trace/trace.h). The fourth, buffers (a stage output until it is sent,
/// a received gradient, a GEMM's workspace), is what each backend's code allocates and is
/// not predicted: the sim holds none, the cpu backend a few (b, d) tensors.
struct PeakMemory {
  std::uint64_t params = 0;  ///< the parameters of the device's layers (fp32), held the whole step
  std::uint64_t grads = 0;   ///< their gradients (the same shapes), held the whole step
  std::uint64_t stash = 0;   ///< the most activation bytes held at once (what F keeps for B)
  /// params + grads + stash: the device's peak without buffers (params and grads never
  /// change during a step, so the total peaks when the stash does).
  std::uint64_t total() const { return params + grads + stash; }
};

/// ex11: device `device` of data parallelism over `devices` = K replicas of `model`
/// (data_parallel_schedule, schedule/data_parallel.h: F(d) B(d) through every layer, then
/// the all-reduce). Every block of the model (d = width, h = hidden) has the parameters
/// W1 (h, d), b1 (h), W2 (d, h), b2 (d), fp32, and as many gradients. Device d runs share d
/// of the batch: the rows split_microbatches(batch, K)[d] gives. A micro-batch of b rows
/// keeps from its F to its B every block's input x (b, d) and its a and g (b, h), and on
/// the last stage of its replica (every device here) also the logits (b, d).
/// Throws pipelab::Error unless 1 <= devices <= model.batch and 0 <= device < devices.
PeakMemory data_parallel_peak_memory(const ModelSpec& model, int devices, int device);

/// ex11: stage `stage` of a fill-drain pipeline of `model` over `partition` (one replica,
/// one chunk per device; the stage holds partition.layer_count(stage) blocks) with
/// `microbatches` = M micro-batches of the rows split_microbatches(batch, M) gives: naive
/// model parallelism for M = 1, GPipe for M > 1 (gpipe_schedule: every F, then every B in
/// the order M-1, ..., 0). Blocks and the stash of one micro-batch as for
/// data_parallel_peak_memory; the logits only on the last stage. With `remat` (gpipe +
/// with_recompute) F keeps only the micro-batch's stage input x (b, d), and R(m), right
/// before B(m), rebuilds the rest of its stash, which B(m) frees with the input.
/// Throws pipelab::Error unless 0 <= stage < partition.stages() and
/// 1 <= microbatches <= model.batch.
PeakMemory pipeline_peak_memory(const ModelSpec& model, const Partition& partition, int stage, int microbatches,
                                bool remat);

}  // namespace pipelab
