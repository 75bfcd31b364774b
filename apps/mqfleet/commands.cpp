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

std::vector<std::function<void(CLI::App&)>> command_setups() {
  return {
      setup_pub,
      setup_sub,
      setup_profile,
      setup_broker,
      setup_device,
      setup_bucket,
      setup_sim,
      setup_bench,
      setup_completion,
  };
}

} // namespace mqfleet::cli
