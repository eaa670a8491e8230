// The flasher's view of the seeder's HTTP API (docs/http-api.md).
// Everything fetched here is untrusted until verified by manifest/trust.h.
// Thread safety: const methods are reentrant (each request owns its connection).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "swarm/enrolment.h"
#include "swarm/http_client.h"

namespace ironstone::flasher {

struct Fetched {
  std::string body;
  std::string signature;  // the .minisig beside it, when asked for
};

struct RetryPolicy {
  int attempts = 8;
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{15000};
  std::chrono::milliseconds timeout{30000};
};

// Reads the card's enrolment secret key (swarm/enrolment.h). Throws Errc::kIdentity naming the
// file when it cannot be read, does not parse, or is readable by group or others (a secret).
swarm::CardSecretKey load_enrolment_key(const std::filesystem::path& path);

class SeederClient {
 public:
  // base: "http://nas:8080" (a trailing '/' is fine). Throws swarm::Errc::kUrl when malformed.
  SeederClient(std::string base, RetryPolicy retry = {});

  const std::string& base() const { return base_; }
  std::string url(const std::string& path) const;  // base + path (path starts with '/')
  // Host part of the base URL (for telling the seeder's own peers apart).
  const std::string& host() const { return host_; }

  // GET with retry and back-off; throws flasher::Errc::kSeeder naming the URL.
  std::string get(const std::string& path, std::size_t max_body) const;
  Fetched channel(const std::string& board, const std::string& channel) const;
  Fetched manifest(const std::string& board, const std::string& version) const;
  std::string torrent(const std::string& board, const std::string& version) const;
  std::string firmware(const std::string& board, const std::string& version, const std::string& name,
                       std::size_t size) const;
  // This node's identity document, with retry, or nullopt when the seeder refuses (404: the
  // MAC is not in its inventory, or it has none; 403: the card is not enrolled, or the request
  // was refused); *why gets the seeder's reason. With an enrolment key
  // (set_enrolment_key()): POST /v1/nodes/<mac>/identity signed with it, the answer opened with
  // the request's ephemeral key (swarm/enrolment.h); throws kSeeder when it does not open.
  // Retried under the RetryPolicy, each attempt freshly signed: no connection, a timeout, 429
  // and 5xx (the seeder restarting, busy). A refusal (403, 404) is final at once; retries run
  // out: throws kSeeder, and the flash fails at its identity step rather than a node booting
  // without its identity.
  // Without: GET /v1/nodes/<mac>/identity (answered only by seeders without --enrolment-keys).
  std::optional<std::string> identity(const std::string& mac, std::string* why = nullptr) const;
  // The installer card's enrolment secret key (load_enrolment_key()).
  void set_enrolment_key(const swarm::CardSecretKey& key) { card_key_ = key; }
  // Seeder facts from GET /v1/info (docs/http-api.md), best effort: a field the seeder
  // does not give (or a seeder that does not answer) is left at its default.
  struct Info {
    std::optional<int> bt_port;    // its BitTorrent port, if it seeds over BitTorrent
    std::int64_t upload_limit = 0; // bytes/s budget of its uploads, 0 = none
  };
  Info info() const;

  // Best effort, single attempt, short timeout: a status report never blocks a flash.
  // Returns false (and the error text in *why) when it did not get through.
  bool post_event(const std::string& node_id, const std::string& json, std::string* why = nullptr) const;
  // Whether any node is still flashing release_key ("rpi5/2026.11.1"), from
  // GET /v1/fleet/summary; true when unknown.
  bool rack_still_flashing(const std::string& release_key) const;
  // Body of GET /v1/fleet: one attempt, short timeout; nullopt when it did not answer 200.
  std::optional<std::string> fleet() const;

 private:
  std::string base_;
  std::string host_;
  // The signed POST, retried (identity() above); *request: the last attempt's, whose key opens the answer.
  swarm::HttpResponse post_identity(const std::string& url, const std::string& mac, const swarm::RequestOptions& o,
                                    std::optional<swarm::PreparedRequest>* request) const;

  RetryPolicy retry_;
  std::optional<swarm::CardSecretKey> card_key_;
};

}  // namespace ironstone::flasher
