#include "dashboard/dashboard.hpp"

#include "cli.hpp"
#include "exit_codes.hpp"

#include <mqfleet/broker/device_registry.hpp>
#include <mqfleet/broker/registry_lock.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/json_depth.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace mqfleet::cli {
namespace {

namespace fs = std::filesystem;
using broker::Registry;
using Json = nlohmann::ordered_json;

Json dashboard_json(const broker::Dashboard& dashboard) {
  Json widgets = Json::array();
  for (const auto& widget : dashboard.widgets) {
    Json w = Json::object();
    w["type"] = widget.type;
    for (const auto& [key, value] : widget.options) w[key] = value;
    widgets.push_back(std::move(w));
  }
  return Json{{"id", dashboard.id}, {"title", dashboard.title}, {"widgets", std::move(widgets)}};
}

/// The dashboard of `--from FILE.json` ({"title", "widgets": [{"type", ...}]}).
broker::Dashboard read_dashboard_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read the dashboard file", path, "check the path given to --from");
  std::ostringstream text;
  text << in.rdbuf();
  if (json_nesting_error(text.str()))
    throw ConfigError("the dashboard file nests deeper than 64 levels", path, "flatten it");
  const Json doc = Json::parse(text.str(), nullptr, false);
  if (!doc.is_object() || (doc.contains("widgets") && !doc["widgets"].is_array()))
    throw ConfigError("the dashboard file must be a JSON object {\"title\", \"widgets\": [...]}", path,
                      "see docs/broker.md, \"Dashboards\"");
  broker::Dashboard dashboard;
  if (doc.contains("title") && doc["title"].is_string()) dashboard.title = doc["title"].get<std::string>();
  for (const auto& w : doc.value("widgets", Json::array())) {
    if (!w.is_object()) throw ConfigError("a widget is not a JSON object", path, "give {\"type\": ..., ...}");
    broker::Widget widget;
    for (const auto& [key, value] : w.items()) {
      const std::string text_value = value.is_string() ? value.get<std::string>() : value.dump();
      if (key == "type") widget.type = text_value;
      else widget.options[key] = text_value;
    }
    if (!broker::valid_widget_type(widget.type))
      throw ConfigError("invalid widget type '" + widget.type + "'", path,
                        "use timeseries, gauge, value, led, table, map, switch or slider");
    dashboard.widgets.push_back(std::move(widget));
  }
  return dashboard;
}

Registry load_existing(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw ConfigError("the device registry does not exist", path.string(),
                      "create it with `mqfleet device add ACCOUNT DEVICE --registry " + path.string() + "`");
  return Registry::load(path);
}

int run_add(const DashboardOptions& options) {
  broker::Dashboard dashboard = options.from.empty() ? broker::Dashboard{} : read_dashboard_file(options.from);
  dashboard.id = options.id;
  if (!options.title.empty()) dashboard.title = options.title;
  if (dashboard.title.empty()) dashboard.title = options.id;
  for (const auto& spec : options.widgets) dashboard.widgets.push_back(broker::parse_widget(spec));
  const fs::path path = options.registry;
  broker::RegistryLock lock(path);
  std::error_code ec;
  Registry registry = fs::exists(path, ec) ? Registry::load(path) : Registry();
  const auto widgets = dashboard.widgets.size();
  registry.put_dashboard(options.account, std::move(dashboard));
  registry.save(path);
  std::cerr << fmt::format("mqfleet: dashboard '{}' of account '{}' ({} widgets) saved in {}; reload a running broker "
                           "with SIGHUP\n",
                           options.id, options.account, widgets, path.string());
  return exit_code::k_success;
}

int run_list(const DashboardOptions& options) {
  const Registry registry = load_existing(options.registry);
  Json rows = Json::array();
  for (const auto& [name, account] : registry.accounts()) {
    if (!options.account.empty() && name != options.account) continue;
    for (const auto& [id, dashboard] : account.dashboards)
      rows.push_back({{"account", name}, {"id", id}, {"title", dashboard.title}, {"widgets", dashboard.widgets.size()}});
  }
  if (options.format == "json") {
    std::cout << rows.dump(2) << '\n';
    return exit_code::k_success;
  }
  for (const auto& row : rows)
    std::cout << fmt::format("{:<16} {:<16} {} ({} widgets)\n", row["account"].get<std::string>(),
                             row["id"].get<std::string>(), row["title"].get<std::string>(),
                             row["widgets"].get<std::size_t>());
  return exit_code::k_success;
}

int run_show(const DashboardOptions& options) {
  const Registry registry = load_existing(options.registry);
  const auto* account = registry.find_account(options.account);
  auto it = account != nullptr ? account->dashboards.find(options.id) : decltype(account->dashboards.end()){};
  if (account == nullptr || it == account->dashboards.end())
    throw ConfigError(fmt::format("no dashboard '{}' in account '{}'", options.id, options.account), options.registry,
                      "list them with `mqfleet dashboard list`");
  std::cout << dashboard_json(it->second).dump(2) << '\n';
  return exit_code::k_success;
}

int run_remove(const DashboardOptions& options) {
  const fs::path path = options.registry;
  broker::RegistryLock lock(path);
  Registry registry = load_existing(path);
  registry.remove_dashboard(options.account, options.id);
  registry.save(path);
  std::cerr << fmt::format("mqfleet: removed dashboard '{}' of account '{}'\n", options.id, options.account);
  return exit_code::k_success;
}

void add_registry_option(CLI::App* sub, DashboardOptions& options) {
  sub->add_option("--registry", options.registry, "Device registry file (JSON; see docs/registry.md)")
      ->envname("MQFLEET_REGISTRY")
      ->required();
}

} // namespace

void setup_dashboard(CLI::App& app) {
  auto* dashboard = app.add_subcommand("dashboard", "Manage the dashboards the broker's HTTP listener serves");
  dashboard->require_subcommand(1);

  auto add_options = std::make_shared<DashboardOptions>();
  add_options->action = DashboardOptions::Action::add;
  auto* add = dashboard->add_subcommand("add", "Add or replace a dashboard of an account");
  add->add_option("account", add_options->account, "Account")->required();
  add->add_option("id", add_options->id, "Dashboard id (letters, digits, _ - .)")->required();
  add->add_option("--title", add_options->title, "Title (default: the id)");
  add->add_option("--widget", add_options->widgets,
                  "A widget: type=timeseries|gauge|value|led|table|switch|slider,bucket=B,field=F,... (repeatable)");
  add->add_option("--from", add_options->from, "Read the dashboard from this JSON file ({\"title\", \"widgets\"})");
  add_registry_option(add, *add_options);
  set_action(add, [add_options] { return run_dashboard(*add_options); });

  auto list_options = std::make_shared<DashboardOptions>();
  list_options->action = DashboardOptions::Action::list;
  auto* list = dashboard->add_subcommand("list", "List the dashboards");
  list->add_option("account", list_options->account, "Only this account");
  add_registry_option(list, *list_options);
  list->add_option("--format", list_options->format, "Output format")->check(CLI::IsMember({"text", "json"}));
  set_action(list, [list_options] { return run_dashboard(*list_options); });

  auto show_options = std::make_shared<DashboardOptions>();
  show_options->action = DashboardOptions::Action::show;
  auto* show = dashboard->add_subcommand("show", "Print a dashboard as JSON");
  show->add_option("account", show_options->account, "Account")->required();
  show->add_option("id", show_options->id, "Dashboard id")->required();
  add_registry_option(show, *show_options);
  set_action(show, [show_options] { return run_dashboard(*show_options); });

  auto rm_options = std::make_shared<DashboardOptions>();
  rm_options->action = DashboardOptions::Action::remove;
  auto* rm = dashboard->add_subcommand("rm", "Remove a dashboard");
  rm->add_option("account", rm_options->account, "Account")->required();
  rm->add_option("id", rm_options->id, "Dashboard id")->required();
  add_registry_option(rm, *rm_options);
  set_action(rm, [rm_options] { return run_dashboard(*rm_options); });
}

int run_dashboard(const DashboardOptions& options) {
  switch (options.action) {
  case DashboardOptions::Action::add: return run_add(options);
  case DashboardOptions::Action::list: return run_list(options);
  case DashboardOptions::Action::show: return run_show(options);
  case DashboardOptions::Action::remove: return run_remove(options);
  }
  return exit_code::k_internal;
}

} // namespace mqfleet::cli
