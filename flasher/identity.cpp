#include "flasher/identity.h"

#include <spdlog/spdlog.h>

#include "api/paths.h"
#include "disk/image_fs.h"
#include "flasher/errc.h"
#include "api/node_identity.h"

namespace ironstone::flasher {

namespace fs = std::filesystem;

disk::PartitionTable read_target_table(Target& target, std::uint64_t image_size) {
  const std::uint64_t size = std::min(image_size, target.size());
  disk::ReadAt read = [&](std::uint64_t offset, std::span<std::uint8_t> out) {
    if (offset > size || out.size() > size - offset) return false;
    target.read_at(offset, out);
    return true;
  };
  return disk::read_partition_table(read, size, target.description());
}

disk::Partition write_seed(Target& target, const fs::path& target_path, std::uint64_t image_size,
                           const std::vector<SeedFile>& files) {
  disk::PartitionTable table;
  try {
    table = read_target_table(target, image_size);
  } catch (const Error& e) {
    throw error(Errc::kIdentity, std::string(e.what()) + ": cannot find the boot partition for the cloud-init seed");
  }
  const auto boot = disk::boot_partition(table);
  if (!boot)
    throw error(Errc::kIdentity, target_path.string() + ": no FAT boot partition for the cloud-init seed in the image's " +
                                     disk::describe(table));
  try {
    disk::FatImage fat(target_path, boot->offset);
    for (const auto& f : files) fat.write("/" + f.name, f.content);
  } catch (const Error& e) {
    throw error(Errc::kIdentity, target_path.string() + ": partition " + std::to_string(boot->number) + " (FAT): " +
                                     e.what());
  }
  return *boot;
}

std::string identity_step(const SeederClient& seeder, const std::string& mac, const std::string& node_id,
                          Target& target, const fs::path& target_path, const manifest::Manifest& m) {
  if (mac.empty()) {
    spdlog::warn("identity: this node has no MAC address, so no identity; it boots with the image's defaults");
    return "skipped: no MAC address";
  }
  std::string why;
  auto body = seeder.identity(mac, &why);
  if (!body) {
    spdlog::warn("identity: {}; the node boots with the image's defaults", why);
    return "skipped: " + why;
  }
  api::NodeIdentity id;
  try {
    id = api::parse_node_identity(*body, seeder.url(api::node_identity_path(mac)));
  } catch (const Error& e) {
    throw error(Errc::kIdentity, e.what());
  }
  if (id.mac != mac)
    throw error(Errc::kIdentity, "the seeder answered the identity of " + id.mac + " when asked for " + mac);
  const SeedContext context{node_id, seeder.base(), m.board, m.version, m.sequence};
  const disk::Partition boot = write_seed(target, target_path, m.image_size, nocloud_seed(id, context));
  target.flush();
  std::string join = !id.k3s ? "joins no cluster"
                     : id.k3s->cluster_init ? "starts the k3s cluster"
                                            : "joins " + id.k3s->server;
  return id.hostname + " (" + id.role + ", " + join + "): NoCloud seed written to partition " +
         std::to_string(boot.number) + " (FAT) of " + target_path.string();
}

bool boot_only_changes(const manifest::Manifest& m, const std::vector<std::vector<std::uint64_t>>& pending,
                       const std::vector<bool>& zero_present, const disk::Partition& boot) {
  auto in_boot = [&](std::uint64_t offset, std::uint64_t length) {
    return offset < boot.offset + boot.size && boot.offset < offset + length;
  };
  bool any = false;
  for (std::size_t i = 0; i < pending.size(); ++i)
    for (auto off : pending[i]) {
      if (!in_boot(off, m.chunks[i].length)) return false;
      any = true;
    }
  for (std::size_t k = 0; k < zero_present.size() && k < m.zero_ranges.size(); ++k) {
    if (zero_present[k]) continue;
    if (!in_boot(m.zero_ranges[k].offset, m.zero_ranges[k].length)) return false;
    any = true;
  }
  return any;
}

}  // namespace ironstone::flasher
