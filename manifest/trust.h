// The trust boundary (docs/design.md, "Trust rules").
//
// Bytes from the network or a store are an UnverifiedManifest / UnverifiedChannel.
// The only way to a VerifiedManifest / VerifiedChannel is verify_manifest() /
// verify_channel(), which check, in this order and before anything is parsed
// beyond the signature: signature by a trusted key (minisign, prehashed), then the
// document, then that the signed trusted comment states the same board, channel,
// version, sequence and expiry as the document, then the policy: board and channel
// as expected, not expired, sequence not lower than the highest seen (unless the
// operator explicitly allows older releases; the caller logs that).
//
// Thread safety: values; verification functions are reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "manifest/channel.h"
#include "manifest/manifest.h"
#include "manifest/minisign.h"
#include "manifest/torrent.h"

namespace ironstone::manifest {

struct TrustPolicy {
  std::vector<PublicKey> trusted_keys;
  std::string board;    // expected board
  std::string channel;  // expected channel
  std::int64_t now = 0;  // unix seconds
  std::optional<std::uint64_t> highest_seen_sequence;  // for this board and channel
  bool allow_older = false;  // operator flag: accept a sequence lower than highest seen
};

// Trusted comments bind the signature to the fields a user sees in `minisign -V`.
std::string manifest_trusted_comment(const Manifest& m);
std::string channel_trusted_comment(const ChannelPointer& p);

class UnverifiedManifest {
 public:
  UnverifiedManifest(std::string bytes, std::string signature_text, std::string source)
      : bytes_(std::move(bytes)), signature_(std::move(signature_text)), source_(std::move(source)) {}
  const std::string& bytes() const { return bytes_; }
  const std::string& signature_text() const { return signature_; }
  const std::string& source() const { return source_; }

 private:
  std::string bytes_, signature_, source_;
};

class VerifiedManifest {
 public:
  const Manifest& manifest() const { return manifest_; }
  const std::string& bytes() const { return bytes_; }
  const KeyId& key_id() const { return key_id_; }
  // True when accepted only because TrustPolicy::allow_older was set.
  bool older_than_seen() const { return older_than_seen_; }

 private:
  friend VerifiedManifest verify_manifest(const UnverifiedManifest&, const TrustPolicy&);
  VerifiedManifest() = default;
  Manifest manifest_;
  std::string bytes_;
  KeyId key_id_;
  bool older_than_seen_ = false;
};

VerifiedManifest verify_manifest(const UnverifiedManifest& input, const TrustPolicy& policy);

// A release torrent checked against a VerifiedManifest: the only way to one is
// check_torrent() below, so holding a CheckedTorrent means "these bytes are the torrent the
// verified manifest signs" (info-hash, private, hybrid, piece size, one file per chunk).
// It carries the parsed torrent, so nothing after the check parses the bytes again.
// Thread safety: immutable value; add_params() may be called from any thread.
class CheckedTorrent {
 public:
  const std::vector<char>& bytes() const { return bytes_; }
  const lt::torrent_info& info() const { return *params_.ti; }
  // What to give lt::session::add_torrent(): a copy of the checked parameters with a
  // torrent_info of its own (a session may change the one it is given).
  lt::add_torrent_params add_params() const;

 private:
  friend CheckedTorrent check_torrent(const VerifiedManifest&, std::vector<char>, std::string_view);
  CheckedTorrent(std::vector<char> bytes, lt::add_torrent_params params)
      : bytes_(std::move(bytes)), params_(std::move(params)) {}
  std::vector<char> bytes_;
  lt::add_torrent_params params_;
};

// check_torrent(manifest.manifest(), bytes, source) (manifest/torrent.h), kept as a
// CheckedTorrent. Throws kTorrent naming `source`.
CheckedTorrent check_torrent(const VerifiedManifest& manifest, std::vector<char> bytes, std::string_view source);

class VerifiedChannel {
 public:
  const ChannelPointer& pointer() const { return pointer_; }

 private:
  friend VerifiedChannel verify_channel(std::string_view, std::string_view, std::string_view, const TrustPolicy&);
  VerifiedChannel() = default;
  ChannelPointer pointer_;
};

// Verifies a channel pointer's signature and policy (board, channel, expiry,
// sequence). The manifest it names must then hash to pointer().manifest_hash:
// check_manifest_matches_channel() does that before verify_manifest().
VerifiedChannel verify_channel(std::string_view bytes, std::string_view signature_text, std::string_view source,
                               const TrustPolicy& policy);
void check_manifest_matches_channel(const VerifiedChannel& channel, std::string_view manifest_bytes,
                                    std::string_view source);

}  // namespace ironstone::manifest
