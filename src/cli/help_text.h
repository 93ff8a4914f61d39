// The texts of `headroom --help` and `headroom run|list|status|report|gpus --help`,
// made from the option table so that every option is documented with its default
// and environment variable.
#pragma once

#include <string>
#include <string_view>

namespace headroom {

// `version` as in "0.1.0".
std::string TopLevelHelp(std::string_view version);

// `subcommand` is "run", "list", "status", "report" or "gpus"; each lists
// only its own options.
std::string SubcommandHelp(std::string_view subcommand);

}  // namespace headroom
