#include "tools/bench/load/throwaway_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <stdexcept>

namespace paybell::bench {
namespace {

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertDeleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct FileCloser {
  void operator()(FILE* file) const { std::fclose(file); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using CertPtr = std::unique_ptr<X509, CertDeleter>;

void Check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("throwaway PKI: " + what + " failed");
}

KeyPtr NewKey() {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  Check(key != nullptr, "EC key generation");
  return key;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  Check(extension != nullptr, std::string("extension ") + value);
  const int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  Check(added == 1, "adding an extension");
}

// `issuer` null: self-signed (the CA).
CertPtr NewCert(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key) {
  CertPtr cert(X509_new());
  Check(cert != nullptr, "X509_new");
  unsigned char serial_bytes[16];
  Check(RAND_bytes(serial_bytes, sizeof serial_bytes) == 1, "RAND_bytes");
  serial_bytes[0] &= 0x7f;  // a positive serial
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
  Check(serial != nullptr && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get())),
        "serial number");
  BN_free(serial);
  Check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 2 * 86400);
  Check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  Check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) == 1, "issuer name");
  AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer == nullptr) {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    AddExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    AddExtension(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost");
    AddExtension(cert.get(), signer, NID_authority_key_identifier, "keyid");
  }
  Check(X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0,
        "X509_sign");
  return cert;
}

std::unique_ptr<FILE, FileCloser> OpenForWrite(const std::string& path, mode_t mode) {
  std::unique_ptr<FILE, FileCloser> file(std::fopen(path.c_str(), "w"));
  Check(file != nullptr && fchmod(fileno(file.get()), mode) == 0, "opening " + path);
  return file;
}

}  // namespace

PkiFiles PkiIn(const std::string& dir) {
  return {dir + "/ca.pem", dir + "/server.pem", dir + "/server.key"};
}

PkiFiles MakeThrowawayPki(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw std::runtime_error("cannot create " + dir);
  }
  const PkiFiles files = PkiIn(dir);
  const KeyPtr ca_key = NewKey();
  const CertPtr ca = NewCert(ca_key.get(), "Paybell bench throwaway CA", nullptr, nullptr);
  const KeyPtr server_key = NewKey();
  const CertPtr server = NewCert(server_key.get(), "localhost", ca.get(), ca_key.get());

  Check(PEM_write_X509(OpenForWrite(files.ca_file, 0644).get(), ca.get()) == 1, "writing ca.pem");
  Check(PEM_write_X509(OpenForWrite(files.cert_file, 0644).get(), server.get()) == 1,
        "writing server.pem");
  Check(PEM_write_PrivateKey(OpenForWrite(files.key_file, 0600).get(), server_key.get(), nullptr,
                             nullptr, 0, nullptr, nullptr) == 1,
        "writing server.key");
  return files;
}

}  // namespace paybell::bench
