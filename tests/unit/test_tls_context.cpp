// The one TLS client setup (mqfleet/tls.hpp) refuses bad settings before any connection,
// naming the flag to fix. No network.
#include "support/temp_dir.hpp"

#include <mqfleet/error.hpp>
#include <mqfleet/tls.hpp>

#include <gtest/gtest.h>

#include <fstream>

using namespace mqfleet;

namespace {

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
  EXPECT_EQ(where_of(TlsOptions{.ca_file = missing}), "--cafile");
  EXPECT_EQ(where_of(TlsOptions{.ca_path = missing}), "--capath");
  EXPECT_EQ(where_of(TlsOptions{.version = "tlsv1.1"}), "--tls-version");
  EXPECT_EQ(where_of(TlsOptions{.alpn = {""}}), "--alpn");
  EXPECT_EQ(where_of(TlsOptions{.alpn = {std::string(256, 'a')}}), "--alpn");
}

TEST(TlsClientContext, ACertificateNeedsItsKey) {
  test::TempDir dir;
  const auto cert = dir.path() / "client.pem";
  std::ofstream(cert) << "not a certificate\n";
  EXPECT_EQ(where_of(TlsOptions{.cert_file = cert.string()}), "--key");
  EXPECT_EQ(where_of(TlsOptions{.key_file = cert.string()}), "--cert");
  // Both given but unreadable as PEM: the certificate is named first.
  EXPECT_EQ(where_of(TlsOptions{.cert_file = cert.string(), .key_file = cert.string()}), "--cert");
}

TEST(TlsClientContext, DefaultsVerifyAndAcceptTheSystemStore) {
  const auto context = TlsClientContext::create(TlsOptions{});
  ASSERT_NE(context->native(), nullptr);
  EXPECT_TRUE(context->verifies());
  EXPECT_FALSE(TlsClientContext::create(TlsOptions{.insecure = true})->verifies());
}

} // namespace
