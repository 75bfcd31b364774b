#include "commands.hpp"

#include "bench/bench.hpp"
#include "broker/broker.hpp"
#include "bucket/bucket.hpp"
#include "completion/completion.hpp"
#include "dashboard/dashboard.hpp"
#include "device/device.hpp"
#include "profile/profile.hpp"
#include "pub/pub.hpp"
#include "rr/rr.hpp"
#include "sim/sim.hpp"
#include "sub/sub.hpp"
#include "token/token.hpp"

namespace mqfleet::cli {

std::vector<CommandSetup> command_setups() {
  return {
      {"pub", setup_pub},
      {"sub", setup_sub},
      {"rr", setup_rr},
      {"profile", setup_profile},
      {"broker", setup_broker},
      {"device", setup_device},
      {"bucket", setup_bucket},
      {"token", setup_token},
      {"dashboard", setup_dashboard},
      {"sim", setup_sim},
      {"bench", setup_bench},
      {"completion", setup_completion},
  };
}

} // namespace mqfleet::cli
