// `ironstone-build publish`: turns a disk image into a signed release in a store.
//
// Steps: check the input is a disk image and sealed (publish_input.h; a raw file before
// chunking, compressed or piped input from a temporary copy after it) → lock the store → chunk, hash, compress and store chunks (chunk_pipeline.h)
// → build and validate the manifest → create the v2 torrent → sign → write the
// release into releases/<board>/.tmp-… → syncfs of the store (chunk files, whose
// writeback started as each was written, and the release files) → rename it to
// releases/<board>/<version>, fsync of releases/<board>/ → write the signed channel
// pointer (fsynced). publish refuses a sequence not above the highest published for the
// board and channel, so the pointer always moves to the new release. The release is on
// disk when publish returns.
// A failure before the rename leaves the store's releases, chunks and channels as they
// were (chunk files created are removed, the temporary release directory is deleted; only
// the store's empty layout directories and its .lock file may be new). A failure writing the
// channel pointer after the rename leaves the release published and the pointer naming the
// previous release; the error says so ("release rpi5/1.0 was published, but the channel
// pointer was not updated: …"). Format: docs/release-format.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "builder/seal_check.h"
#include "manifest/manifest.h"
#include "manifest/minisign.h"

namespace ironstone::builder {

struct FirmwareInput {
  std::filesystem::path path;
  std::string kind;  // e.g. "rpi-eeprom", "spi-nor"
};

struct PublishOptions {
  std::filesystem::path store;
  std::string board;
  std::string version;
  std::string channel = "stable";
  std::uint32_t chunk_size = manifest::kDefaultChunkSize;
  int level = 3;
  // The manifest's format (manifest.h): 2 signs each chunk's stored_hash; 1 is what flashers
  // before format 2 read (no stored_hash: they hash the decoded bytes).
  std::uint32_t format_version = manifest::kFormatVersion;
  int threads = 0;                         // 0 = every core
  std::int64_t now = 0;                    // 0 = current time
  std::int64_t expires = 0;                // unix seconds; 0 = now + default_validity
  std::int64_t default_validity = 180 * 86400;
  std::optional<std::uint64_t> sequence;   // default: highest in store for board+channel, plus one
  std::vector<std::string> web_seeds;      // put into the torrent (the seeder adds its own anyway)
  std::vector<FirmwareInput> firmware;
  // The image's SBOM (SPDX JSON), shipped as the release's sbom.spdx.json with its hash in the
  // signed manifest. Empty: IMAGE.spdx.json beside a file image when it exists (what
  // `ironstone-build gold` writes), else none. `no_sbom` ships none in any case.
  std::filesystem::path sbom;
  bool no_sbom = false;
  // The build audit trail (publish --recipe, --build-log): copied into the release as
  // recipe.yaml and build.log, their sizes and hashes in the signed provenance. Empty: none.
  std::filesystem::path recipe;
  std::filesystem::path build_log;
  manifest::Provenance provenance;         // empty fields are filled from the environment
  std::function<void(std::uint64_t, std::optional<std::uint64_t>)> progress;
  // An unsealed gold image is an error (Errc::kUnsealed, naming the partition and every
  // file found), and so is one that cannot be checked (no root partition). Default: the findings are only reported (PublishResult::seal).
  bool require_sealed = false;
  // Publish the input even when it is not a disk image (no MBR/GPT partition table, or a
  // partition past its end; publish_input.h). Default: such input is Errc::kNotDiskImage.
  bool raw = false;
  // publish --dry-run: every check and every step up to the signature (sealing, names, sequence,
  // the store's lock is free, chunking and compression, manifest, torrent, signing) with nothing
  // written: no chunk file, no release directory, no pointer, not even the store's .lock or layout
  // directories. PublishResult::release_dir says where the release would go; new_chunk_files
  // counts the chunk files a real publish would write.
  bool dry_run = false;
};

struct PublishResult {
  manifest::Manifest manifest;
  std::filesystem::path release_dir;
  std::uint64_t new_chunk_files = 0;
  std::uint64_t reused_chunk_files = 0;
  bool channel_updated = false;
  SealReport seal;  // the sealing check (not checked: .note says why)
};

PublishResult publish(const std::string& image, const manifest::SecretKey& key, const PublishOptions& options);

// Provenance from the environment: GITHUB_SHA / CI_COMMIT_SHA / GIT_COMMIT,
// GITHUB_RUN_ID (+GITHUB_REPOSITORY) / CI_PIPELINE_ID / BUILD_TAG, host name, tool version.
manifest::Provenance provenance_from_environment();

}  // namespace ironstone::builder
