// libcurl handles for the notification transports: RAII, one global init, the CA bundle.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>

namespace paybell::notifications {

struct CurlEasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// A fresh easy handle (nullptr when libcurl cannot make one), after curl_global_init once.
CurlEasy NewCurlEasy();

// Options every transport sets: no signals, no proxy from the environment (a proxy would
// resolve the host itself and undo the Slack pinning), and, when `ca_bundle` is not empty
// (common::CombinedCaBundle), trust exactly those CAs. The bundle is copied into the handle.
void SetCommonOptions(CURL* curl, const std::string& ca_bundle);

}  // namespace paybell::notifications
