#pragma once
// Named connection profiles in $XDG_CONFIG_HOME/mqfleet/profiles.json (fallback
// ~/.config/mqfleet/profiles.json). Saved atomically (temporary file in the same
// directory, fsync, rename) with mode 0600. docs/profiles.md documents the format.

#include <mqfleet/profile.hpp>
#include <mqfleet/profile_resolve.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mqfleet {

/// The profiles file for an environment: $XDG_CONFIG_HOME/mqfleet/profiles.json, else
/// $HOME/.config/mqfleet/profiles.json. Throws ConfigError when neither variable is set.
std::filesystem::path default_profiles_path(const EnvLookup& env = process_environment());

/// Throws ConfigError unless `name` is 1-64 characters of letters, digits, '.', '_', '-'.
void check_profile_name(const std::string& name);

/// The JSON text of one profile (the format stored in profiles.json). With
/// `mask_secrets`, literal credentials and key passwords are replaced by "********".
std::string profile_to_json(const ConnectionProfile& profile, bool mask_secrets, int indent = 2);

/// Parses one profile object as stored in profiles.json; `where` names it in errors.
ConnectionProfile profile_from_json(const std::string& json_text, const std::string& name,
                                    const std::string& where);

/// True when the profile holds a secret literally (credential or key password).
bool has_literal_secret(const ConnectionProfile& profile);

/// An exclusive advisory lock (flock on "<file>.lock") held for a load-modify-save
/// cycle, so that concurrent `profile add` / `rm` runs do not lose each other's
/// changes. Creates the directory (mode 0700) when missing; throws ConfigError.
class ProfileStoreLock {
public:
  explicit ProfileStoreLock(const std::filesystem::path& file);
  ~ProfileStoreLock();
  ProfileStoreLock(const ProfileStoreLock&) = delete;
  ProfileStoreLock& operator=(const ProfileStoreLock&) = delete;

private:
  int m_fd = -1;
};

/// A set of named profiles backed by one JSON file.
class ProfileStore {
public:
  /// A store for `file`; nothing is read until load().
  explicit ProfileStore(std::filesystem::path file);

  /// Reads the file (a missing file is an empty store). Throws ConfigError naming the
  /// file for malformed JSON or profiles. Sets warnings() when the file holds literal
  /// credentials and is readable by group or others.
  void load();
  /// Writes every profile atomically: a temporary file in the same directory (mode
  /// 0600), fsync, rename over the old file, fsync of the directory. Creates the
  /// directory (mode 0700) when missing. Throws ConfigError on failure.
  void save() const;

  /// The profile names, sorted.
  std::vector<std::string> names() const;
  /// The profile called `name`, or nullopt.
  std::optional<ConnectionProfile> find(const std::string& name) const;
  /// The profile called `name`; throws ConfigError listing the known names otherwise.
  ConnectionProfile get(const std::string& name) const;
  /// Adds `profile` under profile.name; throws ConfigError if it exists and !replace.
  void put(const ConnectionProfile& profile, bool replace);
  /// Removes a profile; false when there was none of that name.
  bool remove(const std::string& name);

  /// The backing file.
  const std::filesystem::path& path() const noexcept { return m_path; }
  /// Problems worth telling the user about that do not stop the command.
  const std::vector<std::string>& warnings() const noexcept { return m_warnings; }

private:
  std::filesystem::path m_path;
  std::map<std::string, ConnectionProfile> m_profiles;
  std::vector<std::string> m_warnings;
};

} // namespace mqfleet
