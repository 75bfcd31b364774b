#pragma once
// Man pages generated from the command tree, like the shell completions: mqfleet(1) and
// one mqfleet-<command>(1) per top-level subcommand (nested subcommands are sections of
// their parent's page, as git does). The build writes them with `mqfleet completion man
// DIR` (cmake/Install.cmake), so they describe exactly the CLI that is installed.

#include "completion/completion_model.hpp"

#include <string>
#include <vector>

namespace mqfleet::cli {

/// One man page: its file name ("mqfleet-pub.1") and its roff source.
struct ManPage {
  std::string file_name;
  std::string text;
};

/// The pages for `root` (the root first, then its subcommands in tree order); `version`
/// goes into each page's footer.
std::vector<ManPage> man_pages(const CommandSpec& root, const std::string& version);

} // namespace mqfleet::cli
