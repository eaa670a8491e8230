// Which libtorrent disk I/O a session reads and writes its files with.
//
//  - kMmap: libtorrent's default on 64-bit (mmap_disk_io, several I/O threads). Fast for a
//    store that serves a whole rack at line rate (the NAS seeder, a flasher's cache), but every
//    page of the release it touches stays mapped into the process: its resident memory grows with
//    what it has served, up to the release size (libtorrent issue #6667). Those pages are page
//    cache, reclaimable, yet they count in RSS and in a container's memory limit.
//  - kPosix: posix_disk_io: pread/pwrite on one thread, nothing mapped. The resident memory is
//    the session's buffers, whatever the release size. What a provisioned node's peer seeder uses
//    (seeder/swarm_seeder.h, seeder/peer_follower.h): its first job is its workload, and it serves
//    at an upload limit well below what one I/O thread reads.
//    Measured (docs/performance.md, "Rack with provisioned peers"): a peer's peak RSS in the
//    8-node rack went from 197-228 MiB (mmap; 150-168 MiB of it mapped store pages) to the
//    figure recorded there, at the same wall time.
//
// Thread safety: pure functions.
#pragma once

#include <libtorrent/session_params.hpp>
#include <optional>
#include <string_view>

namespace ironstone::swarm {

enum class DiskBackend { kMmap, kPosix };

// The constructor for session_params::disk_io_constructor.
lt::disk_io_constructor_type disk_io_constructor(DiskBackend backend);

// "mmap" / "posix", as the seeder's --disk-io flag spells them; nullopt for anything else.
std::string_view disk_backend_name(DiskBackend backend);
std::optional<DiskBackend> parse_disk_backend(std::string_view name);

}  // namespace ironstone::swarm
