// Fetching a release from the seeder and crossing the trust boundary.
//
// fetch_release(): channel pointer (+signature) → verify_channel → manifest
// (+signature) → its hash must be the one the pointer signs → verify_manifest
// (key, trusted comment, board, channel, expiry, sequence vs the state file) →
// release torrent → check_torrent. Only then is anything returned; a failed
// rule throws with flasher::Errc::kPolicy (the message keeps manifest's text).
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "boards/board.h"
#include "flasher/seeder_client.h"
#include "flasher/state.h"
#include "flasher/target.h"
#include "manifest/trust.h"

namespace ironstone::flasher {

struct Release {
  manifest::VerifiedManifest manifest;
  manifest::CheckedTorrent torrent;  // checked against `manifest`
  // The signed files as fetched (a peer seeder stores them byte for byte): the channel
  // pointer and its signature, and the manifest's signature (its bytes: manifest.bytes()).
  std::string channel_bytes, channel_signature, manifest_signature;
};

std::vector<manifest::PublicKey> load_trusted_keys(const std::vector<std::filesystem::path>& files);

Release fetch_release(const SeederClient& seeder, const std::string& board, const std::string& channel,
                      const std::vector<std::filesystem::path>& key_files, const SeenState& seen, bool allow_older);

// The board's firmware step with the payload the verified manifest lists for the
// board's firmware kind (fetched and checked against its signed size and hash
// before use). Returns the outcome line. `written`: for after-write methods.
std::string firmware_step(const SeederClient& seeder, boards::Board& board, const Release& release,
                          const boards::WrittenDisk* written = nullptr);
// The same for an after-write method (boards::Board::firmware_after_write()): the written
// disk is `target` (open at `target_path`), its partition table read back from it.
std::string firmware_step(const SeederClient& seeder, boards::Board& board, const Release& release, Target& target,
                          const std::filesystem::path& target_path);

}  // namespace ironstone::flasher
