#include "server/notifications/dispatcher.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "server/common/error.h"
#include "server/notifications/backoff.h"
#include "server/notifications/content.h"

namespace paybell::notifications {
namespace {

using domain::Channel;
using domain::DeliveryStatus;
using domain::LogKind;

std::string NewClaimer() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  std::random_device random;
  return std::string(host.data()) + ":" + std::to_string(::getpid()) + ":" +
         std::to_string(random() % 1000000);
}

bool Attempted(DeliveryStatus status) {
  return status == DeliveryStatus::kSent || status == DeliveryStatus::kFailed ||
         status == DeliveryStatus::kDead;
}

}  // namespace

Dispatcher::Dispatcher(db::Database& database, const common::Config& config,
                       const common::Clock& clock, Emitter& emitter, EmailTransport* email,
                       SlackTransport& slack, DispatcherOptions options)
    : database_(database),
      config_(config),
      clock_(clock),
      emitter_(emitter),
      email_(email),
      slack_(slack),
      options_(options),
      claimer_(NewClaimer()),
      random_(std::random_device{}()) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { Run(); });
}

void Dispatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void Dispatcher::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

void Dispatcher::Run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    int done = 0;
    try {
      done = RunOnce();
    } catch (const std::exception& e) {
      // The database is down or a bug: keep the thread, try again at the next poll.
      spdlog::error("notification dispatcher: {}", e.what());
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (done > 0 && !stopping_) continue;  // there may be more due right away
    cv_.wait_for(lock, options_.poll, [this] { return stopping_ || wake_; });
    wake_ = false;
  }
}

int Dispatcher::RunOnce() {
  const int64_t now = clock_.NowUnix();
  // Windows close on the clock, not on an event: look for them every few seconds (one thread
  // does), not on every poll of every thread, so an idle server writes little.
  int64_t last = last_digest_sweep_.load();
  if (now - last >= kDigestSweepSeconds && last_digest_sweep_.compare_exchange_strong(last, now)) {
    database_.Transact("queue notification digests", [&](db::UnitOfWork& unit) {
      emitter_.QueueClosedWindowDigests(unit, now, options_.batch);
      unit.Commit();
    });
  }
  last = last_purge_.load();
  if (now - last >= kPurgeEverySeconds && last_purge_.compare_exchange_strong(last, now)) {
    const int64_t before =
        now - std::chrono::duration_cast<std::chrono::seconds>(options_.retention).count();
    int purged = 0;
    for (int batch = 1000; batch == 1000;) {
      database_.Transact("purge old notifications", [&](db::UnitOfWork& unit) {
        batch = unit.notifications().PurgeFinished(before, 1000);
        unit.Commit();
      });
      purged += batch;
    }
    if (purged > 0)
      spdlog::info("notification log: {} finished rows past retention deleted", purged);
  }
  const std::string claim = claimer_ + ":" + std::to_string(++claims_);
  std::vector<db::NotificationLogRow> claimed;
  database_.Transact("claim notifications", [&](db::UnitOfWork& unit) {
    claimed = unit.notifications().ClaimDue(claim, now, options_.lease.count(), options_.batch);
    unit.Commit();
  });
  int done = 0;
  for (const db::NotificationLogRow& row : claimed) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;  // unsent claims come back when their lease expires
    }
    if (Deliver(row, claim)) ++done;
  }
  return done;
}

DeliveryResult Dispatcher::Send(const db::NotificationLogRow& row, std::string* slack_url) {
  domain::NotificationSettings settings;
  database_.Read("read notification settings", [&](db::UnitOfWork& unit) {
    settings = db::SettingsOrDefaults(unit.notifications(), row.tenant_id);
  });
  const RenderContext context{row.tenant_id, config_.app_url};
  if (row.kind != LogKind::kTest && !row.trigger) {
    throw common::Error(common::ErrorCode::kInternal, "the row names no trigger");
  }
  RenderedMessage message;
  switch (row.kind) {
    case LogKind::kTrigger:
      message = RenderTrigger(PayloadFromJson(*row.trigger, row.payload), context);
      break;
    case LogKind::kDigest: {
      const DigestPayload digest = DigestPayloadFromJson(*row.trigger, row.payload);
      message =
          RenderDigest(*row.trigger, digest.items, digest.count, emitter_.debounce_s(), context);
      break;
    }
    case LogKind::kTest:
      message = RenderTest(row.channel, context);
      break;
  }
  DeliveryResult failed;
  failed.kind = DeliveryResult::Kind::kPermanent;
  if (row.kind != LogKind::kTest) {
    // The tenant's choices as they are now, not as they were when the row was queued.
    const bool channel_on =
        row.channel == Channel::kEmail ? settings.email_enabled : settings.slack_enabled;
    if (!channel_on || (row.trigger && settings.disabled_triggers.count(*row.trigger) > 0)) {
      failed.error = "not sent: the tenant switched this off after it was queued";
      return failed;
    }
  }
  if (row.channel == Channel::kEmail) {
    if (email_ == nullptr) {
      failed.error = "email is not configured on this server (SMTP_URL)";
      return failed;
    }
    if (settings.email_recipients.empty()) {
      failed.error = "the tenant has no email recipients";
      return failed;
    }
    EmailMessage email;
    email.from = config_.smtp_from;
    email.to = settings.email_recipients;
    email.subject = message.subject;
    email.text = message.text;
    email.html = message.html;
    if (row.kind == LogKind::kTest) email.headers.emplace_back("X-Paybell-Test", "true");
    return email_->Send(email);
  }
  if (settings.slack_webhook_url.empty()) {
    failed.error = "the tenant has no Slack webhook URL";
    return failed;
  }
  if (settings.slack_broken && row.kind != LogKind::kTest) {
    failed.error =
        "not sent: Slack refused this webhook URL before; it is flagged broken until the URL "
        "changes";
    return failed;
  }
  *slack_url = settings.slack_webhook_url;
  return slack_.Post(settings.slack_webhook_url, message.slack_json);
}

bool Dispatcher::Deliver(const db::NotificationLogRow& row, const std::string& claim) {
  DeliveryResult result;
  std::string slack_url;
  try {
    if (row.attempts > kMaxDeliveryAttempts) {
      // Claimed again and again without a recorded result: each sender died or hung mid-send.
      // Giving up keeps one poisonous row from taking every replica down in turn.
      result.kind = DeliveryResult::Kind::kPermanent;
      result.error = "no result recorded after " + std::to_string(row.attempts - 1) +
                     " claims (the sending process stopped mid-send)";
    } else {
      result = Send(row, &slack_url);
    }
  } catch (const common::Error& e) {
    if (e.code() == common::ErrorCode::kUnavailable) {
      // The database went away while reading settings: the lease brings the row back.
      spdlog::warn("notification {}: {}", row.id, e.what());
      return false;
    }
    result.kind = DeliveryResult::Kind::kPermanent;  // cannot be rendered: never will be
    result.error = e.what();
  } catch (const std::exception& e) {
    result.kind = DeliveryResult::Kind::kPermanent;
    result.error = e.what();
  }
  const int64_t now = clock_.NowUnix();
  bool recorded = false;
  std::string outcome;
  database_.Transact("record a notification attempt", [&](db::UnitOfWork& unit) {
    db::NotificationRepository& store = unit.notifications();
    switch (result.kind) {
      case DeliveryResult::Kind::kSent:
        recorded = store.MarkSent(row.id, claim, now);
        outcome = "sent";
        break;
      case DeliveryResult::Kind::kRetry:
        if (row.attempts >= kMaxDeliveryAttempts) {
          recorded = store.MarkDead(
              row.id, claim,
              result.error + " (gave up after " + std::to_string(row.attempts) + " attempts)");
          outcome = "dead";
        } else {
          // The peer said when (Slack's 429 Retry-After); otherwise exponential backoff with
          // full jitter, so rows failing together do not retry together.
          std::chrono::seconds delay;
          if (result.retry_after) {
            delay = *result.retry_after;
          } else {
            std::lock_guard<std::mutex> lock(mu_);
            delay = RetryDelay(row.attempts, random_);
          }
          recorded = store.MarkRetry(row.id, claim, result.error, now + delay.count());
          outcome = "retry in " + std::to_string(delay.count()) + " s";
        }
        break;
      case DeliveryResult::Kind::kPermanent:
        recorded = store.MarkDead(row.id, claim, result.error);
        outcome = "dead";
        if (recorded && result.slack_url_broken && !slack_url.empty()) {
          store.MarkSlackBroken(row.tenant_id, slack_url);
          db::AuditEntry audit;
          audit.at = now;
          audit.actor = "paybell";
          audit.tenant_id = row.tenant_id;
          audit.action = "notifications.slack.flagged_broken";
          audit.target = std::to_string(row.id);
          audit.detail = nlohmann::json{{"channel", "slack"}, {"reason", result.error}}.dump();
          unit.audit().Append(audit);
        }
        break;
    }
    unit.Commit();
  });
  if (recorded) {
    spdlog::info("notification {} tenant={} channel={} attempt {}: {}{}", row.id, row.tenant_id,
                 domain::ChannelWord(row.channel), row.attempts, outcome,
                 result.error.empty() ? "" : " (" + result.error + ")");
  } else {
    spdlog::warn("notification {}: the claim expired before the result was recorded", row.id);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    attempted_[row.id] = std::chrono::steady_clock::now();
    if (attempted_.size() > 1000) attempted_.erase(attempted_.begin());
  }
  attempted_cv_.notify_all();
  return recorded;
}

std::optional<db::NotificationLogRow> Dispatcher::WaitForAttempt(
    int64_t id, std::chrono::milliseconds timeout, const std::function<bool()>& cancelled) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::optional<db::NotificationLogRow> row;
  for (;;) {
    database_.Read("read a notification",
                   [&](db::UnitOfWork& unit) { row = unit.notifications().Find(id); });
    if (!row || Attempted(row->status) || std::chrono::steady_clock::now() >= deadline ||
        cancelled()) {
      return row;
    }
    // This process's dispatcher says when it attempted the row; another replica's does not,
    // so the row is read again at least every 200 ms. A notice already used (an attempt whose
    // claim was lost) is dropped first, so it cannot turn this into a busy loop.
    std::unique_lock<std::mutex> lock(mu_);
    attempted_.erase(id);
    attempted_cv_.wait_until(
        lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(200)),
        [&] { return attempted_.count(id) > 0; });
  }
}

}  // namespace paybell::notifications
