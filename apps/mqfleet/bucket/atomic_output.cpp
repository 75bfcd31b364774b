#include "bucket/atomic_output.hpp"

#include <mqfleet/error.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mqfleet::cli {

AtomicOutput::AtomicOutput(std::filesystem::path target) : m_target(std::move(target)) {
  const auto directory = m_target.has_parent_path() ? m_target.parent_path() : std::filesystem::path(".");
  std::string pattern = (directory / ("." + m_target.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0)
    throw ConfigError(std::string("cannot create the output file: ") + std::strerror(errno), m_target.string(),
                      "check that the directory exists and is writable");
  ::fchmod(fd, 0644);
  ::close(fd);
  m_temp = pattern;
  m_out.open(m_temp, std::ios::binary | std::ios::trunc);
  if (!m_out) {
    ::unlink(m_temp.c_str());
    throw ConfigError("cannot open the output file", m_target.string(), "check the directory permissions");
  }
}

AtomicOutput::~AtomicOutput() {
  if (!m_committed) {
    m_out.close();
    ::unlink(m_temp.c_str());
  }
}

void AtomicOutput::commit() {
  m_out.flush();
  const bool ok = static_cast<bool>(m_out);
  m_out.close();
  if (!ok) throw ConfigError("cannot write the output file", m_target.string(), "check the free disk space");
  if (const int fd = ::open(m_temp.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  if (::rename(m_temp.c_str(), m_target.c_str()) != 0)
    throw ConfigError(std::string("cannot move the output file into place: ") + std::strerror(errno),
                      m_target.string(), "check the directory permissions");
  m_committed = true;
}

} // namespace mqfleet::cli
