// ironstone-build: flags only; the work is in builder/commands.h.
#include <CLI/CLI.hpp>

#include "builder/commands.h"

int main(int argc, char** argv) {
  using namespace ironstone::builder;
  CLI::App app{"ironstone-build: publish, verify, inspect and prune signed Ironstone releases"};
  app.require_subcommand(1);
  app.set_version_flag("--version-info", std::string("ironstone-build ") + IRONSTONE_VERSION);
  app.set_config("--config", "", "read options from a file: key = value, [publish] etc. for a subcommand's "
                                 "(config.env.example)");
  bool ci = false;
  app.add_flag("--ci", ci, "CI mode: no progress bars, no prompts, a JSON summary on stdout");
  app.fallthrough();  // --ci and --config also after the subcommand
  int status = 0;

  KeygenArgs kg;
  auto* keygen = app.add_subcommand("keygen", "create a minisign key pair for signing releases");
  keygen->add_option("--secret-key", kg.secret_key, "secret key file to create (mode 0600)")->required();
  keygen->add_option("--public-key", kg.public_key, "public key file to create")->required();
  keygen->callback([&] { status = run_keygen(kg); });

  PublishArgs pa;
  auto* pub = app.add_subcommand("publish", "turn a disk image into a signed release in a store");
  pub->add_option("--store", pa.store, "release store directory")->required();
  pub->add_option("--board", pa.board, "board name (e.g. rpi5, rock5b)")->required();
  pub->add_option("--version", pa.version, "release version string")->required();
  pub->add_option("--secret-key", pa.secret_key, "minisign secret key (password: $IRONSTONE_KEY_PASSWORD)")->required();
  pub->add_option("IMAGE", pa.image, "raw image, .img.zst, .img.xz, or - for standard input")->required();
  pub->add_option("--channel", pa.channel, "release channel")->capture_default_str();
  pub->add_option("--chunk-size", pa.chunk_size, "chunk size, a power of two (64K..64M)")->capture_default_str();
  pub->add_option("--expires", pa.expires, "expiry: duration (90d, 12h) or UTC time; default 180d");
  pub->add_option("--sequence", pa.sequence, "monotonic sequence; default: highest in store + 1");
  pub->add_option("--level", pa.level, "zstd level (1..19)")->capture_default_str();
  pub->add_option("--format-version", pa.format_version,
                  "release format to write: 2, or 1 for flashers (installer cards) older than format 2")
      ->capture_default_str();
  pub->add_option("--threads", pa.threads, "worker threads (0 = every core)")->capture_default_str();
  pub->add_option("--web-seed", pa.web_seeds, "web seed URL to put into the torrent");
  pub->add_option("--firmware", pa.firmware, "firmware payload to ship, [KIND:]FILE");
  pub->add_option("--sbom", pa.sbom, "SPDX JSON SBOM to ship (default: IMAGE.spdx.json when it exists)");
  pub->add_flag("--no-sbom", pa.no_sbom, "ship no SBOM, even when IMAGE.spdx.json exists");
  pub->add_option("--recipe", pa.recipe, "audit trail: the image's build recipe, shipped as recipe.yaml");
  pub->add_option("--build-log", pa.build_log, "audit trail: the image's build log, shipped as build.log");
  pub->add_option("--git-commit", pa.git_commit, "provenance: git commit (default from CI environment)");
  pub->add_option("--ci-run", pa.ci_run, "provenance: CI run id (default from CI environment)");
  pub->add_flag("--quiet", pa.quiet, "no progress output");
  pub->add_flag("--dry-run", pa.dry_run, "every check and step up to signing, nothing written to the store");
  pub->add_flag("--require-sealed", pa.require_sealed,
                "refuse a gold image that is not sealed (machine-id, SSH host keys, cloud-init state) "
                "or cannot be checked");
  pub->add_flag("--raw", pa.raw,
                "publish the input even when it is not a disk image (no MBR/GPT partition table, or a "
                "partition past its end)");
  pub->callback([&] {
    pa.ci = ci;
    status = run_publish(pa);
  });

  VerifyArgs va;
  auto* ver = app.add_subcommand("verify", "check signatures, chunks and torrents of a store");
  ver->add_option("--store", va.store, "release store directory")->required();
  ver->add_option("--public-key", va.public_keys,
                  "trusted public key file(s), besides the store's keys/*.pub");
  ver->add_flag("--allow-expired", va.allow_expired, "report an expired release as a warning, not a failure");
  ver->add_option("--board", va.board, "only this board");
  ver->add_option("--version", va.version, "only this version");
  ver->callback([&] {
    va.ci = ci;
    status = run_verify(va);
  });

  InspectArgs ia;
  auto* ins = app.add_subcommand("inspect", "summarise a release (or list all releases)");
  ins->add_option("--store", ia.store, "release store directory")->required();
  ins->add_option("--board", ia.board, "board");
  ins->add_option("--version", ia.version, "version");
  ins->callback([&] { status = run_inspect(ia); });

  GcArgs ga;
  auto* gcc = app.add_subcommand("gc", "remove old releases and unreferenced chunks");
  gcc->add_option("--store", ga.store, "release store directory")->required();
  gcc->add_option("--keep", ga.keep, "newest releases to keep per board and channel (default 3; none with only --older-than)");
  gcc->add_option("--older-than", ga.older_than, "also remove releases created longer ago than this (90d, 12h, 30m)");
  gcc->add_flag("--dry-run", ga.dry_run, "only print what would be removed");
  gcc->callback([&] { status = run_gc(ga); });

  InstallerArgs ina;
  auto* inst = app.add_subcommand("installer", "make the installer SD image from an upstream arm64 base image");
  inst->add_option("--base", ina.base, "upstream arm64 image (raw, .img.xz or .img.zst)")->required();
  inst->add_option("--seeder", ina.seeder, "seeder URL the flasher uses, http://HOST[:PORT]")->required();
  inst->add_option("--public-key", ina.public_key, "public key trusted for releases (minisign)")->required();
  inst->add_option("--out", ina.out, "installer image to write (raw)")->required();
  inst->add_option("--board", ina.board, "board (rpi5, rock5b); default: detected at boot");
  inst->add_option("--channel", ina.channel, "release channel")->capture_default_str();
  inst->add_option("--target", ina.target, "target disk; default: the board profile's");
  inst->add_option("--mtools", ina.mtools,
                   "arm64 mtools binary to ship when the base has no mcopy (the flasher's identity step needs it)");
  inst->add_option("--flasher", ina.flasher, "arm64 ironstone-flasher; default: build-arm64/flasher/ironstone-flasher");
  inst->add_option("--library-dir", ina.library_dirs, "where the flasher's arm64 libraries are (default: /usr/lib/aarch64-linux-gnu ...)");
  inst->add_flag("--no-libraries", ina.no_libraries, "do not copy the flasher's shared libraries (the base has them)");
  inst->add_option("--card-name", ina.card_name, "name of this card's enrolment key (default: card-<hex>)");
  inst->add_option("--enrolment-keys", ina.enrolment_keys,
                   "append the card's enrolment public key to this file (the seeder's --enrolment-keys)");
  inst->add_flag("--quiet", ina.quiet, "no progress output");
  inst->callback([&] {
    ina.quiet = ina.quiet || ci;
    status = run_installer(ina);
  });

  PushArgs psa;
  auto* push = app.add_subcommand("push", "upload a published release to a running seeder (it verifies it first)");
  push->add_option("--store", psa.store, "release store directory")->required();
  push->add_option("--seeder", psa.seeder, "the seeder's URL, http://HOST[:PORT]")->required();
  push->add_option("--board", psa.board, "board (default: the store's only board)");
  push->add_option("--version", psa.version, "version (default: the board's highest sequence)");
  push->add_option("--token", psa.token_file, "file holding the seeder's upload token (--upload-token-file)");
  push->add_option("--timeout", psa.timeout, "seconds per request")->capture_default_str();
  push->add_flag("--quiet", psa.quiet, "no progress output");
  push->callback([&] {
    psa.ci = ci;
    status = run_push(psa);
  });

  ScanArgs sca;
  auto* scan = app.add_subcommand("scan", "scan an SBOM with grype or trivy (exit 2: findings, 3: no scanner)");
  scan->add_option("--sbom", sca.sbom, "SPDX JSON SBOM (ironstone-build gold writes IMAGE.spdx.json)")->required();
  scan->add_option("--fail-on", sca.fail_on, "fail on findings at or above: negligible, low, medium, high, critical, none")
      ->capture_default_str();
  scan->add_option("--scanner", sca.scanner, "auto (grype, else trivy), grype or trivy")->capture_default_str();
  scan->callback([&] {
    sca.ci = ci;
    status = run_scan(sca);
  });

  GoldArgs gda;
  auto* gold = app.add_subcommand("gold", "build a sealed gold image from a recipe (docs/gold-image.md)");
  gold->add_option("--recipe", gda.recipe, "the recipe (YAML)")->required();
  gold->add_option("--out", gda.out, "gold image to write (raw)")->required();
  gold->add_option("--base", gda.base, "upstream image (raw, .xz, .zst) instead of the recipe's source");
  gold->add_option("--k3s", gda.k3s, "the k3s binary (checked against the recipe's k3s.sha256)");
  gold->add_option("--board", gda.board, "board, instead of the recipe's");
  gold->add_option("--cache", gda.cache, "cache directory for debian: sources");
  gold->add_option("--sbom", gda.sbom, "SPDX SBOM to write (default: OUT.spdx.json)");
  gold->add_flag("--quiet", gda.quiet, "no progress output");
  gold->callback([&] {
    gda.quiet = gda.quiet || ci;
    status = run_gold(gda);
  });

  CLI11_PARSE(app, argc, argv);
  return status;
}
