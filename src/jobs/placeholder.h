// Placeholder expansion, as GNU parallel users know it:
//   {}    input            {/}   basename          {.}  input without extension
//   {/.}  basename without extension               {//} dirname ("." if none)
//   {#}   job number       {%}   slot number       {out} output path
//   {gpu} the GPU(s) the job was placed on (empty until placement exists)
// Placeholders are replaced anywhere inside an argument ("--out={.}.mp4").
// Unknown brace words ("{foo}", "{") are left as they are.
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
};

// True when `arg` contains at least one known placeholder.
bool HasPlaceholder(std::string_view arg);

// True when any argument of `argv` contains a known placeholder.
bool HasAnyPlaceholder(const std::vector<std::string>& argv);

// True when any argument uses {out}.
bool UsesOutput(const std::vector<std::string>& argv);

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
