// The one TLS client setup (mqfleet/tls.hpp) refuses bad settings before any connection,
// naming the flag to fix. No network.
#include "support/temp_dir.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/tls.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

using namespace mqfleet;

namespace {

// One setting changed from the defaults (designated initializers would leave the others
// to -Wmissing-field-initializers).
template <typename Member, typename Value>
TlsOptions with(Member TlsOptions::*member, Value value) {
  TlsOptions options;
  options.*member = std::move(value);
  return options;
}

std::string where_of(const TlsOptions& options) {
  try {
    TlsClientContext::create(options);
  } catch (const ConfigError& error) {
    return error.where();
  }
  return "(accepted)";
}

TEST(TlsClientContext, NamesTheFlagOfEachBadSetting) {
  test::TempDir dir;
  const std::string missing = (dir.path() / "missing.pem").string();
  EXPECT_EQ(where_of(with(&TlsOptions::ca_file, missing)), "--cafile");
  EXPECT_EQ(where_of(with(&TlsOptions::ca_path, missing)), "--capath");
  EXPECT_EQ(where_of(with(&TlsOptions::version, std::string("tlsv1.1"))), "--tls-version");
  EXPECT_EQ(where_of(with(&TlsOptions::alpn, std::vector<std::string>{""})), "--alpn");
  EXPECT_EQ(where_of(with(&TlsOptions::alpn, std::vector<std::string>{std::string(256, 'a')})), "--alpn");
}

TEST(TlsClientContext, ACertificateNeedsItsKey) {
  test::TempDir dir;
  const auto cert = dir.path() / "client.pem";
  std::ofstream(cert) << "not a certificate\n";
  // The error names the flag that was given without its partner.
  EXPECT_EQ(where_of(with(&TlsOptions::cert_file, cert.string())), "--cert");
  EXPECT_EQ(where_of(with(&TlsOptions::key_file, cert.string())), "--key");
  // Both given but unreadable as PEM: the certificate is named first.
  TlsOptions both = with(&TlsOptions::cert_file, cert.string());
  both.key_file = cert.string();
  EXPECT_EQ(where_of(both), "--cert");
}

TEST(TlsClientContext, DefaultsVerifyAndAcceptTheSystemStore) {
  const auto context = TlsClientContext::create(TlsOptions{});
  ASSERT_NE(context->native(), nullptr);
  EXPECT_TRUE(context->verifies());
  EXPECT_FALSE(TlsClientContext::create(with(&TlsOptions::insecure, true))->verifies());
}

} // namespace
