#include "terminal_prompt.hpp"

#include <mqfleet/error.hpp>

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace mqfleet::cli {
namespace {

// Restores the terminal settings even when reading throws.
class EchoOff {
public:
  EchoOff() {
    if (::tcgetattr(STDIN_FILENO, &m_saved) != 0) return;
    termios quiet = m_saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    m_active = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~EchoOff() {
    if (m_active) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &m_saved);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

private:
  termios m_saved{};
  bool m_active = false;
};

} // namespace

bool can_prompt() { return ::isatty(STDIN_FILENO) == 1; }

std::string prompt_secret(const std::string& label) {
  if (!can_prompt())
    throw ConfigError("the credential must be typed in, but stdin is not a terminal", "-P -",
                      "use --password-env NAME or --password-file PATH in scripts");
  std::cerr << label << std::flush;
  std::string line;
  {
    EchoOff quiet;
    if (!std::getline(std::cin, line))
      throw ConfigError("no credential was typed (end of input)", "-P -", "type the credential and press Enter");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

} // namespace mqfleet::cli
