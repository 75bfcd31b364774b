#pragma once
// `mqfleet dashboard add|list|show|rm`: the dashboards of an account, stored in the device
// registry and served by the broker's HTTP listener at /console/{account}/dashboards/{id}
// (docs/broker.md, "Dashboards").

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace mqfleet::cli {

/// The options of every `dashboard` subcommand.
struct DashboardOptions {
  enum class Action { add, list, show, remove };
  Action action = Action::list;
  std::string registry;             ///< --registry FILE (or $MQFLEET_REGISTRY)
  std::string account;              ///< ACCOUNT
  std::string id;                   ///< ID
  std::string title;                ///< --title
  std::vector<std::string> widgets; ///< --widget SPEC (repeatable)
  std::string from;                 ///< --from FILE.json: {"title", "widgets": [{...}]}
  std::string format = "text";      ///< list/show --format text|json
};

/// Adds the `dashboard` subcommand and its nested subcommands.
void setup_dashboard(CLI::App& app);

/// Runs one `dashboard` subcommand; returns the exit code.
int run_dashboard(const DashboardOptions& options);

} // namespace mqfleet::cli
