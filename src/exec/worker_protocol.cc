#include "exec/worker_protocol.h"

#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace headroom {

namespace {

using Json = nlohmann::json;

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the valid UTF-8 sequence at text[i], or 0 when the byte there
// does not start one (overlong forms and surrogates are not valid).
size_t Utf8Length(std::string_view text, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = at(i);
  if (c < 0x80) return 1;
  size_t len = c >= 0xC2 && c <= 0xDF   ? 2
               : c >= 0xE0 && c <= 0xEF ? 3
               : c >= 0xF0 && c <= 0xF4 ? 4
                                        : 0;
  if (len == 0 || i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if (!IsContinuation(at(i + k))) return 0;
  }
  unsigned char second = at(i + 1);
  if (c == 0xE0 && second < 0xA0) return 0;  // overlong
  if (c == 0xED && second > 0x9F) return 0;  // a surrogate
  if (c == 0xF0 && second < 0x90) return 0;  // overlong
  if (c == 0xF4 && second > 0x8F) return 0;  // above U+10FFFF
  return len;
}

void AppendEscape(unsigned code, std::string* out) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\u%04x", code);
  out->append(buf);
}

void AppendString(std::string_view text, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = Utf8Length(text, i);
    if (len == 0) {
      AppendEscape(0xDC00 + c, out);  // surrogateescape
      ++i;
      continue;
    }
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      AppendEscape(c, out);
    } else {
      out->append(text.substr(i, len));
    }
    i += len;
  }
  out->push_back('"');
}

void AppendStrings(const std::vector<std::string>& strings, bool empty_is_null, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < strings.size(); ++i) {
    if (i > 0) out->append(", ");
    if (empty_is_null && strings[i].empty()) {
      out->append("null");
    } else {
      AppendString(strings[i], out);
    }
  }
  out->push_back(']');
}

bool IsIndex(const std::string& text) {
  return !text.empty() && text.size() < 10 &&
         text.find_first_not_of("0123456789") == std::string::npos;
}

// Four hex digits at text[i..i+4) as a number; -1 when they are not.
int HexAt(std::string_view text, size_t i) {
  if (i + 4 > text.size()) return -1;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data() + i, text.data() + i + 4, value, 16);
  return ec == std::errc() && end == text.data() + i + 4 ? value : -1;
}

// `line` with each \uXXXX escape of an unpaired surrogate replaced by
// \ufffd, which nlohmann-json accepts.
std::string ReplaceLoneSurrogates(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '\\' || i + 1 >= line.size()) {
      out.push_back(line[i]);
      continue;
    }
    int code = line[i + 1] == 'u' ? HexAt(line, i + 2) : -1;
    if (code < 0xD800 || code > 0xDFFF) {  // another escape: copied whole
      out.append(line.substr(i, 2));
      ++i;
      continue;
    }
    int low = code <= 0xDBFF && line.substr(i + 6, 2) == "\\u" ? HexAt(line, i + 8) : -1;
    if (low >= 0xDC00 && low <= 0xDFFF) {  // a proper pair
      out.append(line.substr(i, 12));
      i += 11;
    } else {
      out.append("\\ufffd");
      i += 5;
    }
  }
  return out;
}

bool IsBool(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean();
}

bool BoolOr(const Json& object, const char* key, bool otherwise) {
  return IsBool(object, key) ? object.find(key)->get<bool>() : otherwise;
}

std::string StringOr(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool ParseResult(const Json& entry, ReplyResult* result) {
  if (!entry.is_object() || !IsBool(entry, "ok")) return false;
  auto input = entry.find("input");
  auto index = entry.find("index");
  if (input != entry.end() && input->is_string()) {
    result->input = input->get<std::string>();
  } else if (index != entry.end() && index->is_number_unsigned()) {
    result->index = index->get<size_t>();
  } else {
    return false;
  }
  result->ok = entry["ok"].get<bool>();
  result->oom = BoolOr(entry, "oom", false);
  result->error = StringOr(entry, "error");
  return true;
}

}  // namespace

std::string EncodeRequest(const WorkerRequest& request) {
  std::string line = "{\"id\": " + std::to_string(request.id) + ", \"inputs\": ";
  AppendStrings(request.inputs, /*empty_is_null=*/false, &line);
  line += ", \"outputs\": ";
  AppendStrings(request.outputs, /*empty_is_null=*/true, &line);
  line += ", \"gpu\": ";
  if (!request.gpu || request.gpu->empty()) {
    line += "null";
  } else if (IsIndex(*request.gpu)) {
    line += *request.gpu;
  } else {
    AppendString(*request.gpu, &line);
  }
  line += "}\n";
  return line;
}

bool ParseReply(std::string_view line, WorkerReply* reply) {
  size_t start = line.find_first_not_of(" \t\r");
  if (start == std::string_view::npos || line[start] != '{') return false;  // plain output
  Json json = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() && line.find("\\ud") != std::string_view::npos) {
    json = Json::parse(ReplaceLoneSurrogates(line), nullptr, /*allow_exceptions=*/false);
  }
  if (json.is_discarded() || !json.is_object() || !IsBool(json, "ok")) return false;
  auto id = json.find("id");
  if (id == json.end() || !id->is_number_integer()) return false;
  *reply = WorkerReply();
  reply->id = id->get<int64_t>();
  reply->ok = json["ok"].get<bool>();
  reply->oom = BoolOr(json, "oom", false);
  reply->error = StringOr(json, "error");
  auto results = json.find("results");
  if (results != json.end() && results->is_array()) {
    for (const Json& entry : *results) {
      ReplyResult result;
      if (ParseResult(entry, &result)) reply->results.push_back(std::move(result));
    }
  }
  return true;
}

bool IsMalformedReply(std::string_view line) {
  size_t start = line.find_first_not_of(" \t\r");
  if (start == std::string_view::npos || line[start] != '{') return false;
  if (!Json::parse(line, nullptr, /*allow_exceptions=*/false).is_discarded()) return false;
  return Json::parse(ReplaceLoneSurrogates(line), nullptr, /*allow_exceptions=*/false)
      .is_discarded();
}

std::vector<InputResult> MapResults(const std::vector<ReplyResult>& results,
                                    const std::vector<std::string>& inputs) {
  std::vector<InputResult> mapped;
  std::vector<bool> taken(inputs.size(), false);
  for (const ReplyResult& result : results) {
    size_t index = inputs.size();
    if (result.index) {
      index = *result.index;
    } else {
      for (size_t i = 0; i < inputs.size() && index == inputs.size(); ++i) {
        if (!taken[i] && inputs[i] == *result.input) index = i;
      }
    }
    if (index >= inputs.size() || taken[index]) continue;
    taken[index] = true;
    mapped.push_back(InputResult{index, result.ok, result.oom, result.error});
  }
  return mapped;
}

}  // namespace headroom
