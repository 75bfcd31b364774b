#include "commands.hpp"

#include "cmd_bench.hpp"
#include "cmd_broker.hpp"
#include "cmd_bucket.hpp"
#include "cmd_completion.hpp"
#include "cmd_device.hpp"
#include "cmd_profile.hpp"
#include "cmd_pub.hpp"
#include "cmd_sim.hpp"
#include "cmd_sub.hpp"

namespace mqfleet::cli {

std::vector<CommandSetup> command_setups() {
  return {
      {"pub", setup_pub},
      {"sub", setup_sub},
      {"profile", setup_profile},
      {"broker", setup_broker},
      {"device", setup_device},
      {"bucket", setup_bucket},
      {"sim", setup_sim},
      {"bench", setup_bench},
      {"completion", setup_completion},
  };
}

} // namespace mqfleet::cli
