// Placeholder expansion, as GNU parallel users know it:
//   {}    input            {/}   basename          {.}  input without extension
//   {/.}  basename without extension               {//} dirname ("." if none)
//   {#}   job number       {%}   slot number       {out} output path
//   {gpu} the GPU(s) the job was placed on (empty until placement exists)
// and, for a unit of several inputs given to one process (--batch-size,
// docs/batches.md):
//   {@}   a file listing the unit's inputs, one per line
//   {@out} a file listing their {out} paths, in the same order
//   {results} the file the program writes per-input results to (--batch-results)
// Placeholders are replaced anywhere inside an argument ("--out={.}.mp4").
// Unknown brace words ("{foo}", "{") are left as they are.
//
// A unit expands as GNU parallel -X ("context replace") does: an argument
// that holds a per-input placeholder ({} {/} {.} {/.} {//} {out}) is repeated
// once per input, in order, each copy expanded for its input
// ("--in={}" -> "--in=a" "--in=b"); every other placeholder expands once. With
// --shell the repeated context is the whitespace-delimited word of the
// script that holds the placeholder, and copies are joined by spaces. A unit
// of one input expands exactly as ExpandCommand does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace headroom {

struct PlaceholderValues {
  std::string_view input;
  int64_t number = 0;
  int slot = 0;
  std::string_view out;
  std::string_view gpu;
  // A unit's files: {@}, {@out}, {results}; empty when there is none.
  std::string_view inputs_file;
  std::string_view outputs_file;
  std::string_view results_file;
};

// What a unit of several inputs (one process) expands with. Views: the
// strings they point to must outlive the call.
struct UnitValues {
  std::vector<std::string_view> inputs;  // {} of each input, in the unit's order
  std::vector<std::string_view> outs;    // {out} of each input; a missing entry is ""
  int64_t number = 0;                    // {#}: the lead (first) job's number
  int slot = 0;                          // {%}
  std::string_view gpu;                  // {gpu}
  std::string_view inputs_file;          // {@}
  std::string_view outputs_file;         // {@out}
  std::string_view results_file;         // {results}; "" when there is none
};

// True when `arg` contains at least one known placeholder.
bool HasPlaceholder(std::string_view arg);

// GNU parallel's placeholders that headroom does not do - a numbered input
// column ({1}, {2.}, {1/}) or a Perl expression ({= ... =}) - would be left
// as text while the input is appended: a different command. The first one
// in `argv`, with what to write instead; "" when there is none.
std::string UnsupportedParallelPlaceholder(const std::vector<std::string>& argv);

// True when any argument of `argv` contains a known placeholder.
bool HasAnyPlaceholder(const std::vector<std::string>& argv);

// True when any argument uses {out} or {@out} (both need --output-dir).
bool UsesOutput(const std::vector<std::string>& argv);

// True when any argument uses the placeholder `name`, spelled with its
// braces ("{results}", "{@}", "{#}"); false for a name that is no placeholder.
bool UsesPlaceholder(const std::vector<std::string>& argv, std::string_view name);

// With --shell, each substituted value is single-quoted; inside double
// quotes that quoting is text, and $(...) or backticks in the value would
// run. The first placeholder of the shell script `argv` joined by spaces
// that stands inside double quotes, or "" when none does.
std::string PlaceholderInDoubleQuotes(const std::vector<std::string>& argv);

// Replaces the placeholders of one argument. With `quote`, each substituted
// value is shell-quoted (ShellQuote), for --shell.
std::string ExpandArg(std::string_view arg, const PlaceholderValues& values, bool quote);

// The argv to exec for one job:
// - without `shell`: each argument expanded; when no argument has a
//   placeholder, the input is appended as one more argument (as parallel does).
// - with `shell`: {"/bin/sh", "-c", S} where S is the template's arguments
//   joined by spaces with each substituted value single-quoted (and the quoted
//   input appended when there is no placeholder).
std::vector<std::string> ExpandCommand(const std::vector<std::string>& argv_template,
                                       const PlaceholderValues& values, bool shell);

// The argv to exec for a unit (see the top of this file):
// - without `shell`: an argument with a per-input placeholder becomes one
//   argument per input; any other argument is expanded once; when no
//   argument has any placeholder, every input is appended, one argument each.
// - with `shell`: {"/bin/sh", "-c", S}; in each argument, a word (a run
//   without space, tab or newline) with a per-input placeholder becomes its
//   copies joined by single spaces; substituted values are single-quoted;
//   without placeholders the quoted inputs are appended, space-separated.
// For one input this is ExpandCommand's result.
std::vector<std::string> ExpandUnitCommand(const std::vector<std::string>& argv_template,
                                           const UnitValues& values, bool shell);

// Path helpers with GNU parallel's meaning (byte-exact, no normalisation):
// Basename("a/b.tar.gz") == "b.tar.gz", Dirname("a/b") == "a", Dirname("b") == ".",
// StripExtension("a/b.tar.gz") == "a/b.tar", StripExtension("a.d/b") == "a.d/b".
// A file name's leading dot is not an extension: StripExtension(".bashrc")
// == ".bashrc".
std::string Basename(std::string_view path);
std::string Dirname(std::string_view path);
std::string StripExtension(std::string_view path);
// The extension including its dot, "" when none: Extension("x/y.mp4") == ".mp4".
std::string Extension(std::string_view path);

}  // namespace headroom
