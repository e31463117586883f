#include "server/notifications/settings.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "server/common/error.h"
#include "server/common/validation.h"
#include "server/notifications/proto_mapping.h"
#include "server/notifications/slack_url.h"

namespace paybell::notifications {
namespace {

using common::Error;
using common::ErrorCode;

constexpr double kMaxPsiThreshold = 10;
// More entries than this are refused before any work, whatever duplicates they hold.
constexpr int kMaxRecipientEntries = 100;

[[noreturn]] void Invalid(const std::string& message) {
  throw Error(ErrorCode::kInvalidArgument, message);
}

bool IsAtext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+/=?^_`{|}~-").find(c) != std::string_view::npos;
}

bool IsDotAtom(std::string_view s, bool (*allowed)(char)) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s[i + 1] == '.') return false;
    } else if (!allowed(s[i])) {
      return false;
    }
  }
  return true;
}

bool IsDomainChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

bool IsDomain(std::string_view domain) {
  if (domain.size() > 253 || !IsDotAtom(domain, IsDomainChar)) return false;
  size_t start = 0;
  while (start <= domain.size()) {
    const size_t dot = std::min(domain.find('.', start), domain.size());
    const std::string_view label = domain.substr(start, dot - start);
    if (label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    start = dot + 1;
  }
  return true;
}

std::vector<std::string> Recipients(const v1::NotificationSettings& update) {
  if (update.email_recipients_size() > kMaxRecipientEntries) {
    Invalid("email_recipients must hold at most " + std::to_string(kMaxEmailRecipients) +
            " addresses");
  }
  std::vector<std::string> out;
  for (int i = 0; i < update.email_recipients_size(); ++i) {
    const auto address = NormaliseEmailAddress(update.email_recipients(i));
    if (!address) {
      Invalid("email_recipients[" + std::to_string(i) + "] is not a valid email address");
    }
    if (std::find(out.begin(), out.end(), *address) == out.end()) out.push_back(*address);
  }
  if (out.size() > kMaxEmailRecipients) {
    Invalid("email_recipients must hold at most " + std::to_string(kMaxEmailRecipients) +
            " addresses");
  }
  return out;
}

double PsiThreshold(double requested) {
  if (requested == 0) return domain::kDefaultPsiThreshold;
  if (!std::isfinite(requested) || requested < 0 || requested > kMaxPsiThreshold) {
    Invalid("psi_threshold must be > 0 and <= 10 (0 means the default, 0.20)");
  }
  return requested;
}

std::set<domain::Trigger> DisabledTriggers(const v1::NotificationSettings& update) {
  std::set<domain::Trigger> out;
  for (int i = 0; i < update.disabled_triggers_size(); ++i) {
    const auto trigger = TriggerFromProto(update.disabled_triggers(i));
    if (!trigger) Invalid("disabled_triggers[" + std::to_string(i) + "] is not a known trigger");
    out.insert(*trigger);
  }
  return out;
}

nlohmann::json TriggerWords(const std::set<domain::Trigger>& triggers) {
  nlohmann::json words = nlohmann::json::array();
  for (auto trigger : triggers) words.push_back(std::string(domain::TriggerWord(trigger)));
  return words;
}

}  // namespace

std::optional<std::string> NormaliseEmailAddress(std::string_view address) {
  while (!address.empty() && (address.front() == ' ' || address.front() == '\t')) {
    address.remove_prefix(1);
  }
  while (!address.empty() && (address.back() == ' ' || address.back() == '\t')) {
    address.remove_suffix(1);
  }
  // Control characters (CR, LF, NUL), spaces and anything outside ASCII fail the character
  // checks below, so no address can smuggle a header line or a second recipient.
  if (address.empty() || address.size() > 254) return std::nullopt;
  const size_t at = address.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view local = address.substr(0, at);
  std::string domain(address.substr(at + 1));
  std::transform(domain.begin(), domain.end(), domain.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  if (local.size() > 64 || !IsDotAtom(local, IsAtext) || !IsDomain(domain)) return std::nullopt;
  return std::string(local) + "@" + domain;
}

domain::NotificationSettings SettingsFromUpdate(const v1::NotificationSettings& update,
                                                const domain::NotificationSettings& stored,
                                                const common::Config& config) {
  common::ValidateTenantId(update.tenant_id());
  domain::NotificationSettings out;
  out.tenant_id = update.tenant_id();
  out.email_enabled = update.email_enabled();
  out.email_recipients = Recipients(update);
  out.slack_enabled = update.slack_enabled();
  const std::string& url = update.slack_webhook_url();
  if (!stored.slack_webhook_url.empty() && url == MaskSlackUrl(stored.slack_webhook_url)) {
    out.slack_webhook_url = stored.slack_webhook_url;
  } else if (!url.empty()) {
    if (url.find("\u2026/****") != std::string::npos) {
      Invalid(
          "slack_webhook_url is a masked URL that does not match the stored one; enter the "
          "full URL");
    }
    out.slack_webhook_url = CheckSlackWebhookUrl(url, config.slack_allowed_hosts).url;
  }
  out.slack_broken = out.slack_webhook_url == stored.slack_webhook_url && stored.slack_broken;
  out.psi_threshold = PsiThreshold(update.psi_threshold());
  out.disabled_triggers = DisabledTriggers(update);
  out.updated_at = stored.updated_at;
  return out;
}

v1::NotificationSettings SettingsToProto(const domain::NotificationSettings& settings) {
  v1::NotificationSettings out;
  out.set_tenant_id(settings.tenant_id);
  out.set_email_enabled(settings.email_enabled);
  for (const auto& address : settings.email_recipients) out.add_email_recipients(address);
  out.set_slack_enabled(settings.slack_enabled);
  out.set_slack_webhook_url(MaskSlackUrl(settings.slack_webhook_url));
  out.set_psi_threshold(settings.psi_threshold);
  for (auto trigger : settings.disabled_triggers)
    out.add_disabled_triggers(TriggerToProto(trigger));
  if (settings.updated_at != 0) out.mutable_updated_at()->set_seconds(settings.updated_at);
  out.set_slack_broken(settings.slack_broken);
  return out;
}

std::string AuditDetail(const domain::NotificationSettings& before,
                        const domain::NotificationSettings& after) {
  nlohmann::json detail = nlohmann::json::object();
  auto changed = [&](const char* key, const auto& a, const auto& b) {
    if (a != b) detail[key] = {{"before", a}, {"after", b}};
  };
  changed("email_enabled", before.email_enabled, after.email_enabled);
  if (before.email_recipients != after.email_recipients) {
    nlohmann::json added = nlohmann::json::array();
    nlohmann::json removed = nlohmann::json::array();
    for (const auto& a : after.email_recipients) {
      if (std::find(before.email_recipients.begin(), before.email_recipients.end(), a) ==
          before.email_recipients.end()) {
        added.push_back(a);
      }
    }
    for (const auto& b : before.email_recipients) {
      if (std::find(after.email_recipients.begin(), after.email_recipients.end(), b) ==
          after.email_recipients.end()) {
        removed.push_back(b);
      }
    }
    detail["email_recipients"] = {{"added", added}, {"removed", removed}};
  }
  changed("slack_enabled", before.slack_enabled, after.slack_enabled);
  if (before.slack_webhook_url != after.slack_webhook_url) {
    detail["slack_webhook_url"] = "changed";
  }
  changed("psi_threshold", before.psi_threshold, after.psi_threshold);
  if (before.disabled_triggers != after.disabled_triggers) {
    detail["disabled_triggers"] = {{"before", TriggerWords(before.disabled_triggers)},
                                   {"after", TriggerWords(after.disabled_triggers)}};
  }
  return detail.dump();
}

}  // namespace paybell::notifications
