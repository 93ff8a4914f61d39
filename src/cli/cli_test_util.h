// The fixture of the cli tests: ParseCli on an argv, with an environment
// and config files in a temp dir, and matchers for its messages. The tests
// are split by the unit whose behaviour they specify (command_line_test,
// option_values_test, config_file_test, help_text_test, cli_test).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "util/test_temp_dir.h"

namespace headroom::cli_test {

inline ::testing::AssertionResult HasSubstr(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << part << "' is not in:\n" << text;
}

inline ::testing::AssertionResult StartsWith(const std::string& text, const std::string& prefix) {
  if (text.rfind(prefix, 0) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not start with '" << prefix << "'";
}

inline ::testing::AssertionResult Matches(const std::string& text, const std::string& regex) {
  if (std::regex_match(text, std::regex(regex))) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not match /" << regex << "/";
}

// A regular expression matching `text` literally.
inline std::string Literal(const std::string& text) {
  return std::regex_replace(text, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
}

class CliTest : public ::testing::Test {
 protected:
  // Writes a config file into the temp dir and returns its path.
  std::string WriteConfig(const std::string& text, const std::string& name = "cfg.toml") {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  Status Parse(std::vector<std::string> args, unsigned cores = 8) {
    args.insert(args.begin(), "headroom");
    return ParseCli(args, env_, cores, &cli_);
  }

  // Parses args that must be valid and returns the options.
  Options Ok(const std::vector<std::string>& args, unsigned cores = 8) {
    Status status = Parse(args, cores);
    EXPECT_TRUE(status.ok()) << status.message();
    return cli_.options;
  }

  // Parses args that must be invalid and returns the error message.
  std::string Error(const std::vector<std::string>& args) {
    Status status = Parse(args);
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.message().find('\n'), std::string::npos) << status.message();
    return status.message();
  }

  // The --print-config line of `key`.
  std::string ConfigLine(const std::string& key) {
    std::istringstream lines(cli_.text);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(key + " ", 0) == 0) return line;
    }
    return "(no line for " + key + ")";
  }

  test::TempDir temp_;
  const std::string dir_ = temp_.path();
  std::map<std::string, std::string> env_;
  Cli cli_;
};

}  // namespace headroom::cli_test
