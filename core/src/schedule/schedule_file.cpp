// schedule_file.cpp — read a schedule from its text form (schedule_file.h).
//
// [SECTION] lines and tokens: comments, blank lines, columns
// [SECTION] one token → one action
// [SECTION] the header line
// [SECTION] the file → a schedule (sends and receives inserted or not), remat
// [SECTION] validate, and name the line of the validator's action
#include "pipelab/schedule/schedule_file.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <unordered_map>

#include "file_tokens.h"
#include "pipelab/error.h"
#include "pipelab/model/config.h"  // kMaxChunks
#include "pipelab/schedule/validate.h"

namespace pipelab {

namespace {

using detail::kFileTokens;

// Far above any K or M a run accepts (the sim's 1024 and 16384): a bigger number is a
// typo, refused before it can size a table.
constexpr long kMaxNumber = 1000000;

const char* const kTokenHint =
    "a token is <stage><kind><micro-batch>[c<chunk>]: F, B, I, W or R (0F3, 1B0, 2R1, 0F3c1), a send or "
    "receive (0SEND_F3, 1RECV_F3, 1SEND_B3, 0RECV_B3), or OPT (docs/schedule-file.md)";

// [SECTION] lines and tokens ---------------------------------------------------------

struct Token {
  std::string text;
  int line = 0;    // 1-based
  int column = 0;  // 1-based, of the token's first character
};

struct Line {
  int number = 0;  // 1-based
  std::vector<Token> tokens;
};

// "FILE:LINE:COLUMN: 'TOKEN' ": where a message about one token points.
std::string at(const std::string& source, const Token& t) {
  return source + ":" + std::to_string(t.line) + ":" + std::to_string(t.column) + ": '" + t.text + "' ";
}

// Every non-blank line with its tokens; '#' starts a comment that runs to the end of the line.
std::vector<Line> split_lines(const std::string& text) {
  std::vector<Line> lines;
  std::istringstream in(text);
  std::string raw;
  for (int number = 1; std::getline(in, raw); ++number) {
    Line line{number, {}};
    const std::size_t end = std::min(raw.find('#'), raw.size());
    std::size_t i = 0;
    while (i < end) {
      if (std::isspace(static_cast<unsigned char>(raw[i]))) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < end && !std::isspace(static_cast<unsigned char>(raw[j]))) ++j;
      line.tokens.push_back({raw.substr(i, j - i), number, static_cast<int>(i) + 1});
      i = j;
    }
    if (!line.tokens.empty()) lines.push_back(std::move(line));
  }
  return lines;
}

// A decimal number starting at text[i] (advances i); -1 when there is no digit there.
long read_number(const std::string& source, const Token& t, std::size_t& i) {
  const std::size_t start = i;
  long value = 0;
  while (i < t.text.size() && std::isdigit(static_cast<unsigned char>(t.text[i]))) {
    value = value * 10 + (t.text[i] - '0');
    if (value > kMaxNumber)
      PIPELAB_THROW(at(source, t) + "has a number above " + std::to_string(kMaxNumber),
                    "stage and micro-batch numbers count from 0 up to K-1 and M-1");
    ++i;
  }
  return i == start ? -1 : value;
}

// [SECTION] one token → one action ---------------------------------------------------

// `t` on the line of stage `stage`.
Action parse_action(const std::string& source, const Token& t, int stage) {
  if (t.text == detail::kOptimizerToken) return {ActionKind::OptimizerStep, stage, -1};
  if (t.text == detail::kAllReduceToken)
    PIPELAB_THROW(at(source, t) + "is data parallelism's gradient all-reduce: a schedule file holds a pipeline",
                  "run the data-parallel baseline with --schedule data-parallel (its programs are fixed: "
                  "F B ALL_REDUCE OPT on every device)");
  std::size_t i = 0;
  const long token_stage = read_number(source, t, i);
  const std::size_t kind_start = i;
  while (i < t.text.size() && (std::isupper(static_cast<unsigned char>(t.text[i])) || t.text[i] == '_')) ++i;
  const std::string kind = t.text.substr(kind_start, i - kind_start);
  const long microbatch = read_number(source, t, i);
  // PyTorch's chunk suffix: model chunk N of the device (a virtual stage), 0 without it.
  long chunk = 0;
  if (i < t.text.size() && t.text[i] == 'c') {
    ++i;
    chunk = read_number(source, t, i);
    if (chunk < 0) PIPELAB_THROW(at(source, t) + "has a 'c' but no chunk number", kTokenHint);
    if (chunk >= kMaxChunks)
      PIPELAB_THROW(at(source, t) + "names chunk " + std::to_string(chunk) + ", above the most a device may hold (" +
                        std::to_string(kMaxChunks) + ")",
                    "chunks count from 0 to v-1, v <= " + std::to_string(kMaxChunks));
  }
  if (kind.empty() || i != t.text.size())
    PIPELAB_THROW(at(source, t) + "is not an action", kTokenHint);
  const detail::FileToken* known = nullptr;
  for (const detail::FileToken& k : kFileTokens)
    if (kind == k.text && k.kind != ActionKind::OptimizerStep && k.kind != ActionKind::AllReduceGrads) known = &k;
  if (!known) PIPELAB_THROW(at(source, t) + "has an unknown kind '" + kind + "'", kTokenHint);
  if (token_stage < 0)
    PIPELAB_THROW(at(source, t) + "has no stage number",
                  "write the stage first: " + std::to_string(stage) + t.text + " on stage " +
                      std::to_string(stage) + "'s line");
  // "0W": the stage's whole-batch W (--w-batch), micro-batch -1.
  const bool whole_batch = microbatch < 0 && known->kind == ActionKind::BackwardWeight;
  if (microbatch < 0 && !whole_batch)
    PIPELAB_THROW(at(source, t) + "has no micro-batch number",
                  "write the micro-batch last: " + t.text + "0 for micro-batch 0");
  if (token_stage != stage)
    PIPELAB_THROW(at(source, t) + "names stage " + std::to_string(token_stage) + " but is on stage " +
                      std::to_string(stage) + "'s line",
                  "stage lines come in order: the first lists stage 0's actions, the next stage 1's, ...; "
                  "move it to stage " + std::to_string(token_stage) + "'s line or fix its number");
  return {known->kind, stage, static_cast<int>(microbatch), static_cast<int>(chunk)};
}

// [SECTION] the header line ----------------------------------------------------------

struct Header {
  bool present = false;
  int line = 0;
  int stages = 0;
  int microbatches = 0;
  int chunks = 0;  // 0: not declared (the largest chunk named + 1)
  ChunkPlacement placement = ChunkPlacement::Interleaved;
  bool remat = false;
  Token remat_token;
};

Header parse_header(const std::string& source, const Line& line) {
  const char* const hint =
      "the header reads: stages K microbatches M [chunks v [placement interleaved|v]] [remat]";
  const std::vector<Token>& t = line.tokens;
  Header h;
  h.present = true;
  h.line = line.number;
  const auto number = [&](std::size_t index, const char* word) {
    if (index >= t.size())
      PIPELAB_THROW(source + ":" + std::to_string(line.number) + ": the header ends before the number of " + word,
                    hint);
    std::size_t i = 0;
    const long value = read_number(source, t[index], i);
    if (value < 1 || i != t[index].text.size())
      PIPELAB_THROW(at(source, t[index]) + "is not a number of " + word + " (a whole number >= 1)", hint);
    return static_cast<int>(value);
  };
  h.stages = number(1, "stages");
  if (t.size() < 3 || t[2].text != "microbatches")
    PIPELAB_THROW(source + ":" + std::to_string(line.number) + ": the header needs 'microbatches' after the stages",
                  hint);
  h.microbatches = number(3, "micro-batches");
  // Then, in this order and each at most once: chunks v, placement P (after chunks), remat.
  std::size_t i = 4;
  if (i < t.size() && t[i].text == "chunks") {
    h.chunks = number(i + 1, "chunks per device");
    if (h.chunks > kMaxChunks)
      PIPELAB_THROW(at(source, t[i + 1]) + "is more chunks per device than " + std::to_string(kMaxChunks), hint);
    i += 2;
    if (i < t.size() && t[i].text == "placement") {
      if (i + 1 >= t.size())
        PIPELAB_THROW(source + ":" + std::to_string(line.number) + ": the header ends before the placement", hint);
      if (t[i + 1].text == "v")
        h.placement = ChunkPlacement::VShape;
      else if (t[i + 1].text != "interleaved")
        PIPELAB_THROW(at(source, t[i + 1]) + "is not a placement: 'interleaved' (chunk c of device d is stage "
                                             "c·K + d) or 'v' (down the devices and back up)",
                      hint);
      i += 2;
    }
  }
  if (i < t.size() && t[i].text == "remat") {
    h.remat = true;
    h.remat_token = t[i];
    ++i;
  }
  if (i < t.size()) PIPELAB_THROW(at(source, t[i]) + "is not part of a header here", hint);
  return h;
}

// [SECTION] the file → a schedule ----------------------------------------------------

// Every B has an R of its micro-batch on its line, or no line has any R: remat
// recomputes every micro-batch (the backends drop a stage's activations after every F).
void check_remat(const std::string& source, const std::vector<std::vector<Action>>& written,
                 const std::vector<std::vector<Token>>& tokens, const Header& header) {
  const Token* first_r = nullptr;
  for (std::size_t s = 0; s < written.size() && !first_r; ++s)
    for (std::size_t i = 0; i < written[s].size() && !first_r; ++i)
      if (written[s][i].kind == ActionKind::Recompute) first_r = &tokens[s][i];
  if (!first_r) {
    if (header.remat)
      PIPELAB_THROW(at(source, header.remat_token) + "says the schedule recomputes, but no line has an R",
                    "write <stage>R<m> before each B (e.g. 0R3 0B3), or drop 'remat' from the header");
    return;
  }
  for (std::size_t s = 0; s < written.size(); ++s)
    for (std::size_t i = 0; i < written[s].size(); ++i) {
      const Action& b = written[s][i];
      if (!is_input_backward(b.kind)) continue;  // B, or I of the split pair
      const Action r{ActionKind::Recompute, b.stage, b.microbatch, b.chunk};
      if (std::find(written[s].begin(), written[s].end(), r) == written[s].end())
        PIPELAB_THROW(at(source, tokens[s][i]) + "has no " + detail::file_token(r) + " on its line, but the file "
                          "recomputes (" + first_r->text + " at line " + std::to_string(first_r->line) + ")",
                      "with remat a stage keeps only its input after F, so every B needs its R before it: "
                      "write " + detail::file_token(r) + " before " + tokens[s][i].text + ", or no R at all");
    }
}

// [SECTION] validate, and name the line of the validator's action --------------------

// validate(), with the message prefixed by where the problem is. The validator names the
// first offending action as to_string(Action) does ("B3 s1", "Opt s0"; validate.cpp): an
// action the file wrote (or inserted around an F or B) points at its token; an action
// it lacks ("missing F0 s1") at its stage's line; a deadlock, which involves several
// stages, at the whole file, with the line of each stage.
void validate_with_source(const Schedule& schedule, const std::string& source, const std::vector<int>& stage_lines,
                          const std::unordered_map<std::uint64_t, Token>& token_of) {
  try {
    validate(schedule);
  } catch (const Error& e) {
    const std::string& why = e.message();
    if (why.rfind("deadlock", 0) == 0) {
      std::string lines;
      for (std::size_t s = 0; s < stage_lines.size(); ++s)
        lines += (s ? ", " : "") + std::string("stage ") + std::to_string(s) + " is line " +
                 std::to_string(stage_lines[s]);
      throw Error(source + ": " + why + " (" + lines + ")", e.hint(), __FILE__, __LINE__);
    }
    static const std::regex label(R"((F|B|R|I|W|SendAct|RecvAct|SendGrad|RecvGrad)(\d+) s(\d+)( c(\d+))?|Opt s(\d+))");
    std::smatch m;
    if (!std::regex_search(why, m, label)) throw Error(source + ": " + why, e.hint(), __FILE__, __LINE__);
    Action a{ActionKind::OptimizerStep, 0, -1};
    if (m[6].matched) {
      a.stage = std::stoi(m[6]);
    } else {
      for (int k = 0; k < kActionKindCount; ++k)
        if (m[1] == short_label(static_cast<ActionKind>(k))) a.kind = static_cast<ActionKind>(k);
      a.microbatch = std::stoi(m[2]);
      a.stage = std::stoi(m[3]);
      if (m[5].matched) a.chunk = static_cast<std::uint8_t>(std::stoi(m[5]));
    }
    const auto found = token_of.find(action_key(a));
    if (found != token_of.end()) {
      const Token& t = found->second;
      // An inserted send or receive is named with the F or B that brought it.
      const bool inserted = detail::is_communication(a.kind) && detail::file_token(a) != t.text;
      std::string where = at(source, t);
      where.pop_back();  // at() ends with a space, for a sentence about the token
      if (inserted) where += " (and the " + detail::file_token(a) + " inserted with it)";
      throw Error(where + ": " + why, e.hint(), __FILE__, __LINE__);
    }
    if (a.stage >= 0 && a.stage < static_cast<int>(stage_lines.size()))
      throw Error(source + ":" + std::to_string(stage_lines[a.stage]) + ": stage " + std::to_string(a.stage) +
                      "'s line: " + why,
                  e.hint(), __FILE__, __LINE__);
    throw Error(source + ": " + why, e.hint(), __FILE__, __LINE__);
  }
}

}  // namespace

Schedule parse_schedule_text(const std::string& text, const std::string& source) {
  const std::vector<Line> lines = split_lines(text);
  Header header;
  std::vector<std::vector<Action>> written;  // per stage, as written
  std::vector<std::vector<Token>> tokens;    // the token of each written action
  std::vector<int> stage_lines;
  bool explicit_communication = false;
  int largest_microbatch = -1;
  int largest_chunk = 0;
  for (const Line& line : lines) {
    if (line.tokens.front().text == detail::kHeaderWord) {
      if (header.present || !written.empty())
        PIPELAB_THROW(source + ":" + std::to_string(line.number) + ": a header after " +
                          (header.present ? "the header (line " + std::to_string(header.line) + ")"
                                          : "the first stage line (line " + std::to_string(stage_lines[0]) + ")"),
                      "write one header, before the stage lines");
      header = parse_header(source, line);
      continue;
    }
    const int stage = static_cast<int>(written.size());
    if (header.present && stage >= header.stages)
      PIPELAB_THROW(source + ":" + std::to_string(line.number) + ": a line for stage " + std::to_string(stage) +
                        ", but the header (line " + std::to_string(header.line) + ") says stages " +
                        std::to_string(header.stages),
                    "one line per stage: remove the extra line, or raise the header's stages");
    written.emplace_back();
    tokens.emplace_back();
    stage_lines.push_back(line.number);
    for (const Token& t : line.tokens) {
      const Action a = parse_action(source, t, stage);
      explicit_communication = explicit_communication || detail::is_communication(a.kind);
      largest_microbatch = std::max(largest_microbatch, a.microbatch);
      largest_chunk = std::max(largest_chunk, static_cast<int>(a.chunk));
      written.back().push_back(a);
      tokens.back().push_back(t);
    }
  }
  if (written.empty())
    PIPELAB_THROW(source + ":" + std::to_string(std::max(1, lines.empty() ? 1 : lines.back().number)) +
                      ": end of file, and no stage line: the file is empty or holds only comments and a header",
                  "write one line per stage, e.g. '0F0 0B0 OPT' for one stage (docs/schedule-file.md)");
  if (header.present && static_cast<int>(written.size()) < header.stages)
    PIPELAB_THROW(source + ":" + std::to_string(header.line) + ": the header says stages " +
                      std::to_string(header.stages) + " but the file has " + std::to_string(written.size()) +
                      " stage line" + (written.size() == 1 ? "" : "s"),
                  "one line per stage: add the missing lines, or lower the header's stages");
  for (std::size_t s = 0; s < written.size(); ++s)
    for (std::size_t i = 0; i < written[s].size(); ++i)
      if (header.present && written[s][i].microbatch >= header.microbatches)
        PIPELAB_THROW(at(source, tokens[s][i]) + "names micro-batch " + std::to_string(written[s][i].microbatch) +
                          ", but the header (line " + std::to_string(header.line) + ") says microbatches " +
                          std::to_string(header.microbatches),
                      "micro-batches count from 0 to M-1");
  // Model chunks: as the header declares them, else the largest named + 1 (interleaved).
  const int chunks = header.chunks > 0 ? header.chunks : largest_chunk + 1;
  for (std::size_t s = 0; s < written.size(); ++s)
    for (std::size_t i = 0; i < written[s].size(); ++i)
      if (written[s][i].chunk >= chunks)
        PIPELAB_THROW(at(source, tokens[s][i]) + "names chunk " + std::to_string(written[s][i].chunk) +
                          ", but the header (line " + std::to_string(header.line) + ") says chunks " +
                          std::to_string(chunks),
                      "chunks count from 0 to v-1: raise the header's chunks, or fix the c<N>");
  if (header.present && header.chunks == 0 && largest_chunk > 0)
    PIPELAB_THROW(source + ":" + std::to_string(header.line) + ": the header declares no chunks, but the file names "
                      "chunk " + std::to_string(largest_chunk),
                  "add 'chunks " + std::to_string(largest_chunk + 1) +
                      " placement interleaved' (or 'placement v') after the micro-batches");
  check_remat(source, written, tokens, header);
  const int microbatches = header.present ? header.microbatches : std::max(1, largest_microbatch + 1);
  // A file without sends and receives would otherwise hear first about the RecvAct of
  // a missing F, which it never wrote: name the F or B itself, on its stage's line.
  if (!explicit_communication)
    for (std::size_t st = 0; st < written.size(); ++st)
      for (int c = 0; c < chunks; ++c)
        for (int m = 0; m < microbatches; ++m)
          for (ActionKind kind : {ActionKind::Forward, ActionKind::Backward}) {
            const Action needed{kind, static_cast<int>(st), m, c};
            // A split backward (I, then W) stands for B; validate() checks the pair.
            const Action split{ActionKind::BackwardInput, static_cast<int>(st), m, c};
            const auto has = [&](const Action& a) {
              return std::find(written[st].begin(), written[st].end(), a) != written[st].end();
            };
            if (!has(needed) && !(kind == ActionKind::Backward && has(split)))
              PIPELAB_THROW(source + ":" + std::to_string(stage_lines[st]) + ": stage " + std::to_string(st) +
                                "'s line has no " + detail::file_token(needed) + ": missing " + to_string(needed),
                            "every stage runs F and B of every micro-batch 0.." + std::to_string(microbatches - 1) +
                                (chunks > 1 ? " on every chunk 0.." + std::to_string(chunks - 1) : ""));
          }

  Schedule s;
  s.kind = ScheduleKind::Custom;
  s.stages = static_cast<int>(written.size());
  s.microbatches = microbatches;
  s.chunks = chunks;
  s.placement = header.placement;
  s.per_stage.resize(written.size());
  // Where every action came from, for the validator's messages: the last token that
  // wrote it (a duplicate is named where it repeats).
  std::unordered_map<std::uint64_t, Token> token_of;
  for (std::size_t st = 0; st < written.size(); ++st) {
    std::vector<std::size_t> origin;
    s.per_stage[st] = explicit_communication ? written[st]
                                             : detail::insert_communication(written[st], static_cast<int>(st),
                                                                            s.chunk_map(), &origin);
    for (std::size_t i = 0; i < s.per_stage[st].size(); ++i) {
      const Token& t = tokens[st][explicit_communication ? i : origin[i]];
      const std::uint64_t key = action_key(s.per_stage[st][i]);
      token_of[key] = t;
      s.remat = s.remat || s.per_stage[st][i].kind == ActionKind::Recompute;
      s.w_batch = s.w_batch || is_batched_weight(s.per_stage[st][i]);
    }
  }
  validate_with_source(s, source, stage_lines, token_of);
  return s;
}

Schedule read_schedule_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    PIPELAB_THROW("cannot read the schedule file '" + path + "': " + std::strerror(errno),
                  "check the path; labs/tools/schedules/ holds examples (docs/schedule-file.md)");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_schedule_text(text.str(), path);
}

}  // namespace pipelab
