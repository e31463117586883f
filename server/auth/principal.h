// Who is calling: the verified claims of a bearer token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace paybell::auth {

enum class Role { kOwner, kAdmin, kMember, kService, kOperator };

std::optional<Role> ParseRole(std::string_view name);
std::string_view RoleName(Role role);

// "*" in tenant_id: every tenant (service and operator tokens only).
inline constexpr std::string_view kAllTenants = "*";

struct Principal {
  std::string subject;    // sub: an email or a service name
  std::string tenant_id;  // a tenant id, or "*"
  Role role = Role::kMember;
  int64_t expires_at = 0;  // exp, Unix seconds
  // act.sub (RFC 8693's actor claim): the operator who acts through this token on the
  // subject's behalf (paybellctl checkout), "" when the subject acts itself. Access is checked
  // for the subject's role; the audit log names the actor.
  std::string actor = "";
  // sid: set only on browser session tokens (SessionService). The server refuses the token
  // once that session has ended or expired.
  std::string session_id = "";
  // jti: the token's unique id, when it has one (sign-in link tokens must).
  std::string token_id = "";
  // purpose: "login" on the sign-in link tokens paybellctl mints; such a token starts a session
  // and is refused as a bearer token for anything else.
  std::string purpose = "";
  // iat, when the token has one (sign-in links: it bounds the link's lifetime).
  std::optional<int64_t> issued_at = std::nullopt;

  bool all_tenants() const { return tenant_id == kAllTenants; }
};

}  // namespace paybell::auth
