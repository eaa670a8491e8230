// V2-first piece hashing: libtorrent's default disk I/O, minus the SHA-1 of pieces whose
// SHA-256 tree already proves them.
//
// The release torrent is hybrid (v1 + v2, docs/release-format.md "Torrent"): one file per
// chunk, one piece per file, the piece padded to the piece size. libtorrent 2.0.8 checks
// both hashes of every piece it completes: the v2 SHA-256 block hashes of the file's bytes
// and the v1 SHA-1 of the whole padded piece, which on a release of 1.25 MiB chunks in
// 4 MiB pieces hashes three times the data (measured: ~10% of a flashing node's CPU,
// docs/performance.md "Rack simulation").
//
// This disk_interface forwards everything to libtorrent's default disk I/O except
// async_hash(): it first has the block hashes computed without the v1 hash; when the piece
// is exactly one file of the torrent given here, it builds that file's merkle root from the
// block hashes (BEP 52, manifest::merkle_root) and compares it with the file's root in the torrent. A match
// proves the bytes (SHA-256, and the torrent is bound to the signed manifest by its info-hash), so the
// handler gets the torrent's own v1 hash for the piece. Anything else — no match, a piece that is not one
// whole file, a torrent other than this one, an I/O error — gets the real SHA-1, hashed by the inner disk I/O
// as before. libtorrent still compares both hashes itself, so a mistake here can only fail a piece (or stop
// the torrent with "inconsistent hashes"), never pass a wrong one.
//
// Thread safety: as every disk_interface, called only from libtorrent's network thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <libtorrent/disk_interface.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/torrent_info.hpp>
#include <memory>

namespace ironstone::swarm {

// How the hashes of pieces were settled (for tests and logs): proven by the v2 tree, or
// handed to the real SHA-1 after the tree did not match. Pieces not eligible (another
// torrent, not one whole file) are not counted.
struct V2FirstCounters {
  std::atomic<std::uint64_t> proven{0};
  std::atomic<std::uint64_t> not_proven{0};
};

// A session_params::disk_io_constructor giving the default disk I/O with v2-first hashing
// for the torrent `ti` (kept alive by the returned function and the disk I/O it makes).
// `counters` may be null.
lt::disk_io_constructor_type v2_first_disk_io(std::shared_ptr<const lt::torrent_info> ti,
                                              std::shared_ptr<V2FirstCounters> counters = nullptr);

}  // namespace ironstone::swarm
