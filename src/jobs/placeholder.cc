#include "jobs/placeholder.h"

#include <array>
#include <charconv>
#include <span>

#include "util/shell_quote.h"

namespace headroom {
namespace {

enum class Kind {
  kInput,
  kBase,
  kNoExt,
  kBaseNoExt,
  kDir,
  kNumber,
  kSlot,
  kOut,
  kGpu,
  kInputsFile,
  kOutputsFile,
  kResultsFile,
};

struct Placeholder {
  std::string_view text;
  Kind kind;
};

// Longer words that share a prefix with shorter ones ("{/.}" and "{/}") do not
// clash: each word ends with '}', so only one can match at a given position.
constexpr std::array<Placeholder, 12> kPlaceholders = {{
    {"{}", Kind::kInput},
    {"{/}", Kind::kBase},
    {"{.}", Kind::kNoExt},
    {"{/.}", Kind::kBaseNoExt},
    {"{//}", Kind::kDir},
    {"{#}", Kind::kNumber},
    {"{%}", Kind::kSlot},
    {"{out}", Kind::kOut},
    {"{gpu}", Kind::kGpu},
    {"{@}", Kind::kInputsFile},
    {"{@out}", Kind::kOutputsFile},
    {"{results}", Kind::kResultsFile},
}};

// The placeholders that take a value per input: an argument holding one is
// repeated for each input of a unit.
bool IsPerInput(Kind kind) {
  switch (kind) {
    case Kind::kInput:
    case Kind::kBase:
    case Kind::kNoExt:
    case Kind::kBaseNoExt:
    case Kind::kDir:
    case Kind::kOut:
      return true;
    default:
      return false;
  }
}

// The placeholder at the start of `rest` (which begins with '{'), or nullptr.
const Placeholder* MatchAt(std::string_view rest) {
  for (const Placeholder& p : kPlaceholders) {
    if (rest.starts_with(p.text)) return &p;
  }
  return nullptr;
}

std::string_view BaseView(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view DirView(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Position of the extension's dot in `path`, or npos. A leading dot of the
// file name marks a hidden file, not an extension.
size_t ExtensionDot(std::string_view path) {
  size_t base = path.size() - BaseView(path).size();
  size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || dot <= base) return std::string_view::npos;
  return dot;
}

std::string_view StripExtView(std::string_view path) {
  size_t dot = ExtensionDot(path);
  return dot == std::string_view::npos ? path : path.substr(0, dot);
}

void AppendNumber(int64_t n, std::string* out) {
  char buf[24];
  auto result = std::to_chars(buf, buf + sizeof(buf), n);
  out->append(buf, result.ptr);
}

void AppendValue(Kind kind, const PlaceholderValues& v, bool quote, std::string* out) {
  if (kind == Kind::kNumber) return AppendNumber(v.number, out);
  if (kind == Kind::kSlot) return AppendNumber(v.slot, out);
  std::string_view value;
  switch (kind) {
    case Kind::kInput:
      value = v.input;
      break;
    case Kind::kBase:
      value = BaseView(v.input);
      break;
    case Kind::kNoExt:
      value = StripExtView(v.input);
      break;
    case Kind::kBaseNoExt:
      value = StripExtView(BaseView(v.input));
      break;
    case Kind::kDir:
      value = DirView(v.input);
      break;
    case Kind::kOut:
      value = v.out;
      break;
    case Kind::kGpu:
      value = v.gpu;
      break;
    case Kind::kInputsFile:
      value = v.inputs_file;
      break;
    case Kind::kOutputsFile:
      value = v.outputs_file;
      break;
    case Kind::kResultsFile:
      value = v.results_file;
      break;
    case Kind::kNumber:
    case Kind::kSlot:
      break;
  }
  if (quote) {
    out->append(ShellQuote(value));
  } else {
    out->append(value);
  }
}

// Appends the expansion of `arg` to `out`; returns whether any placeholder
// was found. One pass: literal runs are copied between '{' positions.
bool AppendExpanded(std::string_view arg, const PlaceholderValues& values, bool quote,
                    std::string* out) {
  bool found = false;
  size_t pos = 0;
  while (pos < arg.size()) {
    size_t brace = arg.find('{', pos);
    if (brace == std::string_view::npos) break;
    const Placeholder* p = MatchAt(arg.substr(brace));
    if (p == nullptr) {
      out->append(arg.substr(pos, brace + 1 - pos));
      pos = brace + 1;
      continue;
    }
    out->append(arg.substr(pos, brace - pos));
    AppendValue(p->kind, values, quote, out);
    pos = brace + p->text.size();
    found = true;
  }
  out->append(arg.substr(pos));
  return found;
}

// True when `arg` holds a known placeholder whose kind satisfies `wanted`.
template <typename Predicate>
bool AnyPlaceholder(std::string_view arg, Predicate wanted) {
  for (size_t brace = arg.find('{'); brace != std::string_view::npos;
       brace = arg.find('{', brace + 1)) {
    const Placeholder* p = MatchAt(arg.substr(brace));
    if (p != nullptr && wanted(p->kind)) return true;
  }
  return false;
}

bool HasPerInputPlaceholder(std::string_view text) { return AnyPlaceholder(text, IsPerInput); }

// The inputs of a unit and their {out} paths; `outs` may be shorter.
struct Inputs {
  std::span<const std::string_view> inputs;
  std::span<const std::string_view> outs;
};

// `shared` with input i's {} and {out}.
PlaceholderValues ForInput(const PlaceholderValues& shared, const Inputs& in, size_t i) {
  PlaceholderValues values = shared;
  values.input = in.inputs[i];
  values.out = i < in.outs.size() ? in.outs[i] : std::string_view();
  return values;
}

// Appends one word of a --shell script, with its values quoted: once per
// input, the copies joined by spaces, when it holds a per-input placeholder,
// else once. Returns whether any placeholder was found.
bool AppendShellWord(std::string_view word, const PlaceholderValues& shared, const Inputs& in,
                     std::string* script) {
  if (!HasPerInputPlaceholder(word)) return AppendExpanded(word, shared, /*quote=*/true, script);
  for (size_t i = 0; i < in.inputs.size(); ++i) {
    if (i > 0) script->push_back(' ');
    AppendExpanded(word, ForInput(shared, in, i), /*quote=*/true, script);
  }
  return true;
}

bool IsShellSpace(char c) { return c == ' ' || c == '\t' || c == '\n'; }

// One template argument of a --shell script: each word (a run without
// whitespace) is its own context; the whitespace between words stays.
bool AppendShellArg(std::string_view arg, const PlaceholderValues& shared, const Inputs& in,
                    std::string* script) {
  bool found = false;
  size_t pos = 0;
  while (pos < arg.size()) {
    size_t end = pos;
    bool space = IsShellSpace(arg[pos]);
    while (end < arg.size() && IsShellSpace(arg[end]) == space) ++end;
    std::string_view run = arg.substr(pos, end - pos);
    if (space) {
      script->append(run);
    } else {
      found |= AppendShellWord(run, shared, in, script);
    }
    pos = end;
  }
  return found;
}

std::vector<std::string> ExpandShell(const std::vector<std::string>& argv_template,
                                     const PlaceholderValues& shared, const Inputs& in) {
  std::string script;
  bool found = false;
  for (size_t i = 0; i < argv_template.size(); ++i) {
    if (i > 0) script.push_back(' ');
    found |= AppendShellArg(argv_template[i], shared, in, &script);
  }
  if (!found) {
    for (size_t i = 0; i < in.inputs.size(); ++i) {
      if (i > 0 || !argv_template.empty()) script.push_back(' ');
      script.append(ShellQuote(in.inputs[i]));
    }
  }
  return {"/bin/sh", "-c", std::move(script)};
}

std::vector<std::string> ExpandArgs(const std::vector<std::string>& argv_template,
                                    const PlaceholderValues& shared, const Inputs& in) {
  std::vector<std::string> argv;
  argv.reserve(argv_template.size() + in.inputs.size());
  bool found = false;
  for (const std::string& arg : argv_template) {
    if (!HasPerInputPlaceholder(arg)) {
      argv.emplace_back();
      argv.back().reserve(arg.size());
      found |= AppendExpanded(arg, shared, /*quote=*/false, &argv.back());
      continue;
    }
    found = true;
    for (size_t i = 0; i < in.inputs.size(); ++i) {
      argv.emplace_back();
      argv.back().reserve(arg.size() + in.inputs[i].size());
      AppendExpanded(arg, ForInput(shared, in, i), /*quote=*/false, &argv.back());
    }
  }
  if (!found) argv.insert(argv.end(), in.inputs.begin(), in.inputs.end());
  return argv;
}

std::vector<std::string> Expand(const std::vector<std::string>& argv_template,
                                const PlaceholderValues& shared, const Inputs& in, bool shell) {
  return shell ? ExpandShell(argv_template, shared, in) : ExpandArgs(argv_template, shared, in);
}

}  // namespace

bool HasPlaceholder(std::string_view arg) {
  return AnyPlaceholder(arg, [](Kind) { return true; });
}

bool HasAnyPlaceholder(const std::vector<std::string>& argv) {
  for (const std::string& arg : argv) {
    if (HasPlaceholder(arg)) return true;
  }
  return false;
}

bool UsesOutput(const std::vector<std::string>& argv) {
  for (const std::string& arg : argv) {
    if (AnyPlaceholder(arg, [](Kind k) { return k == Kind::kOut || k == Kind::kOutputsFile; })) {
      return true;
    }
  }
  return false;
}

bool UsesPlaceholder(const std::vector<std::string>& argv, std::string_view name) {
  const Placeholder* wanted = MatchAt(name);
  if (wanted == nullptr || wanted->text != name) return false;
  for (const std::string& arg : argv) {
    if (AnyPlaceholder(arg, [&](Kind kind) { return kind == wanted->kind; })) return true;
  }
  return false;
}

std::string ExpandArg(std::string_view arg, const PlaceholderValues& values, bool quote) {
  std::string out;
  out.reserve(arg.size() + values.input.size());
  AppendExpanded(arg, values, quote, &out);
  return out;
}

std::vector<std::string> ExpandCommand(const std::vector<std::string>& argv_template,
                                       const PlaceholderValues& values, bool shell) {
  // One job is a unit of one input: the same code, so that the two agree.
  const std::string_view input[1] = {values.input};
  const std::string_view out[1] = {values.out};
  return Expand(argv_template, values, Inputs{input, out}, shell);
}

std::vector<std::string> ExpandUnitCommand(const std::vector<std::string>& argv_template,
                                           const UnitValues& values, bool shell) {
  PlaceholderValues shared;
  shared.number = values.number;
  shared.slot = values.slot;
  shared.gpu = values.gpu;
  shared.inputs_file = values.inputs_file;
  shared.outputs_file = values.outputs_file;
  shared.results_file = values.results_file;
  return Expand(argv_template, shared, Inputs{values.inputs, values.outs}, shell);
}

std::string Basename(std::string_view path) { return std::string(BaseView(path)); }

std::string Dirname(std::string_view path) { return std::string(DirView(path)); }

std::string StripExtension(std::string_view path) { return std::string(StripExtView(path)); }

std::string Extension(std::string_view path) {
  size_t dot = ExtensionDot(path);
  return dot == std::string_view::npos ? std::string() : std::string(path.substr(dot));
}

std::string PlaceholderInDoubleQuotes(const std::vector<std::string>& argv) {
  std::string script;
  for (const std::string& arg : argv) script += (script.empty() ? "" : " ") + arg;
  char quote = 0;  // the open quote, or 0
  for (size_t i = 0; i < script.size(); ++i) {
    char c = script[i];
    if (quote == '\'') {
      if (c == '\'') quote = 0;
    } else if (c == '\\') {
      ++i;  // an escaped character, outside single quotes
    } else if (c == '"') {
      quote = quote == '"' ? 0 : '"';
    } else if (c == '\'' && quote == 0) {
      quote = '\'';
    } else if (c == '{' && quote == '"') {
      size_t close = script.find('}', i);
      if (close == std::string::npos) break;
      std::string word = script.substr(i, close - i + 1);
      if (HasPlaceholder(word)) return word;
    }
  }
  return "";
}

std::string UnsupportedParallelPlaceholder(const std::vector<std::string>& argv) {
  for (const std::string& arg : argv) {
    size_t perl = arg.find("{=");
    if (perl != std::string::npos && arg.find("=}", perl + 2) != std::string::npos) {
      return "'" + arg.substr(perl, arg.find("=}", perl + 2) + 2 - perl) +
             "' (GNU parallel's Perl expression) is not supported: use --shell and the shell's "
             "own expansions, or a --jobs-file with a 'cmd' per job";
    }
    for (size_t open = arg.find('{'); open != std::string::npos; open = arg.find('{', open + 1)) {
      size_t digits = open + 1;
      while (digits < arg.size() && arg[digits] >= '0' && arg[digits] <= '9') ++digits;
      if (digits == open + 1) continue;
      size_t close = arg.find('}', digits);
      if (close == std::string::npos) continue;
      std::string_view rest(arg.data() + digits, close - digits);
      if (rest.empty() || rest == "." || rest == "/" || rest == "//" || rest == "/." ||
          rest == "#" || rest == "%") {
        return "'" + arg.substr(open, close + 1 - open) +
               "' (GNU parallel's numbered input column) is not supported: there is one input "
               "per job, use {} (or {.}, {/}, ...), or a --jobs-file with a 'cmd' per job";
      }
    }
  }
  return "";
}

}  // namespace headroom
