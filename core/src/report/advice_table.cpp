// advice_table.cpp — the advisor's report (advice_table.h).
#include "pipelab/report/advice_table.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "pipelab/report/report.h"
#include "pipelab/runtime/memory.h"
#include "pipelab/schedule/registry.h"

namespace pipelab {

namespace {

// "zbv", or "zbv+w-batch" with --w-batch (remat has a column of its own).
std::string schedule_name(const Candidate& c) {
  return std::string(to_string(c.schedule)) + (c.w_batch ? "+w-batch" : "");
}

std::string label(const Candidate& c) {
  return std::string(to_string(c.schedule)) + (c.remat ? "+remat" : "") + (c.w_batch ? "+w-batch" : "") +
         " M=" + std::to_string(c.microbatches);
}

// The schedule column: as wide as the longest registry name ("interleaved-1f1b"), with
// "+w-batch" when the candidates have it, 12 at least.
int schedule_width(bool w_batch) {
  std::size_t width = 12;
  for (const ScheduleInfo& info : schedule_registry())
    width = std::max(width, std::string(info.name).size() + (w_batch ? std::string("+w-batch").size() : 0));
  return static_cast<int>(width);
}

std::string row(int rank, const Candidate& c) {
  char line[256];
  std::snprintf(line, sizeof line, "  %4d  %-*s %5d  %5s %8d %10.3f %7.1f %14.1f %12.2f %11.2f\n", rank,
                schedule_width(c.w_batch), schedule_name(c).c_str(), c.microbatches, c.remat ? "yes" : "no", c.rows_per_microbatch, c.step_ms,
                100.0 * c.bubble_fraction, 100.0 * c.theory.bubble_fraction, bytes_to_mib(c.peak_bytes),
                bytes_to_mib(c.peak_stash_bytes));
  return line;
}

// Percent by which `slow` takes longer than `fast`.
double slower_pct(const Candidate& slow, const Candidate& fast) {
  return fast.step_ms > 0 ? 100.0 * (slow.step_ms / fast.step_ms - 1.0) : 0.0;
}

// Where the step times come from, as the trade-off lines say it.
std::string where(const Advice& a) {
  return a.cost_model == "replay" ? "when replayed from measured costs (which keep the lower rate of small GEMMs)"
                                  : "on the sim, which prices every FLOP alike";
}

// The trade-offs of the winner, each read off two rows of the table.
std::string trade_offs(const Advice& a, const Candidate& best) {
  std::ostringstream out;
  // 1. Bubble vs micro-batch size: the same schedule and remat with fewer, bigger micro-batches.
  const Candidate* bigger = nullptr;
  for (const Candidate& c : a.candidates)
    if (c.fits && c.schedule == best.schedule && c.remat == best.remat && c.microbatches < best.microbatches &&
        (!bigger || c.microbatches > bigger->microbatches))
      bigger = &c;
  if (bigger)
    out << "# trade-off, bubble vs micro-batch size: " << label(*bigger) << " has " << bigger->rows_per_microbatch
        << "-row micro-batches instead of " << best.rows_per_microbatch << " (GEMMs nearer a real device's peak) "
        << "at a bubble of " << format_number("%.1f", 100.0 * bigger->bubble_fraction) << "% instead of "
        << format_number("%.1f", 100.0 * best.bubble_fraction) << "%: " << format_number("%.1f", slower_pct(*bigger, best))
        << "% slower " << where(a) << "\n";
  // 2. Memory vs compute: remat.
  const Candidate* other_remat = nullptr;
  for (const Candidate& c : a.candidates)
    if (c.fits && c.remat != best.remat && !other_remat) other_remat = &c;
  if (best.remat)
    out << "# trade-off, memory vs compute: " << label(best) << " recomputes each stage's forward before its "
        << "backward (one more F per micro-batch) to stash only the stage inputs; "
        << (other_remat ? "the fastest without remat that fits, " + label(*other_remat) + ", is " +
                              format_number("%.1f", slower_pct(*other_remat, best)) + "% slower"
                        : std::string("nothing without remat fits"))
        << "\n";
  else if (other_remat && other_remat->peak_bytes < best.peak_bytes)
    out << "# trade-off, memory vs compute: the fastest with remat, " << label(*other_remat) << ", needs "
        << format_number("%.2f", bytes_to_mib(other_remat->peak_bytes)) << " MiB instead of "
        << format_number("%.2f", bytes_to_mib(best.peak_bytes)) << " MiB and is "
        << format_number("%.1f", slower_pct(*other_remat, best)) << "% slower\n";
  else if (other_remat)
    out << "# trade-off, memory vs compute: remat saves no memory at the top (" << label(*other_remat)
        << " peaks at " << format_number("%.2f", bytes_to_mib(other_remat->peak_bytes))
        << " MiB: parameters, gradients and what the backward keeps dominate, not the forward's stash) and costs "
        << format_number("%.1f", slower_pct(*other_remat, best)) << "% more time\n";
  // 3. Memory vs speed: the fastest configuration the cap rules out.
  for (const Candidate& c : a.candidates)
    if (!c.fits && c.unavailable.empty() && c.step_ms < best.step_ms) {
      out << "# trade-off, memory vs speed: " << label(c) << " would be "
          << format_number("%.1f", -slower_pct(c, best)) << "% faster with "
          << format_number("%.2f", bytes_to_mib(c.peak_bytes)) << " MiB on device " << c.peak_device << " (cap "
          << format_number("%.2f", bytes_to_mib(a.cap_bytes)) << " MiB)\n";
      break;
    }
  return out.str();
}

}  // namespace

std::string format_advice(const Advice& a, int top) {
  std::ostringstream out;
  out << "# advise: the fastest configurations "
      << (a.cap_bytes ? "that fit in " + format_number("%.2f", bytes_to_mib(a.cap_bytes)) + " MiB per device"
                      : std::string("(no --device-memory-mib: every configuration fits)"))
      << (a.cost_model == "replay" ? ", replayed from measured costs (cpu)\n" : ", on the sim's cost model\n");
  out << "# " << describe_config(a.base) << "\n";
  const std::string pad(static_cast<std::size_t>(schedule_width(a.base.w_batch) - 12), ' ');
  out << "#  rank  schedule" << pad << "         M  remat  rows/mb  step time  bubble  bubble theory  peak memory  stash peak\n";
  out << "#       " << pad << "                                     "
      << (a.cost_model == "replay" ? "(ms, rpl)" : "(ms, sim)") << "     (%)    (%, theory)   (MiB, max)  (MiB, max)\n";
  int shown = 0;
  for (const Candidate& c : a.candidates) {
    if (!c.fits || shown >= top) break;
    out << row(++shown, c);
  }
  if (a.fitting == 0) {
    out << "# nothing fits: every configuration needs more than the cap on some device\n";
    const Candidate* least = nullptr;
    for (const Candidate& c : a.candidates)
      if (c.unavailable.empty() && (!least || c.peak_bytes < least->peak_bytes)) least = &c;
    if (least)
      out << "# the least memory: " << label(*least) << " needs " << format_number("%.2f", bytes_to_mib(least->peak_bytes))
          << " MiB on device " << least->peak_device << " (split the model over more devices, -K)\n";
  } else {
    out << "# " << a.fitting << " of " << a.candidates.size() << " configurations fit; the fastest is "
        << label(a.candidates.front()) << "\n";
    out << trade_offs(a, a.candidates.front());
  }
  if (a.cost_model == "replay")
    out << "# replay: each configuration ran on the cpu backend; its step time and bubble are its replay, every "
           "action at its measured thread CPU time (the median over the timed steps) on one dedicated core per "
           "device, so this machine's load is taken out; memory is the cpu allocator's peak (which holds a received "
           "activation from its arrival, the sim's from its F)\n";
  else
    out << "# sim: every FLOP costs the same, so small micro-batches look free here; on real devices small GEMMs "
           "run below peak. Check the top rows on yours: pipelab advise --backend cpu, or pipelab compare "
           "--backend cpu --schedules ...\n";
  for (const Candidate& c : a.candidates)
    if (!c.unavailable.empty()) out << "# not available: " << label(c) << ": " << c.unavailable << "\n";
  return out.str();
}

nlohmann::json advice_json(const Advice& a) {
  nlohmann::json j;
  j["device_memory_cap_bytes"] = a.cap_bytes;
  j["fitting"] = a.fitting;
  j["cost_model"] = a.cost_model;  // "sim", or "replay" (measured cpu costs)
  j["candidates"] = nlohmann::json::array();
  for (const Candidate& c : a.candidates) {
    nlohmann::json k;
    k["schedule"] = to_string(c.schedule);
    k["microbatches"] = c.microbatches;
    k["remat"] = c.remat;
    if (c.w_batch) k["w_batch"] = true;  // only with --w-batch: every other advice stays as it was
    k["rows_per_microbatch"] = c.rows_per_microbatch;
    if (!c.unavailable.empty()) {
      k["unavailable"] = c.unavailable;
    } else {
      k["step_ms"] = c.step_ms;
      if (a.cost_model == "replay") k["measured_step_ms"] = c.measured_ms;  // wall clock, this machine
      k["bubble_fraction"] = c.bubble_fraction;
      k["theory"] = {{"bubble_fraction", c.theory.bubble_fraction}, {"name", c.theory.name()}};
      k["peak_memory_bytes"] = c.peak_bytes;
      k["peak_memory_device"] = c.peak_device;
      k["peak_stash_bytes"] = c.peak_stash_bytes;
    }
    k["fits"] = c.fits;
    j["candidates"].push_back(k);
  }
  return j;
}

}  // namespace pipelab
