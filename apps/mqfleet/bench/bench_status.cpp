#include "bench/bench_status.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>

namespace mqfleet::cli {
namespace {

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

} // namespace

void StatusLine::update() {
  if (!m_enabled) {
    return;
  }
  const double now = seconds_now();
  if (m_started < 0) {
    m_started = now;
    m_last_draw = now;
    return;
  }
  if (now - m_last_draw < 1.0) {
    return;
  }
  const double span = now - m_last_draw;
  const std::uint64_t sent = m_live.sent.load(std::memory_order_relaxed);
  const std::uint64_t received = m_live.received.load(std::memory_order_relaxed);
  const std::string line = fmt::format(
      "\r[{:.0f}s] conn {} fail {} | sent {} ({:.0f}/s) acked {} | recv {} ({:.0f}/s) last {:.1f}ms | errors {}   ",
      now - m_started, m_live.connected.load(), m_live.failed.load(), sent,
      static_cast<double>(sent - m_last_sent) / span, m_live.acked.load(), received,
      static_cast<double>(received - m_last_received) / span,
      static_cast<double>(m_live.last_latency_us.load()) / 1000.0, m_live.errors.load());
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  m_drawn = true;
  m_last_draw = now;
  m_last_sent = sent;
  m_last_received = received;
}

void StatusLine::clear() {
  if (m_enabled && m_drawn) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    m_drawn = false;
  }
}

void StatusLine::note(const std::string& text) {
  clear();
  std::fputs(("mqfleet: bench: " + text + "\n").c_str(), stderr);
  std::fflush(stderr);
}

} // namespace mqfleet::cli
