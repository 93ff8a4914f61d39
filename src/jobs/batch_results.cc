#include "jobs/batch_results.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

namespace headroom {
namespace {

using nlohmann::json;

// A warning quotes at most this much of an input: a log line, not a dump.
constexpr size_t kMaxQuoted = 200;

std::string Quoted(std::string_view text) {
  if (text.size() > kMaxQuoted) return "'" + std::string(text.substr(0, kMaxQuoted)) + "...'";
  return "'" + std::string(text) + "'";
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

class Parser {
 public:
  explicit Parser(const std::vector<std::string_view>& inputs)
      : inputs_(inputs), reported_(inputs.size()) {
    for (size_t i = 0; i < inputs.size(); ++i) positions_[inputs[i]].push_back(i);
  }

  void Line(std::string_view text, size_t number) {
    line_ = number;
    json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return Skip("not valid JSON (expected one object per line)");
    if (!value.is_object())
      return Skip("expected a JSON object, got " + std::string(value.type_name()));
    BatchInputResult result;
    std::string why = Fields(value, &result);
    if (!why.empty()) return Skip(why);
    std::vector<size_t> indices;
    why = Indices(value, &indices);
    if (!why.empty()) return Skip(why);
    for (size_t index : indices) Record(index, result);
  }

  ParsedBatchResults Finish() {
    ParsedBatchResults out;
    out.warnings = std::move(warnings_);
    for (std::optional<Reported>& reported : reported_) {
      if (reported) out.results.push_back(std::move(reported->result));
    }
    return out;
  }

 private:
  struct Reported {
    BatchInputResult result;
    size_t line = 0;
  };

  void Skip(const std::string& why) { Warn(why + " (line skipped)"); }
  void Warn(const std::string& what) {
    warnings_.push_back("line " + std::to_string(line_) + ": " + what);
  }

  // "ok", "oom" and "error" into `result`; the reason when they are unusable.
  static std::string Fields(const json& value, BatchInputResult* result) {
    auto field = value.find("ok");
    if (field == value.end() || !field->is_boolean()) return "'ok' must be true or false";
    result->ok = field->get<bool>();
    if (field = value.find("oom"); field != value.end() && !field->is_null()) {
      if (!field->is_boolean()) return "'oom' must be true or false";
      result->oom = field->get<bool>();
    }
    if (field = value.find("error"); field != value.end() && !field->is_null()) {
      if (!field->is_string()) return "'error' must be a string";
      result->error = field->get<std::string>();
    }
    return "";
  }

  // The unit positions the line names through "index" and/or "input".
  std::string Indices(const json& value, std::vector<size_t>* indices) const {
    auto index = value.find("index");
    auto input = value.find("input");
    if (index == value.end() && input == value.end()) return "no 'input' or 'index'";
    if (input != value.end() && !input->is_string()) return "'input' must be a string";
    if (index != value.end()) {
      if (!index->is_number_unsigned() || index->get<uint64_t>() >= inputs_.size()) {
        return "'index' " + index->dump() + " is not in this batch of " +
               std::to_string(inputs_.size()) + " (0-based)";
      }
      size_t i = static_cast<size_t>(index->get<uint64_t>());
      if (input != value.end() && input->get_ref<const std::string&>() != inputs_[i]) {
        return "'index' " + std::to_string(i) + " is input " + Quoted(inputs_[i]) +
               ", not 'input' " + Quoted(input->get_ref<const std::string&>());
      }
      indices->push_back(i);
      return "";
    }
    auto found = positions_.find(input->get_ref<const std::string&>());
    if (found == positions_.end()) {
      return "input " + Quoted(input->get_ref<const std::string&>()) + " is not in this batch";
    }
    *indices = found->second;
    return "";
  }

  void Record(size_t index, const BatchInputResult& result) {
    std::optional<Reported>& slot = reported_[index];
    if (slot) {
      Warn("input " + Quoted(inputs_[index]) + " was reported on line " +
           std::to_string(slot->line) + " too; the last line counts");
    }
    slot = Reported{result, line_};
    slot->result.index = index;
  }

  const std::vector<std::string_view>& inputs_;
  std::unordered_map<std::string_view, std::vector<size_t>> positions_;
  std::vector<std::optional<Reported>> reported_;
  std::vector<std::string> warnings_;
  size_t line_ = 0;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

ParsedBatchResults ParseBatchResults(std::string_view text,
                                     const std::vector<std::string_view>& inputs) {
  Parser parser(inputs);
  size_t number = 0;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++number;
    if (!IsBlank(line)) parser.Line(line, number);
  }
  return parser.Finish();
}

Status ReadBatchResults(const std::string& path, const std::vector<std::string_view>& inputs,
                        ParsedBatchResults* results, bool* missing) {
  *missing = false;
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rbe"));
  if (!file) {
    *missing = errno == ENOENT;
    return Status::Error("cannot read batch results '" + path + "': " + std::strerror(errno));
  }
  std::string text;
  char buffer[65536];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0;) {
    text.append(buffer, n);
  }
  if (std::ferror(file.get())) {
    return Status::Error("cannot read batch results '" + path + "': read error");
  }
  *results = ParseBatchResults(text, inputs);
  return Status::Ok();
}

}  // namespace headroom
