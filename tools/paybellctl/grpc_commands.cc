#include "tools/paybellctl/grpc_commands.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <iostream>
#include <sstream>
#include <vector>

#include "paybell/v1/billing.grpc.pb.h"
#include "paybell/v1/notification.grpc.pb.h"
#include "paybell/v1/webhook.grpc.pb.h"
#include "server/common/grpc_status.h"
#include "server/common/log_escape.h"
#include "tools/paybellctl/since.h"

namespace paybell::ctl {
namespace {

constexpr auto kDeadline = std::chrono::seconds(30);

// Calls `rpc` with a fresh token and prints the answer; returns the process exit code.
template <typename Call>
int Run(const std::string& token, Call&& rpc) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kDeadline);
  context.AddMetadata("authorization", "Bearer " + token);
  const auto [status, json] = rpc(context);
  if (!status.ok()) {
    // The server's message may echo input (an event id, a tenant): escaped like a log line, so
    // it cannot move the operator's cursor or forge a second line.
    std::cerr << common::GrpcCodeName(status.error_code()) << ": "
              << common::EscapeForTextLog(status.error_message()) << "\n";
    return 1;
  }
  std::cout << json << "\n";
  return 0;
}

template <typename Message>
std::string ToJson(const Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string Day(bool has, const google::protobuf::Timestamp& time) {
  if (!has) return "-";
  const std::time_t seconds = static_cast<std::time_t>(time.seconds());
  std::tm utc{};
  char text[16];
  if (gmtime_r(&seconds, &utc) == nullptr ||
      std::strftime(text, sizeof text, "%Y-%m-%d", &utc) == 0)
    return "?";
  return text;
}

// One line per invoice, newest first, in aligned columns; amounts in minor units as stored.
// Values from Stripe are escaped like log lines, so none can move the operator's cursor.
std::string InvoiceTable(const v1::ListInvoicesResponse& response) {
  std::vector<std::vector<std::string>> rows = {
      {"CREATED", "INVOICE", "NUMBER", "STATUS", "DUE", "PAID", "CURRENCY", "PERIOD"}};
  for (const v1::Invoice& i : response.invoices()) {
    std::string status = v1::InvoiceStatus_Name(i.status());
    constexpr std::string_view kPrefix = "INVOICE_STATUS_";
    if (status.compare(0, kPrefix.size(), kPrefix) == 0) status = status.substr(kPrefix.size());
    for (char& c : status) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    rows.push_back({Day(i.has_created(), i.created()), common::EscapeForTextLog(i.invoice_id()),
                    i.number().empty() ? "-" : common::EscapeForTextLog(i.number()), status,
                    std::to_string(i.amount_due()), std::to_string(i.amount_paid()),
                    common::EscapeForTextLog(i.currency()),
                    Day(i.has_period_start(), i.period_start()) + ".." +
                        Day(i.has_period_end(), i.period_end())});
  }
  std::vector<size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::ostringstream out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
    }
    out << line << "\n";
  }
  if (response.invoices().empty()) out << "(no invoices)\n";
  if (!response.next_page_token().empty()) {
    out << "more: --page-token " << response.next_page_token() << "\n";
  }
  std::string text = out.str();
  text.pop_back();  // Run ends the answer with a newline
  return text;
}

std::string TimeText(int64_t unix_seconds) {
  const std::time_t seconds = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  char text[32];
  if (gmtime_r(&seconds, &utc) == nullptr ||
      std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0)
    return std::to_string(unix_seconds);
  return text;
}

// Catch-up and reconcile page through Stripe: minutes, not seconds, for a large account.
constexpr auto kLongDeadline = std::chrono::minutes(30);

// Runs a server-streaming progress RPC: each message but the last is a progress line on
// stderr; `finish` prints the last one (done = true). Returns the exit code.
template <typename Progress, typename Start, typename Line, typename Finish>
int RunWithProgress(const std::string& token, Start&& start, Line&& line, Finish&& finish) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kLongDeadline);
  context.AddMetadata("authorization", "Bearer " + token);
  auto reader = start(context);
  Progress message;
  bool done = false;
  while (reader->Read(&message)) {
    if (message.done()) {
      done = true;
      finish(message);
    } else {
      std::cerr << line(message) << "\n";
    }
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) {
    std::cerr << common::GrpcCodeName(status.error_code()) << ": "
              << common::EscapeForTextLog(status.error_message()) << "\n";
    return 1;
  }
  if (!done) {
    std::cerr << "the server ended the call without a summary\n";
    return 1;
  }
  return 0;
}

std::string Padded(const std::string& text, size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

std::string SyncSummary(const v1::SyncEventsResponse& c, bool dry_run) {
  std::ostringstream out;
  out << "catch-up from Stripe events created since " << TimeText(c.since().seconds())
      << (dry_run ? " (dry run: nothing stored)" : "") << "\n";
  out << "  pages      " << c.pages() << "\n";
  out << "  fetched    " << c.fetched() << "\n";
  out << "  " << Padded(dry_run ? "to ingest" : "ingested", 11) << c.ingested() << "\n";
  out << "  duplicate  " << c.duplicate() << "\n";
  std::vector<std::pair<std::string, int64_t>> outcomes(c.outcomes().begin(), c.outcomes().end());
  std::sort(outcomes.begin(), outcomes.end());
  for (const auto& [outcome, n] : outcomes) out << "    " << Padded(outcome, 9) << n << "\n";
  return out.str();
}

std::string ReconcileSummary(const v1::ReconcileSubscriptionsResponse& c, bool dry_run) {
  std::ostringstream out;
  if (c.diffs_size() > 0) {
    size_t tenant_w = 6, field_w = 5, before_w = 6;
    for (const auto& d : c.diffs()) {
      tenant_w = std::max(tenant_w, d.tenant_id().size());
      field_w = std::max(field_w, d.field().size());
      before_w = std::max(before_w, d.before().size());
    }
    out << Padded("TENANT", tenant_w + 1) << Padded("FIELD", field_w + 1)
        << Padded("STORED", before_w + 1) << "STRIPE\n";
    for (const auto& d : c.diffs()) {
      out << Padded(common::EscapeForTextLog(d.tenant_id()), tenant_w + 1)
          << Padded(d.field(), field_w + 1)
          << Padded(d.before().empty() ? "-" : common::EscapeForTextLog(d.before()), before_w + 1)
          << (d.after().empty() ? "-" : common::EscapeForTextLog(d.after())) << "\n";
    }
    if (c.diffs_omitted() > 0) {
      out << "… and " << c.diffs_omitted()
          << " more difference(s): see each tenant's billing.subscription.reconciled audit\n";
    }
  }
  out << "checked " << c.checked() << " tenant(s), " << c.changed()
      << (dry_run ? " would change (dry run: nothing written)" : " corrected") << ", "
      << c.events_retried() << " unmatched event(s) " << (dry_run ? "to retry" : "retried")
      << (c.pages() > 0 ? ", " + std::to_string(c.pages()) + " page(s) of subscriptions" : "")
      << "\n";
  if (c.skipped() > 0) {
    out << c.skipped()
        << " tenant(s) left as they are: an event as new as Stripe's answer was applied meanwhile "
           "(compared again next time)\n";
  }
  return out.str();
}

std::shared_ptr<grpc::Channel> Channel(const std::string& target) {
  return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
}

}  // namespace

void AddGrpcCommands(CLI::App& cli, const TargetResolver* target, const TokenMinter* mint,
                     int* exit_code) {
  // Options live as long as the CLI; the callbacks run after parsing.
  static std::string tenant, plan, coupon, status, type, outcome, event_id, page_token, channel;
  static int page_size = 0;

  auto* sub = cli.add_subcommand("subscription", "show one tenant's subscription");
  sub->add_option("--tenant", tenant, "tenant id")->required();
  sub->callback([=] {
    auto stub = v1::BillingService::NewStub(Channel((*target)()));
    *exit_code = Run((*mint)("operator", "*"), [&](grpc::ClientContext& context) {
      v1::GetSubscriptionRequest request;
      request.set_tenant_id(tenant);
      v1::Subscription response;
      const grpc::Status s = stub->GetSubscription(&context, request, &response);
      return std::make_pair(s, ToJson(response));
    });
  });

  auto* subs = cli.add_subcommand("subscriptions", "list subscriptions across tenants");
  subs->add_option("--status", status, "only this status, e.g. SUBSCRIPTION_STATUS_PAST_DUE");
  subs->add_option("--page-size", page_size, "rows per page (default 50)");
  subs->add_option("--page-token", page_token, "next_page_token of the previous page");
  subs->callback([=] {
    auto stub = v1::BillingService::NewStub(Channel((*target)()));
    *exit_code = Run((*mint)("operator", "*"), [&](grpc::ClientContext& context) {
      v1::ListSubscriptionsRequest request;
      v1::SubscriptionStatus parsed = v1::SUBSCRIPTION_STATUS_UNSPECIFIED;
      if (!status.empty() && !v1::SubscriptionStatus_Parse(status, &parsed)) {
        return std::make_pair(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unknown --status"),
                              std::string());
      }
      request.set_status(parsed);
      request.set_page_size(page_size);
      request.set_page_token(page_token);
      v1::ListSubscriptionsResponse response;
      const grpc::Status s = stub->ListSubscriptions(&context, request, &response);
      return std::make_pair(s, ToJson(response));
    });
  });

  auto* invoices = cli.add_subcommand("invoices", "list a tenant's invoices, newest first");
  invoices->add_option("--tenant", tenant, "tenant id")->required();
  invoices->add_option("--page-size", page_size, "rows per page (default 50)");
  invoices->add_option("--page-token", page_token, "the token a previous page printed");
  invoices->callback([=] {
    auto stub = v1::BillingService::NewStub(Channel((*target)()));
    *exit_code = Run((*mint)("operator", "*"), [&](grpc::ClientContext& context) {
      v1::ListInvoicesRequest request;
      request.set_tenant_id(tenant);
      request.set_page_size(page_size);
      request.set_page_token(page_token);
      v1::ListInvoicesResponse response;
      const grpc::Status s = stub->ListInvoices(&context, request, &response);
      return std::make_pair(s, s.ok() ? InvoiceTable(response) : std::string());
    });
  });

  auto* checkout = cli.add_subcommand(
      "checkout",
      "start a checkout as the tenant's owner (a short-lived owner token that names you, "
      "PAYBELL_OPERATOR or your login, as its actor: the audit log shows the operator)");
  checkout->add_option("--tenant", tenant, "tenant id")->required();
  checkout->add_option("--plan", plan, "starter | pro | firm")->required();
  checkout->add_option("--coupon", coupon, "promotion code typed by the customer");
  checkout->callback([=] {
    auto stub = v1::BillingService::NewStub(Channel((*target)()));
    *exit_code = Run((*mint)("owner", tenant), [&](grpc::ClientContext& context) {
      v1::CreateCheckoutSessionRequest request;
      request.set_tenant_id(tenant);
      v1::Plan parsed = v1::PLAN_UNSPECIFIED;
      std::string upper = "PLAN_";
      for (char c : plan)
        upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
      v1::Plan_Parse(upper, &parsed);
      request.set_plan(parsed);
      request.set_coupon_code(coupon);
      v1::CreateCheckoutSessionResponse response;
      const grpc::Status s = stub->CreateCheckoutSession(&context, request, &response);
      return std::make_pair(s, ToJson(response));
    });
  });

  auto* events = cli.add_subcommand("events", "list stored Stripe events, newest first");
  events->add_option("--tenant", tenant, "only this tenant");
  events->add_option("--type", type, "only this Stripe type");
  events->add_option("--outcome", outcome, "only this outcome, e.g. EVENT_OUTCOME_UNMATCHED");
  events->add_option("--page-size", page_size, "rows per page (default 50)");
  events->add_option("--page-token", page_token, "next_page_token of the previous page");
  events->callback([=] {
    auto stub = v1::WebhookService::NewStub(Channel((*target)()));
    *exit_code = Run((*mint)("operator", "*"), [&](grpc::ClientContext& context) {
      v1::ListEventsRequest request;
      request.set_tenant_id(tenant);
      request.set_type(type);
      v1::EventOutcome parsed = v1::EVENT_OUTCOME_UNSPECIFIED;
      if (!outcome.empty() && !v1::EventOutcome_Parse(outcome, &parsed)) {
        return std::make_pair(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unknown --outcome"),
                              std::string());
      }
      request.set_outcome(parsed);
      request.set_page_size(page_size);
      request.set_page_token(page_token);
      v1::ListEventsResponse response;
      const grpc::Status s = stub->ListEvents(&context, request, &response);
      return std::make_pair(s, ToJson(response));
    });
  });

  auto* event = cli.add_subcommand("event", "show one stored Stripe event with its payload");
  event->add_option("event_id", event_id, "evt_…")->required();
  event->callback([=] {
    auto stub = v1::WebhookService::NewStub(Channel((*target)()));
    *exit_code = Run((*mint)("operator", "*"), [&](grpc::ClientContext& context) {
      v1::GetEventRequest request;
      request.set_event_id(event_id);
      v1::Event response;
      const grpc::Status s = stub->GetEvent(&context, request, &response);
      return std::make_pair(s, ToJson(response));
    });
  });

  auto* settings = cli.add_subcommand("settings", "show a tenant's notification settings");
  settings->add_option("--tenant", tenant, "tenant id")->required();
  settings->callback([=] {
    auto stub = v1::NotificationService::NewStub(Channel((*target)()));
    *exit_code = Run((*mint)("operator", "*"), [&](grpc::ClientContext& context) {
      v1::GetSettingsRequest request;
      request.set_tenant_id(tenant);
      v1::NotificationSettings response;
      const grpc::Status s = stub->GetSettings(&context, request, &response);
      return std::make_pair(s, ToJson(response));
    });
  });

  auto* log = cli.add_subcommand("notifications", "list the notification log, newest first");
  log->add_option("--tenant", tenant, "only this tenant (default: every tenant)");
  log->add_option("--status", status, "queued | sending | sent | suppressed | failed | dead");
  log->add_option("--page-size", page_size, "rows per page (default 50)");
  log->add_option("--page-token", page_token, "next_page_token of the previous page");
  log->callback([=] {
    auto stub = v1::NotificationService::NewStub(Channel((*target)()));
    *exit_code = Run((*mint)("operator", "*"), [&](grpc::ClientContext& context) {
      v1::ListLogRequest request;
      request.set_tenant_id(tenant);
      request.set_status(status);
      request.set_page_size(page_size);
      request.set_page_token(page_token);
      v1::ListLogResponse response;
      const grpc::Status s = stub->ListLog(&context, request, &response);
      return std::make_pair(s, ToJson(response));
    });
  });

  auto* test = cli.add_subcommand("send-test", "send a test notification now (audited)");
  test->add_option("--tenant", tenant, "tenant id")->required();
  test->add_option("--channel", channel, "email | slack")->required();
  test->callback([=] {
    auto stub = v1::NotificationService::NewStub(Channel((*target)()));
    *exit_code = Run((*mint)("operator", "*"), [&](grpc::ClientContext& context) {
      v1::SendTestRequest request;
      request.set_tenant_id(tenant);
      request.set_channel(channel == "email"   ? v1::CHANNEL_EMAIL
                          : channel == "slack" ? v1::CHANNEL_SLACK
                                               : v1::CHANNEL_UNSPECIFIED);
      v1::SendTestResponse response;
      const grpc::Status s = stub->SendTest(&context, request, &response);
      return std::make_pair(s, ToJson(response));
    });
  });

  static std::string since;
  static bool dry_run = false;
  auto* sync = cli.add_subcommand(
      "sync", "catch up from Stripe's event list: store and apply what webhooks missed");
  sync->add_option("--since", since,
                   "how far back: 2d, 36h, 90m, or a date 2026-11-28 (default: from the newest "
                   "stored event less an hour)");
  sync->add_flag("--dry-run", dry_run, "fetch and count, store nothing");
  sync->callback([=] {
    v1::SyncEventsRequest request;
    request.set_dry_run(dry_run);
    if (!since.empty()) {
      const auto start = ParseSince(since, std::time(nullptr));
      if (!start) {
        std::cerr << "--since: expected 2d, 36h, 90m, 600s or a date like 2026-11-28\n";
        *exit_code = 2;
        return;
      }
      request.mutable_since()->set_seconds(*start);
    }
    auto stub = v1::WebhookService::NewStub(Channel((*target)()));
    *exit_code = RunWithProgress<v1::SyncEventsProgress>(
        (*mint)("operator", "*"),
        [&](grpc::ClientContext& context) { return stub->StreamSyncEvents(&context, request); },
        [](const v1::SyncEventsProgress& p) {
          const auto& c = p.counts();
          if (p.stage() == "paging") {
            return "page " + std::to_string(c.pages()) + ": " + std::to_string(c.fetched()) +
                   " event(s) listed so far";
          }
          return "ingesting: " + std::to_string(c.ingested() + c.duplicate()) + " of " +
                 std::to_string(c.fetched()) + " (" + std::to_string(c.duplicate()) +
                 " already stored)";
        },
        [](const v1::SyncEventsProgress& p) { std::cout << SyncSummary(p.counts(), dry_run); });
  });

  auto* reconcile = cli.add_subcommand(
      "reconcile", "compare subscriptions with Stripe and correct what differs (audited)");
  reconcile->add_option("--tenant", tenant, "only this tenant (default: every tenant)");
  reconcile->add_flag("--dry-run", dry_run, "compare and report, write nothing");
  reconcile->callback([=] {
    v1::ReconcileSubscriptionsRequest request;
    request.set_tenant_id(tenant);
    request.set_dry_run(dry_run);
    auto stub = v1::BillingService::NewStub(Channel((*target)()));
    *exit_code = RunWithProgress<v1::ReconcileProgress>(
        (*mint)("operator", "*"),
        [&](grpc::ClientContext& context) {
          return stub->StreamReconcileSubscriptions(&context, request);
        },
        [](const v1::ReconcileProgress& p) {
          const auto& c = p.counts();
          return p.stage() + ": " + std::to_string(c.pages()) + " page(s), " +
                 std::to_string(c.checked()) + " tenant(s) checked, " +
                 std::to_string(c.changed()) + " differ";
        },
        [](const v1::ReconcileProgress& p) { std::cout << ReconcileSummary(p.counts(), dry_run); });
  });

  auto* replay = cli.add_subcommand("replay", "apply a stored Stripe event again (audited)");
  replay->add_option("event_id", event_id, "evt_…")->required();
  replay->callback([=] {
    auto stub = v1::WebhookService::NewStub(Channel((*target)()));
    *exit_code = Run((*mint)("operator", "*"), [&](grpc::ClientContext& context) {
      v1::ReplayEventRequest request;
      request.set_event_id(event_id);
      v1::Event response;
      const grpc::Status s = stub->ReplayEvent(&context, request, &response);
      return std::make_pair(s, ToJson(response));
    });
  });
}

}  // namespace paybell::ctl
