#include "signals.hpp"

#include "exit_codes.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <unistd.h>

namespace mqfleet::cli {
namespace {

std::stop_source& stop_source() {
  static std::stop_source source;
  return source;
}

std::atomic<int> g_stop_signal{0};
std::mutex g_reload_mutex;
std::function<void()> g_reload_handler;

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

void wait_for_signals() {
  const sigset_t set = handled_signals();
  for (;;) {
    int signal_number = 0;
    if (sigwait(&set, &signal_number) != 0) continue;
    if (signal_number == SIGHUP) {
      // The broker reloads on SIGHUP; for every other command it is a closed terminal,
      // which stops it as SIGTERM does (mosquitto_sub ends on a hangup too).
      std::lock_guard lock(g_reload_mutex);
      if (g_reload_handler) {
        g_reload_handler();
        continue;
      }
    }
    if (g_stop_signal.exchange(signal_number) != 0) {
      // A second stop signal: the user insists; leave without cleaning up.
      std::fflush(stdout);
      _exit(exit_code::k_interrupted);
    }
    stop_source().request_stop();
  }
}

} // namespace

void install_signal_handling() {
  const sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::thread(wait_for_signals).detach();
}

std::stop_token stop_token() { return stop_source().get_token(); }

int stop_signal() noexcept { return g_stop_signal.load(); }

void set_reload_handler(std::function<void()> handler) {
  std::lock_guard lock(g_reload_mutex);
  g_reload_handler = std::move(handler);
}

} // namespace mqfleet::cli
