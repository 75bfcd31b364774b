#include "commands.hpp"

#include "cmd_broker.hpp"

namespace mqfleet::cli {

std::vector<std::function<void(CLI::App&)>> command_setups() {
  return {
      setup_broker,
  };
}

} // namespace mqfleet::cli
