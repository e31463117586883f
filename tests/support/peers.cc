#include "tests/support/peers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace paybell::testing {

namespace fs = std::filesystem;

namespace {

constexpr auto kStartTimeout = std::chrono::seconds(20);
constexpr auto kPollEvery = std::chrono::milliseconds(20);

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::map<std::string, std::string> PeerEnv() {
  return {{"PYTHONDONTWRITEBYTECODE", "1"}, {"PYTHONUNBUFFERED", "1"}};
}

// Waits for "listening on 127.0.0.1:PORT\n" and returns PORT.
int WaitForPort(ChildProcess& process, const std::string& what) {
  static const std::regex kListening(R"(listening on 127\.0\.0\.1:(\d+)\n)");
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (process.WaitForOutput("listening on 127.0.0.1:", kStartTimeout)) {
    std::smatch match;
    const std::string out = process.output();
    if (std::regex_search(out, match, kListening)) return std::stoi(match[1]);
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollEvery);  // the rest of the line is on its way
  }
  throw std::runtime_error(what + " did not start: " + process.output());
}

// The files in `dir` ending in `suffix`, sorted by name (the peers number them).
std::vector<std::string> FilesEndingIn(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& line : lines) out << line << "\n";
}

}  // namespace

std::string PeersDir() { return PAYBELL_PEERS_DIR; }

TestPki::TestPki() {
  ChildProcess make("/bin/sh", {PeersDir() + "/make_ca.sh", dir.path()}, {});
  const auto code = make.WaitForExit(std::chrono::seconds(30));
  if (code != 0) throw std::runtime_error("make_ca.sh failed: " + make.output());
  ca_file = dir.File("ca.pem");
  cert_file = dir.File("server.pem");
  key_file = dir.File("server.key");
}

SmtpPeer::SmtpPeer(Options options) {
  fs::create_directory(dir_.File("mail"));
  std::vector<std::string> args = {PeersDir() + "/smtp_server.py", "--out", dir_.File("mail")};
  if (options.tls != nullptr) {
    args.insert(args.end(), {"--cert", options.tls->cert_file, "--key", options.tls->key_file});
    if (options.implicit_tls) args.push_back("--implicit-tls");
  }
  if (!options.auth.empty()) args.insert(args.end(), {"--auth", options.auth});
  if (!options.data_replies.empty()) {
    WriteLines(dir_.File("script"), options.data_replies);
    args.insert(args.end(), {"--script", dir_.File("script")});
  }
  process_ = std::make_unique<ChildProcess>(kDebianPython, args, PeerEnv());
  port_ = WaitForPort(*process_, "smtp_server.py");
}

std::vector<CapturedMail> SmtpPeer::Messages() const {
  std::vector<CapturedMail> out;
  for (const auto& eml : FilesEndingIn(dir_.File("mail"), ".eml")) {
    CapturedMail mail;
    mail.eml_path = eml;
    mail.raw = ReadAll(eml);
    // The .json is renamed into place before the .eml.
    mail.envelope = nlohmann::json::parse(ReadAll(eml.substr(0, eml.size() - 4) + ".json"));
    out.push_back(std::move(mail));
  }
  return out;
}

std::vector<CapturedMail> SmtpPeer::WaitForMessages(size_t count,
                                                    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto messages = Messages();
    if (messages.size() >= count) return messages;
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "SMTP peer got " << messages.size() << " message(s), expected " << count
                    << "; its output: " << process_->output();
      return messages;
    }
    std::this_thread::sleep_for(kPollEvery);
  }
}

SlackStandIn::SlackStandIn(const TestPki& pki, const std::vector<std::string>& script) {
  fs::create_directory(dir_.File("requests"));
  WriteLines(dir_.File("script"), script);
  process_ = std::make_unique<ChildProcess>(
      kDebianPython,
      std::vector<std::string>{PeersDir() + "/slack_standin.py", "--out", dir_.File("requests"),
                               "--cert", pki.cert_file, "--key", pki.key_file, "--script",
                               dir_.File("script")},
      PeerEnv());
  port_ = WaitForPort(*process_, "slack_standin.py");
}

std::string SlackStandIn::Url(const std::string& path) const {
  return "https://" + host_port() + path;
}

void SlackStandIn::AppendToScript(const std::string& answer) {
  std::ofstream out(dir_.File("script"), std::ios::app);
  out << answer << "\n";
}

std::vector<nlohmann::json> SlackStandIn::Requests() const {
  std::vector<nlohmann::json> out;
  for (const auto& path : FilesEndingIn(dir_.File("requests"), ".json")) {
    out.push_back(nlohmann::json::parse(ReadAll(path)));
  }
  return out;
}

std::vector<nlohmann::json> SlackStandIn::WaitForRequests(size_t count,
                                                          std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto requests = Requests();
    if (requests.size() >= count) return requests;
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "Slack stand-in got " << requests.size() << " request(s), expected " << count
                    << "; its output: " << process_->output();
      return requests;
    }
    std::this_thread::sleep_for(kPollEvery);
  }
}

nlohmann::json ParseMailWithPython(const std::string& eml_path) {
  ChildProcess parse(kDebianPython, {PeersDir() + "/parse_mail.py", eml_path}, PeerEnv());
  const auto code = parse.WaitForExit(std::chrono::seconds(30));
  if (code != 0) throw std::runtime_error("parse_mail.py failed: " + parse.output());
  return nlohmann::json::parse(parse.output());
}

}  // namespace paybell::testing
