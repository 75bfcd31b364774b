#include <mqfleet/broker/credentials.hpp>

#include <mqfleet/error.hpp>

#include <support/process.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

#include <set>

using namespace mqfleet::broker;

TEST(Credentials, HashHasMosquittoFormatAndVerifies) {
  const auto hash = hash_password("testCredential");
  ASSERT_TRUE(hash.starts_with("$7$101$"));
  const auto parsed = parse_password_hash(hash);
  EXPECT_EQ(parsed.iterations, 101u);
  EXPECT_EQ(parsed.salt.size(), k_salt_bytes);
  EXPECT_EQ(parsed.hash.size(), k_hash_bytes);
  EXPECT_TRUE(verify_password("testCredential", hash));
  EXPECT_FALSE(verify_password("testCredentia", hash));
  EXPECT_FALSE(verify_password("", hash));
  EXPECT_NE(hash_password("testCredential"), hash) << "fresh salt each time";
}

TEST(Credentials, ConfigurableIterations) {
  const auto hash = hash_password("pw", 2000);
  EXPECT_TRUE(hash.starts_with("$7$2000$"));
  EXPECT_TRUE(verify_password("pw", hash));
  EXPECT_THROW(hash_password("pw", 0), mqfleet::ConfigError);
}

TEST(Credentials, VerifiesAHashMadeByMosquittoPasswd) {
  const auto tool = mqfleet::test::find_program("mosquitto_passwd");
  ASSERT_FALSE(tool.empty()) << "mosquitto_passwd is not installed (scripts/install-deps.sh installs mosquitto)";
  mqfleet::test::TempDir dir;
  const auto file = dir.file("passwd");
  const auto result = mqfleet::test::run_process({tool, "-c", "-b", file, "dev1", "s3cr3t-Pass"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto line = mqfleet::test::read_file(file);
  const auto colon = line.find(':');
  ASSERT_NE(colon, std::string::npos);
  auto hash = line.substr(colon + 1);
  while (!hash.empty() && (hash.back() == '\n' || hash.back() == '\r')) hash.pop_back();
  ASSERT_TRUE(hash.starts_with("$7$")) << hash;
  EXPECT_TRUE(valid_password_hash(hash));
  EXPECT_TRUE(verify_password("s3cr3t-Pass", hash));
  EXPECT_FALSE(verify_password("s3cr3t-pass", hash));
}

TEST(Credentials, KnownVector) {
  // Produced by mosquitto_passwd 2.0.11 for the password "secret".
  const std::string hash =
      "$7$101$O4vqgkwZVbPPauq+$LjMbPKsTlh9YHFB/zIoog0V0U1aMOG2q8zyujjb9fegqm9IDtrhO++YjreGb/F6irt//qUFj2WjaV2BwtbFxUA==";
  EXPECT_TRUE(verify_password("secret", hash));
  EXPECT_FALSE(verify_password("Secret", hash));
}

TEST(Credentials, MalformedHashesNeverMatchAndParseErrorsHideTheText) {
  const std::vector<std::string> bad = {
      "",
      "plain",
      "$6$101$c2FsdA==$aGFzaA==",
      "$7$$c2FsdA==$aGFzaA==",
      "$7$abc$c2FsdA==$aGFzaA==",
      "$7$0$c2FsdA==$aGFzaA==",
      "$7$101$c2FsdA==",
      "$7$101$!!!!$aGFzaA==",
      "$7$101$c2FsdA==$aGFzaA==", // hash too short
      "$7$101$c2FsdA==$aGFzaA==$extra",
  };
  for (const auto& text : bad) {
    EXPECT_FALSE(valid_password_hash(text)) << text;
    EXPECT_FALSE(verify_password("x", text)) << text;
    if (text.size() > 8) {
      try {
        parse_password_hash(text);
      } catch (const mqfleet::ConfigError& e) {
        EXPECT_EQ(std::string(e.what()).find(text), std::string::npos);
      }
    }
  }
}

TEST(Credentials, Base64RoundTrip) {
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_THROW(base64_decode("Zm8"), mqfleet::ConfigError);
  EXPECT_THROW(base64_decode("Z=8="), mqfleet::ConfigError);
}

TEST(Credentials, GeneratedCredentialsAreRandomAndUrlSafe) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto c = generate_credential();
    EXPECT_EQ(c.size(), 24u);
    EXPECT_EQ(c.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
    seen.insert(c);
  }
  EXPECT_EQ(seen.size(), 100u);
}
