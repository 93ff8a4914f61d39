// Sources turn what the user gave into RawInputs, in this order of
// preference: arguments after ":::", --input-dir, --jobs-file, stdin lines
// (only when stdin is not a terminal). The first one present is used; giving
// more than one of :::, --input-dir and --jobs-file is an error.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "jobs/job.h"
#include "util/status.h"

namespace headroom {

// Where a batch's inputs come from, as the user gave them.
struct InputSpec {
  bool has_arg_inputs = false;          // ":::" appeared
  std::vector<std::string> arg_inputs;  // the arguments after it
  std::string input_dir;                // --input-dir
  std::vector<std::string> exts;        // --ext, lower case, no dots; empty = all
  bool recursive = false;               // --recursive
  std::string jobs_file;                // --jobs-file
  std::vector<std::string> arg_files;   // -a FILE / :::: FILE; "-" = stdin; at most one
  bool null_separated = false;          // -0: stdin and input files are NUL-separated
};

// Files of `dir` (recursively with `recursive`) whose extension is one of
// `exts` (lower case, no dot; compared case-insensitively; empty = any).
// Hidden files (leading '.') are skipped. Sorted by path so runs are
// repeatable. Error if `dir` is missing or not a directory.
Status ScanDirectory(const std::string& dir, const std::vector<std::string>& exts,
                     bool recursive, std::vector<RawInput>* out);

// JSON Lines: one object per line: {"input": "...", "cmd": ["prog", "{}"],
// "name": "...", "priority": 3, "env": {"K": "V"}, "gpu_mem": "6G",
// "ram": 2147483648}; blank lines and lines starting with '#' are skipped.
// gpu_mem and ram are sizes as options take them, or bytes, above 0.
// Errors name the file and line number.
Status ReadJobsFile(const std::string& path, std::vector<RawInput>* out);

// One input per line of `in` ("\n"-separated, a trailing "\r" removed, empty
// lines skipped). A line holding a NUL byte is an error naming it ("stdin
// line 3", or `what` for another file). With `null_separated`, inputs end at
// NUL bytes instead (find -print0) and may hold any other byte, newlines too.
Status ReadLines(std::FILE* in, std::vector<RawInput>* out, bool null_separated = false,
                 const std::string& what = "stdin");

// Picks the source by the order of preference above and loads it. Errors:
// two exclusive sources given ("--input-dir and --jobs-file both given; pick
// one"), or no source at all while stdin is a terminal.
// `stdin_is_tty` says whether stdin may be read. `source_name` is set to a
// short description for logs ("3 arguments", "directory ./videos", ...).
Status LoadInputs(const InputSpec& spec, std::FILE* stdin_file, bool stdin_is_tty,
                  std::vector<RawInput>* out, std::string* source_name);

}  // namespace headroom
