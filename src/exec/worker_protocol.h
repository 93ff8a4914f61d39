// The worker protocol's lines (docs/worker-protocol.md): headroom writes one
// JSON request per line on a worker's stdin and reads one JSON reply per
// request from its stdout. Encoding and decoding only; no I/O.
//
// Request: {"id": 7, "inputs": ["a.mp4"], "outputs": ["out/.a.headroom-1-7.mp4"], "gpu": 0}
// Reply:   {"id": 7, "ok": true}
//          {"id": 7, "ok": false, "error": "why", "oom": true,
//           "results": [{"input": "a.mp4", "ok": false, "oom": true}, ...]}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exec/job_runner.h"

namespace headroom {

struct WorkerRequest {
  int64_t id = 0;
  std::vector<std::string> inputs;   // byte-exact
  std::vector<std::string> outputs;  // one per input; "" = no managed output (null)
  // Launch::gpu: an index ("0") is sent as a number, nullopt or "" (no GPU)
  // as null, anything else as a string.
  std::optional<std::string> gpu;
};

// One line, '\n' included. Strings are JSON strings; a byte that is not part
// of valid UTF-8 is sent as the escape \udcXX (XX its value), as Python's
// surrogateescape does, so that os.fsencode() gives the exact bytes back.
std::string EncodeRequest(const WorkerRequest& request);

// What a worker said about one input ("results").
struct ReplyResult {
  std::optional<std::string> input;  // "input", or
  std::optional<size_t> index;       // "index": 0-based position in the request
  bool ok = false;
  bool oom = false;
  std::string error;
};

struct WorkerReply {
  int64_t id = 0;
  bool ok = false;
  bool oom = false;                  // meaningful when !ok
  std::string error;                 // idem
  std::vector<ReplyResult> results;  // entries without "ok" and an input are dropped
};

// True when `line` is a reply: a JSON object with an integer "id" and a
// boolean "ok". Anything else (the worker's own output) is false. Escapes
// of unpaired surrogates (a Python worker echoing an undecodable file name)
// are read as U+FFFD.
bool ParseReply(std::string_view line, WorkerReply* reply);

// True when `line` starts like a JSON object ('{' after blanks) but is not
// valid JSON: a reply the worker got wrong (Python's json.dumps writes NaN
// and Infinity, which JSON has not), not output of its own.
bool IsMalformedReply(std::string_view line);

// The reply's per-input results as positions in `inputs`: by "index", or by
// "input" (the first position with that input not taken yet). Entries that
// name no input, or one already taken, are dropped.
std::vector<InputResult> MapResults(const std::vector<ReplyResult>& results,
                                    const std::vector<std::string>& inputs);

}  // namespace headroom
