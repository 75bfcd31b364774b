#pragma once
// Shell completion scripts generated from the command tree, so they cannot drift from
// the CLI. completions/ holds their output (scripts/gen-completions.sh rewrites it).

#include "completion/completion_model.hpp"

#include <string>

namespace mqfleet::cli {

/// The bash completion script for `root` (complete -F _mqfleet mqfleet).
std::string bash_completion(const CommandSpec& root);
/// The zsh completion script for `root` (#compdef mqfleet).
std::string zsh_completion(const CommandSpec& root);
/// The fish completion script for `root`.
std::string fish_completion(const CommandSpec& root);

} // namespace mqfleet::cli
