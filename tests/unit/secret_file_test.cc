// Touches only a private temp dir, so it stays in the unit tier.
#include "server/auth/secret_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.h"

namespace paybell::auth {
namespace {

TEST(SecretFileTest, GeneratesA32ByteSecretWithMode0600AndReusesIt) {
  testing::TempDir dir;
  const std::string path = dir.File("jwt-secret");
  const std::string first = LoadOrCreateSecretFile(path);
  EXPECT_EQ(first.size(), 64u);  // 32 random bytes, hex
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(LoadOrCreateSecretFile(path), first);
}

TEST(SecretFileTest, ConcurrentStartsAgreeOnOneSecret) {
  testing::TempDir dir;
  const std::string path = dir.File("jwt-secret");
  std::vector<std::string> seen(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] { seen[i] = LoadOrCreateSecretFile(path); });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : seen) EXPECT_EQ(s, seen[0]);
}

TEST(SecretFileTest, RefusesAFileOthersCanRead) {
  testing::TempDir dir;
  const std::string path = dir.File("jwt-secret");
  LoadOrCreateSecretFile(path);
  chmod(path.c_str(), 0644);
  EXPECT_THROW(LoadOrCreateSecretFile(path), std::runtime_error);
}

TEST(SecretFileTest, RefusesAShortSecret) {
  testing::TempDir dir;
  const std::string path = dir.File("jwt-secret");
  std::ofstream(path) << "short\n";
  chmod(path.c_str(), 0600);
  EXPECT_THROW(LoadOrCreateSecretFile(path), std::runtime_error);
}

}  // namespace
}  // namespace paybell::auth
