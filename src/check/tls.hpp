// SSL_GET's TLS client: OpenSSL over memory BIOs, so the bytes of the handshake and the records
// travel in the health checker's own TCP segments (frames through the engine) and never touch a
// socket. OpenSSL is Debian's libssl (docs/health-checks.md says why a TLS library is used
// rather than our own).
//
// Determinism: OpenSSL draws the client random and the key shares from its RAND method. While a
// TlsClient exists, the process's RAND method is a hash DRBG (SHA-256 in counter mode) over a
// seed the adapter gives (the daemon: 32 bytes from getrandom, written into its capture; a replay:
// the capture's seed, or one derived from router.seed), so a replay makes the same ClientHello
// and, fed the same answers, the same decisions. One seed per process: the last engine built
// with SSL_GET checkers sets it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace vs::check {

using TlsSeed = std::array<uint8_t, 32>;

/// Make OpenSSL's random bytes the DRBG over `seed` (process-wide; see above).
void set_tls_seed(const TlsSeed& seed) noexcept;

/// One TLS client connection, reused probe after probe (reset() starts the next handshake).
class TlsClient {
public:
  enum class Status : uint8_t { kWantMore, kReady, kFailed };

  TlsClient();
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  /// A new connection: `sni` (empty: no server_name extension) as keepalived's enable_sni sends
  /// the virtualhost.
  void reset(const std::string& sni) noexcept;
  /// Handshake bytes and records from the server.
  void received(std::span<const uint8_t> data) noexcept;
  /// Drives the handshake; kReady once it completed.
  Status handshake() noexcept;
  /// Application data to send (after kReady).
  bool send_plain(std::span<const uint8_t> data) noexcept;
  /// Decrypted application data, up to `out.size()` bytes; 0: none now.
  size_t take_plain(std::span<uint8_t> out) noexcept;
  /// Bytes OpenSSL wants sent to the server (up to `out.size()`); 0: none.
  size_t pending(std::span<uint8_t> out) noexcept;
  /// The reason of the last failure, for the log ("" if none).
  const std::string& error() const noexcept { return error_; }

private:
  ssl_st* ssl_ = nullptr;
  bio_st* rbio_ = nullptr;  // network -> OpenSSL
  bio_st* wbio_ = nullptr;  // OpenSSL -> network
  std::string error_;
};

}  // namespace vs::check
