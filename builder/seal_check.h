// Is a gold image sealed? (docs/design.md, "First boot and cluster join"): every node flashed
// from it must generate its own identity on first boot, so the image's root filesystem
// must have
//   - an empty or missing /etc/machine-id (or systemd's "uninitialized"), and no
//     non-empty /var/lib/dbus/machine-id file,
//   - no SSH host keys (/etc/ssh/ssh_host_*),
//   - a clean cloud-init state: no /var/lib/cloud/instance, no /var/lib/cloud/instances.
// The root is the image's largest ext2/3/4 partition, read rootlessly with debugfs
// (disk/image_fs.h). `publish` warns about each file found; --require-sealed makes it an
// error (PublishOptions::require_sealed).
// Thread safety: stateless.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ironstone::builder {

struct SealReport {
  bool checked = false;                // a root filesystem was found and read
  std::string note;                    // one line saying why it was not checked (when !checked)
  std::string partition;               // "partition 2 (ext4 'rootfs')" when checked
  std::vector<std::string> findings;   // "/etc/ssh/ssh_host_ed25519_key: SSH host key present"
  bool sealed() const { return checked && findings.empty(); }
};

// Checks the raw image file (or block device) at `image`. Never throws for an image
// without a recognizable root (that is a note); throws disk::Errc errors when the
// root filesystem cannot be read (debugfs missing or failing).
SealReport check_sealed(const std::filesystem::path& image);

}  // namespace ironstone::builder
