// The notification vocabulary: triggers, channels, decisions, delivery states, a tenant's
// settings and what each trigger carries. Words are what the database stores and logs show.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace paybell::domain {

enum class Trigger {
  kPsiDrift,
  kLlmBudgetFallback,
  kJournalImbalance,
  kExportCompleted,
  kColdStartGraduated,
  kPaymentFailed,
  kPaymentActionRequired,
  kTrialEnding,
};
inline constexpr Trigger kAllTriggers[] = {
    Trigger::kPsiDrift,
    Trigger::kLlmBudgetFallback,
    Trigger::kJournalImbalance,
    Trigger::kExportCompleted,
    Trigger::kColdStartGraduated,
    Trigger::kPaymentFailed,
    Trigger::kPaymentActionRequired,
    Trigger::kTrialEnding,
};
// "psi_drift", "llm_budget_fallback", "journal_imbalance", "export_completed",
// "cold_start_graduated", "payment_failed", "payment_action_required", "trial_ending".
std::string_view TriggerWord(Trigger trigger);
std::optional<Trigger> TriggerFromWord(std::string_view word);

enum class Channel { kEmail, kSlack };
inline constexpr Channel kAllChannels[] = {Channel::kEmail, Channel::kSlack};
std::string_view ChannelWord(Channel channel);  // "email", "slack"
std::optional<Channel> ChannelFromWord(std::string_view word);

// What Emit decided for one channel.
enum class Decision { kQueued, kSuppressed, kDisabled, kBelowThreshold, kUnconfigured };
std::string_view DecisionWord(Decision decision);  // "queued", … , "unconfigured"

// A notification_log row's delivery state.
enum class DeliveryStatus { kQueued, kSending, kSent, kSuppressed, kFailed, kDead };
std::string_view DeliveryStatusWord(DeliveryStatus status);
std::optional<DeliveryStatus> DeliveryStatusFromWord(std::string_view word);

// What a notification_log row is: a trigger's own message, the digest of the ones a debounce
// window suppressed, or a SendTest.
enum class LogKind { kTrigger, kDigest, kTest };
std::string_view LogKindWord(LogKind kind);  // "trigger", "digest", "test"
std::optional<LogKind> LogKindFromWord(std::string_view word);

inline constexpr double kDefaultPsiThreshold = 0.20;

// One tenant's settings. A tenant that never saved any has these defaults: email on with no
// recipients (so email decisions are `unconfigured` until someone adds one), Slack off.
struct NotificationSettings {
  std::string tenant_id;
  bool email_enabled = true;
  std::vector<std::string> email_recipients;  // normalised, deduplicated, 0–20
  bool slack_enabled = false;
  std::string slack_webhook_url;  // full URL; never logged, returned masked
  bool slack_broken = false;      // Slack answered 400/403/404/410; cleared when the URL changes
  double psi_threshold = kDefaultPsiThreshold;  // 0 < t <= 10
  std::set<Trigger> disabled_triggers;
  int64_t updated_at = 0;  // Unix seconds; 0 when never saved
};

// What each trigger carries (validated at the boundary; see notifications/emit_validation.h).
struct PsiDrift {
  std::string model;
  std::string feature_set;
  double psi = 0;
};
struct LlmBudgetFallback {
  std::string provider;
  std::string fallback_model;
  int64_t budget_minor = 0;
  int64_t spent_minor = 0;
  std::string currency;  // ISO 4217, upper case
};
struct JournalImbalance {
  std::string journal_entry_id;
  int64_t imbalance_minor = 0;
  std::string currency;
};
struct ExportCompleted {
  std::string export_id;
  std::string kind;
  std::string download_url;  // https
};
struct ColdStartGraduated {
  std::string model;
  int64_t samples = 0;
};
// Raised by Paybell from Stripe events (invoice.payment_failed / invoice.payment_action_required).
struct InvoiceProblem {
  std::string event_id;  // the Stripe event: one notification per event id, also under replay
  std::string invoice_id;
  std::string hosted_invoice_url;  // where the customer pays or confirms
  int64_t amount_due_minor = 0;
  std::string currency;
};
struct PaymentFailed : InvoiceProblem {};
struct PaymentActionRequired : InvoiceProblem {};
// Raised from customer.subscription.trial_will_end.
struct TrialEnding {
  std::string event_id;
  int64_t trial_end = 0;  // Unix seconds
};

using TriggerEvent =
    std::variant<PsiDrift, LlmBudgetFallback, JournalImbalance, ExportCompleted, ColdStartGraduated,
                 PaymentFailed, PaymentActionRequired, TrialEnding>;
Trigger TriggerOf(const TriggerEvent& event);

}  // namespace paybell::domain
