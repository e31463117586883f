#include "server/common/ca_bundle.h"

#include <fstream>
#include <optional>
#include <sstream>

#include "server/common/error.h"

namespace paybell::common {

namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string CombinedCaBundle(const std::string& extra_ca_file, const std::string& system_bundle) {
  if (extra_ca_file.empty()) return "";
  auto extra = ReadFile(extra_ca_file);
  if (!extra) throw Error(ErrorCode::kUnavailable, "cannot read PAYBELL_CA_FILE " + extra_ca_file);
  // A machine without the system bundle still trusts the extra CA (and only it).
  return ReadFile(system_bundle).value_or("") + "\n" + *extra;
}

}  // namespace paybell::common
