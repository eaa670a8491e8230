// Micro-benchmarks (Google Benchmark) of the flasher's per-chunk pipeline on real data
// (4 MiB chunks cut from this machine's /usr/lib files, like the image's ext4 root):
// BLAKE2b-256, zstd decompress, the piece hash (SHA-256 blocks + merkle root of the stored
// bytes), decode+verify+write to a file (the ChunkWriter path), and the whole pipeline on one
// core (piece hash + decode + write + read-back), the write and read-back alone (through the
// page cache, as the flasher does, or with O_DIRECT), then the throughput compared, in stored
// (compressed) bytes per second as they arrive from the network, per wall second and, for
// one thread, per CPU second, with the line rate of a 1 GbE port (Raspberry Pi 5) and a
// 2.5 GbE port (Rock 5B). Figures are from the machine it runs on, not from the boards.
#pragma once

#include <string>
#include <vector>

namespace ironstone::bench {

struct MicroOptions {
  std::size_t chunk_size = 4 << 20;
  std::string data_dir = "/usr/lib";
  std::string write_dir = "/var/tmp";
  std::vector<std::string> benchmark_args;  // passed to benchmark::Initialize
  std::string json_out;                     // optional: the comparison as JSON
};

int run_micro(const MicroOptions& o);

}  // namespace ironstone::bench
