#include "commands.hpp"

#include "cmd_broker.hpp"
#include "cmd_device.hpp"

namespace mqfleet::cli {

std::vector<std::function<void(CLI::App&)>> command_setups() {
  return {
      setup_broker,
      setup_device,
  };
}

} // namespace mqfleet::cli
