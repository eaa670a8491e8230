#include "manifest/trust.h"

namespace ironstone::manifest {

std::string manifest_trusted_comment(const Manifest& m) {
  return "ironstone-manifest board=" + m.board + " channel=" + m.channel + " version=" + m.version +
         " sequence=" + std::to_string(m.sequence) + " expires=" + format_time(m.expires);
}

std::string channel_trusted_comment(const ChannelPointer& p) {
  return "ironstone-channel board=" + p.board + " channel=" + p.channel + " version=" + p.version +
         " sequence=" + std::to_string(p.sequence) + " expires=" + format_time(p.expires);
}

namespace {

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Signature first: nothing of the document is parsed before a trusted key vouched for it.
std::string check_signature(std::string_view bytes, std::string_view signature_text, const std::string& source,
                            const TrustPolicy& policy, KeyId* key_id) {
  if (signature_text.empty()) throw error(Errc::kSignature, source + ": no signature (" + source + ".minisig)");
  Signature sig = parse_signature(signature_text, source + ".minisig");
  if (key_id) *key_id = sig.key_id;
  return verify(policy.trusted_keys, as_bytes(bytes), sig, source + ".minisig");
}

// Board, channel, expiry and sequence rules shared by manifests and channel pointers.
bool check_policy(const std::string& source, const std::string& board, const std::string& channel,
                  std::int64_t expires, std::uint64_t sequence, const TrustPolicy& policy) {
  if (board != policy.board)
    throw error(Errc::kBoardMismatch, source + ": release is for board '" + board + "', this node is '" +
                                          policy.board + "'");
  if (channel != policy.channel)
    throw error(Errc::kBoardMismatch,
                source + ": release is on channel '" + channel + "', expected '" + policy.channel + "'");
  if (expires <= policy.now)
    throw error(Errc::kExpired, source + ": expired at " + format_time(expires) + " (now " +
                                    format_time(policy.now) + ")");
  if (policy.highest_seen_sequence && sequence < *policy.highest_seen_sequence) {
    if (!policy.allow_older)
      throw error(Errc::kRollback, source + ": sequence " + std::to_string(sequence) +
                                       " is lower than the highest seen (" +
                                       std::to_string(*policy.highest_seen_sequence) + ")");
    return true;
  }
  return false;
}

}  // namespace

VerifiedManifest verify_manifest(const UnverifiedManifest& input, const TrustPolicy& policy) {
  const std::string& source = input.source();
  VerifiedManifest out;
  std::string comment = check_signature(input.bytes(), input.signature_text(), source, policy, &out.key_id_);
  out.manifest_ = parse_manifest(input.bytes(), source);
  const Manifest& m = out.manifest_;
  if (comment != manifest_trusted_comment(m))
    throw error(Errc::kSignature, source + ".minisig: trusted comment \"" + comment +
                                      "\" does not match the manifest (\"" + manifest_trusted_comment(m) + "\")");
  out.older_than_seen_ = check_policy(source, m.board, m.channel, m.expires, m.sequence, policy);
  out.bytes_ = input.bytes();
  return out;
}

VerifiedChannel verify_channel(std::string_view bytes, std::string_view signature_text, std::string_view source,
                               const TrustPolicy& policy) {
  const std::string src(source);
  std::string comment = check_signature(bytes, signature_text, src, policy, nullptr);
  VerifiedChannel out;
  out.pointer_ = parse_channel_pointer(bytes, src);
  const ChannelPointer& p = out.pointer_;
  if (comment != channel_trusted_comment(p))
    throw error(Errc::kSignature, src + ".minisig: trusted comment \"" + comment +
                                      "\" does not match the channel pointer");
  check_policy(src, p.board, p.channel, p.expires, p.sequence, policy);
  return out;
}

void check_manifest_matches_channel(const VerifiedChannel& channel, std::string_view manifest_bytes,
                                    std::string_view source) {
  Hash256 h = blake2b256(as_bytes(manifest_bytes));
  if (h != channel.pointer().manifest_hash)
    throw error(Errc::kHashMismatch, std::string(source) + ": BLAKE2b " + h.hex() +
                                         " is not the hash the channel pointer signs (" +
                                         channel.pointer().manifest_hash.hex() + ")");
}

lt::add_torrent_params CheckedTorrent::add_params() const {
  lt::add_torrent_params p = params_;
  p.ti = std::make_shared<lt::torrent_info>(*params_.ti);
  return p;
}

CheckedTorrent check_torrent(const VerifiedManifest& manifest, std::vector<char> bytes, std::string_view source) {
  lt::add_torrent_params params = load_checked_torrent(manifest.manifest(), bytes, source);
  return CheckedTorrent(std::move(bytes), std::move(params));
}

}  // namespace ironstone::manifest
