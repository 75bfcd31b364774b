#pragma once
// Serialises read-modify-write edits of the registry (`mqfleet device`, `mqfleet bucket`).

#include <filesystem>

namespace mqfleet::cli {

/// An flock on the registry's directory (the file itself is replaced by rename, so it
/// cannot carry the lock). Released on destruction.
class DirectoryLock {
public:
  explicit DirectoryLock(const std::filesystem::path& registry);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

private:
  int m_fd = -1;
};

} // namespace mqfleet::cli
