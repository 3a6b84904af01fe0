// prerequisites.cpp — validity sweeps and the gates built on them (see prerequisites.h).
#include "prerequisites.h"

#include <numeric>
#include <sstream>

#include "pipelab/schedule/validate.h"

namespace pipelab::grading {

std::string needs_first(const std::string& problem, const std::string& needs, const std::string& test) {
  if (problem.empty()) return "";
  return problem + "; these points need " + needs + ": fix " + test + " first";
}

std::string calls_yours(const std::string& problem, const std::string& function, const std::string& test) {
  if (problem.empty()) return "";
  return problem + "; these tests call your " + function + ": fix " + test + " first";
}

std::string schedule_validation_error(const Schedule& schedule) {
  // validate()'s messages say their action numbers are 0-based, as the grading ones do.
  return validation_error(schedule);
}

namespace {

// Runs `output_problem`; an exception other than NotImplemented (which must still name
// the missing task) becomes the problem: "<call> threw: ...".
template <class Check>
std::string guarded(const std::string& call, Check output_problem) {
  try {
    return output_problem();
  } catch (const NotImplemented&) {
    throw;
  } catch (const Error& e) {
    return call + " threw: " + e.message();
  } catch (const std::exception& e) {
    return call + " threw: " + e.what();
  }
}

// "" when `s` is a valid schedule of K stages and M micro-batches, else why not.
std::string schedule_problem(const Schedule& s, const std::string& call, int stages, int microbatches) {
  if (s.stages != stages || s.microbatches != microbatches)
    return call + " has stages " + std::to_string(s.stages) + " and microbatches " + std::to_string(s.microbatches) +
           ", expected " + std::to_string(stages) + " and " + std::to_string(microbatches);
  const std::string error = schedule_validation_error(s);
  return error.empty() ? "" : call + " fails validate(): " + error;
}

std::string call_text(const char* function, int k) { return std::string(function) + "(" + std::to_string(k) + ")"; }
std::string call_text(const char* function, int k, int m) {
  return std::string(function) + "(" + std::to_string(k) + ", " + std::to_string(m) + ")";
}

}  // namespace

std::string naive_schedule_problem() {
  for (int k = 1; k <= 16; ++k) {
    const std::string call = call_text("naive_schedule", k);
    const std::string problem = guarded(call, [&] { return schedule_problem(naive_schedule(k), call, k, 1); });
    if (!problem.empty()) return problem;
  }
  return "";
}

std::string gpipe_schedule_problem() {
  for (int k = 1; k <= 8; ++k)
    for (int m = 1; m <= 16; ++m) {
      const std::string call = call_text("gpipe_schedule", k, m);
      const std::string problem = guarded(call, [&] { return schedule_problem(gpipe_schedule(k, m), call, k, m); });
      if (!problem.empty()) return problem;
    }
  return "";
}

std::string one_f_one_b_schedule_problem() {
  for (int k = 1; k <= 8; ++k)
    for (int m = 1; m <= 16; ++m) {
      const std::string call = call_text("one_f_one_b_schedule", k, m);
      const std::string problem =
          guarded(call, [&] { return schedule_problem(one_f_one_b_schedule(k, m), call, k, m); });
      if (!problem.empty()) return problem;
    }
  return "";
}

std::string zb_h1_schedule_problem() {
  for (int k = 1; k <= 8; ++k)
    for (int m = 1; m <= 16; ++m) {
      const std::string call = call_text("zb_h1_schedule", k, m);
      const std::string problem = guarded(call, [&] { return schedule_problem(zb_h1_schedule(k, m), call, k, m); });
      if (!problem.empty()) return problem;
    }
  return "";
}

std::string with_recompute_problem() {
  for (int k = 1; k <= 5; ++k)
    for (int m = 1; m <= 6; ++m)
      for (const Schedule& input : {fixture_fill_drain(k, m), fixture_one_f_one_b(k, m)}) {
        const std::string call = "with_recompute(" + input.name() + " K=" + std::to_string(k) +
                                 " M=" + std::to_string(m) + ")";
        const std::string problem = guarded(call, [&] { return schedule_problem(with_recompute(input), call, k, m); });
        if (!problem.empty()) return problem;
      }
  return "";
}

std::string even_partition_problem() {
  for (int layers = 1; layers <= 24; ++layers)
    for (int k = 1; k <= layers; ++k) {
      const std::string call = call_text("even_partition", layers, k);
      const std::string problem = guarded(call, [&] {
        const std::string why = partition_problem(even_partition(layers, k), layers, k);
        return why.empty() ? why : call + " is not a valid partition: " + why;
      });
      if (!problem.empty()) return problem;
    }
  return "";
}

std::string split_microbatches_problem() {
  for (int batch = 1; batch <= 40; ++batch)
    for (int m = 1; m <= batch; ++m) {
      const std::string call = call_text("split_microbatches", batch, m);
      const std::string problem = guarded(call, [&] {
        const std::vector<int> sizes = split_microbatches(batch, m);
        std::ostringstream why;
        const int sum = std::accumulate(sizes.begin(), sizes.end(), 0);
        if (static_cast<int>(sizes.size()) != m) {
          why << sizes.size() << " sizes, expected " << m;
        } else if (sum != batch) {
          why << "sizes add up to " << sum << ", not the batch " << batch;
        } else {
          for (int i = 0; i < m && why.str().empty(); ++i)
            if (sizes[i] < 1) why << "micro-batch " << i << " has " << sizes[i] << " samples (each needs at least 1)";
        }
        return why.str().empty() ? "" : call + " is not a valid split: " + why.str();
      });
      if (!problem.empty()) return problem;
    }
  return "";
}

std::string valid_naive_schedule() {
  return needs_first(naive_schedule_problem(), "a valid schedule", "NaiveSchedule.ValidForAnyK");
}
std::string valid_gpipe_schedule() {
  return needs_first(gpipe_schedule_problem(), "a valid schedule", "GpipeSchedule.PassesValidator");
}
std::string valid_one_f_one_b_schedule() {
  return needs_first(one_f_one_b_schedule_problem(), "a valid schedule", "OneFOneB.PassesValidator");
}
std::string valid_zb_h1_schedule() {
  return needs_first(zb_h1_schedule_problem(), "a valid schedule", "ZbH1.PassesValidator");
}
std::string valid_with_recompute() {
  return needs_first(with_recompute_problem(), "a valid schedule", "Remat.KeepsEverythingElse");
}
std::string valid_even_partition() {
  return needs_first(even_partition_problem(), "a valid partition", "EvenPartition.SizesDifferByAtMostOneLargestFirst");
}
std::string valid_split_microbatches() {
  return calls_yours(split_microbatches_problem(), "split_microbatches", "MicrobatchSplit.SizesAddUpLargestFirst");
}

}  // namespace pipelab::grading
