// Proving disk I/O: libtorrent's default disk I/O, with the piece check of the release
// torrent done on an in-memory copy of each piece's bytes, which is then handed over.
//
// The release torrent is hybrid (v1 + v2, docs/release-format.md "Torrent"): one file per
// chunk, one piece per file, the piece padded to the piece size. Left to itself,
// libtorrent 2.0.8 checks both hashes of every piece it completes (the v2 SHA-256 block
// hashes of the file's bytes and the v1 SHA-1 of the whole padded piece), and a flasher
// then reads every passed piece back with read_piece(): a 4 MiB buffer, 256 disk jobs,
// the pad zeros included. Measured on a rack of 8 (docs/performance.md "Rack simulation"):
// SHA-1 was ~10% of the nodes' CPU; the read-back's copies and zero-filling a few % more.
//
// This disk_interface forwards everything to the default disk I/O and, for each piece of
// `ti` that is exactly one whole file of it:
//   - async_write() also copies the block's file bytes into the piece's copy;
//   - async_hash() of a piece whose copy is complete hashes the copy (SHA-256 of every
//     16 KiB block, on a thread of its own), builds the file's merkle root (BEP 52,
//     manifest::merkle_root) and compares it with the file's root in the torrent. A match
//     proves the bytes (SHA-256, and the torrent is bound to the signed manifest by its
//     info-hash): the handler gets the block hashes and the torrent's own v1 hash, and the
//     copy goes to ProvenPieces, where the consumer takes it instead of reading the piece
//     back. No match: the copy is dropped and the inner disk I/O hashes the piece for real
//     (SHA-1 too), so libtorrent fails it on its own terms;
//   - async_clear_piece() (the hash-failed path) drops the copy;
//   - on disk, a hash verdict is handed to libtorrent only once no write of that piece is
//     in flight: libtorrent marks a block finished when its write completes, even after a
//     failed piece was restored, and would then skip that block when it comes again;
//   - a piece whose bytes the caller vouched for (ProvenPieces::vouch, a HashedPiece) while
//     it hands them to add_piece(): the copy is those bytes, shared, each block written is
//     compared with them instead of copied, and async_hash() takes their block hashes
//     instead of hashing them again (the merkle root is still compared with the torrent's).
//     A block that differs ends the vouch: the piece is copied and hashed as any other.
// A piece without a complete copy (blocks from an earlier run) is hashed by the inner
// disk I/O, SHA-1 skipped when its block hashes prove it; its bytes are not kept.
//
// Memory mode (in_memory): the release torrent's pieces live only here. Writes, reads
// (for seeding: the file's bytes, then pad zeros), hashes and the file operations are
// answered from memory, posted to the network thread; a piece not proven is hashed for
// real (SHA-1 of the padded piece) from its bytes. No disk jobs, no thread hand-offs, no
// cache files: what a rack of flashers on one host spends most on besides the data itself.
// libtorrent still compares both verdicts itself, so a mistake here can only fail a piece
// (or stop the torrent with "inconsistent hashes"), never pass a wrong one.
//
// Memory: the copies of pieces being downloaded plus the proven pieces not yet taken; in
// memory mode, the whole stored release (the caller checks it fits).
//
// Thread safety: the disk_interface calls come from libtorrent's network thread, as
// always; ProvenPieces may be used from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <libtorrent/disk_interface.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/torrent_info.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "swarm/disk_backend.h"
#include "swarm/hashed_piece.h"
#include "util/cpu_clock.h"

namespace ironstone::swarm {

// Pieces proven from their in-memory copy, until taken; and how pieces were settled.
// The copies held are bounded by `max_bytes`: when libtorrent proves pieces faster than the
// consumer takes them (a fast LAN, a slow writer or verifier), the copies over the budget are
// not kept (disk mode: the consumer reads those pieces back through libtorrent instead), so
// memory stays bounded whatever the release size. Measured (docs/performance.md, "Rack with
// provisioned peers"): a peer fetching the 214 MiB release on loopback held ~400 MiB unbounded.
class ProvenPieces {
 public:
  using Bytes = std::shared_ptr<const std::vector<std::uint8_t>>;
  explicit ProvenPieces(std::size_t max_bytes = SIZE_MAX) : max_bytes_(max_bytes) {}
  // The proven bytes of piece p (exactly its file's size), once; null when not held. They
  // never change (in memory mode the disk I/O keeps serving them to peers).
  Bytes take(lt::piece_index_t p);
  // Keeps `bytes` for take(): true. false (nothing kept, over_budget counted) when holding
  // them would go over max_bytes, unless `always` (memory mode: the only copy there is).
  bool put(lt::piece_index_t p, Bytes bytes, bool always = false);
  std::size_t held() const;
  std::size_t held_bytes() const;

  // The caller is about to hand piece p's file bytes to libtorrent (add_piece) and has their
  // block hashes: the disk I/O uses `hashed` for that piece (see the file comment) if its
  // bytes are exactly the file's size. withdraw(p) after add_piece() returns drops it if
  // libtorrent wrote nothing (add_piece() is blocking: its writes have been made by then),
  // so at most the pieces being added are held here.
  void vouch(lt::piece_index_t p, HashedPiece hashed);
  void withdraw(lt::piece_index_t p);
  // The disk I/O's side: what was vouched for p, once.
  std::optional<HashedPiece> claim(lt::piece_index_t p);
  std::atomic<std::uint64_t> vouched{0};  // pieces proven by vouched block hashes, not hashed again
  std::atomic<std::uint64_t> over_budget{0};  // proven pieces not kept: read back instead

  std::atomic<std::uint64_t> proven{0};      // by the v2 tree, SHA-1 skipped
  std::atomic<std::uint64_t> not_proven{0};  // the tree did not match: hashed with SHA-1 too
  std::atomic<std::uint64_t> kept{0};        // proven from the in-memory copy (handed over)
  std::atomic<bool> in_memory{false};        // the disk I/O runs in memory mode (set when it is made)
  // CPU accounting (docs/performance.md): the hash thread's CPU time proving pieces (SHA-256
  // of the blocks, the merkle root; SHA-1 when not proven), and the bytes copied into the
  // pieces' copies as blocks arrive and out of them for peers (not timed: 16 KiB each).
  CpuStage piece_hash;
  std::atomic<std::uint64_t> copied_in{0}, copied_out{0};

 private:
  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::map<lt::piece_index_t, Bytes> pieces_;
  std::size_t bytes_ = 0;  // sum of pieces_' sizes
  std::map<lt::piece_index_t, HashedPiece> vouched_;
};

// A session_params::disk_io_constructor giving the `inner` disk I/O (swarm/disk_backend.h) with
// proving for the torrent `ti`. `out` receives the proven pieces; it must not be null. With
// `in_memory` (and every piece of ti one whole file) the torrent's pieces are kept in memory
// only: nothing of it goes to the inner disk I/O or to files.
lt::disk_io_constructor_type proving_disk_io(std::shared_ptr<const lt::torrent_info> ti,
                                             std::shared_ptr<ProvenPieces> out, bool in_memory = false,
                                             DiskBackend inner = DiskBackend::kMmap);

}  // namespace ironstone::swarm
