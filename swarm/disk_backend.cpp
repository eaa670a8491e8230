#include "swarm/disk_backend.h"

#include <libtorrent/mmap_disk_io.hpp>
#include <libtorrent/posix_disk_io.hpp>
#include <libtorrent/session.hpp>

namespace ironstone::swarm {

lt::disk_io_constructor_type disk_io_constructor(DiskBackend backend) {
  return backend == DiskBackend::kPosix ? lt::disk_io_constructor_type(lt::posix_disk_io_constructor)
                                        : lt::disk_io_constructor_type(lt::default_disk_io_constructor);
}

std::string_view disk_backend_name(DiskBackend backend) { return backend == DiskBackend::kPosix ? "posix" : "mmap"; }

std::optional<DiskBackend> parse_disk_backend(std::string_view name) {
  if (name == "mmap") return DiskBackend::kMmap;
  if (name == "posix") return DiskBackend::kPosix;
  return std::nullopt;
}

}  // namespace ironstone::swarm
