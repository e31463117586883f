#include "stripe/stripe_client.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "stripe/form_encoding.h"
#include "stripe/stripe_errors.h"

namespace paybell::stripe {

using common::Error;
using common::ErrorCode;

namespace {

constexpr char kSystemCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

CurlStripeClient::CurlStripeClient(StripeClientOptions options) : options_(std::move(options)) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (!options_.extra_ca_file.empty()) {
    ca_bundle_ = ReadFile(kSystemCaBundle) + "\n" + ReadFile(options_.extra_ca_file);
  }
}

nlohmann::json CurlStripeClient::Post(const std::string& path, const FormFields& form,
                                      const std::string& idempotency_key) {
  return Perform("POST", path, options_.api_base + path, FormEncode(form), idempotency_key);
}

nlohmann::json CurlStripeClient::Get(const std::string& path, const FormFields& query) {
  std::string url = options_.api_base + path;
  if (!query.empty()) url += "?" + FormEncode(query);
  return Perform("GET", path, url, "", "");
}

CurlStripeClient::Response CurlStripeClient::PerformOnce(const std::string& method,
                                                         const std::string& url,
                                                         const std::string& body,
                                                         const std::string& idempotency_key) const {
  Response response;
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    response.network_error = "curl_easy_init failed";
    return response;
  }
  curl_slist* raw_headers = nullptr;
  raw_headers =
      curl_slist_append(raw_headers, ("Authorization: Bearer " + options_.secret_key).c_str());
  raw_headers =
      curl_slist_append(raw_headers, (std::string("Stripe-Version: ") + kStripeApiVersion).c_str());
  if (!idempotency_key.empty()) {
    raw_headers = curl_slist_append(raw_headers, ("Idempotency-Key: " + idempotency_key).c_str());
  }
  if (method == "POST") {
    raw_headers = curl_slist_append(raw_headers, "Content-Type: application/x-www-form-urlencoded");
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "paybell/1");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_blob ca_blob{};
  if (!ca_bundle_.empty()) {
    ca_blob.data = const_cast<char*>(ca_bundle_.data());
    ca_blob.len = ca_bundle_.size();
    ca_blob.flags = CURL_BLOB_NOCOPY;
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca_blob);
  }
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    response.network_error = curl_easy_strerror(rc);
    return response;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

nlohmann::json CurlStripeClient::Perform(const std::string& method, const std::string& path,
                                         const std::string& url, const std::string& body,
                                         const std::string& idempotency_key) {
  auto backoff = options_.first_backoff;
  for (int attempt = 1;; ++attempt) {
    const Response response = PerformOnce(method, url, body, idempotency_key);
    const bool retryable = !response.network_error.empty() || IsRetryableStatus(response.status);
    if (!retryable || attempt >= options_.max_attempts) {
      if (!response.network_error.empty()) {
        spdlog::warn("Stripe {} {} failed after {} attempt(s): {}", method, path, attempt,
                     response.network_error);
        throw Error(ErrorCode::kUnavailable, "cannot reach Stripe: " + response.network_error);
      }
      if (response.status >= 200 && response.status < 300) {
        auto json = nlohmann::json::parse(response.body, nullptr, false);
        if (json.is_discarded()) {
          throw Error(ErrorCode::kUnavailable, "Stripe answered a body that is not JSON");
        }
        return json;
      }
      spdlog::warn("Stripe {} {} answered HTTP {} (attempt {})", method, path, response.status,
                   attempt);
      throw ErrorFromStripeResponse(response.status, response.body);
    }
    spdlog::info("Stripe {} {}: {}; retrying in {} ms (attempt {} of {})", method, path,
                 response.network_error.empty() ? "HTTP " + std::to_string(response.status)
                                                : response.network_error,
                 backoff.count(), attempt, options_.max_attempts);
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
}

}  // namespace paybell::stripe
