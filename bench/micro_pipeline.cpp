#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "bench/micro.h"
#include "flasher/read_back.h"
#include "flasher/target.h"
#include "manifest/chunk_codec.h"
#include "manifest/hash.h"
#include "manifest/torrent.h"

namespace ironstone::bench {

namespace {

namespace fs = std::filesystem;

struct Data {
  std::vector<std::vector<std::uint8_t>> raw, stored;  // several chunks, raw and zstd -3
  std::vector<manifest::Chunk> entries;     // format 1: no stored_hash (the decoded bytes are hashed)
  std::vector<manifest::Chunk> entries_v2;  // format 2: with stored_hash (the stored bytes are hashed)
  std::uint64_t raw_bytes = 0, stored_bytes = 0;
  std::string write_dir;
};
Data g;

// Reads files of the data dir in a stable order into `count` chunks.
void load(const MicroOptions& o, int count) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(o.data_dir, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec) && !it->is_symlink(ec) && it->file_size(ec) > 4096) files.push_back(it->path());
    if (files.size() > 20000) break;
  }
  std::sort(files.begin(), files.end());
  std::vector<std::uint8_t> all;
  const std::size_t want = o.chunk_size * std::size_t(count);
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::vector<char> b((std::istreambuf_iterator<char>(in)), {});
    all.insert(all.end(), b.begin(), b.end());
    if (all.size() >= want) break;
  }
  all.resize(want, 0);
  manifest::ChunkEncoder enc(3);
  for (int i = 0; i < count; ++i) {
    std::vector<std::uint8_t> raw(all.begin() + long(o.chunk_size) * i, all.begin() + long(o.chunk_size) * (i + 1));
    std::vector<std::uint8_t> stored;
    manifest::Chunk c;
    c.compression = enc.encode(raw, &stored);
    c.hash = blake2b256(raw);
    c.length = std::uint32_t(raw.size());
    c.stored_size = std::uint32_t(stored.size());
    g.raw_bytes += raw.size();
    g.stored_bytes += stored.size();
    g.raw.push_back(std::move(raw));
    g.stored.push_back(std::move(stored));
    g.entries.push_back(c);
    c.stored_hash = c.compression == manifest::Compression::kRaw ? c.hash : blake2b256(g.stored.back());
    g.entries_v2.push_back(c);
  }
}

void set_rates(benchmark::State& st) {
  // Per iteration: one chunk. Rates in raw (image) bytes and stored (network) bytes.
  const double raw = double(g.raw_bytes) / double(g.raw.size());
  const double stored = double(g.stored_bytes) / double(g.stored.size());
  st.counters["raw_Bps"] = benchmark::Counter(raw * double(st.iterations()), benchmark::Counter::kIsRate);
  st.counters["stored_Bps"] = benchmark::Counter(stored * double(st.iterations()), benchmark::Counter::kIsRate);
}

void BM_Blake2b(benchmark::State& st) {
  std::size_t i = 0;
  for (auto _ : st) {
    auto h = blake2b256(g.raw[i++ % g.raw.size()]);
    benchmark::DoNotOptimize(h);
  }
  set_rates(st);
}

// The format-2 check: BLAKE2b-256 of the stored bytes.
void BM_Blake2bStored(benchmark::State& st) {
  std::size_t i = 0;
  for (auto _ : st) {
    auto h = blake2b256(g.stored[i++ % g.stored.size()]);
    benchmark::DoNotOptimize(h);
  }
  set_rates(st);
}

void BM_ZstdDecompress(benchmark::State& st) {
  ZSTD_DCtx* d = ZSTD_createDCtx();
  std::vector<std::uint8_t> out(g.raw[0].size());
  std::size_t i = 0;
  for (auto _ : st) {
    const auto& s = g.stored[i++ % g.stored.size()];
    std::size_t n = ZSTD_decompressDCtx(d, out.data(), out.size(), s.data(), s.size());
    if (ZSTD_isError(n)) st.SkipWithError("zstd error");
    benchmark::DoNotOptimize(out.data());
  }
  ZSTD_freeDCtx(d);
  set_rates(st);
}

// ChunkDecoder::decode of a format-2 entry (BLAKE2b of the stored bytes, zstd with the signed length as limit) then
// write_at into a file target, as ChunkWriter's workers do; threads share the target.
std::unique_ptr<flasher::Target> g_target;
std::mutex g_target_mu;
constexpr std::uint64_t kTargetBytes = 512ull << 20;

// A kTargetBytes file target in the write dir, unlinked at once (its space returns when closed).
// With `direct`, also a second descriptor of the same file opened with O_DIRECT (-1 and errno
// kept in *direct_errno when the filesystem refuses it); the caller closes it.
std::unique_ptr<flasher::Target> scratch_target(const std::string& tag, int* direct = nullptr,
                                                int* direct_errno = nullptr) {
  auto p = fs::path(g.write_dir) / ("ironstone-microbench-" + tag + std::to_string(getpid()) + ".img");
  fs::remove(p);
  flasher::TargetOptions to;
  to.image_size = kTargetBytes;
  auto t = flasher::open_target(p, to);
  if (direct) {
    *direct = ::open(p.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (direct_errno) *direct_errno = errno;
  }
  fs::remove(p);
  return t;
}

void BM_VerifyWrite(benchmark::State& st) {
  if (st.thread_index() == 0) {
    std::lock_guard lock(g_target_mu);
    g_target = scratch_target("");
  }
  manifest::ChunkDecoder dec;
  std::vector<std::uint8_t> out;
  const std::uint64_t slots = kTargetBytes / g.raw[0].size();
  std::uint64_t i = std::uint64_t(st.thread_index()) * 7;
  for (auto _ : st) {
    std::size_t k = i % g.stored.size();
    dec.decode(g.stored[k], g.entries_v2[k], &out);
    g_target->write_at((i % slots) * g.raw[0].size(), out);
    ++i;
  }
  set_rates(st);
  if (st.thread_index() == 0) {
    // ChunkWriter does not sync per chunk; the flasher flushes once at the end.
  }
}

// The SHA-256 block hashes of the stored bytes and their merkle root: libtorrent's v2 piece
// check as the flasher's disk I/O does it (swarm/proving_disk_io.h).
void BM_PieceHash(benchmark::State& st) {
  std::size_t i = 0;
  for (auto _ : st) {
    const auto blocks = manifest::block_hashes(g.stored[i++ % g.stored.size()]);
    auto root = manifest::merkle_root(blocks);
    benchmark::DoNotOptimize(root);
  }
  set_rates(st);
}

// The whole per-chunk pipeline of one flasher on one core: piece hash of the stored bytes,
// decode (format 1: zstd + BLAKE2b of the decoded bytes, one pass; format 2: BLAKE2b of the
// stored bytes, then zstd), write, read back and compare (ChunkWriter). Arg: the format.
void BM_Pipeline(benchmark::State& st) {
  const auto& entries = st.range(0) == 1 ? g.entries : g.entries_v2;
  auto target = scratch_target("p");
  manifest::ChunkDecoder dec;
  std::vector<std::uint8_t> out, back;
  const std::uint64_t slots = kTargetBytes / g.raw[0].size();
  std::uint64_t i = 0;
  for (auto _ : st) {
    const std::size_t k = i % g.stored.size();
    auto root = manifest::merkle_root(manifest::block_hashes(g.stored[k]));
    benchmark::DoNotOptimize(root);
    dec.decode(g.stored[k], entries[k], &out);
    const std::uint64_t off = (i % slots) * g.raw[0].size();
    target->write_at(off, out);
    try {
      flasher::read_back(*target, off, out, back);
    } catch (const Error& e) {
      st.SkipWithError(e.what());
    }
    ++i;
  }
  set_rates(st);
}

// The read-back of a written chunk, two ways (issue #17: is O_DIRECT + one verify cheaper, and
// as strong?). Each iteration writes one raw chunk through the Target (buffered pwrite, as
// ChunkWriter does) and reads it back: Arg 0 as ChunkWriter does (flasher::read_back: pread
// through the page cache, memcmp); Arg 1 with pread on a second, O_DIRECT descriptor, for which
// the kernel first writes the range back to the device and then reads the device, then memcmp.
// The CPU time is the thread's, so the writeback an O_DIRECT read forces is charged to it. The
// write dir must support O_DIRECT (tmpfs does not): skipped with the reason otherwise.
void BM_ReadBack(benchmark::State& st) {
  const std::size_t size = g.raw[0].size();
  int direct = -1, open_errno = 0;
  auto target = st.range(0) == 1 ? scratch_target("rb", &direct, &open_errno) : scratch_target("rb");
  if (st.range(0) == 1 && (direct < 0 || size % 4096 != 0)) {
    st.SkipWithError(direct < 0 ? (g.write_dir + ": O_DIRECT: " + std::strerror(open_errno) +
                                   " (tmpfs has none: --write-dir on a disk filesystem)").c_str()
                                : "O_DIRECT needs a chunk size that is a multiple of 4 KiB");
    if (direct >= 0) ::close(direct);
    return;
  }
  std::unique_ptr<void, decltype(&std::free)> aligned(direct >= 0 ? std::aligned_alloc(4096, size) : nullptr,
                                                      &std::free);
  std::vector<std::uint8_t> back;
  const std::uint64_t slots = kTargetBytes / size;
  std::uint64_t i = 0;
  for (auto _ : st) {
    const auto& chunk = g.raw[i % g.raw.size()];
    const std::uint64_t off = (i++ % slots) * size;
    target->write_at(off, chunk);
    if (direct < 0) {
      try {
        flasher::read_back(*target, off, chunk, back);
      } catch (const Error& e) {
        st.SkipWithError(e.what());
        break;
      }
    } else if (::pread(direct, aligned.get(), size, static_cast<off_t>(off)) != static_cast<ssize_t>(size) ||
               std::memcmp(aligned.get(), chunk.data(), size) != 0) {
      st.SkipWithError("O_DIRECT read-back: short read or a difference");
      break;
    }
  }
  if (direct >= 0) ::close(direct);
  set_rates(st);
}

struct Capture : benchmark::ConsoleReporter {
  std::vector<Run> runs;
  void ReportRuns(const std::vector<Run>& r) override {
    ConsoleReporter::ReportRuns(r);
    runs.insert(runs.end(), r.begin(), r.end());
  }
};

}  // namespace

int run_micro(const MicroOptions& o) {
  init_crypto();
  load(o, 16);
  g.write_dir = o.write_dir;
  std::printf("micro: %zu chunks of %zu KiB from %s: %.1f MiB raw, %.1f MiB stored (zstd -3), ratio %.2f\n",
              g.raw.size(), o.chunk_size / 1024, o.data_dir.c_str(), double(g.raw_bytes) / 1048576.0,
              double(g.stored_bytes) / 1048576.0, double(g.raw_bytes) / double(g.stored_bytes));
  benchmark::RegisterBenchmark("BLAKE2b-256/chunk", BM_Blake2b)->UseRealTime();
  benchmark::RegisterBenchmark("zstd_decompress/chunk", BM_ZstdDecompress)->UseRealTime();
  benchmark::RegisterBenchmark("BLAKE2b-256_stored/chunk", BM_Blake2bStored)->UseRealTime();
  benchmark::RegisterBenchmark("piece_hash/chunk", BM_PieceHash)->UseRealTime();
  benchmark::RegisterBenchmark("pipeline/chunk/format", BM_Pipeline)->Arg(1)->Arg(2)->UseRealTime();
  benchmark::RegisterBenchmark("decode+verify+write/chunk", BM_VerifyWrite)->Threads(1)->Threads(2)->UseRealTime();
  benchmark::RegisterBenchmark("write+read_back/chunk/o_direct", BM_ReadBack)->Arg(0)->Arg(1)->UseRealTime();
  std::vector<std::string> args{"ironstone-bench-micro"};
  args.insert(args.end(), o.benchmark_args.begin(), o.benchmark_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int argc = int(argv.size());
  benchmark::Initialize(&argc, argv.data());
  Capture rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  g_target.reset();

  // Line rates in payload bytes per second (wire rate less ~5% Ethernet/IP/TCP overhead).
  const std::vector<std::pair<std::string, double>> links{{"1 GbE (Raspberry Pi 5)", 1e9 / 8 * 0.95},
                                                          {"2.5 GbE (Rock 5B)", 2.5e9 / 8 * 0.95}};
  std::printf("\nper-chunk pipeline against line rate (stored bytes/s arriving from the network; >1.0x keeps up):\n");
  std::printf("(wall-clock rates, then per CPU second of the benchmark thread for the one-thread runs: on a\n"
              " loaded machine the CPU-second rate is what one core sustains)\n");
  std::printf("%-34s %12s %12s %22s %18s %16s %14s\n", "stage", "stored MB/s", "raw MB/s", links[0].first.c_str(),
              links[1].first.c_str(), "stored MB/CPU-s", "x 2.5 GbE/CPU");
  nlohmann::json j;
  j["chunk_size"] = o.chunk_size;
  j["compression_ratio"] = double(g.raw_bytes) / double(g.stored_bytes);
  j["stages"] = nlohmann::json::array();
  for (const auto& r : rep.runs) {
    auto s = r.counters.find("stored_Bps");
    auto w = r.counters.find("raw_Bps");
    if (s == r.counters.end() || w == r.counters.end()) continue;
    double stored = s->second.value, raw = w->second.value;
    // Stored bytes per CPU second of the one thread (GetAdjustedCPUTime: per iteration, ns).
    const double per_chunk = double(g.stored_bytes) / double(g.stored.size());
    const double cpu_rate = r.threads == 1 ? per_chunk / (r.GetAdjustedCPUTime() * 1e-9) : 0;
    std::printf("%-34s %12.0f %12.0f %21.2fx %17.2fx %16s %14s\n", r.benchmark_name().c_str(), stored / 1e6,
                raw / 1e6, stored / links[0].second, stored / links[1].second,
                cpu_rate > 0 ? std::to_string(int(cpu_rate / 1e6)).c_str() : "-",
                cpu_rate > 0 ? (std::to_string(cpu_rate / links[1].second).substr(0, 4) + "x").c_str() : "-");
    j["stages"].push_back({{"name", r.benchmark_name()},
                           {"stored_bytes_per_s", stored},
                           {"raw_bytes_per_s", raw},
                           {"stored_bytes_per_cpu_s", cpu_rate},
                           {"x_1gbe", stored / links[0].second},
                           {"x_2_5gbe", stored / links[1].second},
                           {"x_2_5gbe_per_cpu_s", cpu_rate / links[1].second}});
  }
  if (!o.json_out.empty()) std::ofstream(o.json_out) << j.dump(2) << "\n";
  benchmark::Shutdown();
  return 0;
}

}  // namespace ironstone::bench
