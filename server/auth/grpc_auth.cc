#include "server/auth/grpc_auth.h"

#include "server/common/error.h"
#include "server/common/validation.h"

namespace paybell::auth {

Principal Authenticator::Authenticate(const grpc::ServerContext& context) const {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    throw common::Error(common::ErrorCode::kUnauthenticated,
                        "missing 'authorization: Bearer <token>' metadata");
  }
  const std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view kPrefix = "Bearer ";
  if (value.size() <= kPrefix.size() || value.substr(0, kPrefix.size()) != kPrefix) {
    throw common::Error(common::ErrorCode::kUnauthenticated,
                        "authorization metadata must be 'Bearer <token>'");
  }
  return verifier_.Verify(value.substr(kPrefix.size()));
}

Principal Authenticator::Require(const grpc::ServerContext& context, Action action,
                                 std::string_view tenant_id) const {
  Principal principal = Authenticate(context);
  if (IsTenantScoped(action)) common::ValidateTenantId(tenant_id);
  Authorize(principal, action, tenant_id);
  return principal;
}

}  // namespace paybell::auth
