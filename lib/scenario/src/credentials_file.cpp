#include <mqfleet/scenario/credentials_file.hpp>

#include <mqfleet/error.hpp>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace mqfleet::sim {

namespace {

using Json = nlohmann::json;

std::string system_error_text(int error) { return std::strerror(error); }

[[noreturn]] void malformed(const std::string& source, const std::string& what) {
  throw ConfigError(what, source, "run `mqfleet sim --provision` again, or delete the file and rotate with --rotate");
}

void write_all(int fd, const std::string& text, const std::string& where) {
  std::size_t written = 0;
  while (written < text.size()) {
    const auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ConfigError("cannot write the credentials file: " + system_error_text(errno), where,
                        "check the disk and the directory permissions");
    }
    written += static_cast<std::size_t>(n);
  }
}

} // namespace

CredentialsFile CredentialsFile::load(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError("cannot read the credentials file: " + system_error_text(errno), path.string(),
                      "check its permissions");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path.string());
}

CredentialsFile CredentialsFile::parse(std::string_view text, const std::string& source) {
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::parse_error& e) {
    // nlohmann's message quotes the text around the error, which may be a secret.
    malformed(source, "the credentials file is not valid JSON (byte " + std::to_string(e.byte) + ")");
  } catch (const Json::out_of_range&) {
    // A number too large for a double (1e999): nlohmann's message would quote the text.
    malformed(source, "the credentials file holds a number too large to represent");
  }
  if (!root.is_object()) malformed(source, "the credentials file is not a JSON object");
  for (const auto& [key, value] : root.items())
    if (key != "version" && key != "accounts") malformed(source, "unknown key '" + key + "' in the credentials file");
  if (root.contains("version") && root["version"] != k_format_version)
    malformed(source, "unsupported credentials file version (only 1 is known)");
  CredentialsFile file;
  if (!root.contains("accounts")) return file;
  const Json& accounts = root["accounts"];
  if (!accounts.is_object()) malformed(source, "\"accounts\" is not an object");
  for (const auto& [account, devices] : accounts.items()) {
    if (!devices.is_object()) malformed(source, "account '" + account + "' is not an object of device secrets");
    for (const auto& [device, secret] : devices.items()) {
      if (!secret.is_string() || secret.get<std::string>().empty())
        malformed(source, "the secret of device '" + device + "' in account '" + account + "' is not a non-empty string");
      file.m_accounts[account][device] = secret.get<std::string>();
    }
  }
  return file;
}

void CredentialsFile::save(const std::filesystem::path& path) const {
  const std::string where = path.string();
  const auto directory = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  Json accounts = Json::object();
  for (const auto& [account, devices] : m_accounts) {
    Json secrets = Json::object();
    for (const auto& [device, secret] : devices) secrets[device] = secret;
    accounts[account] = std::move(secrets);
  }
  const std::string text = Json{{"version", k_format_version}, {"accounts", std::move(accounts)}}.dump(2) + "\n";

  std::string temp = (directory / ("." + path.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(temp.data());
  if (fd < 0)
    throw ConfigError("cannot create a temporary file next to the credentials file: " + system_error_text(errno), where,
                      "check that the directory exists and is writable");
  try {
    if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0)
      throw ConfigError("cannot set mode 0600 on the credentials file: " + system_error_text(errno), where);
    write_all(fd, text, where);
    if (::fsync(fd) != 0)
      throw ConfigError("cannot flush the credentials file to disk: " + system_error_text(errno), where);
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    throw ConfigError("cannot replace the credentials file: " + system_error_text(error), where,
                      "check the permissions of " + directory.string());
  }
  if (const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

const std::string* CredentialsFile::find(std::string_view account, std::string_view device) const noexcept {
  const auto a = m_accounts.find(account);
  if (a == m_accounts.end()) return nullptr;
  const auto d = a->second.find(device);
  return d == a->second.end() ? nullptr : &d->second;
}

void CredentialsFile::set(const std::string& account, const std::string& device, std::string secret) {
  m_accounts[account][device] = std::move(secret);
}

std::size_t CredentialsFile::size() const noexcept {
  std::size_t n = 0;
  for (const auto& entry : m_accounts) n += entry.second.size();
  return n;
}

std::filesystem::path provisioned_credentials_path(const Scenario& scenario, const FleetSpec& fleet,
                                                   const std::filesystem::path& override_path) {
  if (!override_path.empty()) return override_path;
  const std::filesystem::path file(scenario.file);
  const std::filesystem::path directory = file.parent_path();
  if (!fleet.credential.provisioned_file.empty()) {
    const std::filesystem::path written(fleet.credential.provisioned_file);
    return written.is_absolute() ? written : directory / written;
  }
  std::string stem = file.stem().string();
  if (stem.empty() || stem == "<scenario>") stem = scenario.name.empty() ? "scenario" : scenario.name;
  return directory / (stem + ".credentials.json");
}

ProvisionedCredentials::ProvisionedCredentials(const Scenario& scenario, const std::filesystem::path& override_path) {
  for (const FleetSpec& fleet : scenario.fleets) {
    if (fleet.credential.kind != CredentialKind::provisioned) {
      m_paths.emplace_back();
      continue;
    }
    auto path = provisioned_credentials_path(scenario, fleet, override_path);
    if (!m_files.contains(path)) {
      std::error_code ec;
      if (!std::filesystem::exists(path, ec))
        throw ConfigError("fleet '" + fleet.name + "' uses provisioned credentials, but " + path.string() +
                              " does not exist",
                          "fleets." + fleet.name + ".credential",
                          "run `mqfleet sim --provision --registry FILE " + scenario.file + "` first");
      m_files.emplace(path, CredentialsFile::load(path));
    }
    m_paths.push_back(std::move(path));
  }
}

const std::string& ProvisionedCredentials::secret(std::size_t fleet, std::string_view account,
                                                  std::string_view device) const {
  if (fleet >= m_paths.size() || m_paths[fleet].empty())
    throw ConfigError("the fleet does not use provisioned credentials", "fleet #" + std::to_string(fleet));
  const std::string* secret = m_files.at(m_paths[fleet]).find(account, device);
  if (secret == nullptr)
    throw ConfigError("device '" + std::string(device) + "' of account '" + std::string(account) +
                          "' has no provisioned credential",
                      m_paths[fleet].string(), "run `mqfleet sim --provision` again (it adds the missing devices)");
  return *secret;
}

} // namespace mqfleet::sim
