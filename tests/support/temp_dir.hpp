#pragma once
// A temporary directory removed (recursively) in its destructor.

#include <filesystem>
#include <string>

namespace mqfleet::test {

/// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const noexcept { return m_path; }
  /// path() / name, as a string.
  std::string file(const std::string& name) const { return (m_path / name).string(); }
  /// Writes `content` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

private:
  std::filesystem::path m_path;
};

/// The whole content of a file (throws std::runtime_error when it cannot be read).
std::string read_file(const std::filesystem::path& path);

} // namespace mqfleet::test
