// The `ironstone-build` subcommands as library calls: each takes its parsed flags,
// prints what a user needs, and returns the process exit status (0 = success).
// Errors are caught here and printed as "ironstone-build <cmd>: <message>". With `ci` (the global
// --ci flag): no progress output, and stdout carries only a JSON summary (builder/ci_summary.h),
// also for a failure. Nothing ever prompts (a key's password comes from $IRONSTONE_KEY_PASSWORD).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "builder/publish.h"

namespace ironstone::builder {

struct KeygenArgs {
  std::string secret_key, public_key;
};
int run_keygen(const KeygenArgs& a);

struct PublishArgs {
  std::string store, board, version, channel = "stable", secret_key, image;
  std::string chunk_size = "4M";
  std::optional<std::string> expires;
  std::optional<std::uint64_t> sequence;
  int level = 3;
  std::uint32_t format_version = manifest::kFormatVersion;
  int threads = 0;
  std::vector<std::string> web_seeds;
  std::vector<std::string> firmware;  // "FILE" or "KIND:FILE"
  std::string sbom;                   // empty: IMAGE.spdx.json when it exists
  bool no_sbom = false;
  std::string recipe, build_log;      // the build audit trail; empty: none
  std::string git_commit, ci_run;
  bool quiet = false;
  bool require_sealed = false;
  bool raw = false;
  bool dry_run = false;  // every check, nothing written (PublishOptions::dry_run)
  bool ci = false;       // --ci: no progress, a JSON summary on stdout (builder/ci_summary.h)
};
// Prints the sealing check's findings as warnings on stderr (one line per file found), or
// its one-line note when the image could not be checked.
int run_publish(const PublishArgs& a);

struct VerifyArgs {
  std::string store;
  std::vector<std::string> public_keys;
  std::optional<std::string> board, version;
  bool allow_expired = false;
  bool ci = false;
};
int run_verify(const VerifyArgs& a);

struct InspectArgs {
  std::string store;
  std::optional<std::string> board, version;
};
int run_inspect(const InspectArgs& a);

struct GcArgs {
  std::string store;
  std::optional<int> keep;                // default 3, or no count rule when only --older-than is given
  std::optional<std::string> older_than;  // "90d", "12h", "30m"
  bool dry_run = false;
};
int run_gc(const GcArgs& a);

struct InstallerArgs {
  std::string base, seeder, public_key, out;
  std::string board, channel = "stable", target;
  std::string flasher;                 // default: default_flasher_path() (builder/installer.h)
  std::vector<std::string> library_dirs;
  std::string mtools;                  // arm64 mtools, shipped when the base has none
  bool no_libraries = false;
  bool quiet = false;
  std::string card_name, enrolment_keys;  // builder/enrolment.h
};
int run_installer(const InstallerArgs& a);

struct PushArgs {
  std::string store, seeder, token_file;
  std::optional<std::string> board, version;
  double timeout = 600;  // seconds per request
  bool quiet = false;
  bool ci = false;
};
// One line on success: "pushed rpi5/1.0 to http://nas:8080/: 12 of 40 chunks sent (…), committed".
int run_push(const PushArgs& a);

struct ScanArgs {
  std::string sbom, scanner = "auto", fail_on = "high";
  bool ci = false;
};
// Exit 0: no findings at or above --fail-on; kExitFindings (2): some (each printed);
// kExitNoScanner (3): neither grype nor trivy installed, nothing scanned; 1: any other error.
int run_scan(const ScanArgs& a);

struct GoldArgs {
  std::string recipe, out, base, k3s, board, cache, sbom;
  bool quiet = false;
};
// Step names on stderr ("gold: sealing"), a bar while the base is expanded (on a terminal).
int run_gold(const GoldArgs& a);

}  // namespace ironstone::builder
