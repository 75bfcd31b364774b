#pragma once
// Serialises read-modify-write edits of a device registry file between processes
// (`mqfleet device`, `mqfleet bucket`, `mqfleet sim --provision`).

#include <filesystem>

namespace mqfleet::broker {

/// An exclusive flock on the directory of a registry file, released on destruction. The
/// file itself is replaced by rename (atomic save), so it cannot carry the lock.
class RegistryLock {
public:
  /// Locks the directory of `registry`, waiting for another holder; throws ConfigError
  /// when the directory cannot be opened.
  explicit RegistryLock(const std::filesystem::path& registry);
  ~RegistryLock();
  RegistryLock(const RegistryLock&) = delete;
  RegistryLock& operator=(const RegistryLock&) = delete;

private:
  int m_fd = -1;
};

} // namespace mqfleet::broker
