// The TOML config file (--config FILE): top-level keys are option defaults,
// [profile.NAME] tables override them when --profile NAME is given. Keys are
// the long option names with '_' for '-'. The only includer of toml++.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cli/option_spec.h"
#include "util/status.h"

namespace headroom {

// One key's value, as words the option parsers read: flags "true"/"false",
// numbers as decimal text, lists as their items.
struct ConfigValue {
  std::vector<std::string> words;
  int line = 0;
  std::string profile;  // the [profile.NAME] table it is in; empty: top level
};

class ConfigFile {
 public:
  // Reads and checks `path`: it must parse, every key (top level and in every
  // profile) must be in `keys`, and each value must suit its key's kind.
  // Errors name the file, the table, the key and the line:
  //   "config cfg.toml [profile.fast]: unknown key 'jbos' (line 7)".
  Status Load(const std::string& path, const std::map<std::string, ValueKind>& keys);

  const std::string& path() const { return path_; }
  bool HasProfile(const std::string& name) const { return profiles_.count(name) > 0; }
  std::vector<std::string> ProfileNames() const;

  // The value of `key` in [profile.`profile`] if set there, else at the top
  // level; nullptr when neither sets it. `profile` may be empty.
  const ConfigValue* Find(const std::string& key, const std::string& profile) const;

  // "config cfg.toml" or "config cfg.toml [profile.fast]".
  std::string Source(const ConfigValue& value) const;

 private:
  using Table = std::map<std::string, ConfigValue>;

  std::string path_;
  Table top_;
  std::map<std::string, Table> profiles_;
};

}  // namespace headroom
