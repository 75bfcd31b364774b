#include <mqfleet/broker/api_tokens.hpp>
#include <mqfleet/broker/device_registry.hpp>

#include <mqfleet/error.hpp>

#include <gtest/gtest.h>

#include <set>

using namespace mqfleet::broker;

TEST(ApiTokens, HashIsSha256OfTheToken) {
  // SHA-256("abc") from FIPS 180-2, appendix B.1.
  EXPECT_EQ(hash_api_token("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(valid_token_hash(hash_api_token("anything")));
  EXPECT_NE(hash_api_token("a"), hash_api_token("b"));
}

TEST(ApiTokens, GeneratedTokensAreRandomAndUrlSafe) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto token = generate_api_token();
    ASSERT_TRUE(token.starts_with("mqft_")) << token;
    EXPECT_EQ(token.size(), 5u + 43u) << token;
    EXPECT_EQ(token.find_first_not_of("mqft_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"), std::string::npos)
        << token;
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(ApiTokens, HashFormatAndComparison) {
  EXPECT_FALSE(valid_token_hash(""));
  EXPECT_FALSE(valid_token_hash("sha256:"));
  EXPECT_FALSE(valid_token_hash("sha256:" + std::string(64, 'G')));
  EXPECT_FALSE(valid_token_hash("md5:" + std::string(64, 'a')));
  EXPECT_TRUE(valid_token_hash("sha256:" + std::string(64, 'a')));
  EXPECT_TRUE(token_hashes_equal(hash_api_token("x"), hash_api_token("x")));
  EXPECT_FALSE(token_hashes_equal(hash_api_token("x"), hash_api_token("y")));
  EXPECT_FALSE(token_hashes_equal("sha256:ab", "sha256:abc"));
}

TEST(ApiTokens, RegistryStoresOnlyTheHashAndFindsTheToken) {
  Registry registry;
  const auto secret = generate_api_token();
  registry.add_token(ApiToken{"dash", "acme", false, hash_api_token(secret)});
  registry.add_token(ApiToken{"ops", "", true, hash_api_token("admin-secret")});
  const auto text = registry.to_json();
  EXPECT_EQ(text.find(secret), std::string::npos) << "the token itself must never be stored";
  const Registry loaded = Registry::parse(text);
  const ApiToken* found = loaded.find_token(secret);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->name, "dash");
  EXPECT_EQ(found->account, "acme");
  EXPECT_FALSE(found->admin);
  ASSERT_NE(loaded.find_token("admin-secret"), nullptr);
  EXPECT_TRUE(loaded.find_token("admin-secret")->admin);
  EXPECT_EQ(loaded.find_token(secret + "x"), nullptr);
  EXPECT_EQ(loaded.find_token(""), nullptr);
}

TEST(ApiTokens, RegistryRefusesBadTokens) {
  Registry registry;
  registry.add_token(ApiToken{"t", "acme", false, hash_api_token("1")});
  EXPECT_THROW(registry.add_token(ApiToken{"t", "acme", false, hash_api_token("2")}), mqfleet::ConfigError);
  EXPECT_THROW(registry.add_token(ApiToken{"bad name", "acme", false, hash_api_token("2")}), mqfleet::ConfigError);
  EXPECT_THROW(registry.add_token(ApiToken{"u", "", false, hash_api_token("2")}), mqfleet::ConfigError);
  EXPECT_THROW(registry.remove_token("nope"), mqfleet::ConfigError);
  registry.remove_token("t");
  EXPECT_TRUE(registry.tokens().empty());
  EXPECT_THROW(Registry::parse(R"({"tokens": {"t": {"account": "a", "hash": "plain"}}})"), mqfleet::ConfigError);
  EXPECT_THROW(Registry::parse(R"({"tokens": {"t": {"hash": "sha256:)" + std::string(64, 'a') + R"("}}})"),
               mqfleet::ConfigError);
  EXPECT_THROW(Registry::parse(R"({"tokens": {"t": {"account": "a", "admin": true, "hash": "sha256:)" +
                               std::string(64, 'a') + R"("}}})"),
               mqfleet::ConfigError);
}
