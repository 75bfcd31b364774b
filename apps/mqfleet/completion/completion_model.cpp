#include "completion/completion_model.hpp"

#include <algorithm>
#include <array>

namespace mqfleet::cli {
namespace {

bool looks_like_path(const CLI::Option& option) {
  if (option.get_type_name().find("FILE") != std::string::npos ||
      option.get_type_name().find("DIR") != std::string::npos ||
      option.get_type_name().find("PATH") != std::string::npos)
    return true;
  static constexpr std::array<const char*, 10> k_path_words{
      "file", "path", "cafile", "capath", "cert", "key", "registry", "config", "output", "dir"};
  for (const auto& name : option.get_lnames())
    for (const char* word : k_path_words)
      if (name == word || name.ends_with(std::string("-") + word) || name.ends_with(word)) {
        if (name.find("key-password") != std::string::npos) return false;
        return true;
      }
  return false;
}

bool is_help(const CLI::Option& option) {
  const auto& names = option.get_lnames();
  return std::find(names.begin(), names.end(), "help") != names.end() ||
         std::find(names.begin(), names.end(), "help-all") != names.end();
}

void collect_options(const CLI::App& app, std::vector<OptionSpec>& out) {
  for (const CLI::Option* option : app.get_options()) {
    if (!option->nonpositional() || is_help(*option)) continue;
    OptionSpec spec;
    spec.long_names = option->get_lnames();
    spec.short_names = option->get_snames();
    spec.takes_value = option->get_expected_max() > 0;
    spec.completes_files = spec.takes_value && looks_like_path(*option);
    if (spec.takes_value) spec.value_name = option->get_type_name();
    spec.description = option->get_description();
    out.push_back(std::move(spec));
  }
  // Option groups are unnamed sub-apps that own the options placed in them.
  for (const CLI::App* group : app.get_subcommands([](const CLI::App* sub) { return sub->get_name().empty(); }))
    collect_options(*group, out);
}

void collect_positionals(const CLI::App& app, std::vector<PositionalSpec>& out) {
  for (const CLI::Option* option : app.get_options()) {
    if (option->nonpositional()) continue;
    out.push_back({option->get_name(), option->get_description(), option->get_required(),
                   option->get_expected_max() > 1});
  }
  for (const CLI::App* group : app.get_subcommands([](const CLI::App* sub) { return sub->get_name().empty(); }))
    collect_positionals(*group, out);
}

void flatten(const CommandSpec& command, const std::string& prefix, std::vector<std::string>& out) {
  const std::string path = prefix.empty() ? command.name : prefix + " " + command.name;
  for (const auto& option : command.options)
    for (const auto& name : option.long_names) out.push_back(path + " --" + name);
  for (const auto& sub : command.subcommands) flatten(sub, path, out);
}

} // namespace

CommandSpec describe_command(const CLI::App& app) {
  CommandSpec spec;
  spec.name = app.get_name();
  spec.description = app.get_description();
  collect_options(app, spec.options);
  collect_positionals(app, spec.positionals);
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_name().empty(); }))
    spec.subcommands.push_back(describe_command(*sub));
  return spec;
}

std::vector<std::string> flatten_long_options(const CommandSpec& command) {
  std::vector<std::string> out;
  flatten(command, "", out);
  return out;
}

} // namespace mqfleet::cli
