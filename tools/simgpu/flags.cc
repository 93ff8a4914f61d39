#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "commands.h"

namespace headroom::simgpu {

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "headroom-simgpu: error: %s\n", message.c_str());
  return code;
}

namespace {

Status UnknownOption(const std::string& name, const std::vector<std::string>& names) {
  std::string expected;
  for (const std::string& known : names) {
    expected += expected.empty() ? "--" : ", --";
    expected += known;
  }
  if (expected.empty()) expected = "none";
  return Status::Error("unknown option '" + name + "' (expected " + expected + ")");
}

}  // namespace

Status ParseFlags(const std::vector<std::string>& args, const std::vector<std::string>& names,
                  std::map<std::string, std::string>* values, std::vector<std::string>* inputs) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.empty() || arg[0] != '-') {
      if (inputs != nullptr) inputs->push_back(arg);
      continue;
    }
    size_t equals = arg.find('=');
    std::string name = arg.substr(0, equals);
    if (name.rfind("--", 0) != 0 ||
        std::find(names.begin(), names.end(), name.substr(2)) == names.end()) {
      return UnknownOption(name, names);
    }
    if (equals != std::string::npos) {
      (*values)[name.substr(2)] = arg.substr(equals + 1);
    } else if (i + 1 < args.size()) {
      (*values)[name.substr(2)] = args[++i];
    } else {
      return Status::Error(name + " needs a value");
    }
  }
  for (const std::string& name : names) {
    if (!values->count(name)) return Status::Error("--" + name + " is required");
  }
  return Status::Ok();
}

Status ParseNonNegative(const std::string& name, const std::string& text, double* value) {
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(*value >= 0) || *value > 1e12) {
    return Status::Error("--" + name + " '" + text + "': expected a number >= 0");
  }
  return Status::Ok();
}

Status ParseWhole(const std::string& name, const std::string& text, bool allow_negative,
                  long* value) {
  char* end = nullptr;
  *value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || (!allow_negative && *value < 0)) {
    return Status::Error("--" + name + " '" + text + "': expected a whole number" +
                         (allow_negative ? "" : " >= 0"));
  }
  return Status::Ok();
}

}  // namespace headroom::simgpu
