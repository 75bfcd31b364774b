#include "support/process.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <netinet/in.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace mqfleet::test {
namespace {

std::vector<std::string> build_environment(const ProcessOptions& options) {
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string kv(*entry);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& name : options.unset_env) env.erase(name);
  for (const auto& [name, value] : options.env) env[name] = value;
  std::vector<std::string> result;
  for (const auto& [name, value] : env) result.push_back(name + "=" + value);
  return result;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

} // namespace

Process::Process(std::vector<std::string> argv, ProcessOptions options) {
  if (argv.empty()) throw std::invalid_argument("Process: empty argv");
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe2 failed");
  auto env = build_environment(options);
  auto env_c = c_strings(env);
  auto argv_c = c_strings(argv);
  int out_file = -1;
  if (!options.stdout_file.empty()) {
    out_file = open(options.stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_file < 0) throw std::runtime_error("cannot open " + options.stdout_file);
  }
  m_pid = fork();
  if (m_pid < 0) throw std::runtime_error("fork failed");
  if (m_pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_file >= 0 ? out_file : out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(126);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    execvpe(argv_c[0], argv_c.data(), env_c.data());
    _exit(127);
  }
  if (out_file >= 0) close(out_file);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  m_stdin_fd = in_pipe[1];
  auto reader = [this](int fd, std::string* buffer, bool* closed) {
    char chunk[65536];
    for (;;) {
      ssize_t n = read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock(m_mutex);
      if (n <= 0) {
        *closed = true;
        m_changed.notify_all();
        break;
      }
      buffer->append(chunk, static_cast<size_t>(n));
      m_changed.notify_all();
    }
    close(fd);
  };
  m_out_reader = std::thread(reader, out_pipe[0], &m_out, &m_out_closed);
  m_err_reader = std::thread(reader, err_pipe[0], &m_err, &m_err_closed);
}

Process::~Process() {
  close_stdin();
  if (running()) {
    ::kill(m_pid, SIGTERM);
    for (int i = 0; i < 50 && running(); ++i) usleep(20000);
    if (running()) ::kill(m_pid, SIGKILL);
  }
  reap(true);
  if (m_out_reader.joinable()) m_out_reader.join();
  if (m_err_reader.joinable()) m_err_reader.join();
}

void Process::write_stdin(const std::string& data) {
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(m_stdin_fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("write to child stdin failed");
    written += static_cast<size_t>(n);
  }
}

void Process::close_stdin() {
  if (m_stdin_fd >= 0) {
    close(m_stdin_fd);
    m_stdin_fd = -1;
  }
}

void Process::signal(int signal_number) {
  if (running()) ::kill(m_pid, signal_number);
}

void Process::reap(bool block) {
  if (m_exited || m_pid <= 0) return;
  int status = 0;
  pid_t r = waitpid(m_pid, &status, block ? 0 : WNOHANG);
  if (r == m_pid) {
    m_exited = true;
    m_status = status;
  }
}

bool Process::running() {
  reap(false);
  return !m_exited;
}

std::optional<std::string> Process::wait_for_line(const std::string& which,
                                                  const std::function<bool(const std::string&)>& pred,
                                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(m_mutex);
  size_t scanned = 0;
  for (;;) {
    const std::string& buffer = which == "out" ? m_out : m_err;
    const bool closed = which == "out" ? m_out_closed : m_err_closed;
    size_t newline;
    while ((newline = buffer.find('\n', scanned)) != std::string::npos) {
      std::string line = buffer.substr(scanned, newline - scanned);
      scanned = newline + 1;
      if (pred(line)) return line;
    }
    if (closed) return std::nullopt;
    if (m_changed.wait_until(lock, deadline) == std::cv_status::timeout) return std::nullopt;
  }
}

std::optional<std::string> Process::wait_for_stdout_line(const std::function<bool(const std::string&)>& pred,
                                                         std::chrono::milliseconds timeout) {
  return wait_for_line("out", pred, timeout);
}

std::optional<std::string> Process::wait_for_stderr_line(const std::function<bool(const std::string&)>& pred,
                                                         std::chrono::milliseconds timeout) {
  return wait_for_line("err", pred, timeout);
}

ProcessResult Process::wait(std::chrono::milliseconds timeout) {
  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      result.timed_out = true;
      ::kill(m_pid, SIGKILL);
      reap(true);
      break;
    }
    usleep(2000);
  }
  if (m_out_reader.joinable()) m_out_reader.join();
  if (m_err_reader.joinable()) m_err_reader.join();
  result.exit_code = WIFEXITED(m_status) ? WEXITSTATUS(m_status) : 128 + WTERMSIG(m_status);
  std::lock_guard lock(m_mutex);
  result.out = m_out;
  result.err = m_err;
  return result;
}

std::string Process::stdout_so_far() {
  std::lock_guard lock(m_mutex);
  return m_out;
}

std::string Process::stderr_so_far() {
  std::lock_guard lock(m_mutex);
  return m_err;
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data,
                          std::chrono::milliseconds timeout, ProcessOptions options) {
  Process process(argv, std::move(options));
  std::thread feeder([&] {
    try {
      process.write_stdin(stdin_data);
    } catch (const std::exception&) {
      // The child exited before reading everything; its exit code tells the story.
    }
    process.close_stdin();
  });
  auto result = process.wait(timeout);
  feeder.join();
  return result;
}

std::string mqfleet_bin() {
  const char* bin = std::getenv("MQFLEET_BIN");
  if (bin == nullptr || *bin == '\0') throw std::runtime_error("MQFLEET_BIN is not set (run the test through ctest)");
  return bin;
}

ProcessResult run_mqfleet(const std::vector<std::string>& args, const std::string& stdin_data,
                          std::chrono::milliseconds timeout, ProcessOptions options) {
  std::vector<std::string> argv{mqfleet_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, stdin_data, timeout, std::move(options));
}

int free_tcp_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("bind to port 0 failed");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string find_program(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/usr/bin:/sbin:/bin";
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    auto candidate = std::filesystem::path(dir) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

} // namespace mqfleet::test
