#include "tests/support/temp_dir.h"

#include <stdlib.h>

#include <stdexcept>
#include <vector>

namespace paybell::testing {

TempDir::TempDir() {
  const std::string base = std::filesystem::temp_directory_path().string() + "/paybell-test-XXXXXX";
  std::vector<char> buf(base.begin(), base.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace paybell::testing
