#include "flasher/release_fetch.h"

#include <chrono>
#include <fstream>
#include <spdlog/spdlog.h>

#include "api/paths.h"
#include "flasher/errc.h"
#include "flasher/identity.h"
#include "manifest/torrent.h"

namespace ironstone::flasher {

namespace fs = std::filesystem;

std::vector<manifest::PublicKey> load_trusted_keys(const std::vector<fs::path>& files) {
  if (files.empty()) throw error(Errc::kPolicy, "no trusted public key given (--public-key)");
  std::vector<manifest::PublicKey> keys;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw error(Errc::kPolicy, f.string() + ": cannot read the public key");
    std::string text(4096, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    try {
      keys.push_back(manifest::parse_public_key(text, f.string()));
    } catch (const Error& e) {
      throw error(Errc::kPolicy, e.what());
    }
  }
  return keys;
}

Release fetch_release(const SeederClient& seeder, const std::string& board, const std::string& channel,
                      const std::vector<fs::path>& key_files, const SeenState& seen, bool allow_older) {
  manifest::TrustPolicy policy;
  policy.trusted_keys = load_trusted_keys(key_files);
  policy.board = board;
  policy.channel = channel;
  policy.now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (auto h = seen.highest(board, channel)) policy.highest_seen_sequence = h->sequence;
  policy.allow_older = allow_older;

  const std::string chan_src = seeder.url(api::channel_path(board, channel));
  Fetched chan = seeder.channel(board, channel);
  try {
    auto vc = manifest::verify_channel(chan.body, chan.signature, chan_src, policy);
    const auto& p = vc.pointer();
    const std::string man_src = seeder.url(api::manifest_path(board, p.version));
    Fetched man = seeder.manifest(board, p.version);
    manifest::check_manifest_matches_channel(vc, man.body, man_src);
    manifest::VerifiedManifest vm =
        manifest::verify_manifest(manifest::UnverifiedManifest(man.body, man.signature, man_src), policy);
    if (vm.older_than_seen())
      spdlog::warn("operator override (--allow-older): accepting {} sequence {} below the highest seen ({})", p.version,
                   vm.manifest().sequence, *policy.highest_seen_sequence);
    std::string torrent = seeder.torrent(board, p.version);
    manifest::CheckedTorrent checked =
        manifest::check_torrent(vm, std::vector<char>(torrent.begin(), torrent.end()),
                                seeder.url(api::torrent_path(board, p.version)));
    Release rel{std::move(vm), std::move(checked), std::move(chan.body), std::move(chan.signature),
                std::move(man.signature)};
    spdlog::info("release {}/{} sequence {} verified (key {}, expires {})", board, p.version,
                 rel.manifest.manifest().sequence, rel.manifest.key_id().hex(),
                 manifest::format_time(rel.manifest.manifest().expires));
    return rel;
  } catch (const Error& e) {
    if (e.code().category() == manifest::category()) throw error(Errc::kPolicy, e.what());
    throw;
  }
}

std::string firmware_step(const SeederClient& seeder, boards::Board& board, const Release& release, Target& target,
                          const fs::path& target_path) {
  boards::WrittenDisk written{target_path.string(), read_target_table(target, release.manifest.manifest().image_size)};
  return firmware_step(seeder, board, release, &written);
}

std::string firmware_step(const SeederClient& seeder, boards::Board& board, const Release& release,
                          const boards::WrittenDisk* written) {
  const auto& m = release.manifest.manifest();
  if (board.firmware_kind() == "none") return "no firmware step for " + board.name();
  const manifest::Firmware* fw = nullptr;
  for (const auto& f : m.firmware)
    if (f.kind == board.firmware_kind()) fw = &f;
  std::string bytes;
  boards::FirmwarePayload payload;
  if (fw) {
    bytes = seeder.firmware(m.board, m.version, fw->name, fw->size);
    auto data = std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    if (bytes.size() != fw->size || blake2b256(data) != fw->hash)
      throw error(Errc::kPolicy, "firmware " + fw->name + ": fetched bytes do not match the signed size and hash");
    payload = {data, fw->hash, fw->name};
  } else if (board.firmware_requires_payload()) {
    return "release carries no " + board.firmware_kind() + " payload: firmware left as it is";
  }
  boards::FirmwareResult r = board.update_firmware(fw ? &payload : nullptr, written);
  return std::string(boards::to_string(r.outcome)) + (r.detail.empty() ? "" : ": " + r.detail);
}

}  // namespace ironstone::flasher
