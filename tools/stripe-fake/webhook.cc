#include "tools/stripe-fake/webhook.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace paybell::stripe_fake {

std::string SignatureHeader(std::string_view secret, int64_t timestamp, std::string_view payload) {
  const std::string signed_payload = std::to_string(timestamp) + "." + std::string(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_payload.data()), signed_payload.size(), mac,
       &mac_len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string header = "t=" + std::to_string(timestamp) + ",v1=";
  for (unsigned int i = 0; i < mac_len; ++i) {
    header.push_back(kHex[mac[i] >> 4]);
    header.push_back(kHex[mac[i] & 0xf]);
  }
  return header;
}

DeliveryRecord DeliverEvent(const WebhookTarget& target, const nlohmann::json& event, int64_t now) {
  DeliveryRecord record;
  record.event_id = event.value("id", "");
  record.type = event.value("type", "");
  if (target.url.empty()) {
    record.error = "no --webhook-url configured";
    return record;
  }
  // main() only accepts http:// and https:// URLs, so "://" is always there.
  const size_t scheme_end = target.url.find("://") + 3;
  const size_t path_start = target.url.find('/', scheme_end);
  const std::string origin = target.url.substr(0, path_start);
  const std::string path = path_start == std::string::npos ? "/" : target.url.substr(path_start);

  const std::string payload = event.dump(2);
  httplib::Client client(origin);
  client.set_connection_timeout(3);
  client.set_read_timeout(10);
  client.set_write_timeout(10);
  const httplib::Headers headers = {
      {"Stripe-Signature", SignatureHeader(target.secret, now, payload)},
      {"User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}};
  const httplib::Result result = client.Post(path, headers, payload, "application/json");
  if (!result) {
    record.error = "request failed (httplib error: " + httplib::to_string(result.error()) + ")";
    return record;
  }
  record.status = result->status;
  if (record.status < 200 || record.status >= 300) {
    record.error = "endpoint answered HTTP " + std::to_string(record.status);
  }
  return record;
}

}  // namespace paybell::stripe_fake
