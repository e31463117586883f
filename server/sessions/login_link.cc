#include "server/sessions/login_link.h"

#include "server/auth/jwt.h"
#include "server/common/encoding.h"
#include "server/common/error.h"
#include "server/common/url.h"
#include "server/common/validation.h"
#include "server/sessions/login_token.h"

namespace paybell::sessions {
namespace {

using common::Error;
using common::ErrorCode;

constexpr size_t kMaxEmailBytes = 254;
constexpr size_t kJtiBytes = 16;

[[noreturn]] void Invalid(const std::string& why) { throw Error(ErrorCode::kInvalidArgument, why); }

std::string WithoutTrailingSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

void ValidateEmail(std::string_view email) {
  if (email.empty() || email.size() > kMaxEmailBytes) {
    Invalid("--email must be 1 to 254 characters");
  }
  for (const char c : email) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f)
      Invalid("--email must not contain spaces or control characters");
  }
  const size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == email.size() ||
      email.find('@', at + 1) != std::string_view::npos) {
    Invalid("--email must be an address like ann@example.com");
  }
}

std::string LoginLinkBase(const common::Config& config, const std::string& app_url_flag) {
  if (!app_url_flag.empty()) {
    const auto url = common::ParseUrl(app_url_flag);
    if (!url || (url->scheme != "http" && url->scheme != "https") || url->host.empty()) {
      Invalid("--app-url must be an http:// or https:// URL");
    }
    return WithoutTrailingSlashes(app_url_flag);
  }
  if (config.app_url_set) return WithoutTrailingSlashes(config.app_url);
  const std::string& listen = config.http_listen;
  const size_t colon = listen.rfind(':');
  const std::string port = colon == std::string::npos ? "" : listen.substr(colon + 1);
  if (listen.empty() || port.empty() || port == "0") {
    Invalid("cannot tell where the sign-in page is (PAYBELL_HTTP_LISTEN is " +
            (listen.empty() ? std::string("empty") : "'" + listen + "'") +
            " and APP_URL is unset): pass --app-url");
  }
  return WithoutTrailingSlashes(common::EffectiveAppUrl(config, std::stoi(port)));
}

std::string MintLoginLink(const std::string& base, const LoginLinkRequest& request,
                          const std::string& jwt_secret, int64_t now) {
  try {
    common::ValidateTenantId(request.tenant_id);
  } catch (const Error& e) {
    Invalid(std::string("--tenant: ") + e.what());
  }
  ValidateEmail(request.email);
  const auto role = auth::ParseRole(request.role);
  if (!role || *role == auth::Role::kService || *role == auth::Role::kOperator) {
    Invalid("--role must be owner, admin or member");
  }
  if (request.ttl_s < 1 || request.ttl_s > kMaxLoginTokenLifetimeS) {
    Invalid("--ttl must be 1 to 900 seconds");
  }
  auth::Principal link;
  link.subject = request.email;
  link.tenant_id = request.tenant_id;
  link.role = *role;
  link.expires_at = now + request.ttl_s;
  link.token_id = common::RandomBase64Url(kJtiBytes);
  link.purpose = "login";
  // A JWT is base64url and dots: nothing in it needs escaping in a query string.
  return base + "/login?token=" + auth::SignToken(jwt_secret, link, now);
}

}  // namespace paybell::sessions
