#include "server/notifications/notification_service.h"

#include "server/common/error.h"
#include "server/common/grpc_status.h"
#include "server/common/pagination.h"
#include "server/common/request_id.h"
#include "server/common/timestamps.h"
#include "server/common/validation.h"
#include "server/notifications/emit_validation.h"
#include "server/notifications/settings.h"

namespace paybell::notifications {

using auth::Action;
using common::Error;
using common::ErrorCode;
using common::GuardHandler;

namespace {

// How long SendTest waits for the attempt before answering with the row as it stands.
constexpr auto kSendTestWait = std::chrono::seconds(45);
// At most one test per tenant and channel in this many seconds.
constexpr auto kSendTestInterval = std::chrono::seconds(10);

void LogEntryToProto(const db::NotificationLogRow& row, v1::LogEntry* out) {
  out->set_id(row.id);
  out->set_tenant_id(row.tenant_id);
  if (row.trigger) out->set_trigger(TriggerToProto(*row.trigger));
  out->set_channel(ChannelToProto(row.channel));
  out->set_status(std::string(domain::DeliveryStatusWord(row.status)));
  out->set_attempts(row.attempts);
  common::SetTimestampIfKnown(row.next_attempt_at, [&] { return out->mutable_next_attempt_at(); });
  out->set_last_error(row.last_error);
  out->mutable_created_at()->set_seconds(row.created_at);
  common::SetTimestampIfKnown(row.sent_at, [&] { return out->mutable_sent_at(); });
  out->set_summary(row.summary);
  out->set_kind(std::string(domain::LogKindWord(row.kind)));
  out->set_decision(DecisionToProto(row.decision));
}

db::AuditEntry AuditBy(const auth::Principal& principal, const grpc::ServerContext& context,
                       const std::string& tenant_id, int64_t now) {
  db::AuditEntry entry;
  entry.at = now;
  entry.actor = principal.actor.empty() ? principal.subject
                                        : principal.actor + " (for " + principal.subject + ")";
  entry.actor_role = std::string(auth::RoleName(principal.role));
  entry.tenant_id = tenant_id;
  entry.request_id = common::RequestIdOf(context);
  return entry;
}

}  // namespace

grpc::Status NotificationServiceImpl::GetSettings(grpc::ServerContext* context,
                                                  const v1::GetSettingsRequest* request,
                                                  v1::NotificationSettings* response) {
  return GuardHandler("GetSettings", [&] {
    auth_.Require(*context, Action::kReadSettings, request->tenant_id());
    common::ValidateTenantId(request->tenant_id());
    domain::NotificationSettings settings;
    database_.Read("read notification settings", [&](db::UnitOfWork& unit) {
      settings = db::SettingsOrDefaults(unit.notifications(), request->tenant_id());
    });
    *response = SettingsToProto(settings);
  });
}

grpc::Status NotificationServiceImpl::UpdateSettings(grpc::ServerContext* context,
                                                     const v1::UpdateSettingsRequest* request,
                                                     v1::NotificationSettings* response) {
  return GuardHandler("UpdateSettings", [&] {
    const std::string& tenant_id = request->settings().tenant_id();
    const auth::Principal principal = auth_.Require(*context, Action::kUpdateSettings, tenant_id);
    common::ValidateTenantId(tenant_id);
    domain::NotificationSettings updated;
    database_.Transact("update notification settings", [&](db::UnitOfWork& unit) {
      unit.LockTenant(tenant_id);
      const domain::NotificationSettings stored =
          db::SettingsOrDefaults(unit.notifications(), tenant_id);
      updated = SettingsFromUpdate(request->settings(), stored, config_);
      updated.tenant_id = tenant_id;
      const int64_t now = clock_.NowUnix();
      updated.updated_at = now;
      unit.notifications().SaveSettings(updated, principal.subject);
      db::AuditEntry audit = AuditBy(principal, *context, tenant_id, now);
      audit.action = "notifications.settings.updated";
      audit.target = tenant_id;
      audit.detail = AuditDetail(stored, updated);  // names what changed, never the Slack URL
      unit.audit().Append(audit);
      unit.Commit();
    });
    *response = SettingsToProto(updated);
  });
}

grpc::Status NotificationServiceImpl::Emit(grpc::ServerContext* context,
                                           const v1::EmitRequest* request,
                                           v1::EmitResponse* response) {
  return GuardHandler("Emit", [&] {
    auth_.Require(*context, Action::kEmit, request->tenant_id());
    const domain::TriggerEvent event = TriggerFromEmit(*request);  // INVALID_ARGUMENT per field
    std::vector<ChannelOutcome> outcomes;
    // The tenant is locked by the shared transaction before any of its units runs.
    emits_.Run(
        [&](db::UnitOfWork& unit) {
          outcomes = emitter_.Emit(unit, request->tenant_id(), event, clock_.NowUnix());
        },
        {request->tenant_id()});
    bool queued = false;
    for (const ChannelOutcome& outcome : outcomes) {
      v1::ChannelDecision* decision = response->add_decisions();
      decision->set_channel(ChannelToProto(outcome.channel));
      decision->set_decision(DecisionToProto(outcome.decision));
      decision->set_log_id(outcome.log_id);
      queued = queued || outcome.decision == domain::Decision::kQueued;
    }
    if (queued) dispatcher_.Wake();
  });
}

grpc::Status NotificationServiceImpl::SendTest(grpc::ServerContext* context,
                                               const v1::SendTestRequest* request,
                                               v1::SendTestResponse* response) {
  return GuardHandler("SendTest", [&] {
    const std::string& tenant_id = request->tenant_id();
    const auth::Principal principal = auth_.Require(*context, Action::kSendTest, tenant_id);
    common::ValidateTenantId(tenant_id);
    const std::optional<domain::Channel> channel = ChannelFromProto(request->channel());
    if (!channel) throw Error(ErrorCode::kInvalidArgument, "channel must be email or slack");
    int64_t id = 0;
    database_.Transact("queue a test notification", [&](db::UnitOfWork& unit) {
      unit.LockTenant(tenant_id);
      const domain::NotificationSettings settings =
          db::SettingsOrDefaults(unit.notifications(), tenant_id);
      // A test shows whether the configuration works, switched on or not, and bypasses the
      // debounce; it needs somewhere to go.
      if (*channel == domain::Channel::kEmail && settings.email_recipients.empty()) {
        throw Error(ErrorCode::kFailedPrecondition, "no email recipients are configured");
      }
      if (*channel == domain::Channel::kSlack && settings.slack_webhook_url.empty()) {
        throw Error(ErrorCode::kFailedPrecondition, "no Slack webhook URL is configured");
      }
      const int64_t now = clock_.NowUnix();
      // Test sends go to addresses nobody verified: one per tenant and channel at a time keeps
      // them from being a way to send mail in bulk through Paybell.
      db::NotificationLogFilter recent;
      recent.tenant_id = tenant_id;
      recent.channel = *channel;
      recent.since = now - kSendTestInterval.count();
      recent.limit = 100;
      for (const db::NotificationLogRow& earlier : unit.notifications().List(recent)) {
        if (earlier.kind == domain::LogKind::kTest) {
          throw Error(ErrorCode::kResourceExhausted, "a test was sent on this channel less than " +
                                                         std::to_string(kSendTestInterval.count()) +
                                                         " seconds ago; try again shortly");
        }
      }
      db::NotificationLogRow row;
      row.tenant_id = tenant_id;
      row.kind = domain::LogKind::kTest;
      row.channel = *channel;
      row.decision = domain::Decision::kQueued;
      row.status = domain::DeliveryStatus::kQueued;
      row.next_attempt_at = now;
      row.payload = "{}";
      row.summary = "test message";
      row.created_at = now;
      id = unit.notifications().Append(row).value_or(0);
      db::AuditEntry audit = AuditBy(principal, *context, tenant_id, now);
      audit.action = "notifications.test.sent";
      audit.target = std::to_string(id);
      audit.detail = "{\"channel\":\"" + std::string(domain::ChannelWord(*channel)) + "\"}";
      unit.audit().Append(audit);
      unit.Commit();
    });
    dispatcher_.Wake();
    const std::optional<db::NotificationLogRow> row = dispatcher_.WaitForAttempt(
        id, std::chrono::duration_cast<std::chrono::milliseconds>(kSendTestWait),
        [context] { return context->IsCancelled(); });
    response->set_log_id(id);
    if (!row) throw Error(ErrorCode::kInternal, "the test notification's row disappeared");
    response->set_status(std::string(domain::DeliveryStatusWord(row->status)));
    response->set_error(row->last_error);
  });
}

grpc::Status NotificationServiceImpl::ListLog(grpc::ServerContext* context,
                                              const v1::ListLogRequest* request,
                                              v1::ListLogResponse* response) {
  return GuardHandler("ListLog", [&] {
    db::NotificationLogFilter filter;
    if (request->tenant_id().empty()) {
      auth_.Require(*context, Action::kReadAllNotificationLogs, "");
    } else {
      auth_.Require(*context, Action::kReadNotificationLog, request->tenant_id());
      common::ValidateTenantId(request->tenant_id());
      filter.tenant_id = request->tenant_id();
    }
    if (request->trigger() != v1::TRIGGER_UNSPECIFIED) {
      filter.trigger = TriggerFromProto(request->trigger());
      if (!filter.trigger) throw Error(ErrorCode::kInvalidArgument, "unknown trigger");
    }
    if (request->channel() != v1::CHANNEL_UNSPECIFIED) {
      filter.channel = ChannelFromProto(request->channel());
      if (!filter.channel) throw Error(ErrorCode::kInvalidArgument, "unknown channel");
    }
    if (!request->status().empty()) {
      filter.status = domain::DeliveryStatusFromWord(request->status());
      if (!filter.status) {
        throw Error(ErrorCode::kInvalidArgument,
                    "status must be queued, sending, sent, suppressed, failed or dead");
      }
    }
    if (request->has_since()) filter.since = request->since().seconds();
    if (request->has_until()) filter.until = request->until().seconds();
    if (!request->page_token().empty()) {
      try {
        filter.before_id = std::stoll(common::DecodePageToken(request->page_token()));
      } catch (const std::logic_error&) {
        throw Error(ErrorCode::kInvalidArgument, "bad page_token");
      }
    }
    const int page_size = common::PageSize(request->page_size());
    filter.limit = page_size + 1;  // one extra row says whether another page follows
    std::vector<db::NotificationLogRow> rows;
    database_.Read("list notifications",
                   [&](db::UnitOfWork& unit) { rows = unit.notifications().List(filter); });
    const bool more = static_cast<int>(rows.size()) > page_size;
    if (more) rows.resize(static_cast<size_t>(page_size));
    for (const auto& row : rows) LogEntryToProto(row, response->add_entries());
    if (more)
      response->set_next_page_token(common::EncodePageToken(std::to_string(rows.back().id)));
  });
}

}  // namespace paybell::notifications
