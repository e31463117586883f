// libcurl handles for the notification transports: RAII, one global init, the trusted CAs parsed
// once per process, and a pool of easy handles that keeps their connections and TLS sessions.
#pragma once

#include <curl/curl.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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

// The CAs outbound TLS trusts (the system bundle, plus PAYBELL_CA_FILE when set), parsed once
// into an OpenSSL X509_STORE that every TLS connection shares. libcurl otherwise parses the
// bundle again for each connection (≈ 30 ms of CPU for the 220 KB bundle).
class TrustedCas {
 public:
  // Throws common::Error(kUnavailable) when `extra_ca_file` is set but cannot be read or holds
  // no certificate (checked now, so a bad PAYBELL_CA_FILE stops start-up). The store itself is
  // built on first use: parsing the system bundle costs ~20 ms of CPU, which start-up need not
  // pay for a server that may never send. Without a system bundle the store holds the extra
  // file alone; with neither, it is empty and libcurl's own default applies (`installed()`
  // false).
  explicit TrustedCas(const std::string& extra_ca_file);
  ~TrustedCas();
  TrustedCas(const TrustedCas&) = delete;
  TrustedCas& operator=(const TrustedCas&) = delete;

  bool installed() const { return store() != nullptr; }
  // Certificates in the store (for tests).
  int certificates() const {
    Load();
    return certificates_;
  }
  void* store() const {  // X509_STORE*
    Load();
    return store_;
  }

 private:
  void Load() const;

  std::string extra_ca_file_;
  mutable std::once_flag loaded_;
  mutable void* store_ = nullptr;
  mutable int certificates_ = 0;
};

// Options every transport sets: no signals, no proxy from the environment (a proxy would
// resolve the host itself and undo the Slack pinning), and, when `cas` is installed, trust
// exactly those CAs (no file or path of libcurl's own; the store goes into each TLS context).
void SetCommonOptions(CURL* curl, const TrustedCas& cas);

// Easy handles kept between transfers: a handle keeps its live connections (HTTP keep-alive,
// SMTP sessions), its TLS session cache and its DNS entries, so the next transfer to the same
// peer skips the TCP and TLS handshakes. Every Take() resets the options (curl_easy_reset keeps
// those caches), so nothing of an earlier transfer's options carries over.
class CurlHandlePool {
 public:
  struct Handle {
    CurlEasy easy;
    // The address each host:port was pinned to on this handle's connections (Slack): a
    // different address for the same host:port means a new handle, never a reused connection.
    std::map<std::string, std::string> pins;
  };
  explicit CurlHandlePool(size_t max_idle = 32) : max_idle_(max_idle) {}

  // An idle handle (reset) or a new one; nullptr when libcurl cannot make one.
  std::unique_ptr<Handle> Take();
  // Back into the pool (dropped, its connections closed, past max_idle).
  void Give(std::unique_ptr<Handle> handle);

 private:
  const size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_;
};

// Takes a handle for one transfer and gives it back when it goes out of scope.
class PooledCurl {
 public:
  explicit PooledCurl(CurlHandlePool& pool) : pool_(pool), handle_(pool.Take()) {}
  ~PooledCurl() {
    if (handle_) pool_.Give(std::move(handle_));
  }
  PooledCurl(const PooledCurl&) = delete;
  PooledCurl& operator=(const PooledCurl&) = delete;
  explicit operator bool() const { return handle_ != nullptr && handle_->easy != nullptr; }
  CURL* get() const { return handle_->easy.get(); }
  CurlHandlePool::Handle& handle() { return *handle_; }
  // Replaces the handle with a new one that has no connections.
  void Renew() {
    handle_ = std::make_unique<CurlHandlePool::Handle>();
    handle_->easy = NewCurlEasy();
  }

 private:
  CurlHandlePool& pool_;
  std::unique_ptr<CurlHandlePool::Handle> handle_;
};

}  // namespace paybell::notifications
