#include "token/token.hpp"

#include "cli.hpp"
#include "exit_codes.hpp"

#include <mqfleet/broker/api_tokens.hpp>
#include <mqfleet/broker/device_registry.hpp>
#include <mqfleet/broker/registry_lock.hpp>
#include <mqfleet/error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

namespace mqfleet::cli {
namespace {

namespace fs = std::filesystem;
using broker::Registry;

int run_add(const TokenOptions& options) {
  broker::ApiToken token;
  if (options.admin) {
    if (!options.second.empty())
      throw ConfigError("an admin token belongs to no account", "ACCOUNT",
                        "give only the name: `mqfleet token add --admin NAME`");
    token.name = options.first;
    token.admin = true;
  } else {
    if (options.second.empty())
      throw ConfigError("missing the token's name", "NAME", "use `mqfleet token add ACCOUNT NAME`");
    token.account = options.first;
    token.name = options.second;
  }
  const fs::path path = options.registry;
  broker::RegistryLock lock(path);
  std::error_code ec;
  Registry registry = fs::exists(path, ec) ? Registry::load(path) : Registry();
  const std::string secret = broker::generate_api_token();
  token.hash = broker::hash_api_token(secret);
  registry.add_token(token);
  registry.save(path);
  std::cerr << (token.admin ? fmt::format("mqfleet: added admin token '{}' to {}\n", token.name, path.string())
                            : fmt::format("mqfleet: added token '{}' of account '{}' to {}\n", token.name,
                                          token.account, path.string()));
  std::cerr << "mqfleet: the token is shown once; reload a running broker with SIGHUP\n";
  std::cout << secret << '\n' << std::flush;
  return exit_code::k_success;
}

Registry load_existing(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw ConfigError("the device registry does not exist", path.string(),
                      "create a token with `mqfleet token add ACCOUNT NAME --registry " + path.string() + "`");
  return Registry::load(path);
}

int run_list(const TokenOptions& options) {
  const Registry registry = load_existing(options.registry);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [name, token] : registry.tokens()) {
    if (!options.first.empty() && token.account != options.first) continue;
    rows.push_back({{"name", name}, {"account", token.admin ? nlohmann::json(nullptr) : nlohmann::json(token.account)},
                    {"admin", token.admin}});
  }
  if (options.format == "json") {
    std::cout << rows.dump(2) << '\n';
    return exit_code::k_success;
  }
  std::cout << fmt::format("{:<24} {}\n", "NAME", "ACCOUNT");
  for (const auto& row : rows)
    std::cout << fmt::format("{:<24} {}\n", row["name"].get<std::string>(),
                             row["admin"].get<bool>() ? std::string("(admin)") : row["account"].get<std::string>());
  return exit_code::k_success;
}

int run_remove(const TokenOptions& options) {
  const fs::path path = options.registry;
  broker::RegistryLock lock(path);
  Registry registry = load_existing(path);
  registry.remove_token(options.first);
  registry.save(path);
  std::cerr << fmt::format("mqfleet: removed token '{}' from {}\n", options.first, path.string());
  return exit_code::k_success;
}

void add_registry_option(CLI::App* sub, TokenOptions& options) {
  sub->add_option("--registry", options.registry, "Device registry file (JSON; see docs/registry.md)")
      ->envname("MQFLEET_REGISTRY")
      ->required();
}

} // namespace

void setup_token(CLI::App& app) {
  auto* token = app.add_subcommand("token", "Manage the API tokens of the broker's HTTP listener");
  token->require_subcommand(1);

  auto add_options = std::make_shared<TokenOptions>();
  add_options->action = TokenOptions::Action::add;
  auto* add = token->add_subcommand("add", "Create a token for an account and print it once (last line of stdout)");
  add->add_option("account", add_options->first, "Account the token reads and writes (with --admin: the name)")
      ->required();
  add->add_option("name", add_options->second, "Name of the token (unique in the registry)");
  add->add_flag("--admin", add_options->admin, "An admin token (reads /metrics, no account's data)");
  add_registry_option(add, *add_options);
  set_action(add, [add_options] { return run_token(*add_options); });

  auto list_options = std::make_shared<TokenOptions>();
  list_options->action = TokenOptions::Action::list;
  auto* list = token->add_subcommand("list", "List the tokens (names and accounts, never the tokens)");
  list->add_option("account", list_options->first, "Only this account's tokens");
  add_registry_option(list, *list_options);
  list->add_option("--format", list_options->format, "Output format")->check(CLI::IsMember({"text", "json"}));
  set_action(list, [list_options] { return run_token(*list_options); });

  auto rm_options = std::make_shared<TokenOptions>();
  rm_options->action = TokenOptions::Action::remove;
  auto* rm = token->add_subcommand("rm", "Remove a token (a running broker drops it on SIGHUP)");
  rm->add_option("name", rm_options->first, "Name of the token")->required();
  add_registry_option(rm, *rm_options);
  set_action(rm, [rm_options] { return run_token(*rm_options); });
}

int run_token(const TokenOptions& options) {
  switch (options.action) {
  case TokenOptions::Action::add: return run_add(options);
  case TokenOptions::Action::list: return run_list(options);
  case TokenOptions::Action::remove: return run_remove(options);
  }
  return exit_code::k_internal;
}

} // namespace mqfleet::cli
