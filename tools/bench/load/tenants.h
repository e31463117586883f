// How the bench names its tenants: <prefix><NNNN>, four digits from 0000, the same names the
// harness's signed-event generator subscribes.
#pragma once

#include <cstdio>
#include <string>

namespace paybell::bench {

inline std::string TenantId(const std::string& prefix, int index) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%04d", index);
  return prefix + digits;
}

}  // namespace paybell::bench
