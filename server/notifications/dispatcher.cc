#include "server/notifications/dispatcher.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

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

struct Dispatcher::TenantSettings {
  domain::NotificationSettings settings;
  std::string error;  // set when they could not be read (a corrupted row): the rows are dead
};

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
      random_(std::random_device{}()) {
  for (int i = 0; i < options_.senders; ++i) senders_.emplace_back([this] { SenderLoop(); });
}

Dispatcher::~Dispatcher() {
  Stop();
  {
    std::lock_guard<std::mutex> lock(send_mu_);
    senders_stopping_ = true;
  }
  send_cv_.notify_all();
  for (auto& sender : senders_) sender.join();
}

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

void Dispatcher::SenderLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(send_mu_);
      send_cv_.wait(lock, [this] { return senders_stopping_ || !send_queue_.empty(); });
      if (send_queue_.empty()) return;  // stopping, and nothing left to run
      task = std::move(send_queue_.front());
      send_queue_.pop_front();
    }
    task();
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
  if (claimed.empty()) return 0;
  const auto start_by = std::chrono::steady_clock::now() + options_.start_within;
  const std::map<std::string, TenantSettings> settings = ReadSettings(claimed);

  std::vector<Attempt> attempts(claimed.size());
  auto attempt = [&](size_t i) {
    bool give_back = std::chrono::steady_clock::now() >= start_by;
    {
      std::lock_guard<std::mutex> lock(mu_);
      give_back = give_back || stopping_;  // unsent claims are given back
    }
    if (give_back) {
      attempts[i].released = true;
      return;
    }
    attempts[i] = Try(claimed[i], settings.at(claimed[i].tenant_id));
  };
  if (claimed.size() == 1 || senders_.empty()) {
    for (size_t i = 0; i < claimed.size(); ++i) attempt(i);
  } else {
    std::mutex done_mu;
    std::condition_variable done_cv;
    size_t pending = claimed.size();
    {
      std::lock_guard<std::mutex> lock(send_mu_);
      for (size_t i = 0; i < claimed.size(); ++i) {
        send_queue_.emplace_back([&, i] {
          attempt(i);
          std::lock_guard<std::mutex> done_lock(done_mu);
          if (--pending == 0) done_cv.notify_all();
        });
      }
    }
    send_cv_.notify_all();
    std::unique_lock<std::mutex> lock(done_mu);
    done_cv.wait(lock, [&] { return pending == 0; });
  }
  const int recorded = Record(claimed, attempts, claim);
  NoteAttempted(claimed);
  return recorded;
}

std::map<std::string, Dispatcher::TenantSettings> Dispatcher::ReadSettings(
    const std::vector<db::NotificationLogRow>& rows) {
  std::vector<std::string> tenants;
  for (const auto& row : rows) tenants.push_back(row.tenant_id);
  std::sort(tenants.begin(), tenants.end());
  tenants.erase(std::unique(tenants.begin(), tenants.end()), tenants.end());
  std::map<std::string, TenantSettings> out;
  auto with_defaults = [&](std::map<std::string, domain::NotificationSettings> found) {
    for (const std::string& tenant : tenants) {
      TenantSettings& entry = out[tenant];
      auto it = found.find(tenant);
      if (it != found.end()) {
        entry.settings = std::move(it->second);
      } else {
        entry.settings.tenant_id = tenant;  // never saved: the defaults
      }
    }
  };
  try {
    database_.Read("read notification settings", [&](db::UnitOfWork& unit) {
      with_defaults(unit.notifications().FindSettingsMany(tenants));
    });
    return out;
  } catch (const common::Error& e) {
    // The database went away: the claims come back when their lease expires.
    if (e.code() == common::ErrorCode::kUnavailable) throw;
  } catch (const std::exception&) {
  }
  // One tenant's row cannot be read: the others' rows still go out.
  out.clear();
  for (const std::string& tenant : tenants) {
    TenantSettings& entry = out[tenant];
    try {
      database_.Read("read notification settings", [&](db::UnitOfWork& unit) {
        entry.settings = db::SettingsOrDefaults(unit.notifications(), tenant);
      });
    } catch (const common::Error& e) {
      if (e.code() == common::ErrorCode::kUnavailable) throw;
      entry.error = e.what();
    } catch (const std::exception& e) {
      entry.error = e.what();
    }
  }
  return out;
}

Dispatcher::Attempt Dispatcher::Try(const db::NotificationLogRow& row,
                                    const TenantSettings& settings) {
  Attempt attempt;
  DeliveryResult& result = attempt.result;
  try {
    if (row.attempts > kMaxDeliveryAttempts) {
      // Claimed again and again without a recorded result: each sender died or hung mid-send.
      // Giving up keeps one poisonous row from taking every replica down in turn.
      result.kind = DeliveryResult::Kind::kPermanent;
      result.error = "no result recorded after " + std::to_string(row.attempts - 1) +
                     " claims (the sending process stopped mid-send)";
    } else if (!settings.error.empty()) {
      result.kind = DeliveryResult::Kind::kPermanent;
      result.error = settings.error;
    } else {
      result = Send(row, settings.settings, &attempt.slack_url);
    }
  } catch (const std::exception& e) {
    result.kind = DeliveryResult::Kind::kPermanent;  // cannot be rendered: never will be
    result.error = e.what();
  }
  return attempt;
}

DeliveryResult Dispatcher::Send(const db::NotificationLogRow& row,
                                const domain::NotificationSettings& settings,
                                std::string* slack_url) {
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

bool Dispatcher::RecordOne(db::UnitOfWork& unit, const db::NotificationLogRow& row,
                           const Attempt& attempt, const std::string& claim, int64_t now,
                           std::string* outcome) {
  db::NotificationRepository& store = unit.notifications();
  const DeliveryResult& result = attempt.result;
  if (attempt.released) {
    *outcome = "given back unsent";
    return store.Release(row.id, claim, now);
  }
  switch (result.kind) {
    case DeliveryResult::Kind::kSent:
      *outcome = "sent";
      return store.MarkSent(row.id, claim, now);
    case DeliveryResult::Kind::kRetry: {
      if (row.attempts >= kMaxDeliveryAttempts) {
        *outcome = "dead";
        return store.MarkDead(
            row.id, claim,
            result.error + " (gave up after " + std::to_string(row.attempts) + " attempts)");
      }
      // The peer said when (Slack's 429 Retry-After); otherwise exponential backoff with full
      // jitter, so rows failing together do not retry together.
      std::chrono::seconds delay;
      if (result.retry_after) {
        delay = *result.retry_after;
      } else {
        std::lock_guard<std::mutex> lock(mu_);
        delay = RetryDelay(row.attempts, random_);
      }
      *outcome = "retry in " + std::to_string(delay.count()) + " s";
      // Times are whole seconds and due rows are picked by the clock rounded down, so the retry
      // time is rounded up: a retry never comes before its delay has passed (Retry-After is a
      // minimum). Rounded down, a 1 s Retry-After was retried in under a second.
      const int64_t retry_at =
          std::chrono::ceil<std::chrono::seconds>((clock_.Now() + delay).time_since_epoch())
              .count();
      return store.MarkRetry(row.id, claim, result.error, retry_at);
    }
    case DeliveryResult::Kind::kPermanent: {
      *outcome = "dead";
      const bool recorded = store.MarkDead(row.id, claim, result.error);
      if (recorded && result.slack_url_broken && !attempt.slack_url.empty()) {
        store.MarkSlackBroken(row.tenant_id, attempt.slack_url);
        db::AuditEntry audit;
        audit.at = now;
        audit.actor = "paybell";
        audit.tenant_id = row.tenant_id;
        audit.action = "notifications.slack.flagged_broken";
        audit.target = std::to_string(row.id);
        audit.detail = nlohmann::json{{"channel", "slack"}, {"reason", result.error}}.dump();
        unit.audit().Append(audit);
      }
      return recorded;
    }
  }
  return false;
}

int Dispatcher::Record(const std::vector<db::NotificationLogRow>& rows,
                       const std::vector<Attempt>& attempts, const std::string& claim) {
  const int64_t now = clock_.NowUnix();
  std::vector<char> recorded(rows.size(), 0);
  std::vector<std::string> outcomes(rows.size());
  auto record_batch = [&](db::UnitOfWork& unit) {
    std::fill(recorded.begin(), recorded.end(), 0);
    std::vector<int64_t> sent;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!attempts[i].released && attempts[i].result.kind == DeliveryResult::Kind::kSent) {
        sent.push_back(rows[i].id);
      }
    }
    const std::vector<int64_t> marked = unit.notifications().MarkSentMany(sent, claim, now);
    const std::set<int64_t> marked_set(marked.begin(), marked.end());
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!attempts[i].released && attempts[i].result.kind == DeliveryResult::Kind::kSent) {
        recorded[i] = marked_set.count(rows[i].id) > 0;
        outcomes[i] = "sent";
      } else {
        recorded[i] = RecordOne(unit, rows[i], attempts[i], claim, now, &outcomes[i]);
      }
    }
    unit.Commit();
  };
  bool each_alone = false;
  try {
    // The messages went out: their results must be written, or the rows are sent again when
    // the lease ends. A busy or briefly unreachable database gets a few tries, ~3 s in all
    // (far inside the lease); the updates are guarded by the claim, so a retry is harmless.
    for (int attempt = 1;; ++attempt) {
      try {
        database_.Transact("record notification attempts", record_batch);
        break;
      } catch (const common::Error& e) {
        if (e.code() != common::ErrorCode::kUnavailable || attempt == 5) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
      }
    }
  } catch (const common::Error& e) {
    if (e.code() == common::ErrorCode::kUnavailable || rows.size() == 1) throw;
    spdlog::warn("notification results: a batch of {} failed ({}); recording each alone",
                 rows.size(), e.what());
    each_alone = true;
  } catch (const std::exception& e) {
    if (rows.size() == 1) throw;
    spdlog::warn("notification results: a batch of {} failed ({}); recording each alone",
                 rows.size(), e.what());
    each_alone = true;
  }
  // One row's result cannot be written (a bug, a constraint): the others' still are.
  for (size_t i = 0; each_alone && i < rows.size(); ++i) {
    try {
      database_.Transact("record a notification attempt", [&](db::UnitOfWork& unit) {
        recorded[i] = RecordOne(unit, rows[i], attempts[i], claim, now, &outcomes[i]);
        unit.Commit();
      });
    } catch (const common::Error& e) {
      if (e.code() == common::ErrorCode::kUnavailable) throw;
      spdlog::error("notification {}: its result cannot be recorded: {}", rows[i].id, e.what());
      recorded[i] = 0;
    } catch (const std::exception& e) {
      spdlog::error("notification {}: its result cannot be recorded: {}", rows[i].id, e.what());
      recorded[i] = 0;
    }
  }
  int done = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const db::NotificationLogRow& row = rows[i];
    if (attempts[i].released) continue;  // due again; no attempt was made
    const DeliveryResult& result = attempts[i].result;
    if (recorded[i]) {
      ++done;
      spdlog::info("notification {} tenant={} channel={} attempt {}: {}{}", row.id, row.tenant_id,
                   domain::ChannelWord(row.channel), row.attempts, outcomes[i],
                   result.error.empty() ? "" : " (" + result.error + ")");
    } else {
      spdlog::warn("notification {}: the claim expired before the result was recorded", row.id);
    }
  }
  return done;
}

void Dispatcher::NoteAttempted(const std::vector<db::NotificationLogRow>& rows) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    for (const auto& row : rows) attempted_[row.id] = now;
    while (attempted_.size() > 1000) attempted_.erase(attempted_.begin());
  }
  attempted_cv_.notify_all();
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
