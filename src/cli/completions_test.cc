#include "cli/completions.h"

#include <gtest/gtest.h>

#include "cli/option_spec.h"

namespace headroom {
namespace {

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(CompletionsTest, BashOffersEverySubcommandAndEachOnesOptions) {
  std::string script;
  ASSERT_TRUE(CompletionScript("bash", &script).ok());
  EXPECT_TRUE(Has(script, "complete -o filenames -F _headroom headroom")) << script;
  EXPECT_TRUE(Has(script, "'run list status report gpus footprints ctl log resume help --help --version'"));
  // Every option of run, from the table: none forgotten, none invented.
  for (const OptionSpec& spec : OptionSpecs()) {
    if ((spec.commands & kForRun) == 0) continue;
    EXPECT_TRUE(Has(script, "--" + std::string(spec.name) + " ")) << spec.name;
  }
  EXPECT_TRUE(Has(script, "    --color) COMPREPLY=($(compgen -W 'auto always never' -- \"$cur\")); return 0 ;;"))
      << script;
  EXPECT_TRUE(Has(script, "    --input-dir) COMPREPLY=($(compgen -d -- \"$cur\")); return 0 ;;"));
  EXPECT_TRUE(Has(script, "    --jobs|-j) COMPREPLY=(); return 0 ;;")) << "N|auto is no choice list";
}

TEST(CompletionsTest, ZshUsesTheBashScriptAndFishHasItsOwn) {
  std::string zsh, fish;
  ASSERT_TRUE(CompletionScript("zsh", &zsh).ok());
  EXPECT_EQ(zsh.rfind("#compdef headroom\n", 0), 0u);
  EXPECT_TRUE(Has(zsh, "bashcompinit"));
  EXPECT_TRUE(Has(zsh, "complete -o filenames -F _headroom headroom"));
  ASSERT_TRUE(CompletionScript("fish", &fish).ok());
  EXPECT_TRUE(Has(fish, "complete -c headroom -n __fish_use_subcommand -a status\n"));
  EXPECT_TRUE(Has(fish, "complete -c headroom -n '__fish_seen_subcommand_from run list' -l jobs -s j -x -d "))
      << fish;
  EXPECT_TRUE(Has(fish, "-l color -x -a 'auto always never' -d ")) << fish;
}

TEST(CompletionsTest, AnUnknownShellIsAnErrorNamingTheShellsThereAre) {
  std::string script;
  Status status = CompletionScript("tcsh", &script);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(),
            "completions: 'tcsh' is not a shell headroom completes for (expected bash, zsh or fish)");
}

}  // namespace
}  // namespace headroom
