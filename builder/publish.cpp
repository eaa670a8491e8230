#include "builder/publish.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "builder/chunk_pipeline.h"
#include "builder/errc.h"
#include "builder/gold.h"
#include "builder/image_reader.h"
#include "builder/publish_input.h"
#include "builder/store.h"
#include "manifest/channel.h"
#include "manifest/layout.h"
#include "manifest/torrent.h"
#include "manifest/trust.h"

namespace ironstone::builder {

namespace fs = std::filesystem;
using manifest::Manifest;

static std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

manifest::Provenance provenance_from_environment() {
  manifest::Provenance p;
  for (const char* var : {"GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT"})
    if (p.git_commit.empty()) p.git_commit = env(var);
  if (!env("GITHUB_RUN_ID").empty())
    p.ci_run = "github:" + (env("GITHUB_REPOSITORY").empty() ? "" : env("GITHUB_REPOSITORY") + "/") +
               env("GITHUB_RUN_ID");
  else if (!env("CI_PIPELINE_ID").empty())
    p.ci_run = "gitlab:" + env("CI_PIPELINE_ID");
  else if (!env("BUILD_TAG").empty())
    p.ci_run = "jenkins:" + env("BUILD_TAG");
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) p.builder_host = host;
  p.tool_version = std::string("ironstone-build ") + IRONSTONE_VERSION;
  return p;
}

namespace {

void check_options(const PublishOptions& o) {
  if (!manifest::valid_board_name(o.board))
    throw error(Errc::kUsage, "--board '" + o.board + "': expected [a-z0-9-]{1,64}");
  if (!manifest::valid_board_name(o.channel))
    throw error(Errc::kUsage, "--channel '" + o.channel + "': expected [a-z0-9-]{1,64}");
  if (!manifest::valid_version_name(o.version))
    throw error(Errc::kUsage, "--version '" + o.version + "': expected [A-Za-z0-9._+-]{1,64}, not starting with '.'");
  const std::uint64_t cs = o.chunk_size;
  if (cs < manifest::kMinChunkSize || cs > manifest::kMaxChunkSize || (cs & (cs - 1)) != 0)
    throw error(Errc::kUsage, "--chunk-size " + std::to_string(cs) + ": expected a power of two from 64 KiB to 64 MiB");
  if (o.level < 1 || o.level > 19) throw error(Errc::kUsage, "--level " + std::to_string(o.level) + ": expected 1..19");
  if (o.format_version < manifest::kOldestFormatVersion || o.format_version > manifest::kFormatVersion)
    throw error(Errc::kUsage, "--format-version " + std::to_string(o.format_version) + ": expected " +
                                  std::to_string(manifest::kOldestFormatVersion) + ".." +
                                  std::to_string(manifest::kFormatVersion));
}

// Copies firmware payloads into the temporary release directory and lists them.
// With dry_run only read and hashed.
std::vector<manifest::Firmware> stage_firmware(const std::vector<FirmwareInput>& inputs, const fs::path& dir,
                                               bool dry_run) {
  std::vector<manifest::Firmware> out;
  for (const auto& in : inputs) {
    std::string bytes;
    try {
      bytes = read_text_file(in.path, 64ull << 20);
    } catch (const Error& e) {
      throw error(Errc::kInput, std::string("--firmware: ") + e.what());
    }
    if (bytes.empty()) throw error(Errc::kInput, in.path.string() + ": firmware file is empty");
    manifest::Firmware fw;
    fw.name = in.path.filename().string();
    fw.kind = in.kind;
    fw.size = bytes.size();
    fw.hash = blake2b256({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    if (!dry_run) {
      fs::create_directories(dir / "firmware");
      write_file_atomic(dir / "firmware" / fw.name, bytes, 0644, FileSync::kStartWriteback);  // publish syncs the store
    }
    out.push_back(fw);
  }
  return out;
}

// The SBOM the release ships (PublishOptions::sbom), copied into the temporary release
// directory; nullopt when there is none. Throws kInput for a file that is not SPDX JSON.
std::optional<manifest::SbomRef> stage_sbom(const std::string& image, const PublishOptions& opt, const fs::path& dir) {
  fs::path file = opt.sbom;
  std::error_code ec;
  if (opt.no_sbom) return std::nullopt;
  if (file.empty()) {
    if (image == "-" || !fs::is_regular_file(default_sbom_path(image), ec)) return std::nullopt;
    file = default_sbom_path(image);
  }
  std::string bytes;
  try {
    bytes = read_text_file(file, manifest::kMaxSbomBytes);
  } catch (const Error& e) {
    throw error(Errc::kInput, std::string("--sbom: ") + e.what());
  }
  try {
    const auto doc = nlohmann::json::parse(bytes);
    if (!doc.is_object() || !doc.contains("spdxVersion") || !doc["spdxVersion"].is_string() ||
        doc["spdxVersion"].get<std::string>().rfind("SPDX-", 0) != 0)
      throw error(Errc::kInput, file.string() + ": not an SPDX JSON document (no \"spdxVersion\": \"SPDX-…\")");
  } catch (const nlohmann::json::exception& e) {
    throw error(Errc::kInput, file.string() + ": not an SPDX JSON document: " + e.what());
  }
  if (!opt.dry_run) write_file_atomic(dir / manifest::kSbomFile, bytes, 0644, FileSync::kStartWriteback);  // publish syncs the store
  return manifest::SbomRef{bytes.size(), blake2b256({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()})};
}

// An audit-trail file (--recipe, --build-log) copied into the temporary release directory
// as `name`; nullopt when `file` is empty. Throws kInput naming the flag and the file.
std::optional<manifest::FileRef> stage_audit_file(const fs::path& file, const char* flag, const char* name,
                                                  const fs::path& dir, bool dry_run) {
  if (file.empty()) return std::nullopt;
  std::string bytes;
  try {
    bytes = read_text_file(file, manifest::kMaxAuditFileBytes);
  } catch (const Error& e) {
    throw error(Errc::kInput, std::string(flag) + ": " + e.what());
  }
  if (bytes.empty()) throw error(Errc::kInput, std::string(flag) + " " + file.string() + ": file is empty");
  if (!dry_run) write_file_atomic(dir / name, bytes, 0644, FileSync::kStartWriteback);  // publish syncs the store
  return manifest::FileRef{bytes.size(), blake2b256({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()})};
}

void write_channel(const fs::path& store, const Manifest& m, const std::string& manifest_bytes,
                   const manifest::SecretKey& key) {
  manifest::ChannelPointer p;
  p.board = m.board;
  p.channel = m.channel;
  p.version = m.version;
  p.sequence = m.sequence;
  p.expires = m.expires;
  p.manifest_hash = blake2b256({reinterpret_cast<const std::uint8_t*>(manifest_bytes.data()), manifest_bytes.size()});
  std::string text = manifest::serialize(p);
  std::string sig = manifest::sign(key, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()},
                                   manifest::channel_trusted_comment(p));
  fs::path file = manifest::layout::channel_file(store, m.board, m.channel);
  fs::create_directories(file.parent_path());
  // Signature first: a reader that catches the moment in between sees a mismatch and retries.
  write_file_atomic(fs::path(file.string() + ".minisig"), sig);
  write_file_atomic(file, text);
}

// publish --dry-run takes no lock (it would create .lock) but fails, as publish would, while
// another writer holds it: a shared lock on the existing file conflicts with their exclusive one.
void check_store_unlocked(const fs::path& store) {
  const fs::path lock = store / ".lock";
  const int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // no lock file: nobody holds it
  const bool busy = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  if (busy)
    throw error(Errc::kBusy, store.string() + ": store is being written by another publisher (" + lock.string() +
                                 " is locked); try again when it has finished");
}

// Where the release goes, its sequence and validity: everything decided before the image is read.
struct ReleasePlan {
  fs::path final_dir;
  std::uint64_t sequence = 0;
  std::int64_t now = 0;
  std::int64_t expires = 0;
};

ReleasePlan plan_release(const PublishOptions& opt, const Store& store) {
  ReleasePlan plan;
  plan.final_dir = manifest::layout::release_dir(opt.store, opt.board, opt.version);
  if (fs::exists(plan.final_dir))
    throw error(Errc::kExists, plan.final_dir.string() + ": release " + opt.board + "/" + opt.version + " already exists");
  const auto highest = store.highest_sequence(opt.board, opt.channel);
  plan.sequence = opt.sequence.value_or(highest ? *highest + 1 : 1);
  if (highest && plan.sequence <= *highest)
    throw error(Errc::kUsage, "--sequence " + std::to_string(plan.sequence) + " is not above the highest published for " +
                                  opt.board + "/" + opt.channel + " (" + std::to_string(*highest) +
                                  "): flashers would refuse it as a rollback");
  plan.now = opt.now ? opt.now
                     : std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  plan.expires = opt.expires ? opt.expires : plan.now + opt.default_validity;
  if (plan.expires <= plan.now)
    throw error(Errc::kUsage, "--expires " + manifest::format_time(plan.expires) + " is not in the future");
  return plan;
}

// The manifest of the chunked image, before firmware and torrent (REQUIRES: chunks not empty).
Manifest describe_release(const PublishOptions& opt, const ReleasePlan& plan, PipelineResult& chunks,
                          const std::string& image, const ImageReader& reader) {
  Manifest m;
  m.board = opt.board;
  m.version = opt.version;
  m.channel = opt.channel;
  m.sequence = plan.sequence;
  m.created = plan.now;
  m.expires = plan.expires;
  m.image_size = chunks.image_size;
  m.image_hash = chunks.image_hash;
  m.chunk_size = opt.chunk_size;
  m.format_version = opt.format_version;
  m.chunks = std::move(chunks.chunks);
  if (m.format_version < 2)
    for (auto& c : m.chunks) c.stored_hash.reset();
  m.zero_ranges = std::move(chunks.zero_ranges);
  m.provenance = provenance_from_environment();
  const auto& given = opt.provenance;
  if (!given.git_commit.empty()) m.provenance.git_commit = given.git_commit;
  if (!given.ci_run.empty()) m.provenance.ci_run = given.ci_run;
  m.provenance.source_name = image == "-" ? "-" : fs::path(image).filename().string();
  m.provenance.source_hash = reader.source_hash().value_or(m.image_hash);
  return m;
}

// The release torrent over the store's chunk files; sets m.info_hash_v2 from it and checks it.
std::vector<char> make_release_torrent(Manifest& m, const PublishOptions& opt, const PipelineResult& chunks) {
  manifest::TorrentOptions to;
  to.web_seeds = opt.web_seeds;
  to.hashing_threads = opt.threads > 0 ? opt.threads : 2;
  to.piece_hashes = chunks.piece_hashes;  // computed while the chunk files were written
  m.info_hash_v2 = std::string(64, '0');
  manifest::validate(m, "new manifest");
  std::vector<char> torrent = manifest::make_torrent(m, opt.store, to);
  // The info-hash is part of the signed manifest: load it back to read it.
  lt::load_torrent_limits limits;
  lt::torrent_info ti(lt::span<const char>(torrent.data(), static_cast<long>(torrent.size())), limits, lt::from_span);
  m.info_hash_v2 = manifest::info_hash_v2(ti);
  manifest::check_torrent(m, torrent, "new torrent");
  return torrent;
}

// Writes manifest, signature and torrent into tmp_dir and renames it to final_dir. Nothing in
// the temporary directory is visible before that. One syncfs makes everything the release
// needs durable first, with its name: the chunk files (new and reused; their writeback ran
// during the chunking), firmware and the files below.
void commit_release(const PublishOptions& opt, const fs::path& tmp_dir, const fs::path& final_dir,
                    const std::string& text, const std::string& sig, const std::vector<char>& torrent) {
  constexpr auto kLater = FileSync::kStartWriteback;
  write_file_atomic(tmp_dir / manifest::layout::kManifestFile, text, 0644, kLater);
  write_file_atomic(tmp_dir / (std::string(manifest::layout::kManifestFile) + manifest::layout::kSignatureSuffix), sig,
                    0644, kLater);
  write_file_atomic(tmp_dir / manifest::layout::kTorrentFile, std::string_view(torrent.data(), torrent.size()), 0644,
                    kLater);
  sync_store(opt.store);
  if (::rename(tmp_dir.c_str(), final_dir.c_str()) != 0)
    throw error(Errc::kStore, final_dir.string() + ": cannot commit the release: " + std::strerror(errno));
  fsync_dir(final_dir.parent_path());
}

// Firmware, torrent, signature, commit and channel pointer of the chunked image.
PublishResult publish_chunks(const std::string& image, const manifest::SecretKey& key, const PublishOptions& opt,
                             const ReleasePlan& plan, PipelineResult& chunks, const ImageReader& reader,
                             const fs::path& tmp_dir) {
  if (chunks.image_size == 0) throw error(Errc::kInput, image + ": image is empty");
  if (chunks.chunks.empty()) throw error(Errc::kInput, image + ": image is all zeros: nothing to publish");
  PublishResult result;
  result.new_chunk_files = chunks.created_files.size();
  result.reused_chunk_files = chunks.reused_chunks;
  Manifest m = describe_release(opt, plan, chunks, image, reader);
  if (!opt.dry_run) fs::create_directories(tmp_dir);
  m.firmware = stage_firmware(opt.firmware, tmp_dir, opt.dry_run);
  m.sbom = stage_sbom(image, opt, tmp_dir);
  m.provenance.recipe = stage_audit_file(opt.recipe, "--recipe", manifest::kRecipeFile, tmp_dir, opt.dry_run);
  m.provenance.build_log = stage_audit_file(opt.build_log, "--build-log", manifest::kBuildLogFile, tmp_dir, opt.dry_run);
  const std::vector<char> torrent = make_release_torrent(m, opt, chunks);
  const std::string text = manifest::serialize(m);
  manifest::parse_manifest(text, "new manifest");  // what we sign must read back
  const std::string sig = manifest::sign(key, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()},
                                         manifest::manifest_trusted_comment(m));
  manifest::parse_signature(sig, "new signature");
  if (opt.dry_run) {
    result.release_dir = plan.final_dir;  // where it would go
    result.manifest = std::move(m);
    return result;
  }
  commit_release(opt, tmp_dir, plan.final_dir, text, sig, torrent);
  result.release_dir = plan.final_dir;
  try {
    write_channel(opt.store, m, text, key);
    result.channel_updated = true;
  } catch (const Error& e) {
    // The release is committed and valid; only the pointer failed. Say so precisely.
    throw e.with_context("release " + opt.board + "/" + opt.version + " was published, but the channel pointer was not updated");
  }
  result.manifest = std::move(m);
  return result;
}

}  // namespace

PublishResult publish(const std::string& image, const manifest::SecretKey& key, const PublishOptions& opt) {
  init_crypto();
  check_options(opt);
  auto reader = open_image(image);
  PublishInput input(image, *reader, opt.raw, opt.require_sealed);  // a raw file is checked here
  Store store(opt.store);
  std::optional<StoreLock> lock;
  if (opt.dry_run) {
    check_store_unlocked(opt.store);
  } else {
    store.create_layout();
    lock.emplace(opt.store);
  }
  const ReleasePlan plan = plan_release(opt, store);

  PipelineOptions po{opt.store, opt.chunk_size, opt.level, opt.threads, opt.progress, opt.dry_run};
  PipelineResult chunks = chunk_image(input.reader(), po);
  const fs::path tmp_dir = plan.final_dir.parent_path() / (".tmp-" + opt.version + "-" + std::to_string(::getpid()));
  // releases/<board>/ is created with the temporary directory for a board's first release:
  // a failed publish removes it again, so the store is left exactly as it was.
  const bool board_dir_existed = fs::exists(plan.final_dir.parent_path());
  try {
    SealReport seal = input.finish();  // a streamed image is checked here, once it has been read
    PublishResult result = publish_chunks(image, key, opt, plan, chunks, *reader, tmp_dir);
    result.seal = std::move(seal);
    return result;
  } catch (...) {
    if (!fs::exists(plan.final_dir)) {
      std::error_code ec;
      fs::remove_all(tmp_dir, ec);
      if (!board_dir_existed) fs::remove(plan.final_dir.parent_path(), ec);  // only if empty
      if (!opt.dry_run) remove_created_chunks(chunks.created_files);
    }
    throw;
  }
}

}  // namespace ironstone::builder
