// executor.cpp — one worker thread per device, mailboxes for transfers, a watchdog.
#include "pipelab/runtime/executor.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "pipelab/error.h"
#include "pipelab/schedule/validate.h"
#include "step_trace.h"

namespace pipelab {

namespace {

using Clock = std::chrono::steady_clock;

// Transfers posted but not yet received, shared by all workers; a receive is
// identified by its action_key (kind, receiving stage, micro-batch).
class Mailbox {
 public:
  void post(const Action& recv, Transfer transfer) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      slots_[action_key(recv)] = std::move(transfer);
    }
    arrived_.notify_all();
  }
  // Blocks until the transfer for `recv` is there; false if the step was aborted.
  bool take(const Action& recv, Transfer& out) {
    const std::uint64_t key = action_key(recv);
    std::unique_lock<std::mutex> lock(mutex_);
    arrived_.wait(lock, [&] { return aborted_ || slots_.count(key) > 0; });
    if (aborted_) return false;
    auto it = slots_.find(key);
    out = std::move(it->second);
    slots_.erase(it);
    return true;
  }
  void abort() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      aborted_ = true;
    }
    arrived_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::unordered_map<std::uint64_t, Transfer> slots_;
  bool aborted_ = false;
};

// The devices' meeting point for a collective (backend.h): a reusable barrier of all
// the step's workers that an abort (a failed worker, the watchdog) releases.
class Barrier final : public Rendezvous {
 public:
  explicit Barrier(int participants) : participants_(participants) {}
  bool arrive_and_wait() override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (aborted_) return false;
    const std::uint64_t round = round_;
    if (++arrived_ == participants_) {
      // The last to arrive opens this round and resets the count for the next one.
      arrived_ = 0;
      ++round_;
      opened_.notify_all();
      return true;
    }
    opened_.wait(lock, [&] { return aborted_ || round_ != round; });
    return !aborted_;
  }
  void abort() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      aborted_ = true;
    }
    opened_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  int participants_;
  int arrived_ = 0;
  std::uint64_t round_ = 0;
  bool aborted_ = false;
};

// What a worker is doing, for the watchdog's message.
struct WorkerState {
  std::mutex mutex;
  std::string doing = "not started";
  bool finished = false;
  Clock::time_point since = Clock::now();

  void set(std::string what) {
    std::lock_guard<std::mutex> lock(mutex);
    doing = std::move(what);
    since = Clock::now();
  }
};

// Everything the workers share.
struct StepState {
  const Schedule& schedule;
  Backend& backend;
  Mailbox mailbox;
  Barrier collective;  // every worker: AllReduceGrads
  std::vector<WorkerState> workers;
  std::vector<std::vector<TraceEvent>> events;  // per device, written by its worker only
  std::atomic<std::uint64_t> actions_done{0};
  std::atomic<int> workers_left{0};
  std::atomic<bool> aborted{false};
  std::mutex done_mutex;
  std::condition_variable done;
  std::mutex error_mutex;
  std::exception_ptr first_error;

  StepState(const Schedule& s, Backend& b)
      : schedule(s),
        backend(b),
        collective(static_cast<int>(s.per_stage.size())),
        workers(s.per_stage.size()),
        events(s.per_stage.size()) {}

  void abort() {
    aborted = true;
    mailbox.abort();
    collective.abort();
  }

  void fail(std::exception_ptr error) {
    {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!first_error) first_error = error;
    }
    abort();
  }
};

// One device's worker: walk its program in order.
void run_worker(StepState& st, int device) {
  WorkerState& me = st.workers[device];
  std::vector<TraceEvent>& events = st.events[device];
  try {
    for (const Action& a : st.schedule.per_stage[device]) {
      if (st.aborted) break;
      switch (a.kind) {
        case ActionKind::Forward:
        case ActionKind::Backward:
        case ActionKind::Recompute:
        case ActionKind::BackwardInput:
        case ActionKind::BackwardWeight:
        case ActionKind::OptimizerStep: {
          me.set("running " + to_string(a));
          const Span span = st.backend.compute(a);
          events.push_back(detail::make_event(device, Lane::Compute, a, span, 0));
          break;
        }
        case ActionKind::SendActivation:
        case ActionKind::SendGrad: {
          me.set("sending " + to_string(a));
          Transfer t = st.backend.send(a);
          events.push_back(detail::make_event(device, Lane::Send, a, t.span, t.bytes));
          st.mailbox.post(matching_recv(a, st.schedule.chunk_map()), std::move(t));
          break;
        }
        case ActionKind::RecvActivation:
        case ActionKind::RecvGrad: {
          const Action from = matching_send(a, st.schedule.chunk_map());
          me.set("waiting at " + to_string(a) + " for " + to_string(from) + " from device " +
                 std::to_string(from.stage));
          Transfer t;
          if (!st.mailbox.take(a, t)) break;  // aborted
          const Span span = st.backend.receive(a, t);
          events.push_back(detail::make_event(device, Lane::Recv, a, span, t.bytes));
          break;
        }
        case ActionKind::AllReduceGrads: {
          // A collective: drawn on the send lane, the comm lane of its bytes (docs/metrics.md).
          me.set("in " + to_string(a) + " with every device (waiting for the others to reach it)");
          const Transfer t = st.backend.all_reduce(a, st.collective);
          if (st.aborted) break;
          events.push_back(detail::make_event(device, Lane::Send, a, t.span, t.bytes));
          break;
        }
      }
      ++st.actions_done;
    }
  } catch (...) {
    st.fail(std::current_exception());
  }
  {
    std::lock_guard<std::mutex> lock(me.mutex);
    me.finished = true;
    me.doing = "finished";
  }
  {
    std::lock_guard<std::mutex> lock(st.done_mutex);
    --st.workers_left;
  }
  st.done.notify_all();
}

// The watchdog's message: every unfinished device and what it is doing.
std::string describe_hang(StepState& st, double seconds) {
  std::ostringstream out;
  out << "watchdog: no action finished for " << seconds << " s;";
  const auto now = Clock::now();
  for (std::size_t d = 0; d < st.workers.size(); ++d) {
    WorkerState& w = st.workers[d];
    std::lock_guard<std::mutex> lock(w.mutex);
    if (w.finished) continue;
    const double for_s = std::chrono::duration<double>(now - w.since).count();
    out << " device " << d << " " << w.doing << " (for " << static_cast<int>(for_s) << " s);";
  }
  std::string text = out.str();
  text.pop_back();  // trailing ';'
  return text;
}

}  // namespace

Trace execute_unchecked(const Schedule& schedule, Backend& backend, const ExecutorOptions& options) {
  const int devices = static_cast<int>(schedule.per_stage.size());
  if (devices < 1) PIPELAB_THROW("schedule has no stages", "generate a schedule with K >= 1");
  StepState st(schedule, backend);
  st.workers_left = devices;
  backend.begin_step();

  std::vector<std::thread> threads;
  threads.reserve(devices);
  for (int d = 0; d < devices; ++d) threads.emplace_back(run_worker, std::ref(st), d);

  // Watchdog: wake up regularly; if no action finished for watchdog_seconds, abort.
  const auto limit = std::chrono::duration<double>(options.watchdog_seconds);
  std::uint64_t last_done = 0;
  auto last_progress = Clock::now();
  std::string hang;
  {
    std::unique_lock<std::mutex> lock(st.done_mutex);
    while (st.workers_left > 0) {
      st.done.wait_for(lock, std::chrono::milliseconds(50));
      const std::uint64_t now_done = st.actions_done.load();
      if (now_done != last_done) {
        last_done = now_done;
        last_progress = Clock::now();
      } else if (st.workers_left > 0 && !st.aborted && Clock::now() - last_progress > limit) {
        lock.unlock();
        hang = describe_hang(st, options.watchdog_seconds);
        st.abort();
        lock.lock();
      }
    }
  }
  // A worker stuck inside a compute call cannot be interrupted; joining waits for it.
  for (auto& t : threads) t.join();

  if (st.first_error) std::rethrow_exception(st.first_error);
  if (!hang.empty())
    PIPELAB_THROW(hang, "the schedule waits for a message that never comes (validate() it), or a "
                        "kernel ran longer than --watchdog-s");

  return detail::assemble_trace(schedule, backend, st.events);
}

Trace execute(const Schedule& schedule, Backend& backend, const ExecutorOptions& options) {
  validate(schedule);
  return execute_unchecked(schedule, backend, options);
}

}  // namespace pipelab
