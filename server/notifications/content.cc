#include "server/notifications/content.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <mstch/mstch.hpp>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>

#include "server/common/error.h"
#include "server/common/money.h"
#include "server/notifications/embedded_templates.h"
#include "server/notifications/mustache_template.h"

namespace paybell::notifications {
namespace {

using common::FormatMoney;

using domain::Trigger;
using nlohmann::json;

constexpr size_t kMaxDigestItems = 20;
// Slack refuses a section text over 3000 characters.
constexpr size_t kMaxSlackText = 2900;

template <typename T>
inline constexpr bool kIsInvoiceProblem = std::is_base_of_v<domain::InvoiceProblem, T>;

// ---- Formatting values for people -------------------------------------------------------

std::string FormatDouble(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

// Unix seconds → "2026-12-03" (UTC).
std::string FormatDate(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "unknown date";
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d", &tm);
  return buffer;
}

// 900 → "15 minutes", 3600 → "1 hour", 45 → "45 seconds".
std::string FormatWindow(int64_t seconds) {
  auto unit = [](int64_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
  };
  if (seconds > 0 && seconds % 3600 == 0) return unit(seconds / 3600, "hour");
  if (seconds > 0 && seconds % 60 == 0) return unit(seconds / 60, "minute");
  return unit(seconds, "second");
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// Links come from callers and Stripe; only web links become clickable.
bool IsWebLink(std::string_view url) {
  return url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0;
}

// ---- What each trigger says ---------------------------------------------------------------

struct Link {
  std::string label;
  std::string url;
};

struct Message {
  std::string subject;
  std::string headline;
  std::vector<std::pair<std::string, std::string>> facts;  // after "Tenant"
  std::vector<Link> links;                                 // before the settings link
  bool test = false;
};

bool LinksBilling(Trigger trigger) {
  return trigger == Trigger::kPaymentFailed || trigger == Trigger::kPaymentActionRequired ||
         trigger == Trigger::kTrialEnding;
}

struct Noun {
  const char* one;
  const char* many;
};

Noun DigestNoun(Trigger trigger) {
  switch (trigger) {
    case Trigger::kPsiDrift:
      return {"PSI drift alert", "PSI drift alerts"};
    case Trigger::kLlmBudgetFallback:
      return {"LLM budget fallback", "LLM budget fallbacks"};
    case Trigger::kJournalImbalance:
      return {"journal imbalance", "journal imbalances"};
    case Trigger::kExportCompleted:
      return {"completed export", "completed exports"};
    case Trigger::kColdStartGraduated:
      return {"cold-start graduation", "cold-start graduations"};
    case Trigger::kPaymentFailed:
      return {"failed payment", "failed payments"};
    case Trigger::kPaymentActionRequired:
      return {"payment needing confirmation", "payments needing confirmation"};
    case Trigger::kTrialEnding:
      return {"trial ending notice", "trial ending notices"};
  }
  return {"notification", "notifications"};
}

// The few words a digest lists per suppressed event ("model-a 0.31").
std::string DigestItem(const domain::TriggerEvent& event) {
  return std::visit(
      [](const auto& e) -> std::string {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, domain::PsiDrift>) {
          return e.model + " " + FormatDouble(e.psi);
        } else if constexpr (std::is_same_v<T, domain::LlmBudgetFallback>) {
          return e.provider + " \u2192 " + e.fallback_model;
        } else if constexpr (std::is_same_v<T, domain::JournalImbalance>) {
          return e.journal_entry_id + " " + FormatMoney(e.imbalance_minor, e.currency);
        } else if constexpr (std::is_same_v<T, domain::ExportCompleted>) {
          return e.kind.empty() ? e.export_id : e.export_id + " (" + e.kind + ")";
        } else if constexpr (std::is_same_v<T, domain::ColdStartGraduated>) {
          return e.model + " (" + std::to_string(e.samples) + " samples)";
        } else if constexpr (kIsInvoiceProblem<T>) {
          return e.invoice_id + " " + FormatMoney(e.amount_due_minor, e.currency);
        } else {
          return "ends " + FormatDate(e.trial_end);
        }
      },
      event);
}

Message TriggerMessage(const domain::TriggerEvent& event, const std::string& tenant) {
  Message m;
  m.headline = tenant + ": " + Summary(event) + ".";
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, domain::PsiDrift>) {
          m.subject = "PSI drift on " + e.model + " for " + tenant;
          m.facts = {{"Model", e.model}};
          if (!e.feature_set.empty()) m.facts.push_back({"Feature set", e.feature_set});
          m.facts.push_back({"PSI", FormatDouble(e.psi)});
        } else if constexpr (std::is_same_v<T, domain::LlmBudgetFallback>) {
          m.subject = "LLM budget used up for " + tenant + ": now using " + e.fallback_model;
          m.facts = {{"Provider", e.provider},
                     {"Fallback model", e.fallback_model},
                     {"Budget", FormatMoney(e.budget_minor, e.currency)},
                     {"Spent", FormatMoney(e.spent_minor, e.currency)}};
        } else if constexpr (std::is_same_v<T, domain::JournalImbalance>) {
          m.subject = "Journal entry " + e.journal_entry_id + " does not balance for " + tenant;
          m.facts = {{"Journal entry", e.journal_entry_id},
                     {"Imbalance", FormatMoney(e.imbalance_minor, e.currency)}};
        } else if constexpr (std::is_same_v<T, domain::ExportCompleted>) {
          m.subject = "Export " + e.export_id + " is ready for " + tenant;
          m.facts = {{"Export", e.export_id}};
          if (!e.kind.empty()) m.facts.push_back({"Kind", e.kind});
          m.links.push_back({"Download the export", e.download_url});
        } else if constexpr (std::is_same_v<T, domain::ColdStartGraduated>) {
          m.subject = e.model + " left cold start for " + tenant;
          m.facts = {{"Model", e.model}, {"Samples", std::to_string(e.samples)}};
        } else if constexpr (kIsInvoiceProblem<T>) {
          const bool failed = std::is_same_v<T, domain::PaymentFailed>;
          const std::string amount = FormatMoney(e.amount_due_minor, e.currency);
          m.subject = failed ? "Payment of " + amount + " failed for " + tenant
                             : "Payment of " + amount + " for " + tenant + " needs confirmation";
          m.facts = {{"Invoice", e.invoice_id}, {"Amount due", amount}};
          m.links.push_back(
              {failed ? "Pay the invoice" : "Confirm the payment", e.hosted_invoice_url});
        } else {
          const std::string date = FormatDate(e.trial_end);
          m.subject = "Trial for " + tenant + " ends on " + date;
          m.facts = {{"Trial ends", date + " (UTC)"}};
        }
      },
      event);
  return m;
}

// ---- Rendering ----------------------------------------------------------------------------

// Slack mrkdwn gives &, < and > meaning (entities, links, mentions): escape them in every value.
std::string SlackEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// Cuts at a UTF-8 character boundary.
std::string Truncate(std::string text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text + "\u2026";
}

std::string SlackLink(const Link& link) {
  std::string url = link.url;
  // "|" separates a Slack link's URL from its label.
  for (size_t at = url.find('|'); at != std::string::npos; at = url.find('|', at)) {
    url.replace(at, 1, "%7C");
  }
  return "<" + SlackEscape(url) + "|" + SlackEscape(link.label) + ">";
}

std::string SlackJson(const Message& m, const std::string& tenant, const std::vector<Link>& links) {
  json blocks = json::array();
  if (m.test) {
    blocks.push_back({{"type", "context"},
                      {"elements", json::array({{{"type", "mrkdwn"},
                                                 {"text",
                                                  ":test_tube: *Test message from Paybell.* "
                                                  "Nothing happened; no action is needed."}}})}});
  }
  blocks.push_back({{"type", "section"},
                    {"text",
                     {{"type", "mrkdwn"},
                      {"text", Truncate("*" + SlackEscape(m.headline) + "*", kMaxSlackText)}}}});
  json fields = json::array();
  fields.push_back({{"type", "mrkdwn"}, {"text", "*Tenant*\n" + SlackEscape(tenant)}});
  for (const auto& [label, value] : m.facts) {
    if (fields.size() == 10) break;  // Slack's limit per section
    fields.push_back(
        {{"type", "mrkdwn"},
         {"text", Truncate("*" + SlackEscape(label) + "*\n" + SlackEscape(value), 1900)}});
  }
  blocks.push_back({{"type", "section"}, {"fields", fields}});
  std::string link_line;
  for (const auto& link : links) {
    if (!link_line.empty()) link_line += "  \u00b7  ";
    link_line += SlackLink(link);
  }
  if (!link_line.empty()) {
    blocks.push_back({{"type", "context"},
                      {"elements", json::array({{{"type", "mrkdwn"}, {"text", link_line}}})}});
  }
  // `text` is the notification and fallback line; plain words, escaped the same way.
  const std::string text = (m.test ? "[TEST] " : "") + SlackEscape(m.headline);
  return json{{"text", Truncate(text, kMaxSlackText)}, {"blocks", blocks}}.dump();
}

// The email templates, parsed on first use (thread-safe) and kept: a render only walks them.
const MustacheTemplate& EmailText() {
  static const MustacheTemplate parsed(EmbeddedTemplate("email.txt.mustache"));
  return parsed;
}
const MustacheTemplate& EmailHtml() {
  static const MustacheTemplate parsed(EmbeddedTemplate("email.html.mustache"));
  return parsed;
}

RenderedMessage Render(const Message& m, const RenderContext& context) {
  const std::string app_url = TrimSlash(context.app_url);
  const std::string settings_url = app_url + "/settings/notifications";
  std::vector<Link> links;
  for (const auto& link : m.links) {
    if (IsWebLink(link.url)) links.push_back(link);
  }
  links.push_back({"Notification settings", settings_url});

  RenderedMessage out;
  out.subject = std::string(m.test ? "[Paybell TEST] " : "[Paybell] ") + m.subject;

  mstch::array facts;
  facts.push_back(mstch::map{{"label", std::string("Tenant")}, {"value", context.tenant_id}});
  for (const auto& [label, value] : m.facts) {
    facts.push_back(mstch::map{{"label", label}, {"value", value}});
  }
  mstch::array link_nodes;
  for (const auto& link : links) {
    link_nodes.push_back(mstch::map{{"label", link.label}, {"url", link.url}});
  }
  const mstch::map model{
      {"subject", out.subject},
      {"headline", m.headline},
      {"tenant", context.tenant_id},
      {"settings_url", settings_url},
      {"facts", facts},
      {"links", link_nodes},
      {"test", m.test},
  };
  out.text = EmailText().Render(model);
  out.html = EmailHtml().Render(model);
  out.slack_json = SlackJson(m, context.tenant_id, links);
  return out;
}

void AddBillingLink(Trigger trigger, const RenderContext& context, Message& m) {
  if (LinksBilling(trigger)) {
    m.links.push_back({"Billing", TrimSlash(context.app_url) + "/billing"});
  }
}

}  // namespace

std::string Summary(const domain::TriggerEvent& event) {
  return std::visit(
      [](const auto& e) -> std::string {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, domain::PsiDrift>) {
          return "PSI " + FormatDouble(e.psi) + " on " + e.model +
                 (e.feature_set.empty() ? "" : " (" + e.feature_set + ")");
        } else if constexpr (std::is_same_v<T, domain::LlmBudgetFallback>) {
          return "LLM budget on " + e.provider + " used up (" +
                 FormatMoney(e.spent_minor, e.currency) + " of " +
                 FormatMoney(e.budget_minor, e.currency) + "); now using " + e.fallback_model;
        } else if constexpr (std::is_same_v<T, domain::JournalImbalance>) {
          return "Journal entry " + e.journal_entry_id + " is off by " +
                 FormatMoney(e.imbalance_minor, e.currency);
        } else if constexpr (std::is_same_v<T, domain::ExportCompleted>) {
          return "Export " + e.export_id + (e.kind.empty() ? "" : " (" + e.kind + ")") +
                 " is ready to download";
        } else if constexpr (std::is_same_v<T, domain::ColdStartGraduated>) {
          return e.model + " left cold start after " + std::to_string(e.samples) + " samples";
        } else if constexpr (std::is_same_v<T, domain::PaymentFailed>) {
          return "Payment of " + FormatMoney(e.amount_due_minor, e.currency) + " failed (invoice " +
                 e.invoice_id + ")";
        } else if constexpr (std::is_same_v<T, domain::PaymentActionRequired>) {
          return "Payment of " + FormatMoney(e.amount_due_minor, e.currency) +
                 " needs the customer's confirmation (invoice " + e.invoice_id + ")";
        } else {
          return "Trial ends on " + FormatDate(e.trial_end) + " (UTC)";
        }
      },
      event);
}

RenderedMessage RenderTrigger(const domain::TriggerEvent& event, const RenderContext& context) {
  Message m = TriggerMessage(event, context.tenant_id);
  AddBillingLink(domain::TriggerOf(event), context, m);
  return Render(m, context);
}

RenderedMessage RenderDigest(domain::Trigger trigger,
                             const std::vector<domain::TriggerEvent>& items, int count,
                             int64_t window_s, const RenderContext& context) {
  const size_t listed = std::min(items.size(), kMaxDigestItems);
  const size_t total = std::max<size_t>(count < 0 ? 0 : static_cast<size_t>(count), listed);
  const Noun noun = DigestNoun(trigger);
  std::string headline = std::to_string(total) + " more " + (total == 1 ? noun.one : noun.many) +
                         " for " + context.tenant_id + " in the last " + FormatWindow(window_s);
  for (size_t i = 0; i < listed; ++i) {
    headline += (i == 0 ? ": " : ", ") + DigestItem(items[i]);
  }
  if (listed > 0 && total > listed) headline += " and " + std::to_string(total - listed) + " more";
  Message m;
  m.subject = std::to_string(total) + " more " + (total == 1 ? noun.one : noun.many) + " for " +
              context.tenant_id;
  m.headline = headline;
  m.facts = {{"Window", FormatWindow(window_s)}, {"Suppressed", std::to_string(total)}};
  AddBillingLink(trigger, context, m);
  return Render(m, context);
}

RenderedMessage RenderTest(domain::Channel channel, const RenderContext& context) {
  Message m;
  m.test = true;
  m.subject = "Test notification for " + context.tenant_id;
  m.headline = "Test notification for " + context.tenant_id + ": " +
               std::string(domain::ChannelWord(channel)) + " notifications reach you.";
  m.facts = {{"Channel", std::string(domain::ChannelWord(channel))}};
  return Render(m, context);
}

}  // namespace paybell::notifications
