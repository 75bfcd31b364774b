#pragma once
// Child processes for black-box tests: start a real binary with arguments, feed its
// stdin, collect stdout/stderr, wait for a line, signal it, and always reap it.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mqfleet::test {

using namespace std::chrono_literals;

/// How to start a child process.
struct ProcessOptions {
  std::map<std::string, std::string> env;  ///< added to (or replacing in) the environment
  std::vector<std::string> unset_env;      ///< removed from the environment
  std::string cwd;                         ///< working directory; empty = inherit
  std::string stdout_file;                 ///< if set, stdout goes to this file, not memory
};

/// The outcome of a finished process.
struct ProcessResult {
  int exit_code = -1;    ///< exit status, or 128 + signal number when killed
  std::string out;       ///< everything written to stdout
  std::string err;       ///< everything written to stderr
  bool timed_out = false;
};

/// A running child process; killed (SIGTERM, then SIGKILL) and reaped in the destructor.
class Process {
public:
  Process(std::vector<std::string> argv, ProcessOptions options = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  int pid() const noexcept { return m_pid; }
  /// Writes to the child's stdin (blocking until written).
  void write_stdin(const std::string& data);
  /// Closes the child's stdin (EOF).
  void close_stdin();
  /// Sends a signal to the child.
  void signal(int signal_number);
  /// Waits until a stdout line satisfies `pred` and returns it; nullopt on timeout or exit.
  std::optional<std::string> wait_for_stdout_line(const std::function<bool(const std::string&)>& pred,
                                                  std::chrono::milliseconds timeout = 10s);
  /// Same for stderr.
  std::optional<std::string> wait_for_stderr_line(const std::function<bool(const std::string&)>& pred,
                                                  std::chrono::milliseconds timeout = 10s);
  /// Waits for exit; on timeout kills the child and sets timed_out.
  ProcessResult wait(std::chrono::milliseconds timeout = 60s);
  /// True while the child has not exited.
  bool running();
  /// Output collected so far.
  std::string stdout_so_far();
  std::string stderr_so_far();

private:
  std::optional<std::string> wait_for_line(const std::string& buffer_name,
                                           const std::function<bool(const std::string&)>& pred,
                                           std::chrono::milliseconds timeout);
  void reap(bool block);

  int m_pid = -1;
  int m_stdin_fd = -1;
  bool m_exited = false;
  int m_status = 0;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::string m_out;
  std::string m_err;
  bool m_out_closed = false;
  bool m_err_closed = false;
  std::thread m_out_reader;
  std::thread m_err_reader;
};

/// Runs a process to completion with `stdin_data` as its input.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data = {},
                          std::chrono::milliseconds timeout = 60s, ProcessOptions options = {});

/// The mqfleet binary under test (from the MQFLEET_BIN environment variable).
std::string mqfleet_bin();

/// Runs `mqfleet args...` to completion.
ProcessResult run_mqfleet(const std::vector<std::string>& args, const std::string& stdin_data = {},
                          std::chrono::milliseconds timeout = 60s, ProcessOptions options = {});

/// A TCP port on 127.0.0.1 that was free a moment ago (for peers that cannot bind port 0).
int free_tcp_port();

/// Splits text into lines (without the newline characters).
std::vector<std::string> split_lines(const std::string& text);

/// Path of an executable found on PATH or in /usr/sbin, /usr/bin; empty when missing.
std::string find_program(const std::string& name);

} // namespace mqfleet::test
