#pragma once
// `mqfleet bucket add|list|show|enable|disable|rm` edit the bucket definitions in the
// registry; `bucket export|import|stats|chart` work on the points in `--data-dir`
// (docs/buckets.md).

#include <CLI/CLI.hpp>

#include <cstddef>
#include <string>

namespace mqfleet::cli {

/// The options of every `bucket` subcommand.
struct BucketOptions {
  enum class Action { add, list, show, enable, disable, remove, export_points, import_points, stats, chart };
  Action action = Action::list;
  std::string registry;      ///< --registry FILE (or $MQFLEET_REGISTRY)
  std::string data_dir;      ///< --data-dir DIR (or $MQFLEET_DATA_DIR)
  std::string account;       ///< ACCOUNT (add, list filter)
  std::string id;            ///< bucket ID
  std::string topic;         ///< add --topic FILTER
  std::string name;          ///< add --name
  std::string description;   ///< add --description
  bool disabled = false;     ///< add --disabled
  std::string format;        ///< output format (per subcommand)
  std::string from;          ///< --from
  std::string to;            ///< --to
  std::string device;        ///< --device
  std::string fields;        ///< export --fields a,b.c
  std::string time = "epoch";///< export --time epoch|iso
  std::string output;        ///< export --output FILE
  std::string separator;     ///< export/import --separator
  std::string file;          ///< import FILE
  bool create = false;       ///< import --create: a bucket defined nowhere yet
  std::string field;         ///< chart --field
  std::size_t width = 0;     ///< chart --width (0 = terminal)
  std::size_t height = 0;    ///< chart --height (0 = terminal)
  std::string svg;           ///< chart --svg FILE
};

/// Adds the `bucket` subcommand and its nested subcommands.
void setup_bucket(CLI::App& app);

/// Runs one `bucket` subcommand; returns the exit code.
int run_bucket(const BucketOptions& options);

/// The data subcommands (bucket_data.cpp).
int run_bucket_export(const BucketOptions& options);
int run_bucket_import(const BucketOptions& options);
int run_bucket_stats(const BucketOptions& options);
int run_bucket_chart(const BucketOptions& options);

} // namespace mqfleet::cli
