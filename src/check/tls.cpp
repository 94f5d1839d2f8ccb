// RAND_set_rand_method is deprecated in OpenSSL 3.0 (providers replace it) but remains the one
// call that puts every random byte of libssl under the caller's control; it is what makes a TLS
// probe replayable.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "check/tls.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <cstring>
#include <mutex>

namespace vs::check {

namespace {

// A hash DRBG: block i = SHA-256(seed || i). Process-wide, as OpenSSL's RAND method is.
struct Drbg {
  TlsSeed seed{};
  uint64_t counter = 0;
  std::array<uint8_t, 32> block{};
  size_t used = 32;
};
Drbg g_drbg;
std::mutex g_drbg_lock;

int drbg_bytes(unsigned char* out, int num) {
  std::lock_guard<std::mutex> lock(g_drbg_lock);
  for (int i = 0; i < num; ++i) {
    if (g_drbg.used == g_drbg.block.size()) {
      uint8_t in[40];
      std::memcpy(in, g_drbg.seed.data(), 32);
      for (int b = 0; b < 8; ++b) in[32 + b] = static_cast<uint8_t>(g_drbg.counter >> (8 * b));
      g_drbg.counter++;
      unsigned int len = 0;
      EVP_Digest(in, sizeof in, g_drbg.block.data(), &len, EVP_sha256(), nullptr);
      g_drbg.used = 0;
    }
    out[i] = g_drbg.block[g_drbg.used++];
  }
  return 1;
}
int drbg_seed(const void*, int) { return 1; }
int drbg_add(const void*, int, double) { return 1; }
int drbg_status() { return 1; }

const RAND_METHOD kDrbgMethod = {drbg_seed, drbg_bytes, nullptr, drbg_add, drbg_bytes, drbg_status};

// One client context for every probe: no certificate verification (keepalived's SSL_GET checks
// availability, not identity, unless given a CA), no session reuse (each probe is a full
// handshake, and nothing carries over that a replay would not see).
ssl_ctx_st* client_ctx() {
  static ssl_ctx_st* ctx = [] {
    ssl_ctx_st* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
    return c;
  }();
  return ctx;
}

std::string last_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "TLS handshake failed";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

void set_tls_seed(const TlsSeed& seed) noexcept {
  {
    std::lock_guard<std::mutex> lock(g_drbg_lock);
    g_drbg = Drbg{};
    g_drbg.seed = seed;
  }
  RAND_set_rand_method(&kDrbgMethod);
}

TlsClient::TlsClient() = default;

TlsClient::~TlsClient() {
  if (ssl_) SSL_free(ssl_);  // frees both BIOs
}

void TlsClient::reset(const std::string& sni) noexcept {
  if (ssl_) SSL_free(ssl_);
  ssl_ = SSL_new(client_ctx());
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, rbio_, wbio_);
  SSL_set_connect_state(ssl_);
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl_, sni.c_str());
  error_.clear();
}

void TlsClient::received(std::span<const uint8_t> data) noexcept {
  if (ssl_ && !data.empty()) BIO_write(rbio_, data.data(), static_cast<int>(data.size()));
}

TlsClient::Status TlsClient::handshake() noexcept {
  if (!ssl_) return Status::kFailed;
  if (SSL_is_init_finished(ssl_)) return Status::kReady;
  int r = SSL_do_handshake(ssl_);
  if (r == 1) return Status::kReady;
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Status::kWantMore;
  error_ = last_error();
  return Status::kFailed;
}

bool TlsClient::send_plain(std::span<const uint8_t> data) noexcept {
  return ssl_ && SSL_write(ssl_, data.data(), static_cast<int>(data.size())) == static_cast<int>(data.size());
}

size_t TlsClient::take_plain(std::span<uint8_t> out) noexcept {
  if (!ssl_) return 0;
  int r = SSL_read(ssl_, out.data(), static_cast<int>(out.size()));
  if (r > 0) return static_cast<size_t>(r);
  ERR_clear_error();
  return 0;
}

size_t TlsClient::pending(std::span<uint8_t> out) noexcept {
  if (!wbio_ || BIO_ctrl_pending(wbio_) == 0) return 0;
  int r = BIO_read(wbio_, out.data(), static_cast<int>(out.size()));
  return r > 0 ? static_cast<size_t>(r) : 0;
}

}  // namespace vs::check
