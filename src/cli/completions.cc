#include "cli/completions.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

#include "cli/option_spec.h"

namespace headroom {
namespace {

// Each subcommand and the bit of OptionSpec::commands that is its.
constexpr std::pair<std::string_view, unsigned> kSubcommands[] = {
    {"run", kForRun},       {"list", kForRun},     {"status", kForStatus},
    {"report", kForReport}, {"gpus", kForGpus},    {"footprints", kForFootprints},
    {"ctl", kForCtl},       {"log", kForLog},      {"resume", kForResume}};

// The words of a choice value ("auto|always|never" -> "auto always never");
// "" when the value is not a choice (it names a thing: N, DIR, CMD, ...).
std::string Choices(std::string_view value_name) {
  if (value_name.find('|') == std::string_view::npos) return "";
  for (char c : value_name) {
    if (c >= 'A' && c <= 'Z') return "";  // "N|auto": a number or a word
  }
  std::string words(value_name);
  for (char& c : words) {
    if (c == '|') c = ' ';
  }
  return words;
}

bool NamesADirectory(std::string_view value_name) { return value_name == "DIR"; }
bool NamesAFile(std::string_view value_name) {
  return value_name == "FILE" || value_name == "PATH" || value_name == "SPEC";
}

// The options subcommand `bit` takes, as the command line writes them.
std::string OptionWords(unsigned bit) {
  std::string words;
  for (const OptionSpec& spec : OptionSpecs()) {
    if ((spec.commands & bit) == 0) continue;
    words += fmt::format("{}--{}", words.empty() ? "" : " ", spec.name);
    if (spec.short_name != 0) words += fmt::format(" -{}", spec.short_name);
  }
  return words + " --help";
}

// The subcommands whose bit is in `commands`, joined by `separator`.
std::string Subcommands(unsigned commands, std::string_view separator) {
  std::string words;
  for (const auto& [name, bit] : kSubcommands) {
    if ((commands & bit) == 0) continue;
    if (!words.empty()) words += separator;
    words += name;
  }
  return words;
}

std::string SubcommandWords() { return Subcommands(~0u, " ") + " help"; }

std::string Bash() {
  std::string value_cases;
  for (const OptionSpec& spec : OptionSpecs()) {
    if (spec.kind == ValueKind::kFlag) continue;
    std::string names = fmt::format("--{}", spec.name);
    if (spec.short_name != 0) names += fmt::format("|-{}", spec.short_name);
    std::string choices = Choices(spec.value_name);
    std::string action;
    if (!choices.empty()) {
      action = fmt::format("COMPREPLY=($(compgen -W '{}' -- \"$cur\"))", choices);
    } else if (NamesADirectory(spec.value_name)) {
      action = "COMPREPLY=($(compgen -d -- \"$cur\"))";
    } else if (NamesAFile(spec.value_name)) {
      action = "COMPREPLY=($(compgen -f -- \"$cur\"))";
    } else {
      action = "COMPREPLY=()";  // a number, a size, a command: nothing to offer
    }
    value_cases += fmt::format("    {}) {}; return 0 ;;\n", names, action);
  }
  std::string option_cases;
  for (const auto& [name, bit] : kSubcommands) {
    option_cases += fmt::format("      {}) words='{}' ;;\n", name, OptionWords(bit));
  }
  return fmt::format(R"(# bash completion for headroom (headroom completions bash)
_headroom() {{
  local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}" sub="" words i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${{COMP_WORDS[i]}}" in
      --)  # COMMAND: a program first, then its arguments (files)
        if ((i == COMP_CWORD - 1)); then COMPREPLY=($(compgen -c -- "$cur"))
        else COMPREPLY=($(compgen -f -- "$cur")); fi
        return 0 ;;
      -*) ;;
      *) [[ -n "$sub" ]] || sub="${{COMP_WORDS[i]}}" ;;
    esac
  done
  if [[ -z "$sub" ]]; then
    COMPREPLY=($(compgen -W '{} --help --version' -- "$cur"))
    return 0
  fi
  if [[ "$sub" == help ]]; then
    COMPREPLY=($(compgen -W '{}' -- "$cur"))
    return 0
  fi
  case "$prev" in
{}  esac
  if [[ "$cur" == -* ]]; then
    case "$sub" in
{}      *) words='' ;;
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    return 0
  fi
  COMPREPLY=($(compgen -f -- "$cur"))
}}
complete -o filenames -F _headroom headroom
)",
                     SubcommandWords(), SubcommandWords(), value_cases, option_cases);
}

// `text` inside fish's single quotes.
std::string FishQuoted(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string Fish() {
  std::string out = "# fish completion for headroom (headroom completions fish)\n"
                    "complete -c headroom -f\n";
  for (const auto& [name, bit] : kSubcommands) {
    out += fmt::format("complete -c headroom -n __fish_use_subcommand -a {}\n", name);
  }
  for (const OptionSpec& spec : OptionSpecs()) {
    std::string subs = Subcommands(spec.commands, " ");
    if (subs.empty()) continue;
    std::string line = fmt::format("complete -c headroom -n '__fish_seen_subcommand_from {}' -l {}",
                                   subs, spec.name);
    if (spec.short_name != 0) line += fmt::format(" -s {}", spec.short_name);
    if (spec.kind != ValueKind::kFlag) {
      std::string choices = Choices(spec.value_name);
      if (!choices.empty()) {
        line += " -x -a " + FishQuoted(choices);
      } else if (NamesADirectory(spec.value_name)) {
        line += " -x -a '(__fish_complete_directories)'";
      } else if (NamesAFile(spec.value_name)) {
        line += " -r -F";
      } else {
        line += " -x";
      }
    }
    out += line + " -d " + FishQuoted(spec.help.substr(0, spec.help.find(';'))) + "\n";
  }
  return out;
}

// `text` for roff: backslashes doubled, a leading dot or quote escaped,
// dashes as \-.
std::string Roff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

}  // namespace

std::string ManPage(std::string_view version) {
  std::string out = fmt::format(
      ".TH HEADROOM 1 \"\" \"headroom {}\" \"User Commands\"\n"
      ".SH NAME\n"
      "headroom \\- run a batch of heavy jobs as fast as the machine allows\n"
      ".SH SYNOPSIS\n"
      ".nf\n"
      "\\fBheadroom run\\fR|\\fBlist\\fR [\\fIOPTIONS\\fR] \\-\\- \\fICOMMAND\\fR [\\fIARG\\fR...] [::: \\fIINPUT\\fR...]\n"
      "\\fBheadroom status\\fR|\\fBreport\\fR|\\fBgpus\\fR|\\fBfootprints\\fR [\\fIOPTIONS\\fR]\n"
      "\\fBheadroom ctl\\fR [\\-\\-batch \\fIID\\fR] drain|pause|continue|jobs \\fIN\\fR\n"
      "\\fBheadroom log\\fR [\\-\\-batch \\fIID\\fR] \\fIJOB\\fR|#\\fIN\\fR [\\-\\-stderr] [\\-f]\n"
      "\\fBheadroom resume\\fR [\\fIID\\fR] [\\-\\-failed]\n"
      "\\fBheadroom completions\\fR bash|zsh|fish\n"
      ".fi\n"
      ".SH DESCRIPTION\n"
      "headroom runs COMMAND once per input, in parallel, as many at once as the "
      "machine's GPU memory, RAM, disk and temperature allow: it learns how much memory each "
      "kind of job needs, retries jobs that ran out of memory with more room, journals every "
      "attempt so that a killed batch resumes where it stopped, and shows what it does "
      "(progress, logs, status, reports, metrics). With \\fB\\-\\-executor slurm\\fR the "
      "same batch runs on a Slurm cluster.\n"
      ".SH OPTIONS\n"
      "Each option \\fB\\-\\-foo\\-bar\\fR can also be set as \\fBHEADROOM_FOO_BAR\\fR in "
      "the environment or as \\fBfoo_bar\\fR in the \\fB\\-\\-config\\fR file; the "
      "command line wins over both.\n",
      version);
  for (const OptionSpec& spec : OptionSpecs()) {
    std::string subs = Subcommands(spec.commands, ", ");
    out += ".TP\n";
    if (spec.short_name != 0) out += fmt::format("\\fB\\-{}\\fR, ", spec.short_name);
    out += fmt::format("\\fB\\-\\-{}\\fR", Roff(spec.name));
    if (!spec.value_name.empty()) out += fmt::format(" \\fI{}\\fR", Roff(spec.value_name));
    out += "\n" + Roff(spec.help) + ".";
    if (!spec.default_text.empty() && spec.kind != ValueKind::kFlag) {
      out += fmt::format(" Default: {}.", Roff(spec.default_text));
    }
    if (spec.scope != OptionScope::kCommandLineOnly) {
      out += fmt::format(" Environment: \\fB{}\\fR.", Roff(EnvName(spec)));
    }
    if (!subs.empty()) out += fmt::format(" For: {}.", subs);
    out += "\n";
  }
  out +=
      ".SH EXIT STATUS\n"
      "0 when every job succeeded (or was skipped); 1 when a job failed; 2 for bad input (an "
      "option, a journal headroom cannot use), before anything runs; 130 or 143 when "
      "interrupted by SIGINT or SIGTERM; 129 when drained by SIGHUP with jobs left.\n"
      ".SH FILES\n"
      ".TP\n"
      "\\fI.headroom/journal.db\\fR\n"
      "the journal of every batch (\\fB\\-\\-state\\-dir\\fR), what \\fBstatus\\fR, "
      "\\fBreport\\fR and \\fB\\-\\-resume\\fR read.\n"
      ".TP\n"
      "\\fI.headroom/logs/\\fR\n"
      "each job's stdout and stderr, and the batch's own log (\\fB\\-\\-log\\-dir\\fR).\n"
      ".SH SEE ALSO\n"
      "\\fBparallel\\fR(1), \\fBxargs\\fR(1), \\fBsbatch\\fR(1); docs/cli.md in the "
      "source tree.\n";
  return out;
}

Status CompletionScript(std::string_view shell, std::string* script) {
  if (shell == "bash") {
    *script = Bash();
  } else if (shell == "zsh") {
    // zsh runs bash's script through its bash compatibility layer.
    *script = "#compdef headroom\n# zsh completion for headroom (headroom completions zsh)\n"
              "autoload -U +X bashcompinit && bashcompinit\n" +
              Bash();
  } else if (shell == "fish") {
    *script = Fish();
  } else {
    return Status::Error(
        fmt::format("completions: '{}' is not a shell headroom completes for (expected bash, zsh or fish)",
                    shell));
  }
  return Status::Ok();
}

}  // namespace headroom
