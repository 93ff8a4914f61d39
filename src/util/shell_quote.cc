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

bool SplitShellWords(std::string_view text, std::vector<std::string>* words, std::string* error) {
  words->clear();
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words->push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      size_t end = text.find('\'', i + 1);
      if (end == std::string_view::npos) {
        *error = "unterminated ' in '" + std::string(text) + "'";
        return false;
      }
      word.append(text.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] == '\\' && j + 1 < text.size() &&
            std::string_view("\\\"$`").find(text[j + 1]) != std::string_view::npos) {
          word += text[++j];
        } else if (text[j] == '$' || text[j] == '`') {
          *error = std::string("'") + text[j] + "' in \"...\" of '" + std::string(text) +
                   "' would need a shell (quote it with '...', or use a script)";
          return false;
        } else {
          word += text[j];
        }
      }
      if (j >= text.size()) {
        *error = "unterminated \" in '" + std::string(text) + "'";
        return false;
      }
      i = j;
    } else if (c == '\\') {
      if (i + 1 < text.size()) word += text[++i];
    } else if (std::string_view("$`|&;<>()").find(c) != std::string_view::npos) {
      *error = std::string("'") + c + "' in '" + std::string(text) +
               "' would need a shell (quote it, or use a script)";
      return false;
    } else {
      word += c;
    }
  }
  if (in_word) words->push_back(std::move(word));
  return true;
}

}  // namespace headroom
