#include "server/auth/rbac.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "server/common/error.h"

namespace paybell::auth {
namespace {

using common::Error;
using common::ErrorCode;

constexpr Role kAllRoles[] = {Role::kOwner, Role::kAdmin, Role::kMember, Role::kService,
                              Role::kOperator};

Principal Of(Role role, const std::string& tenant) { return {"someone", tenant, role, 0}; }

struct Expectation {
  Action action;
  std::set<Role> allowed;
  bool tenant_scoped;
};

// DESIGN.md "Identity and access", written out role by role.
const Expectation kMatrix[] = {
    {Action::kCreateCheckoutSession, {Role::kOwner}, true},
    {Action::kGetPortalLink, {Role::kOwner}, true},
    {Action::kReadSubscription,
     {Role::kOwner, Role::kAdmin, Role::kMember, Role::kService, Role::kOperator},
     true},
    {Action::kReadInvoices,
     {Role::kOwner, Role::kAdmin, Role::kMember, Role::kService, Role::kOperator},
     true},
    {Action::kReadSettings,
     {Role::kOwner, Role::kAdmin, Role::kMember, Role::kService, Role::kOperator},
     true},
    {Action::kUpdateSettings, {Role::kOwner, Role::kAdmin, Role::kOperator}, true},
    {Action::kSendTest, {Role::kOwner, Role::kAdmin, Role::kOperator}, true},
    {Action::kReadNotificationLog,
     {Role::kOwner, Role::kAdmin, Role::kMember, Role::kOperator},
     true},
    {Action::kReadAllNotificationLogs, {Role::kOperator}, false},
    {Action::kEmit, {Role::kService, Role::kOperator}, true},
    {Action::kListSubscriptions, {Role::kOperator}, false},
    {Action::kListEvents, {Role::kOperator}, false},
    {Action::kGetEvent, {Role::kOperator}, false},
    {Action::kReplayEvent, {Role::kOperator}, false},
    {Action::kSyncEvents, {Role::kOperator}, false},
    {Action::kReconcileSubscriptions, {Role::kOperator}, false},
    {Action::kIngestStripeEvent, {}, false},
    {Action::kReadBillingConfig,
     {Role::kOwner, Role::kAdmin, Role::kMember, Role::kService, Role::kOperator},
     false},
};

TEST(RbacTest, MatrixOnOwnTenant) {
  for (const Expectation& e : kMatrix) {
    for (Role role : kAllRoles) {
      const bool cross = role == Role::kService || role == Role::kOperator;
      const Principal p = Of(role, cross ? "*" : "t1");
      EXPECT_EQ(IsAllowed(p, e.action, "t1"), e.allowed.count(role) == 1)
          << ActionName(e.action) << " as " << RoleName(role);
    }
  }
}

TEST(RbacTest, UserTokensNeverReachAnotherTenant) {
  for (const Expectation& e : kMatrix) {
    if (!e.tenant_scoped) continue;
    for (Role role : kAllRoles) {
      EXPECT_FALSE(IsAllowed(Of(role, "t1"), e.action, "t2"))
          << ActionName(e.action) << " as " << RoleName(role);
    }
  }
}

TEST(RbacTest, OperatorsNeedAnAllTenantTokenForGlobalActions) {
  EXPECT_TRUE(IsAllowed(Of(Role::kOperator, "*"), Action::kListEvents, ""));
  EXPECT_FALSE(IsAllowed(Of(Role::kOperator, "t1"), Action::kListEvents, ""));
}

TEST(RbacTest, AuthorizeExplainsRefusals) {
  try {
    Authorize(Of(Role::kMember, "t1"), Action::kCreateCheckoutSession, "t1");
    FAIL() << "member may not check out";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
    EXPECT_NE(std::string(e.what()).find("member"), std::string::npos);
  }
  try {
    Authorize(Of(Role::kOwner, "t1"), Action::kReadSubscription, "t2");
    FAIL() << "another tenant";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kPermissionDenied);
  }
}

TEST(RbacTest, TenantScopedActionsNeedATenant) {
  try {
    Authorize(Of(Role::kOperator, "*"), Action::kReadSubscription, "");
    FAIL() << "empty tenant accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
}

TEST(RbacTest, EveryActionHasARule) {
  for (const Expectation& e : kMatrix) EXPECT_FALSE(ActionName(e.action).empty());
  EXPECT_EQ(std::size(kMatrix), static_cast<size_t>(Action::kReadAllNotificationLogs) + 1);
}

}  // namespace
}  // namespace paybell::auth
