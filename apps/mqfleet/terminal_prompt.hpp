#pragma once
// Asking for a secret on the terminal with echo off. Only used when stdin is a TTY; in
// scripts the secret comes from --password-env / --password-file instead.

#include <string>

namespace mqfleet::cli {

/// True when stdin is a terminal we may prompt on.
bool can_prompt();

/// Prints `label` on stderr, reads one line from stdin with
/// echo switched off, and returns it without the newline. Throws ConfigError when stdin
/// is not a terminal or reading fails.
std::string prompt_secret(const std::string& label);

} // namespace mqfleet::cli
