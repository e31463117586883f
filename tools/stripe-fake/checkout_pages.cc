#include "tools/stripe-fake/checkout_pages.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tools/stripe-fake/log.h"

namespace paybell::stripe_fake {
namespace {

constexpr char kHtml[] = "text/html; charset=utf-8";

void SendPage(httplib::Response& res, int status, const std::string& title,
              const std::string& body_html) {
  res.status = status;
  res.set_content("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                      HtmlEscape(title) +
                      " · stripe-fake</title><style>body{font-family:sans-serif;max-width:32rem;"
                      "margin:3rem auto;line-height:1.5}dt{font-weight:bold}.error{color:#b00020}"
                      "button{font-size:1.1rem;padding:.5rem 2rem}</style></head><body><h1>" +
                      HtmlEscape(title) + "</h1>\n" + body_html + "\n</body></html>\n",
                  kHtml);
}

std::string Text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : "";
}

// Only web URLs become links, so an API client cannot plant a javascript: href on the page.
std::string LinkOrEmpty(const std::string& url, const std::string& label) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) return "";
  return "<p><a href=\"" + HtmlEscape(url) + "\">" + HtmlEscape(label) + "</a></p>";
}

std::string Row(const std::string& name, const std::string& value) {
  return "<dt>" + HtmlEscape(name) + "</dt><dd>" + HtmlEscape(value) + "</dd>";
}

void ShowCheckout(State& state, const std::string& id, httplib::Response& res) {
  const std::optional<CheckoutRecord> record = state.FindCheckout(id);
  if (!record) {
    SendPage(res, 404, "Checkout not found", "<p>No such checkout session.</p>");
    return;
  }
  const nlohmann::json& session = record->session;
  std::string body = "<dl>" + Row("Session", id) + Row("Plan (price)", record->price) +
                     Row("Quantity", std::to_string(record->quantity));
  if (!record->promotion_code.empty()) {
    body += Row("Discount", record->promotion_code + " (10% off)");
  }
  if (session["client_reference_id"].is_string()) {
    body += Row("Reference", Text(session["client_reference_id"]));
  }
  body += Row("Status", Text(session["status"])) + "</dl>";
  if (session["status"] == "open") {
    body += "<form method=\"post\" action=\"/checkout/" + HtmlEscape(id) +
            "/pay\"><button type=\"submit\">Pay</button></form>";
    body += LinkOrEmpty(Text(session["cancel_url"]), "Cancel and go back");
  } else {
    body += "<p>This checkout session is already paid.</p>";
  }
  SendPage(res, 200, "Checkout", body);
}

std::string SuccessUrl(const nlohmann::json& session, const std::string& id) {
  std::string url = Text(session["success_url"]);
  const std::string placeholder = "{CHECKOUT_SESSION_ID}";
  for (size_t at = url.find(placeholder); at != std::string::npos;
       at = url.find(placeholder, at + id.size())) {
    url.replace(at, placeholder.size(), id);
  }
  return url;
}

// Delivers `events` in order, outside the state lock (the webhook handler may call back into
// this server), unless a webhook outage is on; records each delivery and writes an HTML list
// item per event into `report`. True when every one was delivered.
bool DeliverAll(State& state, const WebhookTarget& webhook,
                const std::vector<nlohmann::json>& events, std::string& report) {
  bool all_delivered = true;
  const WebhookTarget target{state.WebhookUrl(), webhook.secret};
  for (const nlohmann::json& event : events) {
    DeliveryRecord delivery;
    if (state.WebhookOutage()) {
      delivery.event_id = event.value("id", "");
      delivery.type = event.value("type", "");
      delivery.error = "not delivered: webhook outage (POST /_webhook/outage state=on)";
    } else {
      delivery = DeliverEvent(target, event, UnixNow());
    }
    if (!delivery.error.empty()) {
      all_delivered = false;
      LogLine("webhook " + delivery.type + " " + delivery.event_id + " failed: " + delivery.error);
      report += "<li class=\"error\">" + HtmlEscape(delivery.type) + ": " +
                HtmlEscape(delivery.error) + "</li>";
    } else {
      report += "<li>" + HtmlEscape(delivery.type) + ": delivered (HTTP " +
                std::to_string(delivery.status) + ")</li>";
    }
    state.RecordDelivery(std::move(delivery));
  }
  return all_delivered;
}

void Pay(State& state, const WebhookTarget& webhook, const std::string& id,
         httplib::Response& res) {
  const PayOutcome outcome = state.Pay(id, UnixNow());
  if (outcome.kind == PayOutcome::Kind::kNotFound) {
    SendPage(res, 404, "Checkout not found", "<p>No such checkout session.</p>");
    return;
  }
  if (outcome.kind == PayOutcome::Kind::kAlreadyPaid) {
    SendPage(res, 409, "Already paid",
             "<p>This checkout session has already been paid; nothing was charged again.</p>");
    return;
  }
  std::string report;
  const bool all_delivered = DeliverAll(state, webhook, outcome.events, report);

  const std::string success_url = SuccessUrl(outcome.session, id);
  if (!success_url.empty() && success_url.find_first_of("\r\n") == std::string::npos) {
    res.set_redirect(success_url, 303);
    res.set_content("<!doctype html><a href=\"" + HtmlEscape(success_url) + "\">Continue</a>\n",
                    kHtml);
    return;
  }
  SendPage(res, 200, "Payment complete",
           "<p>Paid. Subscription " + HtmlEscape(Text(outcome.session["subscription"])) +
               " is active.</p><p>Webhooks" + (all_delivered ? "" : " (some failed)") +
               ":</p><ul>" + report + "</ul>");
}

void ShowPortal(State& state, const std::string& id, httplib::Response& res,
                const std::string& notice = "") {
  const std::optional<nlohmann::json> portal = state.FindPortalSession(id);
  if (!portal) {
    SendPage(res, 404, "Portal session not found", "<p>No such portal session.</p>");
    return;
  }
  const std::string customer = Text((*portal)["customer"]);
  std::string body = notice + "<dl>" + Row("Customer", customer) + "</dl><ul>";
  const std::string action = "/portal/" + HtmlEscape(id) + "/update";
  for (const nlohmann::json& subscription : state.SubscriptionsOf(customer)) {
    const std::string sub_id = HtmlEscape(Text(subscription["id"]));
    body += "<li>" + sub_id + ": " + HtmlEscape(Text(subscription["status"])) + ", price " +
            HtmlEscape(Text(subscription["items"]["data"][0]["price"]["id"])) +
            (subscription["cancel_at_period_end"] == true ? ", cancels at period end" : "");
    if (subscription["status"] != "canceled") {
      body +=
          "<form method=\"post\" action=\"" + action +
          "\"><input type=\"hidden\" name=\"subscription\" value=\"" + sub_id +
          "\"><label>New price <input name=\"price\"></label> <button type=\"submit\">"
          "Change plan</button></form><form method=\"post\" action=\"" +
          action + "\"><input type=\"hidden\" name=\"subscription\" value=\"" + sub_id +
          "\"><input type=\"hidden\" name=\"cancel_at_period_end\" value=\"" +
          (subscription["cancel_at_period_end"] == true ? "false" : "true") +
          "\"><button type=\"submit\">" +
          (subscription["cancel_at_period_end"] == true ? "Don't cancel" : "Cancel at period end") +
          "</button></form>";
    }
    body += "</li>";
  }
  body += "</ul>" + LinkOrEmpty(Text((*portal)["return_url"]), "Return");
  SendPage(res, 200, "Billing portal", body);
}

// A form post from the portal page (or a test): subscription, and any of price,
// cancel_at_period_end=true|false, cancel=now. 200 with the page; 400 with the reason.
void UpdateFromPortal(State& state, const WebhookTarget& webhook, const std::string& id,
                      const httplib::Request& req, httplib::Response& res) {
  const std::optional<nlohmann::json> portal = state.FindPortalSession(id);
  if (!portal) {
    SendPage(res, 404, "Portal session not found", "<p>No such portal session.</p>");
    return;
  }
  Form form = ParseForm(req.body);
  for (auto& [key, value] : ParseForm(QueryOf(req.target))) form.emplace(key, value);
  SubscriptionChange change;
  change.subscription = form["subscription"];
  change.price = form["price"];
  if (form.count("cancel_at_period_end") != 0) {
    const std::string& value = form["cancel_at_period_end"];
    if (value != "true" && value != "false") {
      SendPage(res, 400, "Billing portal",
               "<p class=\"error\">cancel_at_period_end must be true or false</p>");
      return;
    }
    change.cancel_at_period_end = value == "true";
  }
  change.cancel_now = form["cancel"] == "now";
  const ChangeOutcome outcome =
      state.ChangeSubscription(Text((*portal)["customer"]), change, UnixNow());
  if (!outcome.error.empty()) {
    SendPage(res, 400, "Billing portal",
             "<p class=\"error\">" + HtmlEscape(outcome.error) + "</p>");
    return;
  }
  std::string report;
  DeliverAll(state, webhook, outcome.events, report);
  ShowPortal(state, id, res, "<p>Updated. Webhooks:</p><ul>" + report + "</ul>");
}

std::string Amount(const nlohmann::json& cents) {
  const int64_t value = cents.is_number_integer() ? cents.get<int64_t>() : 0;
  const std::string fraction = std::to_string(value % 100);
  return "$" + std::to_string(value / 100) + "." + (fraction.size() < 2 ? "0" : "") + fraction;
}

void ShowInvoice(State& state, const std::string& id, httplib::Response& res) {
  const std::optional<nlohmann::json> invoice = state.FindInvoice(id);
  if (!invoice) {
    SendPage(res, 404, "Invoice not found", "<p>No such invoice.</p>");
    return;
  }
  const nlohmann::json& subscription_details = (*invoice)["parent"]["subscription_details"];
  std::string body = "<dl>" + Row("Invoice", id) + Row("Number", Text((*invoice)["number"])) +
                     Row("Customer", Text((*invoice)["customer"])) +
                     Row("Subscription", Text(subscription_details["subscription"])) +
                     Row("Amount paid", Amount((*invoice)["amount_paid"])) +
                     Row("Status", Text((*invoice)["status"])) + "</dl>";
  body += "<p>This invoice is paid.</p>";
  body += "<p><a href=\"/invoices/" + HtmlEscape(id) + "/pdf\">Download PDF</a></p>";
  SendPage(res, 200, "Invoice " + Text((*invoice)["number"]), body);
}

// Not a real PDF: a placeholder body, enough for a download link to lead somewhere.
void InvoicePdf(State& state, const std::string& id, httplib::Response& res) {
  const std::optional<nlohmann::json> invoice = state.FindInvoice(id);
  if (!invoice) {
    res.status = 404;
    res.set_content("No such invoice.\n", "text/plain; charset=utf-8");
    return;
  }
  res.set_content("stripe-fake invoice " + id + " (" + Text((*invoice)["number"]) + "): " +
                      Amount((*invoice)["amount_paid"]) + " paid. Placeholder, not a PDF.\n",
                  "text/plain; charset=utf-8");
}

}  // namespace

void RegisterHostedPages(httplib::Server& server, State& state, const WebhookTarget& webhook) {
  server.Get(R"(/checkout/([^/]+))", [&state](const httplib::Request& req, httplib::Response& res) {
    ShowCheckout(state, req.matches[1], res);
  });
  server.Post(R"(/checkout/([^/]+)/pay)",
              [&state, &webhook](const httplib::Request& req, httplib::Response& res) {
                Pay(state, webhook, req.matches[1], res);
              });
  server.Get(R"(/invoices/([^/]+))", [&state](const httplib::Request& req, httplib::Response& res) {
    ShowInvoice(state, req.matches[1], res);
  });
  server.Get(R"(/invoices/([^/]+)/pdf)",
             [&state](const httplib::Request& req, httplib::Response& res) {
               InvoicePdf(state, req.matches[1], res);
             });
  server.Get(R"(/portal/([^/]+))", [&state](const httplib::Request& req, httplib::Response& res) {
    ShowPortal(state, req.matches[1], res);
  });
  server.Post(R"(/portal/([^/]+)/update)",
              [&state, &webhook](const httplib::Request& req, httplib::Response& res) {
                UpdateFromPortal(state, webhook, req.matches[1], req, res);
              });
}

}  // namespace paybell::stripe_fake
