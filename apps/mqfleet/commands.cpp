#include "commands.hpp"

#include "cmd_completion.hpp"

namespace mqfleet::cli {

std::vector<std::function<void(CLI::App&)>> command_setups() {
  return {
      setup_completion,
  };
}

} // namespace mqfleet::cli
