#include "server/billing/billing_service.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

#include "server/billing/billing_config.h"
#include "server/billing/proto_mapping.h"
#include "server/common/error.h"
#include "server/common/grpc_status.h"
#include "server/common/limits.h"
#include "server/common/pagination.h"
#include "server/common/request_id.h"
#include "server/common/timestamps.h"
#include "server/common/validation.h"

namespace paybell::billing {

using auth::Action;
using common::Error;
using common::ErrorCode;
using common::GuardHandler;

namespace {

// The caller's gRPC deadline bounds every Stripe call of the operation, less a margin for
// recording the result; no deadline (or a far one) gets the Stripe budget of 25 s.
stripe::Deadline OperationDeadline(const grpc::ServerContext& context) {
  return stripe::OperationDeadline(context.deadline(), std::chrono::seconds(25),
                                   std::chrono::seconds(2));
}

domain::Plan RequirePlan(v1::Plan plan) {
  const auto parsed = PlanFromProto(plan);
  if (!parsed) {
    throw Error(ErrorCode::kInvalidArgument, "plan must be PLAN_STARTER, PLAN_PRO or PLAN_FIRM");
  }
  return *parsed;
}

// ListInvoices' cursor, "created:invoice_id" of the previous page's last row, inside the opaque
// page token.
std::string EncodeInvoiceCursor(const domain::Invoice& last) {
  return common::EncodePageToken(std::to_string(last.created) + ":" + last.invoice_id);
}

std::optional<db::InvoiceCursor> DecodeInvoiceCursor(const std::string& token) {
  if (token.empty()) return std::nullopt;
  const std::string key = common::DecodePageToken(token);
  const size_t colon = key.find(':');
  try {
    if (colon == std::string::npos || colon + 1 == key.size()) {
      throw std::invalid_argument("no cursor");
    }
    size_t used = 0;
    const int64_t created = std::stoll(key.substr(0, colon), &used);
    if (used != colon) throw std::invalid_argument("trailing characters");
    return db::InvoiceCursor{created, key.substr(colon + 1)};
  } catch (const std::exception&) {
    throw Error(ErrorCode::kInvalidArgument, "bad page_token");
  }
}

// Most GetSubscription calls one reader answers with one query (FindMany reads 32 per round
// trip).
constexpr size_t kSubscriptionReadBatch = 32;

}  // namespace

BillingServiceImpl::BillingServiceImpl(const auth::Authenticator& auth, db::Database& database,
                                       CheckoutService& checkout, const common::Config& config,
                                       size_t subscription_readers, ReconcileRunner* reconcile)
    : auth_(auth),
      database_(database),
      checkout_(checkout),
      config_(config),
      reconcile_(reconcile),
      subscription_reads_("subscription reads", subscription_readers,
                          common::kMaxQueuedSubscriptionReads, kSubscriptionReadBatch,
                          [this](std::vector<PendingRead>& batch) { ReadSubscriptions(batch); }) {}

grpc::Status BillingServiceImpl::CreateCheckoutSession(
    grpc::ServerContext* context, const v1::CreateCheckoutSessionRequest* request,
    v1::CreateCheckoutSessionResponse* response) {
  return GuardHandler("CreateCheckoutSession", [&] {
    const auth::Principal caller =
        auth_.Require(*context, Action::kCreateCheckoutSession, request->tenant_id());
    const CheckoutResult result = checkout_.CreateCheckoutSession(
        caller, request->tenant_id(), RequirePlan(request->plan()), request->coupon_code(),
        common::RequestIdOf(*context), OperationDeadline(*context));
    response->set_checkout_url(result.url);
    response->set_session_id(result.session_id);
    response->set_stub(result.stub);
  });
}

grpc::Status BillingServiceImpl::GetPortalLink(grpc::ServerContext* context,
                                               const v1::GetPortalLinkRequest* request,
                                               v1::GetPortalLinkResponse* response) {
  return GuardHandler("GetPortalLink", [&] {
    const auth::Principal caller =
        auth_.Require(*context, Action::kGetPortalLink, request->tenant_id());
    const PortalResult result = checkout_.GetPortalLink(
        caller, request->tenant_id(), common::RequestIdOf(*context), OperationDeadline(*context));
    response->set_url(result.url);
    response->set_stub(result.stub);
  });
}

grpc::ServerUnaryReactor* BillingServiceImpl::GetSubscription(
    grpc::CallbackServerContext* context, const v1::GetSubscriptionRequest* request,
    v1::Subscription* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // The handler runs on one of gRPC's few callback threads, which must never block:
  // authentication (a browser session is looked up in the database) and the read both run on a
  // reader thread.
  if (!subscription_reads_.TrySubmit({context, request, response, reactor})) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "too many subscription reads waiting; retry"));
  }
  return reactor;
}

void BillingServiceImpl::ReadSubscriptions(std::vector<PendingRead>& batch) {
  std::vector<const PendingRead*> authorized;
  std::vector<std::string> tenants;
  for (const PendingRead& read : batch) {
    if (read.context->IsCancelled()) {  // the caller gave up (deadline, cancel) while it waited
      read.reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled while queued"));
      continue;
    }
    const grpc::Status allowed = GuardHandler("GetSubscription", [&] {
      auth_.Require(*read.context, Action::kReadSubscription, read.request->tenant_id());
    });
    if (!allowed.ok()) {
      read.reactor->Finish(allowed);
      continue;
    }
    authorized.push_back(&read);
    tenants.push_back(read.request->tenant_id());
  }
  if (authorized.empty()) return;

  std::vector<domain::Subscription> found;
  const grpc::Status status = GuardHandler("GetSubscription", [&] {
    database_.Read("read subscriptions",
                   [&](db::UnitOfWork& unit) { found = unit.subscriptions().FindMany(tenants); });
  });
  if (!status.ok()) {
    // The database is down or busy: every call hears so. Anything else (a row that does not
    // parse) may be one tenant's: read each alone, so it cannot fail its neighbours.
    for (const PendingRead* read : authorized) {
      read->reactor->Finish(
          status.error_code() == grpc::StatusCode::UNAVAILABLE ? status : ReadSubscription(*read));
    }
    return;
  }
  for (const PendingRead* read : authorized) {
    const std::string& tenant = read->request->tenant_id();
    const auto row = std::find_if(found.begin(), found.end(), [&](const domain::Subscription& s) {
      return s.tenant_id == tenant;
    });
    *read->response = ToSubscriptionProto(
        tenant, row == found.end() ? std::nullopt : std::optional<domain::Subscription>(*row));
    read->reactor->Finish(grpc::Status::OK);
  }
}

grpc::Status BillingServiceImpl::ReadSubscription(const PendingRead& read) {
  return GuardHandler("GetSubscription", [&] {
    std::optional<domain::Subscription> found;
    database_.Read("read subscription", [&](db::UnitOfWork& unit) {
      found = unit.subscriptions().Find(read.request->tenant_id());
    });
    *read.response = ToSubscriptionProto(read.request->tenant_id(), found);
  });
}

grpc::Status BillingServiceImpl::ListSubscriptions(grpc::ServerContext* context,
                                                   const v1::ListSubscriptionsRequest* request,
                                                   v1::ListSubscriptionsResponse* response) {
  return GuardHandler("ListSubscriptions", [&] {
    auth_.Require(*context, Action::kListSubscriptions, "");
    std::optional<domain::SubscriptionStatus> status;
    if (request->status() != v1::SUBSCRIPTION_STATUS_UNSPECIFIED) {
      status = StatusFromProto(request->status());
      if (!status) {
        throw Error(ErrorCode::kInvalidArgument, "status must be a Stripe subscription status");
      }
    }
    const int page_size = common::PageSize(request->page_size());
    const std::string after = common::DecodePageToken(request->page_token());
    // One extra row tells whether another page follows.
    std::vector<domain::Subscription> records;
    database_.Read("list subscriptions", [&](db::UnitOfWork& unit) {
      records = unit.subscriptions().List(status, after, page_size + 1);
    });
    const bool more = static_cast<int>(records.size()) > page_size;
    if (more) records.resize(static_cast<size_t>(page_size));
    for (const auto& record : records) {
      *response->add_subscriptions() = ToSubscriptionProto(record.tenant_id, record);
    }
    if (more) response->set_next_page_token(common::EncodePageToken(records.back().tenant_id));
  });
}

grpc::Status BillingServiceImpl::GetBillingConfig(grpc::ServerContext* context,
                                                  const v1::GetBillingConfigRequest*,
                                                  v1::BillingConfig* response) {
  return GuardHandler("GetBillingConfig", [&] {
    auth_.Require(*context, Action::kReadBillingConfig, "");
    *response = MakeBillingConfig(config_);
  });
}

grpc::Status BillingServiceImpl::ListInvoices(grpc::ServerContext* context,
                                              const v1::ListInvoicesRequest* request,
                                              v1::ListInvoicesResponse* response) {
  return GuardHandler("ListInvoices", [&] {
    auth_.Require(*context, Action::kReadInvoices, request->tenant_id());
    const int page_size = common::PageSize(request->page_size());
    const auto after = DecodeInvoiceCursor(request->page_token());
    // One extra row tells whether another page follows.
    std::vector<domain::Invoice> records;
    database_.Read("list invoices", [&](db::UnitOfWork& unit) {
      records = unit.invoices().ListForTenant(request->tenant_id(), after, page_size + 1);
    });
    const bool more = static_cast<int>(records.size()) > page_size;
    if (more) records.resize(static_cast<size_t>(page_size));
    for (const auto& record : records) *response->add_invoices() = ToInvoiceProto(record);
    if (more) response->set_next_page_token(EncodeInvoiceCursor(records.back()));
  });
}

v1::ReconcileSubscriptionsResponse BillingServiceImpl::RunReconcile(
    grpc::ServerContext& context, const v1::ReconcileSubscriptionsRequest& request,
    const ReconcileRunner::Progress& progress) {
  const auth::Principal principal = auth_.Require(context, Action::kReconcileSubscriptions, "");
  if (!request.tenant_id().empty()) common::ValidateTenantId(request.tenant_id());
  if (reconcile_ == nullptr) {
    throw Error(ErrorCode::kFailedPrecondition,
                "stub mode: STRIPE_SECRET_KEY is not set, so there is no Stripe account to "
                "reconcile with");
  }
  const ReconcileCaller caller{principal.subject, std::string(auth::RoleName(principal.role)),
                               common::RequestIdOf(context)};
  return reconcile_->Reconcile(
      request.tenant_id(), request.dry_run(), caller,
      [&](const v1::ReconcileSubscriptionsResponse& counts, std::string_view stage) {
        // A caller gone (deadline, Ctrl-C) stops the run; tenants corrected stay corrected.
        if (context.IsCancelled()) {
          throw Error(ErrorCode::kUnavailable, "reconcile cancelled by the caller");
        }
        if (progress) progress(counts, stage);
      });
}

grpc::Status BillingServiceImpl::ReconcileSubscriptions(
    grpc::ServerContext* context, const v1::ReconcileSubscriptionsRequest* request,
    v1::ReconcileSubscriptionsResponse* response) {
  return GuardHandler("ReconcileSubscriptions",
                      [&] { *response = RunReconcile(*context, *request, {}); });
}

grpc::Status BillingServiceImpl::StreamReconcileSubscriptions(
    grpc::ServerContext* context, const v1::ReconcileSubscriptionsRequest* request,
    grpc::ServerWriter<v1::ReconcileProgress>* writer) {
  return GuardHandler("StreamReconcileSubscriptions", [&] {
    v1::ReconcileProgress message;
    const auto counts = RunReconcile(
        *context, *request,
        [&](const v1::ReconcileSubscriptionsResponse& so_far, std::string_view stage) {
          *message.mutable_counts() = so_far;
          message.set_stage(std::string(stage));
          if (!writer->Write(message)) {
            throw Error(ErrorCode::kUnavailable, "reconcile cancelled: the caller went away");
          }
        });
    *message.mutable_counts() = counts;
    message.set_stage("done");
    message.set_done(true);
    writer->Write(message);
  });
}

}  // namespace paybell::billing
