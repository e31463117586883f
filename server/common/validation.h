// Checks of identifiers that arrive from callers, shared by every handler.
#pragma once

#include <string_view>

namespace paybell::common {

// A tenant id: 1–128 characters of [A-Za-z0-9._:@-]. Throws Error(kInvalidArgument).
void ValidateTenantId(std::string_view tenant_id);
// Whether ValidateTenantId accepts it, without throwing (an id read from a Stripe object).
bool IsValidTenantId(std::string_view tenant_id);

}  // namespace paybell::common
