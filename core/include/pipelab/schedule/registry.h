// pipelab/schedule/registry.h — every schedule the kit knows, one row each.
//
// A row says what a schedule is (kind, CLI name, title), how it is built (the
// generator, from exercise.h) and what theory predicts for it (the formula, its
// source, and a function that evaluates it). The CLI parser, JSON, the trace
// reader, the report and the visualizer all read this table, and the schedule
// contract test iterates it: adding a schedule is one generator plus one row
// (docs/add-schedule.md).
#pragma once

#include <string>
#include <vector>

#include "pipelab/schedule/schedule.h"

namespace pipelab {

/// What each compute action costs relative to a forward, as a theory assumes it. The
/// nominal ratio is the cost model's to within 1% (docs/backends.md): a block's backward
/// runs four GEMMs of the forward's size, a recompute is a forward without the loss.
/// The zero-bubble schedules split B into I and W; nominally each costs a forward
/// (F:I:W = 1:1:1, so I + W = B = 2 as before).
struct CostRatio {
  double forward = 1;          ///< F (t_f)
  double backward = 2;         ///< B (t_b)
  double recompute = 1;        ///< R (t_r)
  double backward_input = 1;   ///< I, B's input-gradient half (t_i; the zero-bubble paper's T_B)
  double backward_weight = 1;  ///< W, B's weight-gradient half (t_w; the paper's T_W)
};

/// Theory for balanced stages and free links (labelled "theory" wherever shown).
struct Theory {
  double utilization = 0;      ///< e.g. M / (M + K - 1) for fill-drain
  double bubble_fraction = 0;  ///< 1 - utilization, e.g. (K - 1) / (M + K - 1)
  /// The same bubble relative to busy time, Megatron-LM's convention (Narayanan et al.
  /// 2021): idle / busy = bubble_fraction / utilization, e.g. (K - 1) / M for fill-drain
  /// (their (p - 1)/m). Derived, so it can never disagree with bubble_fraction.
  double bubble_over_busy() const { return utilization > 0 ? bubble_fraction / utilization : 0.0; }
  /// T_naive / T: naive model parallelism with the same options over this schedule,
  /// e.g. K·M / (M + K - 1) for fill-drain (docs/gpipe.md).
  double ideal_speedup = 1;
  /// Peak number of micro-batches a device holds activations for at once (from its F to
  /// its B, or to its W when B is split into I and W), the most over the devices — the
  /// first device's for every schedule but ZB-V with M < 2K - 1: M for fill-drain,
  /// min(K, M) for 1F1B and ZB-H1, min(2K - 1, M) for ZB-H2; (chunk, micro-batch) pairs
  /// for a schedule with model chunks. With remat it counts the micro-batches whose stage
  /// input is held (remat keeps the inputs, not the blocks'). validate() holds every
  /// device of a registry schedule to it.
  double peak_stash_microbatches = 0;
  std::string schedule;  ///< how labels name the schedule: "GPipe", "naive", "1F1B"
  std::string options;   ///< the options the formula depends on: "" or "remat, F:B:R = 1:2:1"
  std::string formula;   ///< the utilization formula, as printed: "M/(M+K-1)"
  /// "GPipe" or "GPipe + remat, F:B:R = 1:2:1": the label every theory value carries.
  std::string name() const { return options.empty() ? schedule : schedule + " + " + options; }
};

/// Theory of fill-drain (GPipe) with `devices` = K balanced stages and `microbatches` = M:
/// utilization M / (M + K - 1), bubble (K - 1) / (M + K - 1) (the GPipe paper's share of
/// total time; naive model parallelism is M = 1: 1 / K), ideal speedup K·M / (M + K - 1).
/// Throws pipelab::Error unless K >= 1 and M >= 1.
Theory fill_drain_theory(int devices, int microbatches);

/// `no_remat` with re-materialization: every device idles as long as without it (each
/// R fits in the stage's wait for its gradient, docs/gpipe.md) but is busy (F+B+R)/(F+B)
/// times longer: utilization (F+B+R) / ((F+B+R) + (F+B)·(1 - u)/u), u = no_remat's.
/// For fill-drain: M(F+B+R) / (M(F+B+R) + (K-1)(F+B)). The ideal speedup is left as it
/// is; schedule_theory() recomputes it against naive with remat.
Theory with_remat_theory(const Theory& no_remat, const CostRatio& cost);

/// How a schedule takes the M it is asked for.
enum class MicrobatchRule {
  AsGiven,    ///< M micro-batches, as asked (gpipe, 1f1b, the zero-bubble schedules)
  One,        ///< one batch by definition (naive): M = 1
  PerDevice,  ///< one share of the batch per device (data-parallel): M = K
};

/// One schedule the kit can build.
struct ScheduleInfo {
  ScheduleKind kind;  ///< typed identity (Schedule::kind)
  const char* name;   ///< CLI name (--schedule), JSON and trace name
  const char* title;  ///< for people: "GPipe (fill-drain)"
  /// Whether the schedule runs the M it is given, one batch (naive) or one share per device.
  MicrobatchRule microbatch_rule;
  /// Builds the schedule for K devices, M micro-batches (M as microbatch_rule sets it)
  /// and v model chunks per device (1 unless the row uses_chunks).
  Schedule (*generate)(int devices, int microbatches, int chunks);
  /// Evaluates the row's theory for K, M (as scheduled) and v chunks.
  Theory (*theory)(int devices, int microbatches, int chunks);
  const char* theory_formula;  ///< the utilization formula, as printed: "M/(M+K-1)"
  const char* theory_source;   ///< where the formula comes from
  /// How theory labels name the schedule ("GPipe"); the CLI name when null.
  const char* theory_name = nullptr;
  /// with_remat_theory()'s formula for this row, as printed; a generic text when null.
  const char* remat_formula = nullptr;
  /// How --remat rewrites this row's schedules: with_recompute (ex07, R before each B)
  /// when null; a schedule that splits B into I and W needs R before each I.
  Schedule (*with_remat)(const Schedule& schedule) = nullptr;
  /// True when the row takes --chunks (v model chunks per device); 0 chunks are refused.
  bool uses_chunks = false;
  /// The chunks per device a row that does not take --chunks always holds: 2 for zbv (its
  /// V), 0 for a row of one stage per device.
  int fixed_chunks = 0;
  /// Where the row's chunks sit (Partition::placement) when it holds several per device.
  ChunkPlacement placement = ChunkPlacement::Interleaved;
};

/// Every schedule, in the order the CLI lists them (Custom is not a row).
const std::vector<ScheduleInfo>& schedule_registry();

/// The M `row` runs when asked for K = `devices` and M = `microbatches`: 1 for naive,
/// K for data-parallel, else `microbatches`.
int scheduled_microbatches(const ScheduleInfo& row, int devices, int microbatches);

/// The chunks per device `row` runs when asked for `chunks` (--chunks): `chunks` for a row
/// that uses_chunks, its fixed_chunks for a row that fixes them (zbv: 2), else 1.
int scheduled_chunks(const ScheduleInfo& row, int chunks);

/// The row of `kind`. Throws pipelab::Error for ScheduleKind::Custom (no generator).
const ScheduleInfo& schedule_info(ScheduleKind kind);

/// The kind named `name` ("naive", "gpipe", "1f1b"); UsageError naming --schedule otherwise.
ScheduleKind schedule_from_string(const std::string& name);

/// "naive, gpipe, 1f1b": the CLI names in registry order, joined by `separator`
/// (", " for hints, "|" for help texts).
std::string schedule_names(const char* separator = ", ");

/// The schedule of `kind` for K devices and M micro-batches (M as the row's
/// microbatch_rule sets it), with re-materialization (with_recompute) if `remat`, and v =
/// `chunks` model chunks per device for a row that uses_chunks (ignored by the others,
/// scheduled_chunks()).
Schedule generate_schedule(ScheduleKind kind, int devices, int microbatches, bool remat, int chunks = 1);

/// The theory of a `kind` schedule for K and M (as scheduled), with remat if `remat`:
/// the row's formula, through with_remat_theory() with `cost` when remat. Custom (a
/// hand-built schedule, no formula of its own) is shown against fill-drain's. With
/// `w_batch` (--w-batch), through with_batched_weight_theory() (schedule/batched_weight.h).
Theory schedule_theory(ScheduleKind kind, int devices, int microbatches, bool remat,
                       const CostRatio& cost = CostRatio{}, int chunks = 1, bool w_batch = false);

/// The theory of a schedule as built (its kind, K, M, remat and w_batch) at the nominal cost
/// ratio: what the run, its report, its JSON and its trace (trace.meta) carry.
Theory schedule_theory(const Schedule& schedule);

}  // namespace pipelab
