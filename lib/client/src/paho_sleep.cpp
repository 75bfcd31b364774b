#include "paho_sleep.hpp"

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <atomic>
#include <poll.h>
#include <unistd.h>

namespace mqfleet::detail {
namespace {

std::mutex g_mutex;
std::condition_variable g_changed;
int g_fast_scopes = 0;
// Read without the mutex on every poll() of the process.
std::atomic<int> g_fast_polls{0};

constexpr auto k_fast_step = std::chrono::milliseconds(1);

} // namespace

void begin_fast_sleeps() {
  std::lock_guard lock(g_mutex);
  ++g_fast_scopes;
  ++g_fast_polls;
  g_changed.notify_all();
}

void end_fast_sleeps() {
  std::lock_guard lock(g_mutex);
  --g_fast_scopes;
  --g_fast_polls;
}

} // namespace mqfleet::detail

// Replaces libc's usleep for the whole process: the executable exports it (see
// lib/client/CMakeLists.txt), so libpaho-mqtt3as, which calls it through its PLT, binds to
// this definition before libc's, also when the Paho module is loaded later with dlopen
// (symbols resolve through the global scope, the executable first). Outside a fast-sleep
// span it sleeps the full time, like libc; an early return is within usleep's
// contract (a signal may end it early too).
extern "C" int usleep(useconds_t microseconds) {
  using namespace mqfleet::detail;
  const auto duration = std::chrono::microseconds(microseconds);
  if (duration < k_fast_step) {
    const timespec request{0, static_cast<long>(microseconds) * 1000};
    return nanosleep(&request, nullptr);
  }
  std::unique_lock lock(g_mutex);
  if (g_fast_scopes > 0) {
    g_changed.wait_for(lock, k_fast_step);
    return 0;
  }
  g_changed.wait_for(lock, duration, [] { return g_fast_scopes > 0; });
  return 0;
}

// Replaces libc's poll for the same reason: while a TCP connect completes, Paho's receive
// thread waits for it in poll(..., 10 ms) on the read set, although the socket became
// writable at once. Inside a fast-sleep span waits last at most 1 ms (returning 0, "nothing
// ready", as a timeout does); otherwise this is libc's poll.
extern "C" int poll(pollfd* fds, nfds_t count, int timeout_ms) {
  if (timeout_ms > 1 && mqfleet::detail::g_fast_polls.load(std::memory_order_relaxed) > 0) timeout_ms = 1;
  if (timeout_ms < 0) return ppoll(fds, count, nullptr, nullptr);
  const timespec timeout{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1'000'000L};
  return ppoll(fds, count, &timeout, nullptr);
}
