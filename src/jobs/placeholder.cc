#include "jobs/placeholder.h"

#include <array>
#include <charconv>

#include "util/shell_quote.h"

namespace headroom {
namespace {

enum class Kind { kInput, kBase, kNoExt, kBaseNoExt, kDir, kNumber, kSlot, kOut, kGpu };

struct Placeholder {
  std::string_view text;
  Kind kind;
};

// Longer words that share a prefix with shorter ones ("{/.}" and "{/}") do not
// clash: each word ends with '}', so only one can match at a given position.
constexpr std::array<Placeholder, 9> kPlaceholders = {{
    {"{}", Kind::kInput},
    {"{/}", Kind::kBase},
    {"{.}", Kind::kNoExt},
    {"{/.}", Kind::kBaseNoExt},
    {"{//}", Kind::kDir},
    {"{#}", Kind::kNumber},
    {"{%}", Kind::kSlot},
    {"{out}", Kind::kOut},
    {"{gpu}", Kind::kGpu},
}};

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
    if (AnyPlaceholder(arg, [](Kind kind) { return kind == Kind::kOut; })) return true;
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
  std::vector<std::string> argv;
  bool found = false;
  if (shell) {
    std::string script;
    for (size_t i = 0; i < argv_template.size(); ++i) {
      if (i > 0) script.push_back(' ');
      found |= AppendExpanded(argv_template[i], values, /*quote=*/true, &script);
    }
    if (!found) {
      if (!argv_template.empty()) script.push_back(' ');
      script.append(ShellQuote(values.input));
    }
    argv = {"/bin/sh", "-c", std::move(script)};
    return argv;
  }
  argv.reserve(argv_template.size() + 1);
  for (const std::string& arg : argv_template) {
    argv.emplace_back();
    argv.back().reserve(arg.size() + values.input.size());
    found |= AppendExpanded(arg, values, /*quote=*/false, &argv.back());
  }
  if (!found) argv.emplace_back(values.input);
  return argv;
}

std::string Basename(std::string_view path) { return std::string(BaseView(path)); }

std::string Dirname(std::string_view path) { return std::string(DirView(path)); }

std::string StripExtension(std::string_view path) { return std::string(StripExtView(path)); }

std::string Extension(std::string_view path) {
  size_t dot = ExtensionDot(path);
  return dot == std::string_view::npos ? std::string() : std::string(path.substr(dot));
}

}  // namespace headroom
