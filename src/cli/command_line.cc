#include "cli/command_line.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <vector>

namespace headroom {
namespace {

constexpr std::string_view kInputsMarker = ":::";
constexpr std::string_view kFilesMarker = "::::";

// Edit distance for suggestions: insertions, deletions, substitutions and
// swaps of two neighbours ("--jbos") count one each.
size_t Distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// " (did you mean '--jobs'?)" for the subcommand's closest option name, when
// it is close: at most a third of the name's letters differ (GNU's rule of
// thumb for typos), or the name is a prefix of it.
std::string DidYouMean(std::string_view name, unsigned command_bit) {
  const OptionSpec* best = nullptr;
  size_t best_distance = 0;
  for (const OptionSpec& spec : OptionSpecs()) {
    if ((spec.commands & command_bit) == 0) continue;
    size_t distance = Distance(name, spec.name);
    if (spec.name.substr(0, name.size()) == name && name.size() >= 3) distance = 1;
    if (best == nullptr || distance < best_distance) {
      best = &spec;
      best_distance = distance;
    }
  }
  if (best == nullptr || best_distance > std::max<size_t>(1, name.size() / 3)) return "";
  return fmt::format(" (did you mean '--{}'?)", best->name);
}

Status MissingValue(const OptionSpec& spec) {
  return Status::Error(fmt::format("--{}: missing {}", spec.name, spec.value_name));
}

// Handles "--name" or "--name=value" at args[*i]; advances *i past a value
// taken from the next word.
Status ReadLongOption(const std::vector<std::string>& args, unsigned command_bit, size_t* i,
                      CommandLine* out) {
  std::string_view word = args[*i];
  std::string_view body = word.substr(2);
  size_t equals = body.find('=');
  const OptionSpec* spec = FindLongOption(body.substr(0, equals), command_bit);
  if (spec == nullptr) {
    std::string_view name = equals == std::string_view::npos ? word : word.substr(0, equals + 2);
    return Status::Error(fmt::format("unknown option '{}'{}", name,
                                     DidYouMean(body.substr(0, equals), command_bit)));
  }
  std::vector<std::string>& values = out->values[spec];
  if (equals != std::string_view::npos) {
    values.emplace_back(body.substr(equals + 1));
  } else if (spec->kind == ValueKind::kFlag) {
    values.emplace_back("true");
  } else if (*i + 1 < args.size() && args[*i + 1] != "--") {
    values.push_back(args[++*i]);
  } else {
    return MissingValue(*spec);
  }
  return Status::Ok();
}

// Handles a cluster of short options at args[*i]: "-q", "-qv", "-j4", "-qj 4".
Status ReadShortOptions(const std::vector<std::string>& args, size_t* i, CommandLine* out) {
  std::string_view word = args[*i];
  for (size_t k = 1; k < word.size(); ++k) {
    const OptionSpec* spec = FindShortOption(word[k]);
    if (spec == nullptr) return Status::Error(fmt::format("unknown option '-{}'", word[k]));
    std::vector<std::string>& values = out->values[spec];
    if (spec->kind == ValueKind::kFlag) {
      values.emplace_back("true");
      continue;
    }
    std::string_view attached = word.substr(k + 1);
    if (!attached.empty() && attached.front() == '=') attached.remove_prefix(1);
    if (k + 1 < word.size()) {
      values.emplace_back(attached);
    } else if (*i + 1 < args.size() && args[*i + 1] != "--") {
      values.push_back(args[++*i]);
    } else {
      return MissingValue(*spec);
    }
    break;
  }
  return Status::Ok();
}

bool IsMarker(std::string_view word) { return word == kInputsMarker || word == kFilesMarker; }

Status SplitInputs(std::vector<std::string> words, CommandLine* out) {
  for (const std::string& word : words) {
    if (word == ":::+" || word == "::::+") {
      return Status::Error(fmt::format(
          "'{}' (GNU parallel's linked inputs) is not supported: give one list of inputs, or a "
          "--jobs-file with a 'cmd' per job",
          word));
    }
  }
  auto marker = std::find_if(words.begin(), words.end(), IsMarker);
  if (marker == words.end()) {
    out->command = std::move(words);
    return Status::Ok();
  }
  std::vector<std::string> rest(marker + 1, words.end());
  auto again = std::find_if(rest.begin(), rest.end(), IsMarker);
  if (again != rest.end()) {
    return Status::Error(fmt::format(
        "'{}' after '{}': several input groups (GNU parallel runs all their combinations) are "
        "not supported: list the combinations as inputs, or write a --jobs-file",
        *again, *marker));
  }
  if (*marker == kInputsMarker) {
    out->has_arg_inputs = true;
    out->arg_inputs = std::move(rest);
  } else {
    if (rest.empty()) return Status::Error(":::: needs a file of inputs (:::: FILE, or -a FILE)");
    out->arg_files = std::move(rest);
  }
  words.erase(marker, words.end());
  out->command = std::move(words);
  return Status::Ok();
}

}  // namespace

Status SplitCommandLine(const std::vector<std::string>& args, unsigned command_bit,
                        CommandLine* out) {
  *out = CommandLine();
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") {
      ++i;
      break;
    }
    if (word.size() < 2 || word[0] != '-') break;  // COMMAND starts here
    Status status = word[1] == '-' ? ReadLongOption(args, command_bit, &i, out)
                                   : ReadShortOptions(args, &i, out);
    if (!status.ok()) return status;
  }
  return SplitInputs(
      std::vector<std::string>(args.begin() + static_cast<std::ptrdiff_t>(i), args.end()), out);
}

}  // namespace headroom
