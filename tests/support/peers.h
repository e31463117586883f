// Real peers for delivery tests, on 127.0.0.1 and free ports: a throwaway CA, Debian's aiosmtpd
// as SMTP server (tests/support/peers/smtp_server.py) and an HTTPS Slack stand-in
// (peers/slack_standin.py). Each is stopped and its directory removed when the object goes.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace paybell::testing {

// Debian's interpreter, where python3-aiosmtpd is installed (not whatever python3 PATH finds).
inline constexpr char kDebianPython[] = "/usr/bin/python3";

// The directory of the peer scripts (tests/support/peers in the source tree).
std::string PeersDir();

// A CA and a server certificate for 127.0.0.1, ::1 and localhost, made by peers/make_ca.sh
// with the openssl CLI.
struct TestPki {
  TempDir dir;
  std::string ca_file;    // trust this (PAYBELL_CA_FILE)
  std::string cert_file;  // the peers' certificate chain
  std::string key_file;
  TestPki();
};

// One message the SMTP server accepted.
struct CapturedMail {
  std::string eml_path;
  std::string raw;          // the bytes after DATA, dot-unstuffed by the server
  nlohmann::json envelope;  // {"mail_from", "rcpt_tos", "tls", "login"}
};

class SmtpPeer {
 public:
  struct Options {
    const TestPki* tls = nullptr;           // null: plain SMTP, no STARTTLS offered
    bool implicit_tls = false;              // with tls: TLS from the first byte (smtps://)
    std::string auth;                       // "user:password" to require AUTH; empty: none
    std::vector<std::string> data_replies;  // replies to successive DATA ("451 …", "550 …")
  };
  explicit SmtpPeer(Options options);
  int port() const { return port_; }
  // Every message accepted so far, oldest first.
  std::vector<CapturedMail> Messages() const;
  // Waits until at least `count` messages arrived; fails the test (and returns what there is)
  // at the deadline.
  std::vector<CapturedMail> WaitForMessages(
      size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  TempDir dir_;
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
};

class SlackStandIn {
 public:
  // `script`: the answers to successive requests ("200", "429 2", "500", "404",
  // "302 https://…"); past its end every request is answered 200 "ok".
  explicit SlackStandIn(const TestPki& pki, const std::vector<std::string>& script = {});
  int port() const { return port_; }
  std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }
  // "https://127.0.0.1:<port>" + path.
  std::string Url(const std::string& path) const;
  void AppendToScript(const std::string& answer);
  // Every request recorded so far, oldest first: {"method", "path", "headers", "body",
  // "client_port", "tls_resumed"}.
  std::vector<nlohmann::json> Requests() const;
  std::vector<nlohmann::json> WaitForRequests(
      size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  TempDir dir_;
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
};

// What Python's email package makes of a captured message (peers/parse_mail.py): {"headers":
// {name: decoded value}, "defects": [...], "content_type", "parts": [{"content_type",
// "charset", "cte", "content"}]}.
nlohmann::json ParseMailWithPython(const std::string& eml_path);

}  // namespace paybell::testing
