#include "bucket/bucket.hpp"

#include "cli.hpp"
#include "exit_codes.hpp"

#include <mqfleet/broker/device_registry.hpp>
#include <mqfleet/broker/registry_lock.hpp>
#include <mqfleet/error.hpp>
#include <mqfleet/store/bucket_database.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <tuple>

namespace mqfleet::cli {
namespace {

namespace fs = std::filesystem;
using broker::Registry;
using Json = nlohmann::ordered_json;

Registry load_existing(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw ConfigError("the registry does not exist", path.string(),
                      "create it with `mqfleet device add` or `mqfleet bucket add`");
  return Registry::load(path);
}

const broker::Bucket& require_bucket(const Registry& registry, const std::string& id, const fs::path& path,
                                     std::string* account = nullptr) {
  auto [bucket, owner] = registry.find_bucket(id);
  if (bucket == nullptr)
    throw ConfigError(fmt::format("no bucket '{}' in the registry", id), path.string(),
                      "list the buckets with `mqfleet bucket list`");
  if (account != nullptr) *account = owner;
  return *bucket;
}

Json bucket_json(const std::string& account, const broker::Bucket& bucket) {
  return Json{{"id", bucket.id},       {"account", account},         {"name", bucket.name},
              {"enabled", bucket.enabled}, {"topic", bucket.topic}, {"description", bucket.description}};
}

int run_add(const BucketOptions& o) {
  const fs::path path = o.registry;
  broker::RegistryLock lock(path);
  std::error_code ec;
  Registry registry = fs::exists(path, ec) ? Registry::load(path) : Registry();
  registry.add_bucket(o.account, broker::Bucket{o.id, o.name.empty() ? o.id : o.name, o.description, !o.disabled, o.topic});
  registry.save(path);
  std::cerr << fmt::format("mqfleet: added bucket '{}' ({}) to account '{}'{}\n", o.id, o.topic, o.account,
                           o.disabled ? " (disabled)" : "");
  return exit_code::k_success;
}

int run_list(const BucketOptions& o) {
  const fs::path path = o.registry;
  const Registry registry = load_existing(path);
  Json rows = Json::array();
  for (const auto& [name, account] : registry.accounts()) {
    if (!o.account.empty() && name != o.account) continue;
    for (const auto& [id, bucket] : account.buckets) rows.push_back(bucket_json(name, bucket));
  }
  if (o.format == "json") {
    std::cout << rows.dump(2) << '\n';
    return exit_code::k_success;
  }
  std::size_t id_width = 2, account_width = 7, topic_width = 5;
  for (const auto& row : rows) {
    id_width = std::max(id_width, row["id"].get<std::string>().size());
    account_width = std::max(account_width, row["account"].get<std::string>().size());
    topic_width = std::max(topic_width, row["topic"].get<std::string>().size());
  }
  std::cout << fmt::format("{:<{}}  {:<{}}  {:<8}  {:<{}}  {}\n", "ID", id_width, "ACCOUNT", account_width, "ENABLED",
                           "TOPIC", topic_width, "NAME");
  for (const auto& row : rows) {
    std::cout << fmt::format("{:<{}}  {:<{}}  {:<8}  {:<{}}  {}\n", row["id"].get<std::string>(), id_width,
                             row["account"].get<std::string>(), account_width, row["enabled"].get<bool>() ? "yes" : "no",
                             row["topic"].get<std::string>(), topic_width, row["name"].get<std::string>());
  }
  return exit_code::k_success;
}

int run_show(const BucketOptions& o) {
  const fs::path path = o.registry;
  const Registry registry = load_existing(path);
  std::string account;
  const auto& bucket = require_bucket(registry, o.id, path, &account);
  Json row = bucket_json(account, bucket);
  if (o.format == "json") {
    std::cout << row.dump(2) << '\n';
    return exit_code::k_success;
  }
  for (const auto& [key, value] : row.items())
    std::cout << fmt::format("{:<12} {}\n", key, value.is_string() ? value.get<std::string>() : value.dump());
  return exit_code::k_success;
}

int run_enable(const BucketOptions& o, bool enabled) {
  const fs::path path = o.registry;
  broker::RegistryLock lock(path);
  Registry registry = load_existing(path);
  require_bucket(registry, o.id, path);
  registry.set_bucket_enabled(o.id, enabled);
  registry.save(path);
  std::cerr << fmt::format("mqfleet: {} bucket '{}' (send SIGHUP to a running broker)\n",
                           enabled ? "enabled" : "disabled", o.id);
  return exit_code::k_success;
}

int run_remove(const BucketOptions& o) {
  const fs::path path = o.registry;
  broker::RegistryLock lock(path);
  Registry registry = load_existing(path);
  require_bucket(registry, o.id, path);
  registry.remove_bucket(o.id);
  registry.save(path);
  std::cerr << fmt::format("mqfleet: removed bucket '{}'\n", o.id);
  if (!o.data_dir.empty()) {
    store::BucketDatabase db(o.data_dir, false);
    const auto erased = db.erase_bucket(o.id);
    std::cerr << fmt::format("mqfleet: deleted {} points of bucket '{}' from {}\n", erased, o.id, o.data_dir);
  }
  return exit_code::k_success;
}

void add_registry_option(CLI::App* sub, BucketOptions& o) {
  sub->add_option("--registry", o.registry, "Registry file (JSON; see docs/registry.md)")
      ->envname("MQFLEET_REGISTRY")
      ->required();
}

CLI::Option* add_data_dir_option(CLI::App* sub, BucketOptions& o) {
  return sub->add_option("--data-dir", o.data_dir, "The broker's data directory (`mqfleet broker --data-dir`)")
      ->envname("MQFLEET_DATA_DIR");
}

void add_selection_options(CLI::App* sub, BucketOptions& o) {
  sub->add_option("--from", o.from, "Oldest point: ISO-8601, epoch ms or relative (-1h, -30m, -2d)");
  sub->add_option("--to", o.to, "Newest point (same forms as --from)");
  sub->add_option("--device", o.device, "Only this device");
}

CLI::App* add_action(CLI::App* parent, const char* name, const char* help, std::shared_ptr<BucketOptions> o,
                     BucketOptions::Action action) {
  o->action = action;
  auto* sub = parent->add_subcommand(name, help);
  set_action(sub, [o] { return run_bucket(*o); });
  return sub;
}

} // namespace

void setup_bucket(CLI::App& app) {
  auto* bucket = app.add_subcommand("bucket", "Manage data buckets and export, import, inspect and chart their points");
  bucket->require_subcommand(1);
  using A = BucketOptions::Action;

  auto o = std::make_shared<BucketOptions>();
  auto* add = add_action(bucket, "add", "Define a bucket storing an account's JSON messages of a topic filter", o, A::add);
  add->add_option("account", o->account, "Account that owns the bucket")->required();
  add->add_option("id", o->id, "Bucket id (unique; letters, digits, _ - .)")->required();
  add->add_option("--topic", o->topic, "Source topic filter in the account's view (wildcards allowed)")->required();
  add->add_option("--name", o->name, "Display name (default: the id)");
  add->add_option("--description", o->description, "Free-text description");
  add->add_flag("--disabled", o->disabled, "Create the bucket disabled");
  add_registry_option(add, *o);

  o = std::make_shared<BucketOptions>();
  auto* list = add_action(bucket, "list", "List buckets", o, A::list);
  list->add_option("account", o->account, "Only this account");
  add_registry_option(list, *o);
  list->add_option("--format", o->format, "Output format")->check(CLI::IsMember({"text", "json"}));

  o = std::make_shared<BucketOptions>();
  auto* show = add_action(bucket, "show", "Show one bucket's definition", o, A::show);
  show->add_option("id", o->id, "Bucket id")->required();
  add_registry_option(show, *o);
  show->add_option("--format", o->format, "Output format")->check(CLI::IsMember({"text", "json"}));

  for (auto [name, action, help] : {std::tuple{"enable", A::enable, "Enable a bucket"},
                                    std::tuple{"disable", A::disable, "Disable a bucket (it stores nothing)"}}) {
    o = std::make_shared<BucketOptions>();
    auto* sub = add_action(bucket, name, help, o, action);
    sub->add_option("id", o->id, "Bucket id")->required();
    add_registry_option(sub, *o);
  }

  o = std::make_shared<BucketOptions>();
  auto* rm = add_action(bucket, "rm", "Remove a bucket's definition (with --data-dir also its points)", o, A::remove);
  rm->add_option("id", o->id, "Bucket id")->required();
  add_registry_option(rm, *o);
  add_data_dir_option(rm, *o);

  o = std::make_shared<BucketOptions>();
  auto* exp = add_action(bucket, "export", "Export a bucket's points (streaming)", o, A::export_points);
  exp->add_option("id", o->id, "Bucket id")->required();
  add_data_dir_option(exp, *o)->required();
  o->format = "csv";
  exp->add_option("--format", o->format, "csv, json, ndjson or arff (default csv)")
      ->check(CLI::IsMember({"csv", "json", "ndjson", "arff"}));
  add_selection_options(exp, *o);
  exp->add_option("--fields", o->fields, "Only these fields, comma-separated (dotted for nested)");
  exp->add_option("--time", o->time, "ts as epoch milliseconds or ISO-8601 (default epoch)")
      ->check(CLI::IsMember({"epoch", "iso"}));
  exp->add_option("--separator", o->separator, "CSV separator (default ,)")->check(CLI::IsMember({",", ";"}));
  exp->add_option("-o,--output", o->output, "Write to this file (atomically) instead of stdout");

  o = std::make_shared<BucketOptions>();
  auto* imp = add_action(bucket, "import", "Import the platform's CSV into a bucket (all rows or none)", o, A::import_points);
  imp->add_option("id", o->id, "Bucket id")->required();
  imp->add_option("file", o->file, "CSV file with a ts column (; or , separated)")->required();
  add_data_dir_option(imp, *o)->required();
  imp->add_option("--device", o->device, "Device for rows without a device column (default: import)");
  imp->add_option("--registry", o->registry, "Registry file whose bucket definitions count as defined")
      ->envname("MQFLEET_REGISTRY");
  imp->add_flag("--create", o->create, "Import even though no registry defines the bucket and it holds no data");
  imp->add_option("--separator", o->separator, "Separator (default: detected from the header)")
      ->check(CLI::IsMember({",", ";"}));

  o = std::make_shared<BucketOptions>();
  auto* stats = add_action(bucket, "stats", "Points, devices, first/last timestamp, rejected and dropped counts", o, A::stats);
  stats->add_option("id", o->id, "Bucket id")->required();
  add_data_dir_option(stats, *o)->required();
  stats->add_option("--format", o->format, "Output format")->check(CLI::IsMember({"text", "json"}));

  o = std::make_shared<BucketOptions>();
  auto* chart = add_action(bucket, "chart", "Chart a numeric field over time (terminal or --svg)", o, A::chart);
  chart->add_option("id", o->id, "Bucket id")->required();
  add_data_dir_option(chart, *o)->required();
  chart->add_option("--field", o->field, "Numeric field (dotted for nested)")->required();
  add_selection_options(chart, *o);
  chart->add_option("--width", o->width, "Width in characters (SVG: pixels); default: the terminal's")
      ->check(CLI::Range(std::size_t{8}, std::size_t{10000}));
  chart->add_option("--height", o->height, "Height in lines (SVG: pixels); default: the terminal's")
      ->check(CLI::Range(std::size_t{4}, std::size_t{10000}));
  chart->add_option("--svg", o->svg, "Write a standalone SVG file instead");
}

int run_bucket(const BucketOptions& options) {
  using A = BucketOptions::Action;
  switch (options.action) {
  case A::add: return run_add(options);
  case A::list: return run_list(options);
  case A::show: return run_show(options);
  case A::enable: return run_enable(options, true);
  case A::disable: return run_enable(options, false);
  case A::remove: return run_remove(options);
  case A::export_points: return run_bucket_export(options);
  case A::import_points: return run_bucket_import(options);
  case A::stats: return run_bucket_stats(options);
  case A::chart: return run_bucket_chart(options);
  }
  return exit_code::k_internal;
}

} // namespace mqfleet::cli
