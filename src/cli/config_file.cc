#include "cli/config_file.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace headroom {
namespace {

int LineOf(const toml::source_region& region) { return static_cast<int>(region.begin.line); }

const char* Describe(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

// Converts one value to words for an option of `kind`; on error returns the
// message without location.
Status ToWords(const toml::node& node, ValueKind kind, std::vector<std::string>* words) {
  words->clear();
  if (kind == ValueKind::kFlag) {
    if (!node.is_boolean()) {
      return Status::Error(fmt::format("expected true or false, got {}", Describe(node)));
    }
    words->push_back(node.as_boolean()->get() ? "true" : "false");
  } else if (node.is_string()) {
    words->push_back(node.as_string()->get());
  } else if (node.is_integer()) {
    words->push_back(std::to_string(node.as_integer()->get()));
  } else if (kind == ValueKind::kScalar && node.is_floating_point()) {
    words->push_back(fmt::format("{}", node.as_floating_point()->get()));
  } else if (kind == ValueKind::kList && node.is_array()) {
    // Integers too, for lists of numbers: oom_exit_code = [137, 139].
    for (const toml::node& item : *node.as_array()) {
      if (item.is_string()) {
        words->push_back(item.as_string()->get());
      } else if (item.is_integer()) {
        words->push_back(std::to_string(item.as_integer()->get()));
      } else {
        return Status::Error(
            fmt::format("expected an array of strings, got {} in it", Describe(item)));
      }
    }
  } else {
    return Status::Error(fmt::format(
        "expected {}, got {}",
        kind == ValueKind::kList ? "a string or an array of strings" : "a string or a number",
        Describe(node)));
  }
  return Status::Ok();
}

Status ReadFile(const std::string& path, std::string* text) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return Status::Error("cannot read: is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(fmt::format("cannot read: {}", std::strerror(errno)));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return Status::Error("cannot read: I/O error");
  *text = contents.str();
  return Status::Ok();
}

}  // namespace

Status ConfigFile::Load(const std::string& path, const std::map<std::string, ValueKind>& keys) {
  path_ = path;
  top_.clear();
  profiles_.clear();
  std::string where = "config " + path;
  std::string text;
  Status status = ReadFile(path, &text);
  if (!status.ok()) return status.WithContext(where);

  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& error) {
    std::string description(error.description());
    if (!description.empty())
      description[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(description[0])));
    return Status::Error(
        fmt::format("{}: {} (line {})", where, description, LineOf(error.source())));
  }

  // Reads one table's keys into `out`; `profile` names it in messages.
  auto read_table = [&](const toml::table& table, const std::string& profile,
                        Table* out) -> Status {
    std::string table_where =
        profile.empty() ? where : fmt::format("{} [profile.{}]", where, profile);
    for (auto&& [key, node] : table) {
      std::string name(key.str());
      int line = LineOf(key.source());
      if (profile.empty() && name == "profile") continue;
      auto kind = keys.find(name);
      if (kind == keys.end()) {
        return Status::Error(
            fmt::format("{}: unknown key '{}' (line {})", table_where, name, line));
      }
      ConfigValue value{{}, line, profile};
      Status converted = ToWords(node, kind->second, &value.words);
      if (!converted.ok()) {
        return Status::Error(
            fmt::format("{}: {}: {} (line {})", table_where, name, converted.message(), line));
      }
      (*out)[name] = std::move(value);
    }
    return Status::Ok();
  };

  status = read_table(root, "", &top_);
  if (!status.ok()) return status;
  const toml::node* profiles = root.get("profile");
  if (profiles == nullptr) return Status::Ok();
  if (!profiles->is_table()) {
    return Status::Error(
        fmt::format("{}: profile: expected [profile.NAME] tables, got {} (line {})", where,
                    Describe(*profiles), LineOf(profiles->source())));
  }
  for (auto&& [key, node] : *profiles->as_table()) {
    std::string name(key.str());
    if (!node.is_table()) {
      return Status::Error(
          fmt::format("{}: profile.{}: expected a [profile.{}] table, got {} (line {})", where,
                      name, name, Describe(node), LineOf(key.source())));
    }
    status = read_table(*node.as_table(), name, &profiles_[name]);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

std::vector<std::string> ConfigFile::ProfileNames() const {
  std::vector<std::string> names;
  for (const auto& [name, table] : profiles_) names.push_back(name);
  return names;
}

const ConfigValue* ConfigFile::Find(const std::string& key, const std::string& profile) const {
  if (!profile.empty()) {
    auto table = profiles_.find(profile);
    if (table != profiles_.end()) {
      auto value = table->second.find(key);
      if (value != table->second.end()) return &value->second;
    }
  }
  auto value = top_.find(key);
  return value == top_.end() ? nullptr : &value->second;
}

std::string ConfigFile::Source(const ConfigValue& value) const {
  if (value.profile.empty()) return "config " + path_;
  return fmt::format("config {} [profile.{}]", path_, value.profile);
}

}  // namespace headroom
