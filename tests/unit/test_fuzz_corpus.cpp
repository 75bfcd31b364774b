// The decoder fuzz target's seed corpus (tests/fuzz/corpus/decoder), replayed through the
// very same entry point (tests/fuzz/fuzz_decoder.cpp) in every test run, so the round-trip
// and reason-code checks it makes hold in CI builds too, not only in a fuzzing session. A
// failed check aborts the process, which fails the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

TEST(FuzzCorpus, EverySeedPassesTheDecoderChecks) {
  const char* source = std::getenv("MQFLEET_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "MQFLEET_SOURCE_DIR is not set (run the test through ctest)";
  std::vector<fs::path> seeds;
  for (const auto& entry : fs::directory_iterator(fs::path(source) / "tests/fuzz/corpus/decoder"))
    if (entry.is_regular_file()) seeds.push_back(entry.path());
  std::sort(seeds.begin(), seeds.end());
  ASSERT_GE(seeds.size(), 50U) << "the seed corpus is missing or was cut down";
  for (const auto& seed : seeds) {
    SCOPED_TRACE(seed.filename().string());
    std::ifstream in(seed, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0);
  }
}

} // namespace
