#include "util/shell_quote.h"

namespace headroom {
namespace {

bool IsSafeUnquoted(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '_':
    case '-':
    case '+':
    case '=':
    case '.':
    case ',':
    case '/':
    case ':':
    case '@':
    case '%':
    case '^':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string ShellQuote(std::string_view word) {
  bool safe = !word.empty();
  for (char c : word) safe = safe && IsSafeUnquoted(c);
  if (safe) return std::string(word);

  // Inside single quotes nothing is special except the closing quote, so a
  // quote is written as: close, escaped quote, reopen.
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += '\'';
  return quoted;
}

std::string ShellJoin(const std::vector<std::string>& words) {
  std::string joined;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) joined += ' ';
    joined += ShellQuote(words[i]);
  }
  return joined;
}

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    out += byte < 0x20 || byte == 0x7f ? '?' : c;
  }
  return out;
}

}  // namespace headroom
