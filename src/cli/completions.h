// Completions: `headroom completions bash|zsh|fish`, the shell completion
// script, generated from the one option table (cli/option_spec.h) so that
// it never lists an option the parser does not know: the subcommands; each
// subcommand's options (long and short); the values of options whose value
// is a choice ("auto|always|never"); files for FILE/PATH values,
// directories for DIR values. zsh gets the bash script through
// bashcompinit.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace headroom {

// The script for `shell`; an error naming it and the shells there are.
Status CompletionScript(std::string_view shell, std::string* script);

// headroom(1) in roff (man(7) macros), from the same table: the synopsis,
// the subcommands, every option with its value, default, environment
// variable and subcommands, the files and the exit status. The build
// writes it as <build>/share/headroom.1 (`headroom manpage`, hidden).
std::string ManPage(std::string_view version);

}  // namespace headroom
