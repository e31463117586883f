#include "server/notifications/curl_easy.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "server/common/ca_bundle.h"
#include "server/common/error.h"

namespace paybell::notifications {

namespace {

// libcurl calls this for each new TLS connection, after its own CA set-up (none: CURLOPT_CAINFO
// and CURLOPT_CAPATH are cleared) and before the handshake; verification of the peer and of
// its name stays libcurl's, against this store.
CURLcode InstallStore(CURL*, void* ssl_ctx, void* store) {
  auto* x509_store = static_cast<X509_STORE*>(store);
  SSL_CTX_set1_cert_store(static_cast<SSL_CTX*>(ssl_ctx), x509_store);
  return CURLE_OK;
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

CurlEasy NewCurlEasy() {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return CurlEasy(curl_easy_init());
}

// The certificates of a PEM text, in a new store (nullptr when there are none).
static X509_STORE* StoreOf(const std::string& pem, int* certificates) {
  *certificates = 0;
  if (pem.empty()) return nullptr;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) throw common::Error(common::ErrorCode::kUnavailable, "out of memory");
  STACK_OF(X509_INFO)* infos = PEM_X509_INFO_read_bio(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  X509_STORE* store = X509_STORE_new();
  for (int i = 0; infos != nullptr && i < sk_X509_INFO_num(infos); ++i) {
    X509_INFO* info = sk_X509_INFO_value(infos, i);
    if (info->x509 != nullptr && X509_STORE_add_cert(store, info->x509) == 1) ++*certificates;
  }
  if (infos != nullptr) sk_X509_INFO_pop_free(infos, X509_INFO_free);
  if (*certificates == 0) {
    X509_STORE_free(store);
    return nullptr;
  }
  return store;
}

TrustedCas::TrustedCas(const std::string& extra_ca_file) : extra_ca_file_(extra_ca_file) {
  if (extra_ca_file_.empty()) return;
  // The extra file alone, now: small, and a misconfiguration should stop start-up.
  const std::string pem = ReadFileOrEmpty(extra_ca_file_);
  if (pem.empty()) {
    throw common::Error(common::ErrorCode::kUnavailable,
                        "cannot read PAYBELL_CA_FILE " + extra_ca_file_);
  }
  int certificates = 0;
  X509_STORE* check = StoreOf(pem, &certificates);
  if (check == nullptr) {
    throw common::Error(common::ErrorCode::kUnavailable,
                        "PAYBELL_CA_FILE " + extra_ca_file_ + " holds no PEM certificate");
  }
  X509_STORE_free(check);
}

void TrustedCas::Load() const {
  std::call_once(loaded_, [this] {
    // CombinedCaBundle: the system bundle then the extra file; it throws when that is
    // unreadable (then the next use tries again).
    const std::string pem = extra_ca_file_.empty() ? ReadFileOrEmpty(common::kSystemCaBundle)
                                                   : common::CombinedCaBundle(extra_ca_file_);
    store_ = StoreOf(pem, &certificates_);
  });
}

TrustedCas::~TrustedCas() {
  if (store_ != nullptr) X509_STORE_free(static_cast<X509_STORE*>(store_));
}

void SetCommonOptions(CURL* curl, const TrustedCas& cas) {
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  if (cas.installed()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, nullptr);
    curl_easy_setopt(curl, CURLOPT_CAPATH, nullptr);
    curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, InstallStore);
    curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, cas.store());
  }
}

std::unique_ptr<CurlHandlePool::Handle> CurlHandlePool::Take() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Handle> handle = std::move(idle_.back());
      idle_.pop_back();
      curl_easy_reset(handle->easy.get());
      return handle;
    }
  }
  auto handle = std::make_unique<Handle>();
  handle->easy = NewCurlEasy();
  return handle;
}

void CurlHandlePool::Give(std::unique_ptr<Handle> handle) {
  if (!handle || !handle->easy) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(handle));
}

}  // namespace paybell::notifications
