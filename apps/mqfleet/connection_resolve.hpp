#pragma once
// The command-line layer of resolve_connection on its own, for commands that store
// settings rather than connect (`profile add`): secrets stay references, nothing from
// the environment is mixed in, no client id is generated.

#include "connection_flags.hpp"

#include <mqfleet/profile_resolve.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace mqfleet::cli {

/// The settings the connection flags give (URL first, single flags over it). Sets
/// `credential_where` to the flag the credential came from, if any. `-P -` becomes a
/// prompt secret. Throws ConfigError naming the flag for bad values.
ProfileOverrides flag_overrides(const ConnectionFlags& flags, std::string& credential_where);

/// `text` for an error message: control and non-ASCII bytes as \xNN, cut after
/// `max_chars` characters (then the length in bytes is appended).
std::string printable(std::string_view text, std::size_t max_chars = 80);

/// Throws ConfigError (naming the topic, printable) when `topic` cannot be published to:
/// empty, not UTF-8, NUL, longer than 65,535 bytes, or a wildcard.
void require_topic_name(std::string_view topic, const std::string& where);

/// The topic path of the broker URL in -L (or -h), percent-decoded; empty when the URL
/// has none or no URL was given. As mosquitto_pub/sub, it is the topic to use when -t is
/// not given. Throws ConfigError for a malformed URL.
std::string topic_from_url(const ConnectionFlags& flags);

/// For the parser's checks: true when topic_from_url() has a topic, or when the URL is
/// malformed (running the command then reports it).
bool url_has_topic(const ConnectionFlags& flags) noexcept;
/// `digits` random lowercase hex digits (generated client ids, rr's correlation data).
std::string random_hex(std::size_t digits);

} // namespace mqfleet::cli
