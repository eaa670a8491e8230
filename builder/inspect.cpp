#include "builder/inspect.h"

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <map>
#include <set>

#include "builder/errc.h"
#include "builder/store.h"
#include "util/format.h"
#include "manifest/channel.h"
#include "manifest/layout.h"
#include "manifest/minisign.h"

namespace ironstone::builder {

namespace fs = std::filesystem;

static double percent(std::uint64_t part, std::uint64_t whole) {
  return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

void inspect_release(const fs::path& store_root, const std::string& board, const std::string& version,
                     std::ostream& out) {
  Store store(store_root);
  ReleaseRef ref{board, version, manifest::layout::release_dir(store_root, board, version)};
  if (!fs::is_directory(ref.dir)) throw error(Errc::kNotFound, ref.dir.string() + ": no such release");
  auto m = store.read_manifest(ref);
  std::uint64_t positions = 0, zero = 0;
  for (const auto& c : m.chunks) positions += c.offsets.size();
  for (const auto& z : m.zero_ranges) zero += z.length;
  std::string key_id = "(no signature)";
  fs::path sig = ref.dir / (std::string(manifest::layout::kManifestFile) + manifest::layout::kSignatureSuffix);
  if (fs::exists(sig)) {
    try {
      key_id = manifest::parse_signature(read_text_file(sig, manifest::kMaxMinisignFileBytes), sig.string()).key_id.hex();
    } catch (const Error& e) {
      key_id = std::string("(unreadable: ") + e.what() + ")";
    }
  }
  const auto& p = m.provenance;
  out << "release     " << m.board << "/" << m.version << "  (channel " << m.channel << ", sequence " << m.sequence
      << ")\n"
      << "created     " << manifest::format_time(m.created) << "   expires " << manifest::format_time(m.expires) << "\n"
      << "image       " << util::human_size(m.image_size) << " (" << m.image_size << " bytes), hash " << m.image_hash.hex() << "\n"
      << "data        " << util::human_size(m.data_bytes()) << " in " << positions << " chunks of " << util::human_size(m.chunk_size)
      << "; zero " << util::human_size(zero) << " (" << std::fixed << std::setprecision(1) << percent(zero, m.image_size)
      << "% of the image, never stored or sent)\n"
      << "stored      " << util::human_size(m.stored_bytes()) << " in " << m.chunks.size() << " unique chunks ("
      << positions - m.chunks.size() << " duplicates deduplicated); " << std::setprecision(1)
      << percent(m.stored_bytes(), m.data_bytes()) << "% of data\n"
      << "torrent     v2 info-hash " << m.info_hash_v2 << "\n"
      << "signed by   key " << key_id << "  (not verified here: run `ironstone-build verify`)\n"
      << "provenance  source " << p.source_name << " (" << p.source_hash.hex() << ")\n"
      << "            git " << (p.git_commit.empty() ? "-" : p.git_commit) << ", ci "
      << (p.ci_run.empty() ? "-" : p.ci_run) << ", host " << p.builder_host << ", " << p.tool_version << "\n";
  const auto listed = [&out](const char* label, const char* file, const std::optional<manifest::FileRef>& ref) {
    out << label;
    if (ref) out << file << " (" << util::human_size(ref->size) << ", " << ref->hash.hex() << ")\n";
    else out << "none\n";
  };
  listed("sbom        ", manifest::kSbomFile, m.sbom);
  listed("recipe      ", manifest::kRecipeFile, p.recipe);
  listed("build log   ", manifest::kBuildLogFile, p.build_log);
  if (!p.unknown_fields.empty()) {
    out << "            provenance fields this build does not know (ignored):";
    for (const auto& f : p.unknown_fields) out << " " << f;
    out << "\n";
  }
  for (const auto& fw : m.firmware)
    out << "firmware    " << fw.name << " (" << fw.kind << ", " << util::human_size(fw.size) << ", " << fw.hash.hex() << ")\n";
}

void list_releases(const fs::path& store_root, std::ostream& out) {
  Store store(store_root);
  for (const auto& r : store.releases()) {
    auto m = store.read_manifest(r);
    out << std::left << std::setw(10) << r.board << std::setw(20) << r.version << std::setw(10) << m.channel
        << "seq " << std::setw(6) << m.sequence << util::human_size(m.image_size) << " image, " << util::human_size(m.stored_bytes())
        << " stored\n";
  }
}

namespace {

// The store's releases grouped by (board, channel), newest sequence first, and their manifests.
struct StoreReleases {
  std::map<std::pair<std::string, std::string>, std::vector<std::pair<std::uint64_t, ReleaseRef>>> groups;
  std::map<std::string, manifest::Manifest> manifests;  // by release directory
};

StoreReleases read_releases(const Store& store) {
  StoreReleases out;
  for (const auto& r : store.releases()) {
    auto m = store.read_manifest(r);
    out.groups[{r.board, m.channel}].push_back({m.sequence, r});
    out.manifests[r.dir.string()] = std::move(m);
  }
  for (auto& [key, list] : out.groups)
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return out;
}

// The release directories a channel pointer names: gc never removes them.
std::set<std::string> pinned_releases(const fs::path& root, const StoreReleases& releases) {
  std::set<std::string> pinned;
  for (const auto& [key, list] : releases.groups) {
    fs::path ch = manifest::layout::channel_file(root, key.first, key.second);
    std::error_code ec;
    if (!fs::exists(ch, ec)) continue;
    auto p = manifest::parse_channel_pointer(read_text_file(ch, 65536), ch.string());
    pinned.insert(manifest::layout::release_dir(root, p.board, p.version).string());
  }
  return pinned;
}

// Removes (unless dry_run) the releases the count and age rules give up; returns the chunk
// files the kept releases reference.
std::set<std::string> prune_releases(const GcOptions& opt, StoreReleases& releases,
                                     const std::set<std::string>& pinned, GcResult& result) {
  const std::int64_t now = opt.now ? opt.now
                                   : std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
  std::set<std::string> live_chunks;
  for (const auto& [key, list] : releases.groups) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      const ReleaseRef& r = list[i].second;
      const manifest::Manifest& m = releases.manifests[r.dir.string()];
      const bool too_old = opt.older_than && m.created < now - *opt.older_than;
      if (pinned.count(r.dir.string()) || (i < static_cast<std::size_t>(opt.keep) && !too_old)) {
        for (const auto& c : m.chunks) live_chunks.insert(manifest::layout::chunk_relpath(c.hash));
        continue;
      }
      result.removed_releases.push_back(r.board + "/" + r.version);
      if (!opt.dry_run) fs::remove_all(r.dir);
    }
  }
  return live_chunks;
}

// Every file under chunks/ no kept release references (temporaries included).
void sweep_chunks(const GcOptions& opt, const std::set<std::string>& live_chunks, GcResult& result) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(opt.store / "chunks", ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string rel = fs::relative(it->path(), opt.store).string();
    if (live_chunks.count(rel)) continue;
    result.removed_chunks.push_back(rel);
    result.freed_bytes += it->file_size();
  }
  if (!opt.dry_run)
    for (const auto& rel : result.removed_chunks) fs::remove(opt.store / rel, ec);
}

// Temporaries of crashed publishers (the caller holds the lock: nobody is writing them).
void remove_temporaries(const GcOptions& opt) {
  if (opt.dry_run) return;
  std::error_code ec;
  for (const auto& board : fs::directory_iterator(opt.store / "releases", ec))
    for (const auto& e : fs::directory_iterator(board.path(), ec))
      if (e.path().filename().string().rfind(".tmp-", 0) == 0) fs::remove_all(e.path(), ec);
}

}  // namespace

GcResult gc(const GcOptions& opt) {
  if (opt.keep < 1) throw error(Errc::kUsage, "--keep " + std::to_string(opt.keep) + ": must keep at least 1");
  if (opt.older_than && *opt.older_than < 0)
    throw error(Errc::kUsage, "--older-than: " + std::to_string(*opt.older_than) + " s: must not be negative");
  Store store(opt.store);
  StoreLock lock(opt.store);
  StoreReleases releases = read_releases(store);
  const std::set<std::string> pinned = pinned_releases(opt.store, releases);
  GcResult result;
  const std::set<std::string> live_chunks = prune_releases(opt, releases, pinned, result);
  sweep_chunks(opt, live_chunks, result);
  remove_temporaries(opt);
  return result;
}

}  // namespace ironstone::builder
