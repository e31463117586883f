#include "server/common/validation.h"

#include <algorithm>
#include <cctype>

#include "server/common/error.h"

namespace paybell::common {

void ValidateTenantId(std::string_view tenant_id) {
  if (tenant_id.empty()) throw Error(ErrorCode::kInvalidArgument, "tenant_id is required");
  const bool valid =
      tenant_id.size() <= 128 && std::all_of(tenant_id.begin(), tenant_id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' ||
               c == '@' || c == '-';
      });
  if (!valid) {
    throw Error(ErrorCode::kInvalidArgument,
                "tenant_id must be 1-128 characters of letters, digits and . _ : @ -");
  }
}

bool IsValidTenantId(std::string_view tenant_id) {
  try {
    ValidateTenantId(tenant_id);
    return true;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace paybell::common
