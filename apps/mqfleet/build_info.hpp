#pragma once
// What `mqfleet --version` prints. Defined in a source generated at build time
// (cmake/Version.cmake, cmake/BuildInfo.cmake).

namespace mqfleet::cli {

/// "mqfleet <project version> (commit <git commit>[-dirty], <build type>)".
const char* version_text() noexcept;

} // namespace mqfleet::cli
