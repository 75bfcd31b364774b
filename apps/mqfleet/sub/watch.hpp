#pragma once
// The two live views of `mqfleet sub`: --watch (one fixed screen line per topic, updated
// in place: a live table of a fleet) and --message-rate (messages per second per filter,
// once a second). Both sit behind `sub`'s printer; neither touches the network.

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mqfleet::cli {

/// --watch on a terminal: rows in the order topics first appeared, redrawn in place at
/// most every `k_redraw_interval`, only the rows whose text changed. Lines are cut to the
/// terminal's width; topics beyond its height are counted on the last row.
class WatchScreen {
public:
  /// At most this often the screen is redrawn (a fleet can send thousands a second).
  static constexpr std::chrono::milliseconds k_redraw_interval{100};
  /// Topics remembered beyond the screen, so the "more" count stays bounded in memory.
  static constexpr std::size_t k_max_hidden_topics = 100000;

  /// Draws on `out` (a terminal); its size is read at every redraw.
  explicit WatchScreen(std::FILE* out, int fd);
  /// Records the latest line of `topic`; redraws when the last redraw is old enough.
  void update(const std::string& topic, std::string line, std::chrono::steady_clock::time_point now);
  /// Redraws what changed (if anything) and flushes.
  void draw();
  /// True when an update has not been drawn yet.
  bool dirty() const noexcept { return m_dirty; }
  /// Rows as they should look for a terminal of `rows` x `columns` (pure; for tests).
  std::vector<std::string> layout(int rows, int columns) const;

private:
  std::FILE* m_out;
  int m_fd;
  std::vector<std::string> m_topics;                     ///< shown topics, in order of appearance
  std::vector<std::string> m_lines;                      ///< their latest lines
  std::unordered_map<std::string, std::size_t> m_index;  ///< topic -> row
  std::unordered_set<std::string> m_hidden;              ///< topics that did not fit
  std::size_t m_capacity = 0;                            ///< rows that fit, fixed at the first row that did not
  std::vector<std::string> m_drawn;                      ///< what is on the screen now
  bool m_dirty = false;
  std::chrono::steady_clock::time_point m_last_draw{};
};

/// --message-rate: counts messages per subscribed filter (a message matching two filters
/// counts for both) and prints "RATE msg/s FILTER" per filter once a second.
class RateMeter {
public:
  /// Reports on `out`; `filters` are sub's -t filters.
  RateMeter(std::FILE* out, std::vector<std::string> filters, std::chrono::steady_clock::time_point start);
  /// Counts one message on `topic`; reports first when a second has passed.
  void count(const std::string& topic, std::chrono::steady_clock::time_point now);
  /// Reports when a second has passed since the last report.
  void tick(std::chrono::steady_clock::time_point now);
  /// Reports the last, partial interval (if it counted anything).
  void finish(std::chrono::steady_clock::time_point now);

private:
  void report(std::chrono::steady_clock::time_point now);

  std::FILE* m_out;
  std::vector<std::string> m_filters;
  std::vector<std::size_t> m_counts;
  std::chrono::steady_clock::time_point m_since;
};

} // namespace mqfleet::cli
