#include "device/device.hpp"

#include "cli.hpp"
#include "exit_codes.hpp"
#include "signals.hpp"

#include <mqfleet/broker/credentials.hpp>
#include <mqfleet/broker/device_registry.hpp>
#include <mqfleet/broker/registry_lock.hpp>
#include <mqfleet/error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <poll.h>
#include <sstream>
#include <termios.h>
#include <unistd.h>

namespace mqfleet::cli {
namespace {

namespace fs = std::filesystem;
using broker::Registry;

/// Restores the terminal's echo setting however the prompt ends.
class EchoOff {
public:
  EchoOff() {
    if (::tcgetattr(STDIN_FILENO, &m_saved) == 0) {
      termios quiet = m_saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      m_active = ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
    }
  }
  ~EchoOff() {
    if (m_active) ::tcsetattr(STDIN_FILENO, TCSANOW, &m_saved);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

private:
  termios m_saved{};
  bool m_active = false;
};

/// Reads one line from the terminal without echo, giving up on SIGINT/SIGTERM.
std::string read_hidden_line(const char* prompt) {
  std::string line;
  {
    // Echo goes off before the prompt appears and nothing typed is flushed, so input
    // typed right after the prompt is neither echoed nor lost.
    EchoOff echo_off;
    std::cerr << prompt << std::flush;
    for (;;) {
      if (stop_token().stop_requested()) throw InterruptedError("interrupted while reading the credential");
      pollfd fd{STDIN_FILENO, POLLIN, 0};
      const int ready = ::poll(&fd, 1, 100);
      if (ready < 0 && errno != EINTR) throw ConfigError("cannot read the credential from the terminal");
      if (ready <= 0) continue;
      char c = 0;
      const auto n = ::read(STDIN_FILENO, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || c == '\n' || c == '\r') break;
      line.push_back(c);
    }
  }
  std::cerr << '\n';
  return line;
}

std::string strip_newline(std::string text) {
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  return text;
}

/// The secret chosen by --generate, --credential-env, --credential-file or the prompt;
/// `generated` is set when the user must be shown it.
std::string obtain_credential(const DeviceOptions& options, bool& generated) {
  generated = false;
  const int sources = (options.generate ? 1 : 0) + (options.credential_env.empty() ? 0 : 1) +
                      (options.credential_file.empty() ? 0 : 1);
  if (sources > 1)
    throw ConfigError("more than one credential source given", "--generate/--credential-env/--credential-file",
                      "choose exactly one");
  if (options.generate) {
    generated = true;
    return broker::generate_credential();
  }
  if (!options.credential_env.empty()) {
    const char* value = std::getenv(options.credential_env.c_str());
    if (value == nullptr || *value == '\0')
      throw ConfigError(fmt::format("environment variable {} is not set or empty", options.credential_env),
                        "--credential-env", "export the credential in that variable first");
    return value;
  }
  if (!options.credential_file.empty()) {
    std::ifstream in(options.credential_file, std::ios::binary);
    if (!in)
      throw ConfigError(fmt::format("cannot read the credential file: {}", std::strerror(errno)),
                        options.credential_file, "check the path and its permissions");
    std::ostringstream text;
    text << in.rdbuf();
    auto credential = strip_newline(text.str());
    if (credential.empty())
      throw ConfigError("the credential file is empty", options.credential_file, "write the credential into it");
    return credential;
  }
  if (::isatty(STDIN_FILENO) == 0)
    throw ConfigError("no credential given and stdin is not a terminal", "--generate",
                      "use --generate, --credential-env NAME or --credential-file PATH");
  auto first = read_hidden_line("Credential: ");
  if (first.empty()) throw ConfigError("the credential is empty", "prompt", "type a non-empty credential");
  auto second = read_hidden_line("Repeat credential: ");
  if (first != second) throw ConfigError("the two credentials differ", "prompt", "type the same credential twice");
  return first;
}

std::uint32_t iterations_of(const DeviceOptions& options) {
  return options.iterations == 0 ? broker::k_default_pbkdf2_iterations : options.iterations;
}

Registry load_existing(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw ConfigError("the device registry does not exist", path.string(),
                      "create it with `mqfleet device add ACCOUNT DEVICE --registry " + path.string() + " --generate`");
  return Registry::load(path);
}

int run_add(const DeviceOptions& options) {
  const fs::path path = options.registry;
  broker::RegistryLock lock(path);
  std::error_code ec;
  Registry registry = fs::exists(path, ec) ? Registry::load(path) : Registry();
  if (registry.find_device(options.account, options.device) != nullptr)
    throw ConfigError(fmt::format("device '{}' already exists in account '{}'", options.device, options.account),
                      path.string(), "use `mqfleet device set-credential` to change its credential");
  bool generated = false;
  const auto credential = obtain_credential(options, generated);
  registry.add_device(options.account,
                      broker::Device{options.device, options.description,
                                     broker::hash_password(credential, iterations_of(options))});
  registry.save(path);
  std::cerr << fmt::format("mqfleet: added device '{}' to account '{}' in {}\n", options.device, options.account,
                           path.string());
  if (generated) std::cout << credential << '\n' << std::flush;
  return exit_code::k_success;
}

// Throws when the registry has no such device in that account.
void require_device(const Registry& registry, const DeviceOptions& options, const fs::path& path) {
  if (registry.find_device(options.account, options.device) == nullptr)
    throw ConfigError(fmt::format("no device '{}' in account '{}'", options.device, options.account), path.string(),
                      "list the devices with `mqfleet device list`");
}

int run_set_credential(const DeviceOptions& options) {
  const fs::path path = options.registry;
  broker::RegistryLock lock(path);
  Registry registry = load_existing(path);
  require_device(registry, options, path);
  bool generated = false;
  const auto credential = obtain_credential(options, generated);
  registry.set_credential(options.account, options.device, broker::hash_password(credential, iterations_of(options)));
  registry.save(path);
  std::cerr << fmt::format("mqfleet: set the credential of device '{}' in account '{}'\n", options.device,
                           options.account);
  if (generated) std::cout << credential << '\n' << std::flush;
  return exit_code::k_success;
}

int run_remove(const DeviceOptions& options) {
  const fs::path path = options.registry;
  broker::RegistryLock lock(path);
  Registry registry = load_existing(path);
  require_device(registry, options, path);
  registry.remove_device(options.account, options.device);
  registry.save(path);
  std::cerr << fmt::format("mqfleet: removed device '{}' from account '{}'\n", options.device, options.account);
  return exit_code::k_success;
}

int run_list(const DeviceOptions& options) {
  const fs::path path = options.registry;
  const Registry registry = load_existing(path);
  if (!options.account.empty() && registry.find_account(options.account) == nullptr)
    throw ConfigError(fmt::format("no account '{}' in the registry", options.account), path.string(),
                      "run `mqfleet device list` to see every account");
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  std::size_t account_width = 7;
  std::size_t device_width = 6;
  for (const auto& [name, account] : registry.accounts()) {
    if (!options.account.empty() && name != options.account) continue;
    for (const auto& [id, device] : account.devices) {
      rows.push_back({{"account", name}, {"device", id}, {"description", device.description}});
      account_width = std::max(account_width, name.size());
      device_width = std::max(device_width, id.size());
    }
  }
  if (options.format == "json") {
    std::cout << rows.dump(2) << '\n';
    return exit_code::k_success;
  }
  std::cout << fmt::format("{:<{}}  {:<{}}  {}\n", "ACCOUNT", account_width, "DEVICE", device_width, "DESCRIPTION");
  for (const auto& row : rows) {
    std::cout << fmt::format("{:<{}}  {:<{}}  {}\n", row["account"].get<std::string>(), account_width,
                             row["device"].get<std::string>(), device_width, row["description"].get<std::string>());
  }
  return exit_code::k_success;
}

void add_registry_option(CLI::App* sub, DeviceOptions& options) {
  sub->add_option("--registry", options.registry, "Device registry file (JSON; see docs/registry.md)")
      ->envname("MQFLEET_REGISTRY")
      ->required();
}

void add_credential_options(CLI::App* sub, DeviceOptions& options) {
  auto* generate = sub->add_flag("--generate", options.generate,
                                 "Generate a random credential and print it once on stdout");
  auto* env = sub->add_option("--credential-env", options.credential_env,
                              "Read the credential from this environment variable");
  auto* file = sub->add_option("--credential-file", options.credential_file,
                               "Read the credential from this file (first line)");
  generate->excludes(env)->excludes(file);
  env->excludes(file);
  sub->add_option("--iterations", options.iterations, "PBKDF2-SHA512 iterations for the stored hash (default 101)")
      ->check(CLI::Range(1u, broker::k_max_pbkdf2_iterations));
}

} // namespace

void setup_device(CLI::App& app) {
  auto* device = app.add_subcommand("device", "Manage the broker's device registry (accounts, devices, credentials)");
  device->require_subcommand(1);

  auto add_options = std::make_shared<DeviceOptions>();
  add_options->action = DeviceOptions::Action::add;
  auto* add = device->add_subcommand("add", "Add a device to an account (creates the account and the file)");
  add->add_option("account", add_options->account, "Account (the MQTT username)")->required();
  add->add_option("device", add_options->device, "Device id (the MQTT client id)")->required();
  add_registry_option(add, *add_options);
  add->add_option("--description", add_options->description, "Free-text description of the device");
  add_credential_options(add, *add_options);
  set_action(add, [add_options] { return run_device(*add_options); });

  auto list_options = std::make_shared<DeviceOptions>();
  list_options->action = DeviceOptions::Action::list;
  auto* list = device->add_subcommand("list", "List accounts and devices (never credentials)");
  list->add_option("account", list_options->account, "Only this account");
  add_registry_option(list, *list_options);
  list->add_option("--format", list_options->format, "Output format")->check(CLI::IsMember({"text", "json"}));
  set_action(list, [list_options] { return run_device(*list_options); });

  auto rm_options = std::make_shared<DeviceOptions>();
  rm_options->action = DeviceOptions::Action::remove;
  auto* rm = device->add_subcommand("rm", "Remove a device (and its account when it was the last one)");
  rm->add_option("account", rm_options->account, "Account")->required();
  rm->add_option("device", rm_options->device, "Device id")->required();
  add_registry_option(rm, *rm_options);
  set_action(rm, [rm_options] { return run_device(*rm_options); });

  auto set_options = std::make_shared<DeviceOptions>();
  set_options->action = DeviceOptions::Action::set_credential;
  auto* set = device->add_subcommand("set-credential", "Replace a device's credential");
  set->add_option("account", set_options->account, "Account")->required();
  set->add_option("device", set_options->device, "Device id")->required();
  add_registry_option(set, *set_options);
  add_credential_options(set, *set_options);
  set_action(set, [set_options] { return run_device(*set_options); });
}

int run_device(const DeviceOptions& options) {
  switch (options.action) {
  case DeviceOptions::Action::add: return run_add(options);
  case DeviceOptions::Action::list: return run_list(options);
  case DeviceOptions::Action::remove: return run_remove(options);
  case DeviceOptions::Action::set_credential: return run_set_credential(options);
  }
  return exit_code::k_internal;
}

} // namespace mqfleet::cli
