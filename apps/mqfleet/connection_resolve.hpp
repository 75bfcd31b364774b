#pragma once
// The command-line layer of resolve_connection on its own, for commands that store
// settings rather than connect (`profile add`): secrets stay references, nothing from
// the environment is mixed in, no client id is generated.

#include "connection_flags.hpp"

#include <mqfleet/profile_resolve.hpp>

#include <string>

namespace mqfleet::cli {

/// The settings the connection flags give (URL first, single flags over it). Sets
/// `credential_where` to the flag the credential came from, if any. `-P -` becomes a
/// prompt secret. Throws ConfigError naming the flag for bad values.
ProfileOverrides flag_overrides(const ConnectionFlags& flags, std::string& credential_where);

/// `digits` random lowercase hex digits (generated client ids, rr's correlation data).
std::string random_hex(std::size_t digits);

} // namespace mqfleet::cli
