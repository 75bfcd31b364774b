#include "commands.hpp"

#include "cmd_completion.hpp"
#include "cmd_device.hpp"

namespace mqfleet::cli {

std::vector<std::function<void(CLI::App&)>> command_setups() {
  return {
      setup_completion,
      setup_device,
  };
}

} // namespace mqfleet::cli
