#include "commands.hpp"

#include "cmd_profile.hpp"
#include "cmd_pub.hpp"

namespace mqfleet::cli {

std::vector<std::function<void(CLI::App&)>> command_setups() {
  return {
      setup_pub,
      setup_profile,
  };
}

} // namespace mqfleet::cli
