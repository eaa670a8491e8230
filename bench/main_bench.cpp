// ironstone-bench: flags only. `rack` is bench/rack_run.h, `micro` bench/micro.h,
// `serve` (internal: the HTTP-unicast file server run inside the NAS namespace) bench/http_serve.h.
#include <CLI/CLI.hpp>
#include <iostream>
#include <sstream>

#include "bench/http_serve.h"
#include "bench/micro.h"
#include "bench/proc.h"
#include "bench/rack_run.h"

namespace {

std::uint64_t parse_size(const std::string& s) {
  std::size_t i = 0;
  double v = std::stod(s, &i);
  std::string u = s.substr(i);
  double m = 1;
  if (u == "K" || u == "k" || u == "KiB") m = 1024;
  else if (u == "M" || u == "MiB") m = 1024.0 * 1024;
  else if (u == "G" || u == "GiB") m = 1024.0 * 1024 * 1024;
  else if (!u.empty()) throw CLI::ValidationError("size", "unknown unit in " + s);
  return std::uint64_t(v * m);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ironstone::bench;
  CLI::App app{"ironstone-bench: a simulated rack (Ironstone against HTTP unicast and multicast) and\n"
               "micro-benchmarks of the per-chunk pipeline. See docs/performance.md."};
  app.require_subcommand(1);

  RackOptions ro;
  int nodes = 0;
  std::string sweep, methods = "ironstone,http,multicast", image_size;
  auto* rack = app.add_subcommand("rack", "measure a whole rack: every method, same image, same links");
  rack->add_option("--nodes", nodes, "number of nodes (or --sweep)");
  rack->add_option("--sweep", sweep, "several N in one run, e.g. 1,2,4,8");
  rack->add_option("--link", ro.link, "link rate of every port (tc units: 100mbit, 1gbit)")->capture_default_str();
  rack->add_option("--nas-link", ro.nas_link, "the NAS port's rate (default: --link)");
  rack->add_option("--image", ro.image.image_file, "use this raw image instead of building one");
  rack->add_option("--image-size", image_size,
                   "size of the built image: default 4G with 1150 MiB of files (realistic); 'small' is 2G with 600 "
                   "MiB; another size keeps the payload within it");
  rack->add_option("--release-format", ro.image.release_format,
                   "release format to publish (ironstone-build publish --format-version): 2, or 1 to compare")
      ->check(CLI::Range(1, 2))
      ->capture_default_str();
  rack->add_option("--release-chunk-size", ro.image.chunk_size,
                   "chunk size of the release (ironstone-build publish --chunk-size): one torrent piece each")
      ->capture_default_str();
  auto* payload = rack->add_option("--payload", ro.image.payload_mib, "MiB of real files in the built image's ext4 root")
                      ->capture_default_str();
  rack->add_option("--methods", methods, "comma-separated: ironstone,http,multicast")->capture_default_str();
  auto* peers = rack->add_option("--peers", ro.peers,
                                 "the scenario with provisioned peers: the first P of the --nodes run "
                                 "`ironstone-seeder --peer-of` the NAS and hold the release before the others "
                                 "flash (methods: ironstone-peers, then ironstone: the same flashing nodes, no "
                                 "peers); e.g. --nodes 8 --peers 4 --nas-link 25mbit");
  rack->add_option("--out", ro.out, "output prefix: writes OUT.json and OUT.svg")->capture_default_str();
  rack->add_option("--work", ro.image.work, "work directory for the runs (kept)");
  rack->add_option("--image-cache", ro.image.cache, "where built images and their releases are kept and reused")
      ->capture_default_str();
  rack->add_option("--bin-dir", ro.bin_dir, "build tree or directory holding the ironstone binaries");
  rack->add_option("--timeout", ro.timeout_s, "seconds per method run (default: from the floor)");
  rack->add_flag("--loopback", ro.loopback, "run on loopback even as root");
  rack->add_flag("--keep", ro.keep, "keep the temporary work directory");
  rack->add_flag("!--no-cmp", ro.cmp, "skip the byte comparison of every node's target with the image");
  rack->add_option("--seeder-arg", ro.seeder_args, "extra flag for every ironstone-seeder (repeatable)")
      ->allow_extra_args(false);
  rack->add_option("--flasher-arg", ro.flasher_args, "extra flag for every ironstone-flasher (repeatable)")
      ->allow_extra_args(false);
  rack->add_flag("--perf", ro.perf, "profile the Ironstone runs with perf record -a (which part spends the CPU)");

  MicroOptions mo;
  std::string chunk = "4M";
  auto* micro = app.add_subcommand("micro", "Google Benchmark of the per-chunk pipeline against 1/2.5 GbE");
  micro->add_option("--chunk-size", chunk, "chunk size")->capture_default_str();
  micro->add_option("--data", mo.data_dir, "directory of real files to cut chunks from")->capture_default_str();
  micro->add_option("--write-dir", mo.write_dir, "where the verify+write target file goes")->capture_default_str();
  micro->add_option("--json", mo.json_out, "write the comparison as JSON");
  micro->add_option("--benchmark", mo.benchmark_args, "Google Benchmark flag, e.g. --benchmark=--benchmark_min_time=2");

  std::string listen = "0.0.0.0", file;
  int port = 8080;
  auto* serve = app.add_subcommand("serve", "(internal) serve one file over HTTP for the HTTP-unicast method");
  serve->group("");
  serve->add_option("--listen", listen);
  serve->add_option("--port", port);
  serve->add_option("--file", file)->required();

  CLI11_PARSE(app, argc, argv);
  try {
    if (*serve) return serve_file(listen, port, file);
    if (*micro) {
      mo.chunk_size = parse_size(chunk);
      return run_micro(mo);
    }
    if (!sweep.empty()) {
      ro.sweep.clear();
      std::stringstream s(sweep);
      for (std::string x; std::getline(s, x, ',');) ro.sweep.push_back(std::stoi(x));
    } else if (nodes > 0) {
      ro.sweep = {nodes};
    }
    for (int n : ro.sweep)
      if (n < 1 || n > 64) throw std::runtime_error("nodes must be 1..64");
    ro.methods.clear();
    if (peers->count() > 0) methods = "ironstone-peers,ironstone";
    std::stringstream ms(methods);
    for (std::string x; std::getline(ms, x, ',');) ro.methods.push_back(x);
    for (int n : ro.sweep)
      if (ro.peers < 0 || ro.peers >= n) throw std::runtime_error("--peers: 0..nodes-1 (a flashing node is needed)");
    if (image_size == "small") {
      ro.image.image_size = "2G";
      if (payload->count() == 0) ro.image.payload_mib = 600;
    } else if (!image_size.empty()) {
      ro.image.image_size = image_size;
      // Keep the built image's root filesystem within the image (make-image.sh: root = 1.5 x payload + 64 MiB).
      std::uint64_t bytes = parse_size(image_size);
      int max_payload = int((double(bytes) / 1048576.0 - 64 - 2 - 64) / 1.5);
      if (max_payload < 16) throw std::runtime_error("--image-size: at least 160M (64 MiB boot + an ext4 root)");
      if (ro.image.payload_mib > max_payload) ro.image.payload_mib = std::max(8, max_payload * 3 / 4);
    }
    for (int i = 0; i < argc; ++i) ro.command += (i ? " " : "") + shell_quote(argv[i]);
    return run_rack(ro);
  } catch (const std::exception& e) {
    std::cerr << "ironstone-bench: " << e.what() << "\n";
    return 2;
  }
}
