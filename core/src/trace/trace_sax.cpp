// trace_sax.cpp — the streaming pass over a trace file (see trace_sax.h): a SAX handler
// that builds "pipelab" and one traceEvents element at a time.
#include "trace_sax.h"

#include <istream>
#include <utility>
#include <vector>

#include "pipelab/error.h"
#include "pipelab/trace/trace_format.h"
#include "trace_fields.h"

namespace pipelab::trace_detail {

namespace {

// Deeper nesting than this is never a pipelab trace; refusing it bounds the reader's
// memory on adversarial input like "[[[[[[...".
constexpr int kMaxNesting = 64;

// Builds one JSON value from SAX calls with an explicit stack (no recursion).
class ValueBuilder {
 public:
  void start(json::value_t container) {
    root_ = json(container);
    stack_.assign(1, &root_);
  }
  void add(json value) { place(std::move(value)); }
  void open(json::value_t container) { stack_.push_back(place(json(container))); }
  void key(std::string key) { key_ = std::move(key); }
  // Returns true when the outermost container closed: the value is complete.
  bool close() {
    stack_.pop_back();
    return stack_.empty();
  }
  json& value() { return root_; }

 private:
  // Pointers on the stack stay valid: only the innermost open container grows.
  json* place(json value) {
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    json& slot = parent[key_];
    slot = std::move(value);
    return &slot;
  }

  json root_;
  std::vector<json*> stack_;
  std::string key_;
};

// nlohmann SAX handler (the walk described in trace_sax.h). Validation errors are
// thrown as pipelab::Error straight out of sax_parse.
class TraceSax {
 public:
  TraceSax(const std::string& source, const TraceStreamHandlers& handlers)
      : source_(source), handlers_(handlers) {}

  // While an element is recorded (Capture::Tokens) no json value is made.
  bool null() {
    if (!recording()) return scalar(json(nullptr));
    record(Kind::Null);
    return true;
  }
  bool boolean(bool v) {
    if (!recording()) return scalar(json(v));
    record(Kind::Boolean).boolean = v;
    return true;
  }
  bool number_integer(json::number_integer_t v) {
    if (!recording()) return scalar(json(v));
    record(Kind::Integer).integer = v;
    return true;
  }
  bool number_unsigned(json::number_unsigned_t v) {
    if (!recording()) return scalar(json(v));
    record(Kind::Unsigned).unsigned_integer = v;
    return true;
  }
  bool number_float(json::number_float_t v, const json::string_t&) {
    if (!recording()) return scalar(json(v));
    record(Kind::Float).number = v;
    return true;
  }
  bool string(json::string_t& v) {
    if (!recording()) return scalar(json(std::move(v)));
    record(Kind::String).text.assign(v);  // a copy: the lexer keeps its buffer, the token its capacity
    return true;
  }
  bool binary(json::binary_t&) { return scalar(json(nullptr)); }  // not produced by JSON text
  bool start_object(std::size_t) { return open(json::value_t::object); }
  bool start_array(std::size_t) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& k) {
    if (recording()) {
      record(Kind::Key).text.assign(k);
    } else if (capture_ == Capture::Value) {
      builder_.key(std::move(k));
    } else if (capture_ == Capture::None && depth_ == 1) {
      if ((k == "traceEvents" && seen_events_) || (k == "pipelab" && seen_pipelab_))
        read_error(source_, "top level", "duplicate key '" + k + "'");
      top_key_ = std::move(k);
    }
    return true;
  }

  bool parse_error(std::size_t byte, const std::string&, const nlohmann::detail::exception& ex) {
    syntax_error_byte = byte;
    syntax_error_text = ex.what();
    return false;
  }

  bool seen_events() const { return seen_events_; }
  bool seen_pipelab() const { return seen_pipelab_; }
  // The first traceEvents error seen before "pipelab": reported only if the file turns
  // out to be a pipelab trace (otherwise "not a pipelab trace" is the better message).
  std::exception_ptr deferred_error;
  std::optional<std::size_t> syntax_error_byte;
  std::string syntax_error_text;

 private:
  enum class Capture { None, Value, Skip, Tokens };
  enum class Target { Pipelab, Event };
  using Kind = EventToken::Kind;

  bool recording() const { return capture_ == Capture::Tokens; }

  // The next token of the element being recorded (entries are reused: strings keep their capacity).
  EventToken& record(Kind kind) {
    if (tokens_used_ == tokens_.size()) tokens_.emplace_back();
    EventToken& t = tokens_[tokens_used_++];
    t.kind = kind;
    return t;
  }

  bool scalar(json value) {
    if (capture_ == Capture::Value) {
      builder_.add(std::move(value));
    } else if (capture_ == Capture::None) {
      if (depth_ == 0) top_level_not_object(value.type_name());
      if (depth_ == 1 && top_key_ == "traceEvents")
        read_error(source_, "traceEvents", "must be an array of events, got " + excerpt(value));
      if (depth_ == 1 && top_key_ == "pipelab")
        read_error(source_, "pipelab", "must be an object, got " + excerpt(value));
      if (depth_ == 2 && in_events_) {
        const std::size_t index = next_event_index();
        event_failed([&] {
          read_error(source_, "traceEvents[" + std::to_string(index) + "]",
                     "must be an object, got " + excerpt(value));
        });
      }
    }
    return true;
  }

  bool open(json::value_t container) {
    if (depth_ >= kMaxNesting)
      read_error(source_, "structure", "JSON nested deeper than " + std::to_string(kMaxNesting) + " levels");
    ++depth_;
    if (recording()) {
      record(container == json::value_t::object ? Kind::BeginObject : Kind::BeginArray);
      return true;
    }
    if (capture_ == Capture::Value) {
      builder_.open(container);
      return true;
    }
    if (capture_ == Capture::Skip) return true;
    const bool is_object = container == json::value_t::object;
    if (depth_ == 1) {
      if (!is_object) top_level_not_object("array");
    } else if (depth_ == 2 && top_key_ == "traceEvents") {
      if (is_object) read_error(source_, "traceEvents", "must be an array of events, got an object");
      seen_events_ = true;
      in_events_ = true;
    } else if (depth_ == 2 && top_key_ == "pipelab") {
      if (!is_object) read_error(source_, "pipelab", "must be an object, got an array");
      begin_capture(Target::Pipelab, container);
    } else if (depth_ == 2) {
      capture_ = Capture::Skip;  // another tool's member ("otherData", ...)
      capture_depth_ = 1;
    } else if (depth_ == 3 && in_events_) {
      const std::size_t index = next_event_index();
      if (is_object) {
        event_index_ = index;
        if (handlers_.on_event_tokens) {
          capture_ = Capture::Tokens;
          tokens_used_ = 0;
          record(Kind::BeginObject);
        } else {
          begin_capture(Target::Event, container);
        }
      } else {
        event_failed([&] {
          read_error(source_, "traceEvents[" + std::to_string(index) + "]",
                     "must be an object, got an array");
        });
        capture_ = Capture::Skip;
        capture_depth_ = 2;
      }
    }
    return true;
  }

  bool close() {
    --depth_;
    if (recording()) {
      record(Kind::End);
      if (depth_ == 2) finish_tokens();  // the element (opened at depth 3) is complete
      return true;
    }
    if (capture_ == Capture::Value) {
      if (builder_.close()) finish_capture();
    } else if (capture_ == Capture::Skip) {
      if (depth_ == capture_depth_) capture_ = Capture::None;
    } else if (depth_ == 1 && in_events_) {
      in_events_ = false;
    }
    return true;
  }

  void begin_capture(Target target, json::value_t container) {
    capture_ = Capture::Value;
    target_ = target;
    builder_.start(container);
  }

  void finish_capture() {
    capture_ = Capture::None;
    if (target_ == Target::Pipelab) {
      seen_pipelab_ = true;
      handlers_.on_pipelab(builder_.value());
    } else {
      const json event = std::move(builder_.value());
      event_failed([&] { handlers_.on_event(event_index_, event); });
    }
  }

  // A recorded element: the fast path first, else built as json from its tokens (the
  // same value the direct build makes: the same calls, in the same order).
  void finish_tokens() {
    capture_ = Capture::None;
    event_failed([&] {
      if (handlers_.on_event_tokens(event_index_, tokens_.data(), tokens_used_)) return;
      builder_.start(json::value_t::object);
      for (std::size_t i = 1; i < tokens_used_; ++i) {
        const EventToken& t = tokens_[i];
        switch (t.kind) {
          case Kind::Null:
            builder_.add(json(nullptr));
            break;
          case Kind::Boolean:
            builder_.add(json(t.boolean));
            break;
          case Kind::Integer:
            builder_.add(json(t.integer));
            break;
          case Kind::Unsigned:
            builder_.add(json(t.unsigned_integer));
            break;
          case Kind::Float:
            builder_.add(json(t.number));
            break;
          case Kind::String:
            builder_.add(json(t.text));
            break;
          case Kind::Key:
            builder_.key(t.text);
            break;
          case Kind::BeginObject:
            builder_.open(json::value_t::object);
            break;
          case Kind::BeginArray:
            builder_.open(json::value_t::array);
            break;
          case Kind::End:
            builder_.close();
            break;
        }
      }
      const json event = std::move(builder_.value());
      handlers_.on_event(event_index_, event);
    });
  }

  std::size_t next_event_index() {
    if (events_seen_ >= kMaxTraceEvents)
      read_error(source_, "traceEvents", "more than " + std::to_string(kMaxTraceEvents) + " events",
                 "pipelab refuses traces this large; trace fewer micro-batches or steps per file");
    return events_seen_++;
  }

  // Runs `check` on an event. Before "pipelab" is known, the first failure is kept and
  // reading continues (the file may be another tool's trace); after it, it is thrown.
  template <typename Check>
  void event_failed(Check check) {
    if (deferred_error) return;  // the trace is already known bad; keep the first error
    if (seen_pipelab_) {
      check();
      return;
    }
    try {
      check();
    } catch (const Error&) {
      deferred_error = std::current_exception();
    }
  }

  [[noreturn]] void top_level_not_object(const std::string& type) {
    if (type == "array")
      read_error(source_, "top level",
                 "a JSON array (Chrome's 'JSON Array Format'), not a pipelab trace; traces from other "
                 "tools are not supported",
                 "open a trace written by pipelab: an object with 'traceEvents' and 'pipelab' metadata");
    read_error(source_, "top level", "a JSON " + type + ", not an object; this is not a pipelab trace",
               "open a trace written by pipelab: an object with 'traceEvents' and 'pipelab' metadata");
  }

  const std::string& source_;
  const TraceStreamHandlers& handlers_;
  int depth_ = 0;  // containers open right now
  Capture capture_ = Capture::None;
  Target target_ = Target::Pipelab;
  int capture_depth_ = 0;  // depth_ after the skipped container closes
  bool in_events_ = false;
  bool seen_events_ = false;
  bool seen_pipelab_ = false;
  std::string top_key_;
  std::size_t events_seen_ = 0;
  std::size_t event_index_ = 0;
  ValueBuilder builder_;
  std::vector<EventToken> tokens_;  // the element being recorded: tokens_[0, tokens_used_)
  std::size_t tokens_used_ = 0;
};


}  // namespace

TraceStreamResult stream_trace(std::istream& in, const std::string& source, const TraceStreamHandlers& handlers) {
  TraceSax sax(source, handlers);
  TraceStreamResult result;
  result.parsed = json::sax_parse(in, &sax) && !sax.syntax_error_byte;
  result.seen_pipelab = sax.seen_pipelab();
  result.seen_events = sax.seen_events();
  result.deferred_error = sax.deferred_error;
  result.syntax_error_byte = sax.syntax_error_byte;
  result.syntax_error_text = std::move(sax.syntax_error_text);
  return result;
}

}  // namespace pipelab::trace_detail
