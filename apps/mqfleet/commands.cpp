#include "commands.hpp"

namespace mqfleet::cli {

std::vector<std::function<void(CLI::App&)>> command_setups() {
  return {};
}

} // namespace mqfleet::cli
