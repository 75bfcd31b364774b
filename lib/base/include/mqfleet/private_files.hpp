#pragma once
// Files only their owner may read: the broker's --data-dir holds every tenant's data
// (sessions, queued and retained messages, bucket points), so it is created 0700 and its
// databases 0600, as the registry is (docs/broker.md, "Data directory").

#include <filesystem>
#include <system_error>
#include <vector>

#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mqfleet {

/// Creates `dir` and any missing parents with mode 0700. A directory that already exists
/// keeps its mode (the user chose it).
inline std::error_code create_private_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> missing;
  for (auto p = std::filesystem::absolute(dir, ec); !ec && !p.empty(); p = p.parent_path()) {
    if (std::filesystem::exists(p, ec) || ec) break;
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  if (ec) return ec;
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) return {errno, std::generic_category()};
  }
  if (!std::filesystem::is_directory(dir, ec) && !ec) return std::make_error_code(std::errc::not_a_directory);
  return ec;
}

/// Makes the database file `file` (and its SQLite -wal/-shm companions, when present)
/// mode 0600, creating `file` empty when missing, before SQLite opens it: SQLite gives
/// the companions the database file's mode.
inline std::error_code prepare_private_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return {errno, std::generic_category()};
  const int rc = ::fchmod(fd, 0600);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) return {saved, std::generic_category()};
  for (const char* suffix : {"-wal", "-shm"}) {
    const auto companion = file.string() + suffix;
    if (::chmod(companion.c_str(), 0600) != 0 && errno != ENOENT) return {errno, std::generic_category()};
  }
  return {};
}

} // namespace mqfleet
