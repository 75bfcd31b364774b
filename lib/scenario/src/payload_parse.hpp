#pragma once
// Parsing of generators and payload templates from a parsed JSON node, reporting into a
// Checker so the scenario loader gets every error with its position.

#include "checker.hpp"

#include <mqfleet/scenario/generators.hpp>
#include <mqfleet/scenario/payload.hpp>

#include <memory>
#include <string>
#include <vector>

namespace mqfleet::sim::detail {

/// A generator from `{"type": ...}`, `{"ref": ...}` or `{"const": ...}`; nullptr after
/// recording errors.
std::shared_ptr<const Generator> parse_generator(Checker& checker, const Json& node, const std::string& path,
                                                 const std::vector<std::string>& field_names);

/// True when `node` is an object that denotes a generator rather than a nested object.
bool is_generator_object(const Json& node);

/// Compiles `node` into `out`, recording errors in `checker`.
void parse_payload(Checker& checker, const Json& node, const std::string& path, const TemplateScope& scope,
                   const std::vector<std::string>& field_names, bool string_as_json, PayloadTemplate& out);

/// Appends `text` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view text);

} // namespace mqfleet::sim::detail
