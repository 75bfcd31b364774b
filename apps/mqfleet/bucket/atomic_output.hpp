#pragma once
// Output files that appear complete or not at all (`--output`, `--svg`): written to a
// temporary file in the same directory, flushed to disk, then renamed over the target.

#include <filesystem>
#include <fstream>
#include <string>

namespace mqfleet::cli {

/// A file being written; removed unless commit() succeeds.
class AtomicOutput {
public:
  /// Creates the temporary file next to `target`. Throws ConfigError.
  explicit AtomicOutput(std::filesystem::path target);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  /// The stream to write to.
  std::ostream& stream() noexcept { return m_out; }
  /// Flushes, fsyncs and renames the file into place. Throws ConfigError.
  void commit();

private:
  std::filesystem::path m_target;
  std::string m_temp;
  std::ofstream m_out;
  bool m_committed = false;
};

} // namespace mqfleet::cli
