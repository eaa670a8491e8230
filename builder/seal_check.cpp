#include "builder/seal_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "disk/errc.h"
#include "disk/image_fs.h"
#include "disk/partition_table.h"

namespace ironstone::builder {

namespace fs = std::filesystem;
using disk::Ext4Inode;

namespace {

// A machine-id file that makes every clone share one identity: non-empty and not systemd's
// first-boot marker.
void check_machine_id(const disk::Ext4Image& ext, const std::string& path, std::vector<std::string>& findings) {
  auto st = ext.stat(path);
  if (!st || st->type != Ext4Inode::Type::kRegular || st->size == 0) return;
  if (st->size <= 16 && ext.cat(path) == "uninitialized\n") return;
  findings.push_back(path + ": not empty (" + std::to_string(st->size) + " bytes): every node would share one machine id");
}

}  // namespace

SealReport check_sealed(const fs::path& image) {
  SealReport r;
  const int fd = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    r.note = image.string() + ": cannot open (" + std::strerror(errno) + "): sealing not checked";
    return r;
  }
  struct stat st {};
  std::uint64_t size = 0;
  if (::fstat(fd, &st) == 0) size = static_cast<std::uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    off_t end = ::lseek(fd, 0, SEEK_END);
    size = end > 0 ? static_cast<std::uint64_t>(end) : 0;
  }
  disk::PartitionTable table;
  try {
    table = disk::read_partition_table(fd, size, image.string());
  } catch (const Error& e) {
    ::close(fd);
    r.note = std::string(e.what()) + ": no root partition to check for sealing";
    return r;
  }
  ::close(fd);
  const auto root = disk::root_partition(table);
  if (!root) {
    r.note = image.string() + ": no ext4 root partition (" + disk::describe(table) + "): sealing not checked";
    return r;
  }
  r.partition = (table.kind == disk::TableKind::kNone ? std::string("the whole image")
                                                      : "partition " + std::to_string(root->number)) +
                " (ext4" + (root->label.empty() ? "" : " '" + root->label + "'") + ")";
  disk::Ext4Image ext(image, root->offset);
  check_machine_id(ext, "/etc/machine-id", r.findings);
  check_machine_id(ext, "/var/lib/dbus/machine-id", r.findings);
  if (auto names = ext.list("/etc/ssh")) {
    std::sort(names->begin(), names->end());
    for (const auto& n : *names)
      if (n.rfind("ssh_host_", 0) == 0) r.findings.push_back("/etc/ssh/" + n + ": SSH host key present");
  }
  for (const char* p : {"/var/lib/cloud/instance", "/var/lib/cloud/instances"}) {
    if (ext.exists(p)) r.findings.push_back(std::string(p) + ": cloud-init state present (run `cloud-init clean`)");
  }
  r.checked = true;
  return r;
}

}  // namespace ironstone::builder
