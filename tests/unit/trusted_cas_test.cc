// The CAs outbound TLS trusts: a bad PAYBELL_CA_FILE stops start-up; the bundle itself is parsed
// on first use.
#include <gtest/gtest.h>

#include <fstream>

#include "server/common/ca_bundle.h"
#include "server/common/error.h"
#include "server/notifications/curl_easy.h"
#include "tests/support/temp_dir.h"

namespace paybell::notifications {
namespace {

TEST(TrustedCasTest, AnUnreadableOrEmptyExtraFileIsRefusedAtOnce) {
  testing::TempDir dir;
  EXPECT_THROW(TrustedCas(dir.path() + "/missing.pem"), common::Error);
  const std::string junk = dir.path() + "/junk.pem";
  std::ofstream(junk) << "not a certificate\n";
  EXPECT_THROW(TrustedCas{junk}, common::Error);
}

TEST(TrustedCasTest, TheSystemBundleIsLoadedOnFirstUse) {
  const TrustedCas cas("");
  // Installed exactly when the system bundle (Debian's ca-certificates) can be read.
  const bool bundle = static_cast<bool>(std::ifstream(common::kSystemCaBundle));
  EXPECT_EQ(cas.installed(), bundle);
  EXPECT_EQ(cas.certificates() > 10, bundle);
}

}  // namespace
}  // namespace paybell::notifications
