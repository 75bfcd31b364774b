#include "sub/watch.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/mqtt/topic.hpp>

#include <fmt/format.h>

#include <sys/ioctl.h>

#include <algorithm>

namespace mqfleet::cli {
namespace {

// Rows kept with their text; further topics are only counted (bounded by
// k_max_hidden_topics): no terminal is taller.
constexpr std::size_t k_max_rows = 1000;

// Cuts `line` to at most `cells` characters (UTF-8 code points; a wide character is
// counted as one), so a row never wraps onto the next screen line.
std::string fit(const std::string& line, int cells) {
  int used = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (used == cells) return line.substr(0, i);
    ++used;
  }
  return line;
}

// The same failure `sub` reports for its messages: the pipe or file went away.
void write_out(std::FILE* out, const std::string& text) {
  if ((!text.empty() && std::fwrite(text.data(), 1, text.size(), out) != text.size()) || std::fflush(out) != 0)
    throw Error("cannot write to standard output", "stdout", "check the pipe or file that receives the output");
}

} // namespace

WatchScreen::WatchScreen(std::FILE* out, int fd) : m_out(out), m_fd(fd) {}

void WatchScreen::update(const std::string& topic, std::string line, std::chrono::steady_clock::time_point now) {
  if (const auto it = m_index.find(topic); it != m_index.end()) {
    m_lines[it->second] = std::move(line);
  } else if (m_topics.size() < k_max_rows) {
    m_index.emplace(topic, m_topics.size());
    m_topics.push_back(topic);
    m_lines.push_back(std::move(line));
  } else if (m_hidden.size() < k_max_hidden_topics) {
    m_hidden.insert(topic);
  }
  m_dirty = true;
  if (now - m_last_draw >= k_redraw_interval) {
    m_last_draw = now;
    draw();
  }
}

std::vector<std::string> WatchScreen::layout(int rows, int columns) const {
  // The last screen line stays free for the cursor; the last column too (no auto-wrap).
  const std::size_t capacity = static_cast<std::size_t>(std::max(1, rows - 1));
  const int width = std::max(1, columns - 1);
  std::vector<std::string> out;
  const std::size_t total = m_topics.size() + m_hidden.size();
  const std::size_t shown = total <= capacity ? m_topics.size() : std::min(m_topics.size(), capacity - 1);
  for (std::size_t i = 0; i < shown; ++i) out.push_back(fit(m_lines[i], width));
  if (total > capacity) {
    const std::size_t more = total - shown;
    out.push_back(fit(fmt::format("... {}{} more topics (a taller terminal shows them)", more,
                                  m_hidden.size() == k_max_hidden_topics ? "+" : ""),
                      width));
  }
  return out;
}

void WatchScreen::draw() {
  m_dirty = false;
  winsize size{};
  int rows = 24;
  int columns = 80;
  if (::ioctl(m_fd, TIOCGWINSZ, &size) == 0 && size.ws_row > 0 && size.ws_col > 0) {
    rows = size.ws_row;
    columns = size.ws_col;
  }
  std::vector<std::string> want = layout(rows, columns);
  if (want.size() < m_drawn.size()) want.resize(m_drawn.size());  // a row that went away is blanked
  // The cursor rests at the start of the line below the table: changed rows are reached
  // by moving up and back down, new rows are appended.
  std::string text;
  const std::size_t drawn = m_drawn.size();
  for (std::size_t i = 0; i < drawn; ++i) {
    if (want[i] == m_drawn[i]) continue;
    const std::size_t up = drawn - i;
    text += fmt::format("\x1b[{}A\r{}\x1b[K\x1b[{}B\r", up, want[i], up);
  }
  for (std::size_t i = drawn; i < want.size(); ++i) text += fmt::format("\r{}\x1b[K\n", want[i]);
  m_drawn = std::move(want);
  write_out(m_out, text);
}

RateMeter::RateMeter(std::FILE* out, std::vector<std::string> filters, std::chrono::steady_clock::time_point start)
    : m_out(out), m_filters(std::move(filters)), m_counts(m_filters.size(), 0), m_since(start) {}

void RateMeter::count(const std::string& topic, std::chrono::steady_clock::time_point now) {
  tick(now);
  for (std::size_t i = 0; i < m_filters.size(); ++i)
    if (mqtt::topic_matches(m_filters[i], topic)) ++m_counts[i];
}

void RateMeter::tick(std::chrono::steady_clock::time_point now) {
  if (now - m_since >= std::chrono::seconds(1)) report(now);
}

void RateMeter::finish(std::chrono::steady_clock::time_point now) {
  if (std::any_of(m_counts.begin(), m_counts.end(), [](std::size_t n) { return n > 0; })) report(now);
}

void RateMeter::report(std::chrono::steady_clock::time_point now) {
  const double seconds = std::chrono::duration<double>(now - m_since).count();
  std::string text;
  for (std::size_t i = 0; i < m_filters.size(); ++i) {
    text += fmt::format("{:.1f} msg/s {}\n", seconds > 0 ? static_cast<double>(m_counts[i]) / seconds : 0.0,
                        m_filters[i]);
    m_counts[i] = 0;
  }
  m_since = now;
  write_out(m_out, text);
}

} // namespace mqfleet::cli
