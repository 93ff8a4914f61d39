#include "exec/environment.h"

#include <algorithm>

extern char** environ;

namespace headroom {

namespace {

bool Sets(const std::string& entry, std::string_view name) {
  return entry.size() > name.size() && entry[name.size()] == '=' &&
         std::string_view(entry).substr(0, name.size()) == name;
}

std::string Entry(std::string_view name, std::string_view value) {
  std::string entry;
  entry.reserve(name.size() + 1 + value.size());
  entry.append(name).append(1, '=').append(value);
  return entry;
}

}  // namespace

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

bool HasVariable(const std::vector<std::string>& env, std::string_view name) {
  return std::any_of(env.begin(), env.end(),
                     [&](const std::string& entry) { return Sets(entry, name); });
}

void SetVariable(std::string_view name, std::string_view value, std::vector<std::string>* env) {
  for (std::string& entry : *env) {
    if (Sets(entry, name)) {
      entry = Entry(name, value);
      return;
    }
  }
  env->push_back(Entry(name, value));
}

void RemoveVariable(std::string_view name, std::vector<std::string>* env) {
  std::erase_if(*env, [&](const std::string& entry) { return Sets(entry, name); });
}

std::vector<std::string> BaseJobEnvironment(const std::vector<std::string>& inherited,
                                            int threads_per_job,
                                            const std::vector<EnvVar>& overrides) {
  std::vector<std::string> env = inherited;
  if (threads_per_job > 0) {
    std::string threads = std::to_string(threads_per_job);
    for (std::string_view name : kThreadVariables) {
      if (!HasVariable(inherited, name)) env.push_back(Entry(name, threads));
    }
  }
  for (const EnvVar& var : overrides) SetVariable(var.name, var.value, &env);
  return env;
}

void ApplyGpu(const GpuVisibility& visibility, const std::optional<std::string>& gpu,
              std::vector<std::string>* env) {
  if (!gpu) return;
  for (const std::string& name : visibility.removed) RemoveVariable(name, env);
  for (const EnvVar& var : visibility.set) SetVariable(var.name, var.value, env);
  if (gpu->empty()) {
    SetVariable(visibility.variable, visibility.hidden, env);
    return;
  }
  auto value = visibility.values.find(*gpu);
  SetVariable(visibility.variable, value == visibility.values.end() ? *gpu : value->second, env);
}

}  // namespace headroom
