// A throwaway CA and a certificate for 127.0.0.1 made with OpenSSL's API, so the HTTPS Slack
// stand-in can be trusted by the server through PAYBELL_CA_FILE (Slack URLs must be https).
#pragma once

#include <string>

namespace paybell::bench {

struct PkiFiles {
  std::string ca_file;    // DIR/ca.pem: what the server trusts (PAYBELL_CA_FILE)
  std::string cert_file;  // DIR/server.pem: the stand-in's certificate
  std::string key_file;   // DIR/server.key: its key (mode 0600)
};

// The file names inside `dir`, whether or not they exist.
PkiFiles PkiIn(const std::string& dir);

// Creates `dir` (mode 0700) when missing and writes a new CA (EC P-256) and a certificate for
// 127.0.0.1, ::1 and localhost signed by it, both valid for two days. Throws std::runtime_error.
PkiFiles MakeThrowawayPki(const std::string& dir);

}  // namespace paybell::bench
