// stripe-fake (tools/stripe-fake) as a child process on a free 127.0.0.1 port, stopped when the
// object goes. PAYBELL_STRIPE_FAKE_BIN is compiled into the test binaries that use it.
#pragma once

#include <httplib.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>
#include <string>

#include "tests/support/process.h"

namespace paybell::testing {

class StripeFake {
 public:
  StripeFake(const std::string& api_key, const std::string& webhook_secret)
      : process_(PAYBELL_STRIPE_FAKE_BIN,
                 {"--listen", "127.0.0.1:0", "--api-key", api_key, "--webhook-secret",
                  webhook_secret},
                 {}) {
    const auto out = process_.WaitForOutput("listening port=", std::chrono::seconds(20));
    if (!out) throw std::runtime_error("stripe-fake did not start:\n" + process_.output());
    std::smatch match;
    std::regex_search(*out, match, std::regex("listening port=(\\d+)"));
    port_ = std::stoi(match[1]);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_read_timeout(std::chrono::seconds(20));
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  httplib::Client& client() { return *client_; }
  // Every /v1 request the fake answered, oldest first.
  nlohmann::json Requests() { return nlohmann::json::parse(client_->Get("/_requests")->body); }
  // POSTs a control route (/_webhook, /_fail, …); throws unless it answered 200.
  nlohmann::json Control(const std::string& path_and_query) {
    auto res = client_->Post(path_and_query, "", "application/x-www-form-urlencoded");
    if (!res || res->status != 200) {
      throw std::runtime_error("stripe-fake " + path_and_query + " failed" +
                               (res ? ": " + res->body : ""));
    }
    return nlohmann::json::parse(res->body);
  }

 private:
  ChildProcess process_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace paybell::testing
