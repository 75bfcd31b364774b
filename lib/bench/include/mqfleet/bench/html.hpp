#pragma once
// A self-contained HTML page for a report: the summary, inline SVG plots of the
// per-second timeline (rates, p50/p99) and of the latency percentile curves. No
// scripts, no external resources.

#include <mqfleet/bench/report.hpp>

#include <filesystem>
#include <string>

namespace mqfleet::bench {

/// The whole HTML document.
std::string render_html(const Report& report);

/// Writes render_html(report) to `path`; throws ConfigError naming the file.
void write_html(const std::filesystem::path& path, const Report& report);

} // namespace mqfleet::bench
