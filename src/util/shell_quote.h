// POSIX shell quoting, so that printed commands can be pasted into a shell
// and --shell can substitute hostile inputs safely.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace headroom {

// Returns `word` unchanged when it holds only characters that are safe
// unquoted (letters, digits, and _-+=.,/:@%^), else wraps it in single quotes,
// writing each ' as '\''. The empty string becomes ''.
std::string ShellQuote(std::string_view word);

// ShellQuote of each word, joined by single spaces.
std::string ShellJoin(const std::vector<std::string>& words);

// Splits `text` into words as a POSIX shell would, without running one:
// blanks separate words; '...' is literal; "..." is literal except for \\,
// \", \$ and \`; a backslash outside quotes escapes the next character.
// Expansions and operators ($, `, |, &, ;, <, >, (, )) unquoted are an
// error: nothing would run them. Error: "unterminated quote in '...'".
bool SplitShellWords(std::string_view text, std::vector<std::string>* words, std::string* error);

// `text` (a file name, an input, a command) safe for a terminal line: each
// control character (a '\n' would split a line scripts parse, an ESC would
// drive the terminal) becomes '?'.
std::string Printable(std::string_view text);

}  // namespace headroom
