// libFuzzer entry for the profiles file (~/.config/mqfleet/profiles.json; lib/profile
// profile_store) and one stored profile object: loading either succeeds or is a
// ConfigError naming the file, and every loaded profile survives a JSON round trip.
// The file lives in memory (memfd), rewritten for each input.
#include "fuzz_common.hpp"

#include <mqfleet/profile_store.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <string>

using namespace mqfleet;

namespace {

std::string memory_file_path() {
  static const int fd = ::memfd_create("mqfleet-fuzz-profiles", 0);
  fuzz::check(fd >= 0);
  return "/proc/self/fd/" + std::to_string(fd);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = memory_file_path();
  const std::string_view text = fuzz::as_text(data, size);
  {
    const int fd = std::stoi(path.substr(path.rfind('/') + 1));
    fuzz::check(::ftruncate(fd, 0) == 0);
    fuzz::check(::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()));
  }
  fuzz::parse_or_clean_error([&] {
    ProfileStore store(path);
    store.load();
    for (const auto& name : store.names()) {
      const ConnectionProfile profile = store.get(name);
      const ConnectionProfile again = profile_from_json(profile_to_json(profile, false), name, "round trip");
      fuzz::check(profile_to_json(again, false) == profile_to_json(profile, false));
    }
  });
  fuzz::parse_or_clean_error([&] { (void)profile_from_json(std::string(text), "fuzz", "fuzz profile"); });
  return 0;
}
