// ReadJobsFile (declared in jobs/sources.h).
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "jobs/line_reader.h"
#include "jobs/sources.h"
#include "util/units.h"

namespace headroom {
namespace {

using nlohmann::json;

bool IsVariableName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Lines that carry no job: empty, blank, or a '#' comment.
bool IsSkippable(std::string_view line) {
  size_t first = line.find_first_not_of(" \t");
  return first == std::string_view::npos || line[first] == '#';
}

constexpr const char* kKeys[] = {"input", "cmd",     "cpu_cmd", "name",
                                 "priority", "env", "gpu_mem", "ram"};

// A NUL cannot reach a program (argv and environment strings end at it), so
// a string holding one would silently become another: refused.
Status CheckNoNul(const std::string& text, const std::string& what) {
  if (text.find('\0') == std::string::npos) return Status::Ok();
  return Status::Error(what + " contains a NUL byte (\\u0000), which no program can be given");
}

// A string field's value; error when it is not a string or holds a NUL.
Status StringField(const json& value, const std::string& what, std::string* out) {
  if (!value.is_string()) return Status::Error(what + " must be a string");
  *out = value.get<std::string>();
  return CheckNoNul(*out, what);
}

Status ParseCmd(const json& value, const std::string& key, std::vector<std::string>* cmd) {
  std::string what = "'" + key + "'";
  if (!value.is_array() || value.empty()) {
    return Status::Error(what + " must be a non-empty array of strings");
  }
  for (const json& arg : value) {
    if (!arg.is_string()) return Status::Error(what + " must be a non-empty array of strings");
    cmd->push_back(arg.get<std::string>());
    Status status = CheckNoNul(cmd->back(), what);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Status ParsePriority(const json& value, int64_t* priority) {
  if (!value.is_number_integer()) return Status::Error("'priority' must be an integer");
  if (value.is_number_unsigned() &&
      value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Status::Error("'priority' " + value.dump() + " is out of range");
  }
  *priority = value.get<int64_t>();
  return Status::Ok();
}

Status ParseEnv(const json& value, std::vector<EnvVar>* env) {
  if (!value.is_object()) return Status::Error("'env' must be an object of strings");
  for (const auto& [name, text] : value.items()) {
    if (!IsVariableName(name)) {
      return Status::Error("'env': '" + name + "' is not a valid variable name");
    }
    std::string text_value;
    Status status = StringField(text, "'env': value of '" + name + "'", &text_value);
    if (!status.ok()) return status;
    env->push_back({name, std::move(text_value)});
  }
  return Status::Ok();
}

// "gpu_mem" and "ram": a size string ("6G", parsed as options are) or a whole
// number of bytes; null counts as not given, as generated files write it.
Status ParseFootprint(const json& value, const std::string& key, std::optional<uint64_t>* bytes) {
  if (value.is_null()) return Status::Ok();
  uint64_t parsed = 0;
  if (value.is_string()) {
    Status status = ParseSize(value.get<std::string>(), &parsed);
    if (!status.ok()) return status.WithContext("'" + key + "'");
  } else if (value.is_number_unsigned()) {
    parsed = value.get<uint64_t>();
  } else {
    return Status::Error("'" + key +
                         "' must be a size such as \"6G\" or a whole number of bytes, got " +
                         value.dump());
  }
  if (parsed == 0) return Status::Error("'" + key + "' must be more than 0 bytes");
  *bytes = parsed;
  return Status::Ok();
}

// An unknown key is an error, as in the config file: a misspelt "gpu_memory"
// must not silently run the job without its declared memory.
Status CheckKeys(const json& line) {
  for (const auto& [key, value] : line.items()) {
    if (std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys)) continue;
    return Status::Error("unknown key '" + key +
                         "' (expected input, cmd, cpu_cmd, name, priority, env, gpu_mem or ram)");
  }
  return Status::Ok();
}

Status ParseJob(const json& line, RawInput* input) {
  if (!line.is_object()) {
    return Status::Error("expected a JSON object, got " + std::string(line.type_name()));
  }
  Status status = CheckKeys(line);
  if (!status.ok()) return status;
  auto field = line.find("input");
  if (field == line.end()) return Status::Error("'input' is missing");
  status = StringField(*field, "'input'", &input->input);
  if (!status.ok()) return status;
  if (input->input.empty()) return Status::Error("'input' must not be empty");
  if (field = line.find("cmd"); field != line.end()) status = ParseCmd(*field, "cmd", &input->cmd);
  if (!status.ok()) return status;
  if (field = line.find("cpu_cmd"); field != line.end()) {
    status = ParseCmd(*field, "cpu_cmd", &input->cpu_cmd);
  }
  if (!status.ok()) return status;
  if (field = line.find("name"); field != line.end()) {
    status = StringField(*field, "'name'", &input->name);
    if (!status.ok()) return status;
  }
  if (field = line.find("priority"); field != line.end()) {
    status = ParsePriority(*field, &input->priority);
  }
  if (!status.ok()) return status;
  if (field = line.find("env"); field != line.end()) status = ParseEnv(*field, &input->env);
  if (!status.ok()) return status;
  if (field = line.find("gpu_mem"); field != line.end()) {
    status = ParseFootprint(*field, "gpu_mem", &input->gpu_mem);
  }
  if (!status.ok()) return status;
  if (field = line.find("ram"); field != line.end()) {
    status = ParseFootprint(*field, "ram", &input->ram);
  }
  return status;
}

Status ParseLine(std::string_view text, RawInput* input) {
  json line;
  try {
    line = json::parse(text);
  } catch (const json::parse_error& e) {
    return Status::Error("invalid JSON at column " + std::to_string(e.byte) +
                         " (expected one object per line)");
  } catch (const json::exception& e) {
    // A number beyond the range of a double (1e999) and the like: what()
    // reads "[json.exception.out_of_range.406] number overflow parsing '1e999'".
    std::string what = e.what();
    size_t bracket = what.find("] ");
    return Status::Error("invalid JSON: " +
                         (bracket == std::string::npos ? what : what.substr(bracket + 2)));
  }
  return ParseJob(line, input);
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

Status ReadJobsFile(const std::string& path, std::vector<RawInput>* out) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    return Status::Error("cannot open jobs file '" + path + "': " + std::strerror(errno));
  }
  LineReader reader(file.get());
  std::string_view text;
  for (int64_t number = 1; reader.Next(&text); ++number) {
    if (IsSkippable(text)) continue;
    RawInput input;
    Status status = ParseLine(text, &input);
    if (!status.ok()) return status.WithContext(path + ":" + std::to_string(number));
    out->push_back(std::move(input));
  }
  if (reader.failed()) {
    return Status::Error("cannot read jobs file '" + path + "': " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace headroom
