#include <mqfleet/broker/registry_lock.hpp>

#include <mqfleet/error.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <unistd.h>

namespace mqfleet::broker {

RegistryLock::RegistryLock(const std::filesystem::path& registry) {
  const auto directory = registry.has_parent_path() ? registry.parent_path() : std::filesystem::path(".");
  m_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (m_fd < 0)
    throw ConfigError(std::string("cannot open the registry's directory: ") + std::strerror(errno), registry.string(),
                      "create the directory first");
  while (::flock(m_fd, LOCK_EX) != 0 && errno == EINTR) {
  }
}

RegistryLock::~RegistryLock() { ::close(m_fd); }

} // namespace mqfleet::broker
