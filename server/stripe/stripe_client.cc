#include "server/stripe/stripe_client.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "server/common/ca_bundle.h"
#include "server/common/error.h"
#include "server/stripe/form_encoding.h"
#include "server/stripe/stripe_errors.h"

namespace paybell::stripe {

using common::Error;
using common::ErrorCode;

namespace {

// Picks Stripe-Should-Retry out of the response headers.
size_t ReadHeader(char* data, size_t size, size_t count, void* out) {
  const std::string line(data, size * count);
  constexpr std::string_view kName = "stripe-should-retry:";
  std::string lower = line.substr(0, kName.size());
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == kName) {
    auto* should_retry = static_cast<std::optional<bool>*>(out);
    *should_retry = line.find("true", kName.size()) != std::string::npos;
  }
  return size * count;
}

bool IsTransient(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return true;
    default:
      return false;  // TLS verification, bad URL, …: the same again would fail the same way
  }
}

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
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
    ca_bundle_ = common::CombinedCaBundle(options_.extra_ca_file);
  }
}

nlohmann::json CurlStripeClient::Post(const std::string& path, const FormFields& form,
                                      const std::string& idempotency_key, Deadline deadline) {
  return Perform("POST", path, options_.api_base + path, FormEncode(form), idempotency_key,
                 deadline);
}

nlohmann::json CurlStripeClient::Get(const std::string& path, const FormFields& query,
                                     Deadline deadline) {
  std::string url = options_.api_base + path;
  if (!query.empty()) url += "?" + FormEncode(query);
  return Perform("GET", path, url, "", "", deadline);
}

CurlStripeClient::Response CurlStripeClient::PerformOnce(const std::string& method,
                                                         const std::string& url,
                                                         const std::string& body,
                                                         const std::string& idempotency_key,
                                                         std::chrono::milliseconds timeout) const {
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
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  // A proxy from the environment must never see the key on its way to a local stand-in.
  curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "paybell/1");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.should_retry);
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
    response.transient_network_error = IsTransient(rc);
    return response;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

bool CurlStripeClient::Retryable(const Response& response) {
  if (!response.network_error.empty()) return response.transient_network_error;
  if (response.should_retry) return *response.should_retry;  // Stripe knows best
  return IsRetryableStatus(response.status);
}

double CurlStripeClient::RandomUnit() const {
  if (options_.random_unit) return options_.random_unit();
  thread_local std::mt19937 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

nlohmann::json CurlStripeClient::Perform(const std::string& method, const std::string& path,
                                         const std::string& url, const std::string& body,
                                         const std::string& idempotency_key, Deadline deadline) {
  using Clock = std::chrono::steady_clock;
  for (int attempt = 1;; ++attempt) {
    // Whole milliseconds only: libcurl reads a timeout of 0 as "no timeout at all".
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      // Before the first attempt: an earlier call of the operation used up its time. Later:
      // only when the deadline fell between deciding to retry and retrying.
      spdlog::warn("Stripe {} {}: the operation's deadline passed before attempt {}", method, path,
                   attempt);
      throw Error(ErrorCode::kUnavailable, "Stripe operation ran out of time");
    }
    const Response response =
        PerformOnce(method, url, body, idempotency_key, std::min(options_.attempt_timeout, left));
    std::chrono::milliseconds backoff{0};
    bool retry = Retryable(response) && attempt < options_.max_attempts;
    if (retry) {
      backoff =
          FullJitterBackoff(attempt - 1, options_.backoff_base, options_.backoff_cap, RandomUnit());
      retry = Clock::now() + backoff < deadline;  // no point starting an attempt with no time
    }
    if (!retry) {
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
  }
}

}  // namespace paybell::stripe
