// pipelab/exercise.h — the functions students write.
//
// Each function exists twice with the same file name: a skeleton in exercises/
// (throws NotImplemented("exNN: ...")) and a reference in solutions/. The CMake
// option PIPELAB_TRACK=solutions|exercises picks which set the runtime links, so
// a student's code runs inside the real `pipelab` and `pipelab-viz`.
// The graded tests (tests/grading/) check these contracts against independent
// oracles, never against the reference solution.
#pragma once

#include <vector>

#include "pipelab/partition.h"
#include "pipelab/schedule.h"

namespace pipelab {

// ---------------------------------------------------------------- ex01 naive MP
/// ex01: split `layers` layers into `devices` contiguous stages whose sizes differ
/// by at most one; the first (layers % devices) stages get the extra layer.
/// Precondition: 1 <= devices <= layers.
Partition even_partition(int layers, int devices);

/// ex01: naive model parallelism = one batch (micro-batch 0), forward on stage
/// 0..K-1 then backward on K-1..0, one OptimizerStep per stage at the end.
/// Use append_forward / append_backward (schedule.h) so each F and B carries its
/// send/recv. Name: "naive", microbatches 1.
Schedule naive_schedule(int devices);

// ------------------------------------------------------------- ex02 GPipe
/// ex02: GPipe fill-drain. Every stage runs F for micro-batches 0..M-1 in order,
/// then B for micro-batches M-1..0 (reverse order, as in the GPipe paper's
/// figure: the last forward's activations are used first), then one OptimizerStep.
/// Name: "gpipe". With M = 1 it equals the naive schedule (but is named "gpipe").
Schedule gpipe_schedule(int devices, int microbatches);

// -------------------------------------------------------- ex03 micro-batches
/// ex03: sizes of `microbatches` micro-batches of a batch of `batch` samples,
/// like torch.tensor_split / numpy.array_split: the first (batch % M) get one
/// more sample. Precondition: 1 <= microbatches <= batch.
std::vector<int> split_microbatches(int batch, int microbatches);

/// ex03: the factor each sample's loss (and so its gradient) is multiplied by
/// when a micro-batch of `microbatch_rows` rows of a batch of `batch` samples
/// runs, so that gradients accumulated over all micro-batches equal the
/// full-batch gradient of the mean loss — also when micro-batches are uneven.
float microbatch_loss_scale(int microbatch_rows, int batch);

// ---------------------------------------------------------- ex04 measuring
/// A half-open time interval [start, end).
struct Interval {
  double start = 0;
  double end = 0;
};

/// ex04: length of the union of `spans` (overlaps counted once, empty or
/// negative-length spans contribute nothing). Input order is arbitrary.
double busy_time(std::vector<Interval> spans);

// ------------------------------------------------- ex06 balanced partition
/// ex06: contiguous partition of layers (costs given per layer) into `devices`
/// stages minimizing the largest stage cost (exact). Ties: any optimum.
/// Precondition: 1 <= devices <= layer_costs.size(), costs >= 0.
Partition balanced_partition(const std::vector<double>& layer_costs, int devices);

// ----------------------------------------------------------- ex09 1F1B (bonus)
/// ex09: the 1F1B schedule (PipeDream-Flush): stage s runs min(K - s, M)
/// warm-up forwards, then alternates one B and one F (steady state), then the
/// remaining backwards (cool-down); micro-batches in order 0..M-1 for both F and B;
/// one OptimizerStep per stage at the end. Name: "1f1b".
Schedule one_f_one_b_schedule(int devices, int microbatches);

}  // namespace pipelab
