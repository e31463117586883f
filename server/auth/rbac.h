// The access-control table of DESIGN.md, in one place: which roles may do what, on which tenant.
#pragma once

#include <string_view>

#include "server/auth/principal.h"

namespace paybell::auth {

enum class Action {
  kCreateCheckoutSession,
  kGetPortalLink,
  kReadSubscription,
  kReadInvoices,
  kListSubscriptions,
  kReadBillingConfig,
  kIngestStripeEvent,  // not token-authenticated; listed so the table is complete
  kListEvents,
  kGetEvent,
  kReplayEvent,
  kSyncEvents,               // catch up from Stripe's event list
  kReconcileSubscriptions,  // compare with Stripe and correct
  kReadSettings,
  kUpdateSettings,
  kEmit,
  kSendTest,
  kReadNotificationLog,
  kReadAllNotificationLogs,  // ListLog without a tenant: every tenant's rows
};

std::string_view ActionName(Action action);

// Whether the action is about one tenant named in the request.
bool IsTenantScoped(Action action);

// Throws common::Error: kPermissionDenied when the role may not do this or the token belongs
// to another tenant; kInvalidArgument when a tenant-scoped action names no tenant.
// `tenant_id` is the tenant the request is about (ignored for cross-tenant actions).
void Authorize(const Principal& principal, Action action, std::string_view tenant_id);

// Whether Authorize would pass; for tests and for callers that only want to know.
bool IsAllowed(const Principal& principal, Action action, std::string_view tenant_id);

}  // namespace paybell::auth
