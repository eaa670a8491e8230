#include "builder/verify.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "builder/store.h"
#include "manifest/chunk_codec.h"
#include "manifest/layout.h"
#include "manifest/torrent.h"
#include "manifest/trust.h"

namespace ironstone::builder {

namespace fs = std::filesystem;
using manifest::Manifest;

namespace {

std::string read_or_empty(const fs::path& p, std::size_t max) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return "";
  return read_text_file(p, max);
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Checks every chunk file of m on `threads` threads; appends problems.
void check_chunks(const fs::path& store, const Manifest& m, const std::string& name, int threads,
                  VerifyReport& report) {
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  auto work = [&] {
    manifest::ChunkDecoder dec;
    std::vector<std::uint8_t> out;
    for (std::size_t i; (i = next++) < m.chunks.size();) {
      const auto& c = m.chunks[i];
      const std::string rel = manifest::layout::chunk_relpath(c.hash);
      std::string problem;
      try {
        std::string stored = read_text_file(store / rel, c.length);
        dec.decode(bytes_of(stored), c, &out, nullptr, manifest::RawCheck::kAlways);
      } catch (const Error& e) {
        problem = e.what();
      }
      std::lock_guard lock(mu);
      ++report.chunks_checked;
      if (!problem.empty())
        report.problems.push_back(name + ": chunk " + std::to_string(i) + " (" + rel + ") @ " +
                                  hex_offset(c.offsets.front()) + ": " + problem);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
}

// The signature (first, as a flasher checks it: a tampered manifest is reported as a bad
// signature even when the change also breaks its JSON), then the trust policy's checks on the
// document's own board and channel. Problems go to `report`; `m` is set as soon as the
// document parses (a policy failure throws with `m` set: its chunks are still checked).
void check_signed_manifest(const ReleaseRef& r, const std::string& name, const VerifyOptions& opt,
                           VerifyReport& report, Manifest& m) {
  const fs::path mf = r.dir / manifest::layout::kManifestFile;
  std::string bytes = read_text_file(mf, manifest::kMaxManifestBytes);
  std::string sig = read_or_empty(fs::path(mf.string() + ".minisig"), manifest::kMaxMinisignFileBytes);
  const std::string source = name + "/manifest.json";
  bool signature_ok = false;
  try {
    if (sig.empty()) throw manifest::error(manifest::Errc::kSignature, source + ": no signature (" + source + ".minisig)");
    manifest::verify(opt.keys, bytes_of(bytes), manifest::parse_signature(sig, source + ".minisig"),
                     source + ".minisig");
    signature_ok = true;
  } catch (const Error& e) {
    report.problems.push_back(e.what());
  }
  m = manifest::parse_manifest(bytes, source);
  if (signature_ok) {
    manifest::TrustPolicy policy;
    policy.trusted_keys = opt.keys;
    policy.board = m.board;
    policy.channel = m.channel;
    policy.now = m.created;  // expiry reported separately (check_expiry)
    manifest::verify_manifest(manifest::UnverifiedManifest(bytes, sig, source), policy);
  }
}

// An expired release is a problem, or with --allow-expired a warning.
void check_expiry(const Manifest& m, const std::string& name, const VerifyOptions& opt, VerifyReport& report) {
  const std::int64_t now = opt.now ? opt.now
                                   : std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
  if (m.expires > now) return;
  if (opt.allow_expired) report.warnings.push_back(name + ": expired at " + manifest::format_time(m.expires));
  else report.problems.push_back(name + ": expired at " + manifest::format_time(m.expires) + " (--allow-expired to accept)");
}

// A file of the release directory the manifest names by size and hash (firmware, SBOM, the
// audit trail); `shown` is its name in the report ("releases/rpi5/1.0/firmware/u-boot.img").
void check_listed_file(const fs::path& file, const std::string& shown, const manifest::FileRef& want,
                       VerifyReport& report) {
  try {
    std::string bytes = read_text_file(file, want.size);
    if (bytes.size() != want.size || blake2b256(bytes_of(bytes)) != want.hash)
      report.problems.push_back(shown + ": size or hash does not match the manifest");
  } catch (const Error& e) {
    report.problems.push_back(e.what());
  }
}

// The torrent, the firmware, the SBOM and the audit trail against the manifest.
void check_release_files(const ReleaseRef& r, const Manifest& m, const std::string& name, VerifyReport& report) {
  try {
    std::string torrent = read_text_file(r.dir / manifest::layout::kTorrentFile, 16 << 20);
    manifest::check_torrent(m, std::span<const char>(torrent.data(), torrent.size()), name + "/release.torrent");
  } catch (const Error& e) {
    report.problems.push_back(e.what());
  }
  for (const auto& fw : m.firmware)
    check_listed_file(r.dir / "firmware" / fw.name, name + "/firmware/" + fw.name, {fw.size, fw.hash}, report);
  for (const auto& f : manifest::listed_release_files(m))
    check_listed_file(r.dir / f.name, name + "/" + f.name, *f.ref, report);
}

void check_release(const Store& store, const ReleaseRef& r, const VerifyOptions& opt, VerifyReport& report) {
  const std::string name = "releases/" + r.board + "/" + r.version;
  ++report.releases_checked;
  Manifest m;
  try {
    check_signed_manifest(r, name, opt, report, m);
    if (m.board != r.board || m.version != r.version)
      report.problems.push_back(name + ": manifest is for " + m.board + "/" + m.version);
    check_expiry(m, name, opt, report);
  } catch (const Error& e) {
    report.problems.push_back(e.what());
    if (m.chunks.empty()) return;  // nothing trustworthy to check chunks against
  }
  check_release_files(r, m, name, report);
  check_chunks(store.root(), m, name, opt.threads, report);
}

void check_channels(const Store& store, const VerifyOptions& opt, VerifyReport& report) {
  std::error_code ec;
  for (const auto& board : fs::directory_iterator(store.root() / "channels", ec)) {
    if (opt.board && board.path().filename() != *opt.board) continue;
    for (const auto& f : fs::directory_iterator(board.path(), ec)) {
      if (f.path().extension() != ".json") continue;
      const std::string name = "channels/" + board.path().filename().string() + "/" + f.path().filename().string();
      try {
        std::string bytes = read_text_file(f.path(), 65536);
        std::string sig = read_or_empty(fs::path(f.path().string() + ".minisig"), manifest::kMaxMinisignFileBytes);
        auto p = manifest::parse_channel_pointer(bytes, name);
        manifest::TrustPolicy policy{opt.keys, p.board, p.channel, 0, std::nullopt, false};
        auto verified = manifest::verify_channel(bytes, sig, name, policy);
        fs::path mf = manifest::layout::release_dir(store.root(), p.board, p.version) / manifest::layout::kManifestFile;
        manifest::check_manifest_matches_channel(verified, read_text_file(mf, manifest::kMaxManifestBytes), name);
      } catch (const Error& e) {
        report.problems.push_back(e.what());
      }
    }
  }
}

// opt.keys, then every keys/*.pub of the store (sorted by name; a key already given is not
// repeated). A keys/*.pub that does not parse is a problem.
std::vector<manifest::PublicKey> trusted_keys(const Store& store, const VerifyOptions& opt, VerifyReport& report) {
  std::vector<manifest::PublicKey> keys = opt.keys;
  for (const auto& k : keys) report.trusted_keys.push_back(k.id.hex() + " (--public-key)");
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(store.root() / "keys", ec))
    if (e.path().extension() == ".pub") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    try {
      auto k = manifest::parse_public_key(read_text_file(f, 4096), "keys/" + f.filename().string());
      if (std::any_of(keys.begin(), keys.end(), [&](const auto& x) { return x.id.hex() == k.id.hex() && x.key == k.key; }))
        continue;
      report.trusted_keys.push_back(k.id.hex() + " (keys/" + f.filename().string() + ")");
      keys.push_back(k);
    } catch (const Error& e) {
      report.problems.push_back(e.what());
    }
  }
  return keys;
}

}  // namespace

VerifyReport verify_store(const VerifyOptions& opt) {
  init_crypto();
  Store store(opt.store);
  VerifyReport report;
  int threads = opt.threads > 0 ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  VerifyOptions o = opt;
  o.threads = threads;
  o.keys = trusted_keys(store, opt, report);
  if (o.keys.empty())
    report.problems.push_back("no trusted public key (--public-key, or keys/*.pub in " + opt.store.string() + ")");
  for (const auto& r : store.releases()) {
    if (opt.board && r.board != *opt.board) continue;
    if (opt.version && r.version != *opt.version) continue;
    check_release(store, r, o, report);
  }
  if (!opt.version) check_channels(store, o, report);
  if (report.releases_checked == 0)
    report.problems.push_back(opt.store.string() + ": no release matches" + (opt.board ? " board " + *opt.board : "") +
                              (opt.version ? " version " + *opt.version : ""));
  return report;
}

}  // namespace ironstone::builder
