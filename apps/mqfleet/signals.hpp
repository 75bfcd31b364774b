#pragma once
// Process signal handling. SIGINT/SIGTERM request a graceful stop through a stop token
// that long-running commands poll; a second SIGINT exits at once with code 130. SIGHUP
// calls the reload handler if one is set (the broker reloads its registry); without one it
// is a closed terminal and stops the command as SIGTERM does.

#include <functional>
#include <stop_token>

namespace mqfleet::cli {

/// Blocks SIGINT, SIGTERM and SIGHUP in every thread and starts the thread that waits
/// for them. Call first thing in main, before any library starts threads.
void install_signal_handling();

/// The token that becomes stop-requested on the first SIGINT or SIGTERM (or SIGHUP
/// without a reload handler).
std::stop_token stop_token();

/// The signal number that requested the stop, or 0.
int stop_signal() noexcept;

/// Sets the function called (on the signal thread) on each SIGHUP.
void set_reload_handler(std::function<void()> handler);

} // namespace mqfleet::cli
