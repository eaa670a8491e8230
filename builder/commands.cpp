#include "builder/commands.h"

#include <chrono>
#include <iostream>
#include <unistd.h>
#include <limits>
#include <map>

#include "builder/ci_summary.h"
#include "builder/cli_support.h"
#include "builder/errc.h"
#include "builder/gold.h"
#include "builder/inspect.h"
#include "builder/installer.h"
#include "builder/keys.h"
#include "builder/push.h"
#include "builder/scan.h"
#include "builder/verify.h"

namespace ironstone::builder {

template <typename F>
static int guarded(const char* cmd, F&& body) {
  try {
    return body();
  } catch (const Error& e) {
    std::cerr << "ironstone-build " << cmd << ": " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "ironstone-build " << cmd << ": " << e.what() << "\n";
  }
  return 1;
}

int run_keygen(const KeygenArgs& a) {
  return guarded("keygen", [&] {
    auto pk = keygen(a.secret_key, a.public_key);
    std::cout << "key " << pk.id.hex() << "\n  secret key: " << a.secret_key << " (mode 0600: keep it secret)\n"
              << "  public key: " << a.public_key << " (give this to flashers and seeders)\n";
    return 0;
  });
}

static void print_seal_report(const SealReport& seal, const std::string& image) {
  if (!seal.checked) {
    std::cerr << "ironstone-build publish: note: " << seal.note << "\n";
    return;
  }
  if (seal.sealed()) return;
  std::cerr << "ironstone-build publish: warning: " << image << " is not sealed, " << seal.partition
            << " has (every node flashed from it would share these; --require-sealed refuses such images):\n";
  for (const auto& f : seal.findings) std::cerr << "ironstone-build publish: warning:   " << f << "\n";
}

// With --ci: a failure is also a JSON summary on stdout (builder/ci_summary.h).
template <typename F>
static int guarded_ci(const char* cmd, bool ci, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::cerr << "ironstone-build " << cmd << ": " << e.what() << "\n";
    if (ci) std::cout << failure_summary(cmd, e.what()).dump() << "\n";
  }
  return 1;
}

static double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

static PublishOptions publish_options(const PublishArgs& a) {
  PublishOptions o;
  o.store = a.store;
  o.board = a.board;
  o.version = a.version;
  o.channel = a.channel;
  o.level = a.level;
  o.format_version = a.format_version;
  o.threads = a.threads;
  o.sequence = a.sequence;
  o.web_seeds = a.web_seeds;
  std::uint64_t cs = parse_size(a.chunk_size, "--chunk-size");
  o.chunk_size = cs > UINT32_MAX ? 0 : static_cast<std::uint32_t>(cs);
  o.now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (a.expires) o.expires = parse_expiry(*a.expires, o.now);
  for (const auto& f : a.firmware) {
    auto colon = f.find(':');
    if (colon == std::string::npos) o.firmware.push_back({f, a.board == "rpi5" ? "rpi-eeprom" : "spi-nor"});
    else o.firmware.push_back({f.substr(colon + 1), f.substr(0, colon)});
  }
  o.provenance.git_commit = a.git_commit;
  o.provenance.ci_run = a.ci_run;
  o.require_sealed = a.require_sealed;
  o.raw = a.raw;
  o.dry_run = a.dry_run;
  o.sbom = a.sbom;
  o.no_sbom = a.no_sbom;
  o.recipe = a.recipe;
  o.build_log = a.build_log;
  return o;
}

static void print_published(const PublishResult& r, bool dry_run, double secs) {
  const auto& m = r.manifest;
  std::cout << (dry_run ? "dry run: would publish " : "published ") << m.board << "/" << m.version << " (channel "
            << m.channel << ", sequence " << m.sequence << ") in " << secs << " s\n"
            << "  image " << m.image_size << " bytes, " << m.chunks.size() << " unique chunks, "
            << m.zero_ranges.size() << " zero ranges, stored " << m.stored_bytes() << " bytes ("
            << r.new_chunk_files << " new chunk files, " << r.reused_chunk_files << " reused)\n"
            << "  " << r.release_dir.string() << "\n  info-hash v2 " << m.info_hash_v2 << "\n";
  if (dry_run) std::cout << "  nothing was written\n";
  std::cout.flush();
}

int run_publish(const PublishArgs& a) {
  return guarded_ci("publish", a.ci, [&] {
    const auto start = std::chrono::steady_clock::now();
    PublishOptions o = publish_options(a);
    const std::optional<std::filesystem::path> sbom = a.no_sbom ? std::nullopt : find_sbom(a.image, a.sbom);
    auto key = load_secret_key(a.secret_key);
    ProgressPrinter progress("publish " + a.board + "/" + a.version);
    const bool quiet = a.quiet || a.ci;
    if (!quiet) o.progress = [&](std::uint64_t done, std::optional<std::uint64_t> total) { progress.update(done, total); };
    PublishResult r = publish(a.image, key, o);
    if (!quiet) progress.finish();
    if (a.ci) std::cout << publish_summary(r, sbom, seconds_since(start), a.dry_run).dump() << "\n";
    else print_published(r, a.dry_run, seconds_since(start));
    print_seal_report(r.seal, a.image);
    return 0;
  });
}

int run_verify(const VerifyArgs& a) {
  return guarded_ci("verify", a.ci, [&] {
    VerifyOptions o;
    o.store = a.store;
    std::vector<std::filesystem::path> paths(a.public_keys.begin(), a.public_keys.end());
    o.keys = load_public_keys(paths);
    o.board = a.board;
    o.version = a.version;
    o.allow_expired = a.allow_expired;
    VerifyReport r = verify_store(o);
    if (a.ci) {
      std::cout << verify_summary(r).dump() << "\n";
      return r.ok() ? 0 : 1;
    }
    for (const auto& k : r.trusted_keys) std::cout << "trusted key " << k << "\n";
    for (const auto& w : r.warnings) std::cout << "warning: " << w << "\n";
    for (const auto& p : r.problems) std::cout << "problem: " << p << "\n";
    std::cout << (r.ok() ? "OK" : "FAILED") << ": " << r.releases_checked << " releases, " << r.chunks_checked
              << " chunks checked, " << r.problems.size() << " problems\n";
    return r.ok() ? 0 : 1;
  });
}

int run_inspect(const InspectArgs& a) {
  return guarded("inspect", [&] {
    if (a.board && a.version) inspect_release(a.store, *a.board, *a.version, std::cout);
    else list_releases(a.store, std::cout);
    return 0;
  });
}

int run_gc(const GcArgs& a) {
  return guarded("gc", [&] {
    GcOptions o{a.store, a.keep.value_or(a.older_than ? std::numeric_limits<int>::max() : 3), a.dry_run};
    if (a.older_than) {
      o.older_than = parse_duration(*a.older_than);
      if (!o.older_than) throw error(Errc::kUsage, "--older-than '" + *a.older_than + "': expected a duration (90d, 12h, 30m)");
    }
    GcResult r = gc(o);
    const char* verb = a.dry_run ? "would remove" : "removed";
    for (const auto& rel : r.removed_releases) std::cout << verb << " release " << rel << "\n";
    for (const auto& c : r.removed_chunks) std::cout << verb << " " << c << "\n";
    std::cout << verb << " " << r.removed_releases.size() << " releases, " << r.removed_chunks.size()
              << " chunk files, " << r.freed_bytes << " bytes\n";
    return 0;
  });
}

int run_installer(const InstallerArgs& a) {
  return guarded("installer", [&] {
    InstallerOptions o;
    o.base = a.base;
    o.out = a.out;
    o.seeder = a.seeder;
    o.public_key = a.public_key;
    o.board = a.board;
    o.channel = a.channel;
    o.target = a.target;
    o.copy_libraries = !a.no_libraries;
    o.mtools = a.mtools;
    o.card_name = a.card_name;
    o.enrolment_keys = a.enrolment_keys;
    o.library_dirs.assign(a.library_dirs.begin(), a.library_dirs.end());
    if (!a.flasher.empty()) {
      o.flasher = a.flasher;
    } else {
      std::error_code ec;
      auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
      auto found = default_flasher_path(exe);
      if (!found)
        throw error(Errc::kUsage, "no arm64 flasher: build it with tools/cross-arm64.sh (it writes "
                                  "build-arm64/flasher/ironstone-flasher), or pass --flasher FILE");
      o.flasher = *found;
    }
    ProgressPrinter progress("expand " + a.base);
    if (!a.quiet) {
      o.progress = [&](std::uint64_t done, std::optional<std::uint64_t> total) { progress.update(done, total); };
      o.log = [](const std::string& line) { std::cerr << "installer: " << line << "\n"; };
    }
    InstallerResult r = make_installer(o);
    if (!a.quiet) progress.finish();
    for (const auto& w : r.warnings) std::cout << "warning: " << w << "\n";
    std::cout << "installer image " << a.out << " (" << r.image_size << " bytes)\n"
              << "  flasher " << o.flasher.string() << " -> " << kInstallerFlasherPath << " with " << r.libraries.size()
              << " libraries in " << kInstallerLibDir << "\n"
              << "  seeder " << a.seeder << ", channel " << a.channel << ", board "
              << (a.board.empty() ? "detected at boot" : a.board) << "\n"
              << "  root: partition " << r.root.number << "; boot: "
              << (r.boot ? "partition " + std::to_string(r.boot->number) : std::string("none")) << "\n";
    for (const auto& d : r.disabled) std::cout << "  first-boot wizard: " << d << "\n";
    std::cout << "  enrolment key " << kInstallerEnrolmentKeyPath << " (mode 0600); for the seeder's --enrolment-keys:\n"
              << "    " << r.card.public_line << "\n";
    if (!a.enrolment_keys.empty()) std::cout << "  (appended to " << a.enrolment_keys << ")\n";
    std::cout << "write it to an SD card, e.g.: dd if=" << a.out << " of=/dev/sdX bs=4M conv=fsync status=progress\n";
    return 0;
  });
}

int run_gold(const GoldArgs& a) {
  return guarded("gold", [&] {
    GoldOptions o;
    o.recipe = a.recipe;
    o.out = a.out;
    o.base = a.base;
    o.k3s = a.k3s;
    o.board = a.board;
    o.cache = a.cache;
    o.sbom = a.sbom;
    ProgressPrinter progress("expand base");
    if (!a.quiet) {
      o.progress = [&](std::uint64_t done, std::optional<std::uint64_t> total) { progress.update(done, total); };
      o.log = [](const std::string& line) { std::cerr << "gold: " << line << "\n"; };
      o.terminal_progress = ::isatty(STDERR_FILENO) != 0;
    }
    GoldResult r = build_gold(o);
    if (!a.quiet) progress.finish();
    for (const auto& w : r.warnings) std::cout << "warning: " << w << "\n";
    std::cout << "gold image " << a.out << " (" << r.image_size << " bytes, " << r.files.size() << " files written, "
              << r.sealed.size() << " sealing steps)\n"
              << "  SBOM " << r.sbom.string() << " (" << r.packages << " packages)\n"
              << "publish it with: ironstone-build publish --store STORE --board BOARD --version V --secret-key KEY " << a.out
              << "\n";
    return 0;
  });
}

int run_push(const PushArgs& a) {
  return guarded_ci("push", a.ci, [&] {
    const auto start = std::chrono::steady_clock::now();
    PushOptions o;
    o.store = a.store;
    o.seeder = a.seeder;
    o.board = a.board;
    o.version = a.version;
    o.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout * 1000));
    if (!a.token_file.empty()) o.token = read_token_file(a.token_file);
    ProgressPrinter progress("push to " + a.seeder);
    const bool quiet = a.quiet || a.ci;
    if (!quiet) o.progress = [&](std::uint64_t done, std::uint64_t total) { progress.update(done, total); };
    const PushResult r = push_release(o);
    if (!quiet && r.bytes_sent > 0) progress.finish();
    if (a.ci) {
      std::cout << push_summary(r, a.seeder, seconds_since(start)).dump() << "\n";
    } else if (r.state == "present") {
      std::cout << "push " << r.board << "/" << r.version << ": " << a.seeder << " already holds it; nothing sent\n";
    } else {
      std::cout << "pushed " << r.board << "/" << r.version << " to " << a.seeder << ": " << r.chunks_sent << " of "
                << r.chunks_total << " chunks sent (" << r.bytes_sent << " bytes), " << r.firmware_sent
                << " firmware files, " << r.files_sent << " release files, " << r.state << "\n";
    }
    return 0;
  });
}

static nlohmann::json scan_summary(const ScanResult& r, Severity fail_on) {
  std::map<std::string, int> counts;
  nlohmann::json failing = nlohmann::json::array();
  for (const auto& f : r.findings) {
    ++counts[std::string(to_string(f.severity))];
    if (fail_on != Severity::kNone && f.severity >= fail_on)
      failing.push_back({{"id", f.id}, {"package", f.package}, {"version", f.version},
                         {"severity", std::string(to_string(f.severity))}});
  }
  return {{"command", "scan"},   {"ok", !r.failed()}, {"scanned", true},       {"scanner", r.scanner},
          {"fail_on", std::string(to_string(fail_on))}, {"counts", counts}, {"findings", failing}};
}

int run_scan(const ScanArgs& a) {
  try {
    ScanOptions o{a.sbom, a.scanner, parse_severity(a.fail_on)};
    const ScanResult r = scan_sbom(o);
    if (a.ci) {
      std::cout << scan_summary(r, o.fail_on).dump() << "\n";
    } else {
      for (const auto& f : r.findings)
        if (o.fail_on != Severity::kNone && f.severity >= o.fail_on)
          std::cout << to_string(f.severity) << " " << f.id << " " << f.package << " " << f.version << "\n";
      std::cout << (r.failed() ? "FAILED" : "OK") << ": " << r.scanner << " found " << r.findings.size()
                << " vulnerabilities in " << a.sbom << ", " << r.at_or_above << " at or above " << a.fail_on << "\n";
    }
    return r.failed() ? kExitFindings : 0;
  } catch (const Error& e) {
    std::cerr << "ironstone-build scan: " << e.what() << "\n";
    const bool none = e.code() == Errc::kScanner;
    if (a.ci) {
      nlohmann::json j = failure_summary("scan", e.what());
      j["scanned"] = false;
      std::cout << j.dump() << "\n";
    }
    return none ? kExitNoScanner : 1;
  }
}

}  // namespace ironstone::builder
