#include "tools/stripe-fake/routes.h"

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <thread>

#include "tools/stripe-fake/checkout_pages.h"
#include "tools/stripe-fake/log.h"

namespace paybell::stripe_fake {
namespace {

constexpr char kJson[] = "application/json";

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(2), kJson);
}

std::optional<std::string> HeaderIfPresent(const httplib::Request& req, const char* name) {
  if (!req.has_header(name)) return std::nullopt;
  return req.get_header_value(name);
}

// Query and form body together, the body winning, as the /_ routes accept either.
Form AllParams(const httplib::Request& req) {
  Form params = ParseForm(QueryOf(req.target));
  for (auto& [key, value] : ParseForm(req.body)) params[key] = value;
  return params;
}

// Parses a small non-negative decimal; nullopt when it is not one.
std::optional<int> SmallNumber(const std::string& text) {
  if (text.empty() || text.size() > 7) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

void HandleApi(State& state, const httplib::Request& req, httplib::Response& res) {
  ApiRequest request;
  request.method = req.method;
  request.path = req.path;
  request.query = QueryOf(req.target);
  request.form = ParseForm(req.body);
  request.params = ParseForm(request.query);
  for (const auto& [key, value] : request.form) request.params[key] = value;
  request.idempotency_key = HeaderIfPresent(req, "Idempotency-Key");
  request.stripe_version = HeaderIfPresent(req, "Stripe-Version");
  request.authorization = req.get_header_value("Authorization");

  // An injected delay is served outside the state lock, so delayed requests overlap as they
  // would at Stripe, and the fake can count how many were in flight at once.
  const int delay_ms = state.DelayFor(request.path);
  if (delay_ms > 0) {
    state.Enter();
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    state.Leave();
  }
  const ApiResponse response = state.HandleApi(request, UnixNow());
  res.status = response.status;
  res.set_header("Request-Id", response.request_id);
  res.set_header("Stripe-Version", request.stripe_version.value_or(kApiVersion));
  if (request.idempotency_key && request.method == "POST") {
    res.set_header("Idempotency-Key", *request.idempotency_key);
  }
  if (response.replayed) res.set_header("Idempotent-Replayed", "true");
  if (response.status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"Stripe\"");
  res.set_content(response.body, kJson);
}

void HandleFail(State& state, const httplib::Request& req, httplib::Response& res) {
  const Form params = AllParams(req);
  const auto status_it = params.find("status");
  const auto count_it = params.find("count");
  const std::optional<int> status =
      status_it == params.end() ? std::optional<int>(503) : SmallNumber(status_it->second);
  const std::optional<int> count =
      count_it == params.end() ? std::optional<int>(1) : SmallNumber(count_it->second);
  if (!status || *status < 400 || *status > 599) {
    SendJson(res, 400, ErrorBody("invalid_request_error", "status must be 400-599", "status"));
    return;
  }
  if (!count) {
    SendJson(res, 400, ErrorBody("invalid_request_error", "count must be >= 0", "count"));
    return;
  }
  const auto skip_it = params.find("after");
  const std::optional<int> skip =
      skip_it == params.end() ? std::optional<int>(0) : SmallNumber(skip_it->second);
  if (!skip) {
    SendJson(res, 400, ErrorBody("invalid_request_error", "after must be >= 0", "after"));
    return;
  }
  const auto path_it = params.find("path");
  const std::string path = path_it == params.end() ? "" : path_it->second;
  state.InjectFailures(*status, *count, *skip, path);
  SendJson(res, 200, {{"status", *status}, {"count", *count}, {"after", *skip}, {"path", path}});
}

void RegisterControlRoutes(httplib::Server& server, State& state, const WebhookTarget& webhook) {
  server.Post("/_webhook", [&state, &webhook](const httplib::Request& req, httplib::Response& res) {
    const std::string url = req.get_param_value("url");
    const bool web = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
    if (!web || webhook.secret.empty()) {
      SendJson(
          res, 400,
          ErrorBody("invalid_request_error",
                    "url must be http(s)://… and --webhook-secret must have been given", "url"));
      return;
    }
    state.SetWebhookUrl(url);
    SendJson(res, 200, {{"url", url}});
  });
  // A webhook outage: state=on stops deliveries (events are still created and listed),
  // state=off resumes them for events created afterwards, as after a real outage.
  server.Post("/_webhook/outage", [&state](const httplib::Request& req, httplib::Response& res) {
    const Form params = AllParams(req);
    const auto it = params.find("state");
    if (it == params.end() || (it->second != "on" && it->second != "off")) {
      SendJson(res, 400, ErrorBody("invalid_request_error", "state must be on or off", "state"));
      return;
    }
    state.SetWebhookOutage(it->second == "on");
    SendJson(res, 200, {{"outage", it->second == "on"}});
  });
  // Slow API calls down: path=/v1/events&ms=1500 (ms=0 turns it off); GET /_concurrency
  // says how many were in flight at once.
  server.Post("/_delay", [&state](const httplib::Request& req, httplib::Response& res) {
    const Form params = AllParams(req);
    const auto ms_it = params.find("ms");
    const std::optional<int> ms = ms_it == params.end() ? std::nullopt : SmallNumber(ms_it->second);
    if (!ms || *ms > 60000) {
      SendJson(res, 400, ErrorBody("invalid_request_error", "ms must be 0-60000", "ms"));
      return;
    }
    const auto path_it = params.find("path");
    state.SetDelay(path_it == params.end() ? "" : path_it->second, *ms);
    SendJson(res, 200, {{"ms", *ms}});
  });
  server.Get("/_concurrency", [&state](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, state.Concurrency());
  });
  server.Post("/_fail", [&state](const httplib::Request& req, httplib::Response& res) {
    HandleFail(state, req, res);
  });
  server.Get("/_requests", [&state](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, state.RequestLog());
  });
  server.Post("/_reset", [&state](const httplib::Request&, httplib::Response& res) {
    state.ResetLogs();
    SendJson(res, 200, {{"reset", true}});
  });
  server.Get("/_deliveries", [&state](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, state.DeliveryLog());
  });
  server.Get("/_events", [&state](const httplib::Request&, httplib::Response& res) {
    SendJson(res, 200, state.EventLog());
  });
}

}  // namespace

void RegisterRoutes(httplib::Server& server, State& state, const WebhookTarget& webhook) {
  // A request with neither Content-Length nor Transfer-Encoding has an empty body (RFC 9112
  // section 6.3), but cpp-httplib 0.11 answers such a POST (`curl -X POST .../_reset`) with a
  // bare 400 before routing. Saying so explicitly lets it through. The Request is a mutable
  // local of httplib's connection loop; the handler type merely passes it as const.
  server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    const bool may_have_body = req.method != "GET" && req.method != "HEAD";
    if (may_have_body && !req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding")) {
      const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  RegisterControlRoutes(server, state, webhook);
  RegisterHostedPages(server, state, webhook);

  // One catch-all per method so that unknown /v1 paths are still authenticated and logged,
  // as Stripe checks the key before it looks at the URL.
  const auto api = [&state](const httplib::Request& req, httplib::Response& res) {
    HandleApi(state, req, res);
  };
  const std::string v1 = R"(/v1/.*)";
  server.Get(v1, api).Post(v1, api).Delete(v1, api).Put(v1, api).Patch(v1, api);

  const auto unknown = [](const httplib::Request& req, httplib::Response& res) {
    SendJson(res, 404,
             ErrorBody("invalid_request_error",
                       "Unrecognized request URL (" + req.method + ": " + req.path + ")."));
  };
  const std::string any = R"(.*)";
  server.Get(any, unknown).Post(any, unknown).Delete(any, unknown).Put(any, unknown);
  server.Patch(any, unknown).Options(any, unknown);

  server.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr error) {
        std::string what = "unknown error";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        LogLine("internal error on " + req.method + " " + req.path + ": " + what);
        SendJson(res, 500, ErrorBody("api_error", "stripe-fake internal error: " + what));
      });
}

}  // namespace paybell::stripe_fake
