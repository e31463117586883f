#include "server/notifications/curl_easy.h"

#include <mutex>

namespace paybell::notifications {

CurlEasy NewCurlEasy() {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return CurlEasy(curl_easy_init());
}

void SetCommonOptions(CURL* curl, const std::string& ca_bundle) {
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  if (!ca_bundle.empty()) {
    // CURLOPT_CAINFO_BLOB copies the blob (no CURL_BLOB_NOCOPY), so a local struct will do.
    curl_blob blob{};
    blob.data = const_cast<char*>(ca_bundle.data());
    blob.len = ca_bundle.size();
    blob.flags = CURL_BLOB_COPY;
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
  }
}

}  // namespace paybell::notifications
