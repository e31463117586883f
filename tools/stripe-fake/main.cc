// stripe-fake: a local stand-in for the subset of Stripe's API that Paybell calls, used by
// tests, benchmarks and the offline demo. Wiring only; behaviour lives in the other files.
#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tools/stripe-fake/log.h"
#include "tools/stripe-fake/routes.h"
#include "tools/stripe-fake/state.h"
#include "tools/stripe-fake/store.h"
#include "tools/stripe-fake/text.h"
#include "tools/stripe-fake/webhook.h"

namespace paybell::stripe_fake {
namespace {

constexpr size_t kWorkerThreads = 16;  // keep-alive clients each pin one; see TOOLCHAIN.md
constexpr size_t kMaxBodyBytes = 1 << 20;
constexpr time_t kKeepAliveSeconds = 1;

bool IsWebUrl(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

// "127.0.0.1:0" or "[::1]:8080" → host and port.
std::optional<std::pair<std::string, int>> ParseListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) return std::nullopt;
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = listen.substr(colon + 1);
  if (host.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const int port = std::stoi(port_text);
  if (port > 65535) return std::nullopt;
  return std::make_pair(host, port);
}

std::string DefaultPublicUrl(const std::string& host, int port) {
  std::string shown = host;
  if (host == "0.0.0.0" || host == "::") {
    shown = "127.0.0.1";  // a wildcard is not an address a browser can open
  } else if (host.find(':') != std::string::npos) {
    shown = "[" + host + "]";
  }
  return "http://" + shown + ":" + std::to_string(port);
}

int Run(int argc, char** argv) {
  CLI::App app{"stripe-fake: local stand-in for the Stripe API subset Paybell calls"};
  std::string listen = "127.0.0.1:0";
  std::string api_key;
  std::string public_url;
  WebhookTarget webhook;
  std::vector<std::string> promotion_codes = {"WELCOME10=promo_fake_welcome10"};
  std::vector<std::string> prices = {"price_fake_starter", "price_fake_pro", "price_fake_firm"};
  app.add_option("--listen", listen, "host:port to bind; port 0 lets the OS pick")
      ->capture_default_str();
  app.add_option("--api-key", api_key, "the only secret key /v1 accepts (Bearer)")->required();
  CLI::Option* webhook_url = app.add_option("--webhook-url", webhook.url,
                                            "where events are POSTed after a hosted payment");
  CLI::Option* webhook_secret =
      app.add_option("--webhook-secret", webhook.secret, "whsec_… secret events are signed with");
  webhook_url->needs(webhook_secret);
  app.add_option("--public-url", public_url,
                 "base of checkout/portal/invoice URLs (default http://127.0.0.1:<bound port>)");
  app.add_option("--promotion-code", promotion_codes, "CODE=promo_id, repeatable")
      ->capture_default_str();
  app.add_option("--price", prices, "a known price id, repeatable")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const std::optional<std::pair<std::string, int>> address = ParseListen(listen);
  if (!address) {
    std::cerr << "stripe-fake: --listen must be host:port, got '" << listen << "'\n";
    return 2;
  }
  if ((!webhook.url.empty() && !IsWebUrl(webhook.url)) ||
      (!public_url.empty() && !IsWebUrl(public_url))) {
    std::cerr << "stripe-fake: --webhook-url and --public-url must be http:// or https:// URLs\n";
    return 2;
  }
  ObjectStore store;
  store.prices = prices;
  store.started_at = UnixNow();
  for (const std::string& entry : promotion_codes) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
      std::cerr << "stripe-fake: --promotion-code must be CODE=promo_id, got '" << entry << "'\n";
      return 2;
    }
    store.promotion_codes.push_back({entry.substr(0, eq), entry.substr(eq + 1)});
  }

  // Block the stop signals before any thread exists so every thread inherits the mask and only
  // the waiter below ever sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a webhook receiver or client hanging up must not kill us

  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  server.set_payload_max_length(kMaxBodyBytes);
  // An idle keep-alive connection holds up shutdown until this timeout runs out (httplib only
  // checks for stop between requests); 1 s keeps test teardown quick, and clients such as
  // libcurl reconnect transparently when an idle connection has been closed.
  server.set_keep_alive_timeout(kKeepAliveSeconds);
  const auto& [host, requested_port] = *address;
  const int port = requested_port == 0
                       ? server.bind_to_any_port(host)
                       : (server.bind_to_port(host, requested_port) ? requested_port : -1);
  if (port <= 0) {
    std::cerr << "stripe-fake: cannot bind " << listen << "\n";
    return 1;
  }
  store.public_url = public_url.empty() ? DefaultPublicUrl(host, port) : public_url;
  while (!store.public_url.empty() && store.public_url.back() == '/') store.public_url.pop_back();
  LogLine("key=" + MaskApiKey(api_key) + " public_url=" + store.public_url +
          " webhook=" + (webhook.url.empty() ? "(none)" : webhook.url));
  State state(std::move(store), api_key);
  state.SetWebhookUrl(webhook.url);
  RegisterRoutes(server, state, webhook);

  std::atomic<bool> listen_returned{false};
  std::atomic<bool> signalled{false};
  std::thread signal_waiter([&] {
    int received = 0;
    sigwait(&stop_signals, &received);
    signalled = true;
    // Server::stop() does nothing until listen_after_bind() has marked the server running, so a
    // signal that arrives right after the "listening" line must wait for that moment.
    while (!server.is_running() && !listen_returned) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server.stop();
  });

  std::cout << "stripe-fake listening port=" << port << std::endl;
  const bool served = server.listen_after_bind();
  listen_returned = true;
  if (!signalled) pthread_kill(signal_waiter.native_handle(), SIGTERM);  // wake the waiter
  signal_waiter.join();
  if (signalled) return 0;
  LogLine("server stopped unexpectedly");
  return served ? 0 : 1;
}

}  // namespace
}  // namespace paybell::stripe_fake

int main(int argc, char** argv) { return paybell::stripe_fake::Run(argc, argv); }
