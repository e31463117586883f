#include "server/auth/rbac.h"

#include <string>

#include "server/common/error.h"

namespace paybell::auth {
namespace {

using common::Error;
using common::ErrorCode;

constexpr unsigned Bit(Role role) { return 1u << static_cast<unsigned>(role); }
constexpr unsigned kOwner = Bit(Role::kOwner);
constexpr unsigned kAdmin = Bit(Role::kAdmin);
constexpr unsigned kMember = Bit(Role::kMember);
constexpr unsigned kService = Bit(Role::kService);
constexpr unsigned kOperator = Bit(Role::kOperator);
constexpr unsigned kTenantUsers = kOwner | kAdmin | kMember;

enum class Scope {
  kTenant,  // the request names one tenant; the token must cover it
  kGlobal,  // not about one tenant (listing across tenants, configuration)
};

struct Rule {
  Action action;
  std::string_view name;
  unsigned roles;
  Scope scope;
};

// DESIGN.md "Identity and access". Operators may also repair settings and send test
// notifications (paybellctl), so they are listed beside owner/admin there.
constexpr Rule kRules[] = {
    {Action::kCreateCheckoutSession, "create a checkout session", kOwner, Scope::kTenant},
    {Action::kGetPortalLink, "open the billing portal", kOwner, Scope::kTenant},
    {Action::kReadSubscription, "read the subscription", kTenantUsers | kService | kOperator,
     Scope::kTenant},
    {Action::kReadInvoices, "read the invoices", kTenantUsers | kService | kOperator,
     Scope::kTenant},
    {Action::kListSubscriptions, "list subscriptions", kOperator, Scope::kGlobal},
    {Action::kReadBillingConfig, "read the billing configuration",
     kTenantUsers | kService | kOperator, Scope::kGlobal},
    {Action::kIngestStripeEvent, "ingest a Stripe event", 0, Scope::kGlobal},
    {Action::kListEvents, "list Stripe events", kOperator, Scope::kGlobal},
    {Action::kGetEvent, "read a Stripe event", kOperator, Scope::kGlobal},
    {Action::kReplayEvent, "replay a Stripe event", kOperator, Scope::kGlobal},
    {Action::kSyncEvents, "catch up Stripe events", kOperator, Scope::kGlobal},
    {Action::kReconcileSubscriptions, "reconcile subscriptions with Stripe", kOperator,
     Scope::kGlobal},
    {Action::kReadSettings, "read notification settings", kTenantUsers | kService | kOperator,
     Scope::kTenant},
    {Action::kUpdateSettings, "change notification settings", kOwner | kAdmin | kOperator,
     Scope::kTenant},
    {Action::kEmit, "emit a notification", kService | kOperator, Scope::kTenant},
    {Action::kSendTest, "send a test notification", kOwner | kAdmin | kOperator, Scope::kTenant},
    // Members see the log read-only on the settings page, as they see the settings.
    {Action::kReadNotificationLog, "read the notification log", kTenantUsers | kOperator,
     Scope::kTenant},
    {Action::kReadAllNotificationLogs, "read every tenant's notification log", kOperator,
     Scope::kGlobal},
};

const Rule& RuleFor(Action action) {
  for (const Rule& rule : kRules) {
    if (rule.action == action) return rule;
  }
  throw Error(ErrorCode::kInternal, "no access rule for an action");
}

// Empty when allowed, else the reason.
std::string Check(const Principal& principal, Action action, std::string_view tenant_id) {
  const Rule& rule = RuleFor(action);
  if ((rule.roles & Bit(principal.role)) == 0) {
    return "role '" + std::string(RoleName(principal.role)) + "' may not " + std::string(rule.name);
  }
  if (rule.scope == Scope::kTenant && !principal.all_tenants() &&
      principal.tenant_id != tenant_id) {
    return "this token may not " + std::string(rule.name) + " of another tenant";
  }
  if (rule.scope == Scope::kGlobal && rule.roles == kOperator && !principal.all_tenants()) {
    return "only an operator token for all tenants may " + std::string(rule.name);
  }
  return "";
}

}  // namespace

std::string_view ActionName(Action action) { return RuleFor(action).name; }

bool IsTenantScoped(Action action) { return RuleFor(action).scope == Scope::kTenant; }

void Authorize(const Principal& principal, Action action, std::string_view tenant_id) {
  if (RuleFor(action).scope == Scope::kTenant && tenant_id.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "tenant_id is required");
  }
  const std::string reason = Check(principal, action, tenant_id);
  if (!reason.empty()) throw Error(ErrorCode::kPermissionDenied, reason);
}

bool IsAllowed(const Principal& principal, Action action, std::string_view tenant_id) {
  if (RuleFor(action).scope == Scope::kTenant && tenant_id.empty()) return false;
  return Check(principal, action, tenant_id).empty();
}

}  // namespace paybell::auth
